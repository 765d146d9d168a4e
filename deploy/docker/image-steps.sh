#!/bin/sh
# The steps of the container images (deploy/docker/*.Dockerfile RUN this), kept in a script so that they also run on a
# machine without a Docker engine: tests/Provisioning.Cli.Tests/DockerImageStepsTests.cs runs it into a temporary root.
#
#   image-steps.sh ROLE ROOT
#     ROLE  server | provisioner
#     ROOT  the image's root: / in a Dockerfile, a temporary directory in the test
#   environment:
#     PROVISIONING_DIST  directory holding the `provisioning` executable (scripts/release.sh: artifacts/release/linux-x64),
#                        copied whole to ROOT/opt/provisioning
#     TERRAFORM_BINARY   the Terraform (or OpenTofu) executable for the image's architecture
#     PROVISIONING_UID   the account's user and group id (default 10001)
#
# POSIX sh on purpose: base images (the operator's choice) need not have bash. Fails on the first error, naming it.
set -eu

fail() { echo "image-steps: error: $*" >&2; exit 1; }
step() { echo "image-steps: $*"; }

[ $# -eq 2 ] || fail "usage: image-steps.sh server|provisioner ROOT"
role=$1
root=${2%/}
case "$role" in
  server) state_dir=/var/lib/provisioning ;;
  provisioner) state_dir=/var/lib/provisioning-provisioner ;;
  *) fail "unknown role '$role': use server or provisioner" ;;
esac
[ -d "$root/" ] || fail "the root '$2' is not a directory"
dist=${PROVISIONING_DIST:-}
[ -n "$dist" ] && [ -x "$dist/provisioning" ] || fail "PROVISIONING_DIST must name a directory holding the provisioning executable (got '$dist'); build it with scripts/release.sh"
terraform=${TERRAFORM_BINARY:-}
[ -n "$terraform" ] && [ -f "$terraform" ] || fail "TERRAFORM_BINARY must name the Terraform executable to copy in (got '$terraform')"
uid=${PROVISIONING_UID:-10001}
case "$uid" in ''|*[!0-9]*) fail "PROVISIONING_UID must be a number (got '$uid')" ;; esac

step "1/6 account provisioning ($uid:$uid), without useradd: minimal base images lack it"
mkdir -p "$root/etc"
touch "$root/etc/passwd" "$root/etc/group"
grep -q '^provisioning:' "$root/etc/group" || echo "provisioning:x:$uid:" >> "$root/etc/group"
grep -q '^provisioning:' "$root/etc/passwd" || echo "provisioning:x:$uid:$uid:Provisioning fleet:$state_dir:/usr/sbin/nologin" >> "$root/etc/passwd"

step "2/6 provisioning into /opt/provisioning, linked from /usr/local/bin"
mkdir -p "$root/opt/provisioning" "$root/usr/local/bin"
cp -R "$dist/." "$root/opt/provisioning/"
chmod 0755 "$root/opt/provisioning/provisioning"
ln -sf /opt/provisioning/provisioning "$root/usr/local/bin/provisioning"

step "3/6 terraform into /usr/local/bin"
cp "$terraform" "$root/usr/local/bin/terraform"
chmod 0755 "$root/usr/local/bin/terraform"

step "4/6 health check into /usr/local/bin/provisioning-healthcheck"
cat > "$root/usr/local/bin/provisioning-healthcheck" <<'HEALTHCHECK'
#!/bin/sh
# provisioning-healthcheck URL: exit 0 when URL answers 2xx (the images' HEALTHCHECK on /healthz), else 1
# (Docker reserves 2 and reads anything else as undefined, so curl's and wget's own codes are not passed on).
url=${1:?usage: provisioning-healthcheck URL}
if command -v curl >/dev/null 2>&1; then
  curl --fail --silent --show-error --max-time 5 --output /dev/null "$url" || exit 1
  exit 0
elif command -v wget >/dev/null 2>&1; then
  wget --quiet --timeout=5 --output-document=/dev/null "$url" || exit 1
  exit 0
fi
echo "provisioning-healthcheck: neither curl nor wget is in the image; add one to the base image" >&2
exit 1
HEALTHCHECK
chmod 0755 "$root/usr/local/bin/provisioning-healthcheck"
if [ "$root" = "" ] && ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
  # Only inside the image (ROOT=/): a base image without either gets curl from its own package manager.
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
  elif command -v apk >/dev/null 2>&1; then
    apk add --no-cache curl >/dev/null
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y -q curl && dnf clean all
  else
    fail "the base image has neither curl nor wget nor a known package manager: the health check needs one of them"
  fi
fi

step "5/6 state directory $state_dir (owner-only, owned by the account)"
mkdir -p "$root$state_dir"
chmod 0700 "$root$state_dir"
if [ "$(id -u)" = 0 ]; then
  chown -R "$uid:$uid" "$root$state_dir"
else
  step "   not root: $state_dir stays owned by $(id -un); the image build runs as root and sets $uid:$uid"
fi

step "6/6 check: the copied executable runs"
version=$("$root/opt/provisioning/provisioning" --version) || fail "$root/opt/provisioning/provisioning --version failed: is PROVISIONING_DIST built for this image's architecture?"
step "done: provisioning $version ($role)"
