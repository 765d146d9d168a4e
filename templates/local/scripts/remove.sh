# Deletes the workspace: stops its process if a failed stop left one, then removes its directory and
# the owner's folder when that was its last workspace.
# Environment: WORKSPACE_DIR.
set -eu

case "$WORKSPACE_DIR" in
  "" | "/" | "$HOME" | "$HOME/")
    echo "refusing to remove '$WORKSPACE_DIR': not a workspace directory" >&2
    exit 1
    ;;
esac

if [ -d "$WORKSPACE_DIR" ]; then
  sh "$(dirname "$0")/stop.sh"
  rm -rf -- "$WORKSPACE_DIR"
  rmdir -- "$(dirname "$WORKSPACE_DIR")" 2>/dev/null || true
  echo "workspace directory removed: $WORKSPACE_DIR"
else
  echo "workspace directory already gone: $WORKSPACE_DIR"
fi
