# Run by every provisioner of the fault suite's template (see main.tf). Takes the workspace's lock without
# waiting: a second apply of the same workspace running at the same moment cannot take it, and records a
# violation file instead (then goes on, so that the rest of the build behaves as it would have).
set -eu
dir="$MARKER_DIR"
mkdir -p "$dir/markers" "$dir/violations"
build="${TF_VAR_workspace_build_number:-?}"
now() { date +%s.%N; }
exec 9>>"$dir/lock"
if ! flock -n 9; then
  printf 'build=%s resource=%s action=%s at=%s job_dir=%s\n' "$build" "$MARKER_NAME" "$MARKER_ACTION" "$(now)" "$PWD" \
    > "$dir/violations/$(date +%s%N)-$$-$MARKER_NAME"
fi
printf 'begin build=%s resource=%s action=%s at=%s job_dir=%s\n' "$build" "$MARKER_NAME" "$MARKER_ACTION" "$(now)" "$PWD" >> "$dir/runs.log"
if [ "$MARKER_ACTION" = create ]; then
  sleep "$MARKER_SLEEP"
  # Written last and renamed into place: a marker exists only once the resource's creation is done.
  printf 'build=%s job_dir=%s\n' "$build" "$PWD" > "$dir/markers/.$MARKER_NAME.tmp"
  mv "$dir/markers/.$MARKER_NAME.tmp" "$dir/markers/$MARKER_NAME"
else
  rm -f "$dir/markers/$MARKER_NAME"
  sleep "$(( MARKER_SLEEP / 3 ))"
fi
printf 'end build=%s resource=%s action=%s at=%s job_dir=%s\n' "$build" "$MARKER_NAME" "$MARKER_ACTION" "$(now)" "$PWD" >> "$dir/runs.log"
