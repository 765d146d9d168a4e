#!/usr/bin/env bash
# One command, a working local fleet: builds the CLI (Release), starts `provisioning server` on
# http://localhost:3000 with the built-in PostgreSQL and no built-in daemon, creates a provisioner key,
# starts one standalone `provisioning provisioner start` daemon with it, pushes templates/local as the
# activated template `local` (and templates/docker as `docker` when a Docker engine answers), prints the web
# dashboard's address with a one-time sign-in link and what to
# try next. Ctrl+C stops everything.
#
# State lives in a dev home (PROVISIONING_HOME, default .dev/home in the repository, gitignored), so it
# never touches ~/.config/provisioning; ./scripts/provisioning-dev.sh runs the CLI against it.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dev="$repo/.dev"
export PROVISIONING_HOME="${PROVISIONING_HOME:-$dev/home}"
unset PROVISIONING_URL PROVISIONING_SESSION_TOKEN
port="${PROVISIONING_DEV_PORT:-3000}"
url="http://localhost:$port"
cli="$repo/cli/bin/Release/net10.0/provisioning"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf 'develop.sh: %s\n' "$*" >&2; exit 1; }

command -v dotnet >/dev/null || fail "the .NET SDK 10 is missing: install it from https://dot.net (e.g. apt-get install dotnet-sdk-10.0)."
command -v terraform >/dev/null || fail "terraform is missing: install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) and put it on PATH."
if ! command -v initdb >/dev/null && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  fail "PostgreSQL's server binaries (initdb, pg_ctl) are missing: install them, e.g. 'sudo apt-get install postgresql' (Debian/Ubuntu) or 'brew install postgresql' (macOS)."
fi
if command -v curl >/dev/null; then :; else fail "curl is missing: install it (apt-get install curl)."; fi
if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
  fail "something already answers on $url: stop it (an earlier develop.sh?) or set PROVISIONING_DEV_PORT."
fi

say "Building the CLI (Release)"
dotnet build "$repo/cli/Provisioning.Cli.csproj" -c Release -nologo -v quiet
mkdir -p "$PROVISIONING_HOME" "$dev/cache" "$dev/workspaces"

pids=()
cleanup() {
  trap - INT TERM EXIT
  say "Stopping"
  # The daemon first (SIGTERM drains: running jobs finish), then the server (it stops PostgreSQL last).
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

say "Starting provisioning server on $url (built-in PostgreSQL under $PROVISIONING_HOME/postgres)"
"$cli" server --http-address "localhost:$port" --provisioner-daemons 0 > >(trap '' INT; exec sed -u 's/^/[server] /') 2>&1 &
pids+=($!)
for (( i=0; ; i++ )); do
  curl -fsS -o /dev/null "$url/readyz" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || fail "provisioning server exited; see its [server] lines above."
  (( i < 240 )) || fail "provisioning server did not become ready within 2 minutes."
  sleep 0.5
done

"$cli" login "$url"

say "Creating a provisioner key and starting a standalone daemon"
"$cli" provisioner keys delete develop >/dev/null 2>&1 || true
key="$("$cli" provisioner keys create develop 2>/dev/null)"
# The key goes through the environment, not the command line, which any user can read in the process list.
PROVISIONING_PROVISIONER_KEY="$key" "$cli" provisioner start --url "$url" --name develop --slots 2 --cache-dir "$dev/cache" > >(trap '' INT; exec sed -u 's/^/[provisioner] /') 2>&1 &
pids+=($!)

say "Pushing templates/local as template 'local' (workspaces under $dev/workspaces)"
"$cli" templates push local -d "$repo/templates/local" --variable "workspaces_root=$dev/workspaces" -m "develop.sh" -y

docker_template=""
templates_pushed='template "local"'
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  say "Pushing templates/docker as template 'docker' (a Docker engine answers; workspaces are containers)"
  docker image inspect provisioning/debian-base:bookworm >/dev/null 2>&1 \
    || echo "develop.sh: its default image provisioning/debian-base:bookworm is missing: make it with ./scripts/docker-base-image.sh" >&2
  "$cli" templates push docker -d "$repo/templates/docker" -m "develop.sh" -y
  templates_pushed='templates "local" and "docker"'
  docker_template=$'\n    ./scripts/provisioning-dev.sh create my-container -t docker     # a container: docker ps --filter label=provisioning.workspace_id'
else
  echo "develop.sh: no Docker engine answers, so template 'docker' is not pushed (./scripts/docker-engine.sh starts one)"
fi

# A one-time link that signs this browser in as the admin (15 minutes, once); the token itself stays in the session file.
link="$(curl -fsS -X POST -H "Authorization: Bearer $(cat "$PROVISIONING_HOME/session")" "$url/api/v1/users/me/sign-in-links" \
  | sed -n 's/.*"path":"\([^"]*\)".*/\1/p')" || link=""

cat <<TRY

  The fleet is running: coordinator $url, one daemon ("develop"), $templates_pushed.

  Dashboard: $url
    Sign in once with this link (valid 15 minutes, single use):  $url$link
    or at $url/login with the admin token in $PROVISIONING_HOME/session (cat it).

  In another terminal, from $repo:

    ./scripts/provisioning-dev.sh list
    ./scripts/provisioning-dev.sh create my-workspace -t local${docker_template}
    ./scripts/provisioning-dev.sh show my-workspace
    ./scripts/provisioning-dev.sh stop my-workspace
    ./scripts/provisioning-dev.sh jobs list
    ./scripts/provisioning-dev.sh delete my-workspace -y
    ./scripts/provisioning-dev.sh provisioner list

  Hangfire (admins): $url/hangfire, linked from the dashboard once you are signed in.
  Press Ctrl+C to stop everything.

TRY
wait "${pids[@]}"
