#!/usr/bin/env bash
# Builds a release of `provisioning` into one directory (see README.md, "Releases and deployment"):
#   linux-x64/provisioning, linux-arm64/provisioning   self-contained single files (ReadyToRun),
#                                                      from cli/Properties/PublishProfiles/*.pubxml
#   provisioning.<version>.nupkg                       the `dotnet tool` package
#   SHA256SUMS                                         `sha256sum -c SHA256SUMS` in that directory checks them
# and checks them: the linux-x64 executable and the installed tool run `--version`; the linux-arm64 one, which this
# x64 machine cannot run without emulation, is checked by its ELF header (and run when emulation is available).
#
#   scripts/release.sh [--version V] [--out DIR]
#     --version V  the release's version (e.g. 0.3.0); default: from git tags (v0.3.0) by MinVer
#     --out DIR    default: artifacts/release
#
# Takes several minutes (two ReadyToRun publishes). Needs the linux-x64 and linux-arm64 runtime packs from NuGet, or an
# offline package source holding them; without them it stops at that step and says so.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo_root/artifacts/release"
version=""
rids=(linux-x64 linux-arm64)

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
fail() { echo "release: error: $*" >&2; exit 1; }

while (($#)); do
  case "$1" in
    --version) [[ $# -ge 2 && -n "$2" ]] || fail "--version needs a value, e.g. --version 0.3.0"; version="$2"; shift 2 ;;
    --version=*) version="${1#*=}"; shift ;;
    --out) [[ $# -ge 2 && -n "$2" ]] || fail "--out needs a directory"; out="$2"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done

# SemVer 2.0 without build metadata: what MinVer would make from a tag, and what NuGet accepts as a package version.
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
if [[ -n "$version" ]]; then
  [[ "$version" =~ $semver ]] || fail "--version '$version' is not a SemVer version like 0.3.0 or 0.4.0-rc.1 (no leading 'v')"
  export MINVERVERSIONOVERRIDE="$version"
fi

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK (dotnet) is not on PATH"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
logs="$out/logs"
rm -rf "${rids[@]/#/$out/}" "$out"/provisioning.*.nupkg "$out/SHA256SUMS" "$logs"
mkdir -p "$logs"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

steps=4
started_all=$SECONDS
step_started=$SECONDS
step() { step_started=$SECONDS; echo "[$1/$steps] $2"; }
took() { echo "      done in $((SECONDS - step_started)) s${1:+: $1}"; }

# A failed dotnet command: say what is missing when it is a runtime pack or an unreachable package source (offline
# machines), else show the end of its log.
explain_failure() {
  local what="$1" log="$2" rid="${3:-}"
  if grep -qE 'NETSDK1112|NETSDK1094|NETSDK1083|NU1101|NU1102|NU1301|NU1100' "$log"; then
    echo "release: error: $what: a package could not be restored${rid:+ for $rid}." >&2
    grep -hoE '(NETSDK1112|NETSDK1094|NETSDK1083|NU1101|NU1102|NU1301|NU1100)[^[]*' "$log" | sort -u | head -5 | sed 's/^/  /' >&2
    echo "  This machine cannot reach NuGet, or its package sources lack them. Publishing for $rid needs" >&2
    echo "  Microsoft.NETCore.App.Runtime.$rid, Microsoft.AspNetCore.App.Runtime.$rid, Microsoft.NETCore.App.Host.$rid and" >&2
    echo "  Microsoft.NETCore.App.Crossgen2.linux-x64 of the SDK's runtime version: restore once on a connected machine and" >&2
    echo "  copy ~/.nuget/packages, or add an offline source holding them (dotnet nuget add source DIR)." >&2
  else
    echo "release: error: $what failed; the end of $log:" >&2
    tail -n 20 "$log" >&2
  fi
  exit 1
}

elf_machine() {
  # e_machine: 2 bytes, little-endian, at offset 18 of an ELF64 header (62 = x86-64, 183 = AArch64).
  local magic machine
  magic="$(od -An -tx1 -N4 "$1" | tr -d ' \n')"
  [[ "$magic" == "7f454c46" ]] || { echo "not-elf"; return; }
  machine="$(od -An -tu2 -j18 -N2 "$1" | tr -d ' \n')"
  case "$machine" in 62) echo "x86-64" ;; 183) echo "aarch64" ;; *) echo "machine-$machine" ;; esac
}

echo "release: ${version:-version from git tags (MinVer)} into $out (logs: $logs)"

n=0
for rid in "${rids[@]}"; do
  n=$((n + 1))
  step "$n" "dotnet publish -p:PublishProfile=$rid (self-contained, single file, ReadyToRun)"
  log="$logs/publish-$rid.log"
  if ! dotnet publish "$repo_root/cli/Provisioning.Cli.csproj" -c Release -p:PublishProfile="$rid" -p:PublishDir="$out/$rid/" -nologo >"$log" 2>&1; then
    explain_failure "publishing $rid" "$log" "$rid"
  fi
  [[ -f "$out/$rid/provisioning" ]] || fail "publishing $rid made no $out/$rid/provisioning (see $log)"
  extra="$(find "$out/$rid" -mindepth 1 -not -name provisioning | head -5)"
  [[ -z "$extra" ]] || fail "publishing $rid left files beside the single file: $extra"
  took "$(du -h "$out/$rid/provisioning" | cut -f1)"
done

step 3 "dotnet pack (the dotnet tool package)"
log="$logs/pack.log"
dotnet pack "$repo_root/cli/Provisioning.Cli.csproj" -c Release -o "$out" -nologo >"$log" 2>&1 || explain_failure "packing the tool" "$log"
shopt -s nullglob
packages=("$out"/provisioning.*.nupkg)
shopt -u nullglob
((${#packages[@]} == 1)) || fail "expected one provisioning.*.nupkg in $out, found ${#packages[@]}"
package_version="$(basename "${packages[0]}" .nupkg)"
package_version="${package_version#provisioning.}"
took "$(basename "${packages[0]}")"

step 4 "checks and SHA256SUMS"
x64_version="$("$out/linux-x64/provisioning" --version)" || fail "$out/linux-x64/provisioning --version failed"
echo "      linux-x64/provisioning --version: $x64_version"
[[ "$x64_version" == "$package_version" ]] || fail "the executable says $x64_version, the tool package is $package_version"
[[ -z "$version" || "$x64_version" == "$version" ]] || fail "asked for $version, the executable says $x64_version"
[[ "$(elf_machine "$out/linux-x64/provisioning")" == "x86-64" ]] || fail "linux-x64/provisioning is not an x86-64 ELF executable"

arm_machine="$(elf_machine "$out/linux-arm64/provisioning")"
[[ "$arm_machine" == "aarch64" ]] || fail "linux-arm64/provisioning is not an AArch64 ELF executable (its header says $arm_machine)"
if [[ "$(uname -m)" == "aarch64" ]] || [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
  arm_version="$("$out/linux-arm64/provisioning" --version)" || fail "$out/linux-arm64/provisioning --version failed"
  [[ "$arm_version" == "$x64_version" ]] || fail "linux-arm64/provisioning says $arm_version, linux-x64 says $x64_version"
  echo "      linux-arm64/provisioning --version: $arm_version"
else
  echo "      linux-arm64/provisioning: NOT RUN (this $(uname -m) machine has no arm64 emulation); checked its ELF header only: AArch64 executable"
fi

# The tool as a user installs it, from the output directory: naming the version, this needs no other package source
# (offline machines; without --version, `dotnet tool install` also asks the configured sources and fails offline unless
# given --ignore-failed-sources).
tool_dir="$(mktemp -d)"
trap 'rm -rf "$tool_dir"' EXIT
log="$logs/tool-install.log"
dotnet tool install --tool-path "$tool_dir/bin" --add-source "$out" --version "$package_version" provisioning >"$log" 2>&1 \
  || explain_failure "installing the tool package" "$log"
tool_version="$("$tool_dir/bin/provisioning" --version)" || fail "the installed tool's --version failed"
[[ "$tool_version" == "$x64_version" ]] || fail "the installed tool says $tool_version, the executable $x64_version"
echo "      dotnet tool install --tool-path X --add-source $out --version $package_version provisioning: --version $tool_version"

(cd "$out" && sha256sum linux-x64/provisioning linux-arm64/provisioning "$(basename "${packages[0]}")" >SHA256SUMS)
sed 's/^/      /' "$out/SHA256SUMS"
took

echo "release: $x64_version ready in $out ($((SECONDS - started_all)) s)"
