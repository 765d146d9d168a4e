#!/usr/bin/env bash
# Runs the built `provisioning` CLI against the instance ./scripts/develop.sh runs (URL and token from
# its dev home), e.g. ./scripts/provisioning-dev.sh create my-workspace -t local
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROVISIONING_HOME="${PROVISIONING_HOME:-$repo/.dev/home}"
unset PROVISIONING_URL PROVISIONING_SESSION_TOKEN
cli="$repo/cli/bin/Release/net10.0/provisioning"
if [[ ! -x "$cli" || ! -f "$PROVISIONING_HOME/url" ]]; then
  echo "provisioning-dev.sh: no development instance yet: run ./scripts/develop.sh first (in another terminal)." >&2
  exit 1
fi
exec "$cli" "$@"
