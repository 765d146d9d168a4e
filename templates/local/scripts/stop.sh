# Stops the workspace process in $WORKSPACE_DIR, if it runs; a process that is already gone is fine.
# Environment: WORKSPACE_DIR.
set -eu

pid_file="$WORKSPACE_DIR/.provisioning/workspace.pid"
if [ ! -f "$pid_file" ]; then
  echo "workspace process not running (no pid file)"
  exit 0
fi
pid=$(cat "$pid_file" 2>/dev/null || true)

is_ours() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' '\n' <"/proc/$1/cmdline" | grep -qx 'provisioning-workspace' || return 1
  fi
  return 0
}

if ! is_ours "$pid"; then
  echo "workspace process already gone (pid ${pid:-none})"
  rm -f "$pid_file"
  exit 0
fi

# The process leads its own group when setsid started it: signal the group, so its sleep goes too.
signal() {
  kill "-$1" -- "-$pid" 2>/dev/null || kill "-$1" "$pid" 2>/dev/null || true
}
signal TERM
i=0
while is_ours "$pid"; do
  i=$((i + 1))
  if [ "$i" -eq 50 ]; then
    echo "workspace process $pid ignored SIGTERM for 5 s; killing it"
    signal KILL
  fi
  if [ "$i" -gt 100 ]; then
    echo "workspace process $pid is still alive 10 s after SIGKILL" >&2
    exit 1
  fi
  sleep 0.1
done
rm -f "$pid_file"
echo "workspace process stopped (pid $pid)"
