#!/usr/bin/env bash
# Builds the job image of `provisioning provisioner start --isolation docker` from deploy/docker/job-image/Dockerfile:
# FROM a base image the operator names, with this machine's terraform copied in (no registry is needed).
#   ./scripts/docker-job-image.sh [IMAGE]   # default provisioning/terraform-job:latest
# Environment: BASE_IMAGE (default provisioning/debian-base:bookworm, made offline by scripts/docker-base-image.sh),
#              TERRAFORM (default: terraform on PATH), JOB_IMAGE_FORCE=1 to rebuild an image whose Terraform matches.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="${1:-provisioning/terraform-job:latest}"
base="${BASE_IMAGE:-provisioning/debian-base:bookworm}"
terraform="${TERRAFORM:-$(command -v terraform || true)}"

[[ -n "$terraform" && -x "$terraform" ]] || { echo "job image: terraform is missing (put it on PATH or set TERRAFORM)" >&2; exit 1; }
docker image inspect "$base" >/dev/null 2>&1 || { echo "job image: the base image $base is missing (./scripts/docker-base-image.sh makes it offline)" >&2; exit 1; }

wanted="$("$terraform" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
if [[ "${JOB_IMAGE_FORCE:-}" != 1 ]] && docker image inspect "$image" >/dev/null 2>&1; then
  have="$(docker run --rm --network none "$image" terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' || true)"
  if [[ "$have" == "$wanted" ]]; then
    echo "job image: $image exists (Terraform $have)"
    exit 0
  fi
fi

context="$(mktemp -d /tmp/provisioning-job-image.XXXXXX)"
trap 'rm -rf "$context"' EXIT
cp "$repo/deploy/docker/job-image/Dockerfile" "$context/Dockerfile"
cp "$terraform" "$context/terraform"
echo "job image: building $image FROM $base with Terraform $wanted"
# Host networking: the engine may have no bridge (scripts/docker-engine.sh), and apt-get needs the mirror.
docker build -q --network host --build-arg "BASE_IMAGE=$base" -t "$image" "$context" >/dev/null
echo "job image: $image built ($(docker image inspect "$image" --format '{{.Size}}') bytes)"
