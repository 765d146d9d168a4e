# Starts the workspace process in $WORKSPACE_DIR unless it already runs there.
# Environment: WORKSPACE_DIR, HEARTBEAT_INTERVAL.
set -eu

control="$WORKSPACE_DIR/.provisioning"
pid_file="$control/workspace.pid"
mkdir -p "$control"

# The process runs as `sh -c LOOP provisioning-workspace DIR`: its arguments name it, so a pid that
# was reused by another program after ours died is not taken for ours.
is_ours() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' '\n' <"/proc/$1/cmdline" | grep -qx 'provisioning-workspace' || return 1
  fi
  return 0
}

pid=""
[ -f "$pid_file" ] && pid=$(cat "$pid_file" 2>/dev/null || true)
if is_ours "$pid"; then
  echo "workspace process already running (pid $pid)"
  exit 0
fi
rm -f "$pid_file"

# The loop writes its own pid ($$ of the shell it is), which is exact whether or not setsid forks,
# once it is in the workspace directory, so a recorded pid always runs there.
# setsid gives it its own session and process group, so it outlives Terraform and can be stopped as
# a group; nohup stands in where setsid does not exist (macOS). Standard streams go to the log:
# local-exec waits until every holder of its output pipe has closed it.
loop='
cd "$1" || exit 1
echo $$ > .provisioning/workspace.pid.tmp && mv .provisioning/workspace.pid.tmp .provisioning/workspace.pid
trap "exit 0" TERM INT
while :; do
  date -u +%Y-%m-%dT%H:%M:%SZ > .provisioning/heartbeat
  sleep "$2" &
  wait $!
done
'
if command -v setsid >/dev/null 2>&1; then
  setsid sh -c "$loop" provisioning-workspace "$WORKSPACE_DIR" "$HEARTBEAT_INTERVAL" </dev/null >>"$control/workspace.log" 2>&1 &
else
  nohup sh -c "$loop" provisioning-workspace "$WORKSPACE_DIR" "$HEARTBEAT_INTERVAL" </dev/null >>"$control/workspace.log" 2>&1 &
fi

# Bounded wait for the pid file, so a process that cannot start fails the build instead of hanging it.
i=0
while [ ! -s "$pid_file" ]; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then
    echo "the workspace process did not start within 10 s; see $control/workspace.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "workspace process started (pid $(cat "$pid_file"))"
