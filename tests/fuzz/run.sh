#!/usr/bin/env bash
# Runs one fuzz target, its corpus seeded from the project's fixtures.
#
#   tests/fuzz/run.sh TARGET [libFuzzer options...]
#   tests/fuzz/run.sh access -max_total_time=60
#   tests/fuzz/run.sh pipeline -runs=10000000
#   tests/fuzz/run.sh all -max_total_time=30     # every target in turn
#   FUZZ_JOBS=2 tests/fuzz/run.sh all -max_total_time=30   # two at a time
#
# Targets: access, json, system, oom, stamps, nginx, nginx_error, app, pipeline, summary, w3c, envelope, bgzf (see fuzz_targets/).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable toolchain is
# enough, as RUSTC_BOOTSTRAP lets it use the sanitizer flags. A crash input
# is written to tests/fuzz/artifacts/TARGET/; copy it to
# tests/fuzz/regressions/TARGET/ and `cargo test --test it fuzz_regressions`
# replays it for good.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${1:?usage: run.sh TARGET [libFuzzer options...]}
shift
targets=(access json system oom stamps nginx nginx_error app pipeline summary w3c envelope bgzf)
if [ "$target" = all ] && [ "${FUZZ_JOBS:-1}" -le 1 ]; then
  for t in "${targets[@]}"; do "$0" "$t" "$@"; done
  exit 0
fi
if [ "$target" = all ]; then
  # FUZZ_JOBS targets at a time (one core each): build once, run each
  # into its own log, print the logs when all are done, the failed last.
  (cd "$here" && RUSTC_BOOTSTRAP=1 cargo fuzz build --fuzz-dir "$here")
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
  running=0
  for t in "${targets[@]}"; do
    if [ "$running" -ge "$FUZZ_JOBS" ]; then wait -n || true; running=$((running - 1)); fi
    { "$0" "$t" "$@" >"$logs/$t.log" 2>&1; echo $? >"$logs/$t.status"; } &
    running=$((running + 1))
  done
  wait
  failed=()
  for t in "${targets[@]}"; do
    if [ "$(cat "$logs/$t.status")" = 0 ]; then cat "$logs/$t.log"; else failed+=("$t"); fi
  done
  for t in "${failed[@]}"; do cat "$logs/$t.log"; done
  if [ "${#failed[@]}" -gt 0 ]; then echo "run.sh: failed: ${failed[*]}"; exit 1; fi
  exit 0
fi

corpus=$here/corpus/$target
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
  mkdir -p "$corpus"
  # Seeds: every fixture cut into pieces of 20 lines (the parsers' targets
  # split lines themselves), plus the demo's rotated gzip for the pipeline.
  find "$root"/fixtures/formats "$root"/fixtures/demo -type f ! -name '*.gz' ! -name '*.py' | sort |
    while read -r f; do
      split -l 20 -d -a 4 "$f" "$corpus/$(basename "$f")."
    done
  # Keep the seed set small: the first few pieces of each file.
  find "$corpus" -name '*.0[1-9][0-9][0-9]' -delete
  [ "$target" = pipeline ] && cp "$root"/fixtures/demo/*/access.log.1.gz "$corpus/"
  if [ "$target" = json ]; then
    printf '%s\n' '{"ts":1675310422.5,"status":503,"request":{"uri":"/"}}' '{"@timestamp":"2023-02-02T04:00:22Z","http":{"response":{"status_code":502}}}' '{"time_local":"02/Feb/2023:07:00:22 +0300","status":"200"}' >"$corpus/seed"
    # JSON documents: an indented array and a kubectl List, read as lines.
    printf '[\n  {"status": 502, "time": "2023-02-02T04:00:22Z", "a": [1, {"b": "]"}]},\n  "x", 3\n]\n' >"$corpus/array"
    cp "$root"/fixtures/formats/kubectl-events.json "$corpus/list"
  fi
  if [ "$target" = nginx ]; then
    # A format line followed by lines it wrote, and a configuration.
    { echo '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'; head -20 "$root"/fixtures/demo/web-01/access.log; } >"$corpus/combined"
    printf '%s\n%s\n' '{"t":"$msec","s":$status,"r":"$request"}' '{"t":"1675310422.123","s":502,"r":"GET /\"x\" HTTP/1.1"}' >"$corpus/json"
    printf '%s\n' "http { log_format main '\$time_iso8601 \$status'; access_log /var/log/a.log main; include x/*.conf; }" >"$corpus/conf"
  fi
  if [ -d "$here/regressions/$target" ]; then cp "$here/regressions/$target"/* "$corpus/" 2>/dev/null || true; fi
fi
cd "$here"
RUSTC_BOOTSTRAP=1 exec cargo fuzz run --fuzz-dir "$here" "$target" "$corpus" -- "$@"
