#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, for the per-job isolation (--isolation docker), the docker
# template and the container fault tests. Starts one only when none answers, and then without touching the host's
# firewall or network: --iptables=false and no default bridge, so containers use host networking or networks the
# tests create. Prints where the engine listens; exits non-zero with the reason when none can start.
#   ./scripts/docker-engine.sh            # start one if needed (root: it runs dockerd)
set -euo pipefail

if ! command -v docker >/dev/null 2>&1; then
  echo "docker-engine: the docker client is missing (apt-get install docker.io)" >&2
  exit 1
fi
if docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  echo "docker-engine: an engine answers (version $(docker info --format '{{.ServerVersion}}'))"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-engine: no engine answers and dockerd is missing (apt-get install docker.io)" >&2
  exit 1
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "docker-engine: no engine answers and only root can start dockerd here; start it (or the docker service) and run again" >&2
  exit 1
fi

log="${DOCKERD_LOG:-/tmp/provisioning-dockerd.log}"
echo "docker-engine: starting dockerd (log: $log)"
# setsid: the engine outlives this script and the CI step that started it; it is the machine's engine from now on.
setsid dockerd --iptables=false --ip6tables=false --bridge=none >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
    echo "docker-engine: engine $(docker info --format '{{.ServerVersion}}') answers on /var/run/docker.sock"
    exit 0
  fi
  sleep 0.5
done
echo "docker-engine: dockerd did not answer within 30 s; its log ends with:" >&2
tail -n 20 "$log" >&2 || true
exit 1
