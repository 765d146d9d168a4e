#!/usr/bin/env bash
# Makes a Debian base image offline: no registry is reachable here, but Debian's package mirror is. debootstrap
# (minbase) fills a directory, `docker import` turns it into an image. The job image (--isolation docker), the
# docker template's workspaces and the container fault tests are built FROM it. Skips the work when the image exists.
#   ./scripts/docker-base-image.sh [IMAGE]      # default provisioning/debian-base:bookworm
# Environment: DEBIAN_MIRROR (default: the first mirror of this machine's apt sources, else deb.debian.org),
#              DEBIAN_SUITE (default bookworm), BASE_IMAGE_FORCE=1 to rebuild.
set -euo pipefail

image="${1:-provisioning/debian-base:bookworm}"
suite="${DEBIAN_SUITE:-bookworm}"

if [[ "${BASE_IMAGE_FORCE:-}" != 1 ]] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image: $image exists"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "base image: debootstrap is missing (apt-get install debootstrap)" >&2
  exit 1
fi
mirror="${DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror="$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

root="$(mktemp -d /tmp/provisioning-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "base image: debootstrap --variant=minbase $suite from $mirror (about a minute)"
started=$SECONDS
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
  echo "base image: debootstrap failed; its log ends with:" >&2
  tail -n 20 "$root.log" >&2
  exit 1
}
rm -f "$root.log"
# ca-certificates is not in minbase; apt inside the image then reaches the same mirror (host networking).
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base image: $image imported in $((SECONDS - started)) s ($(docker image inspect "$image" --format '{{.Size}}') bytes)"
