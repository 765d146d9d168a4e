#!/usr/bin/env bash
# Runs every test project of the solution and prints the counted totals from the TRX results:
# the last line is "N passed, N failed, N skipped". Exits non-zero when a test fails or a test
# project could not run.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
results_dir="${PROVISIONING_TEST_RESULTS:-$repo_root/TestResults}"
rm -rf "$results_dir"
mkdir -p "$results_dir"

cd "$repo_root"
started=$SECONDS
dotnet build Provisioning.sln -c Release -nologo -v quiet || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
echo "build took $((SECONDS - started)) s"

test_exit=0
# One project at a time, each with its own TRX file name, so results never overwrite each other.
mapfile -t test_projects < <(dotnet sln Provisioning.sln list | grep -E 'Tests\.csproj$')
for project in "${test_projects[@]}"; do
  name="$(basename "$project" .csproj)"
  started=$SECONDS
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results_dir" "$@" || test_exit=$?
  echo "$name took $((SECONDS - started)) s"
done

passed=0; failed=0; skipped=0; files=0
for trx in "$results_dir"/*.trx; do
  [[ -e "$trx" ]] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  read_counter() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(read_counter passed)))
  failed=$((failed + $(read_counter failed) + $(read_counter error) + $(read_counter timeout) + $(read_counter aborted)))
  # VSTest records skipped tests as not executed: total minus executed.
  skipped=$((skipped + $(read_counter total) - $(read_counter executed)))
done

projects="${#test_projects[@]}"
if (( files < projects )); then
  echo "only $files of $projects test projects produced results (a test host crashed?)"
  failed=$((failed + projects - files))
  test_exit=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
if (( failed > 0 || test_exit != 0 )); then exit 1; fi
