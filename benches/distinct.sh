#!/usr/bin/env bash
# Bounded memory whatever the content: a log of N requests (default ten
# million), every one for a distinct URL from one of a million clients,
# half of them 5xx over three hours — the worst case for the per-incident
# tallies of distinct clients and top paths. Prints logburst's peak RSS
# and, beside it, what an exact per-URL tally costs (mawk counting 5xx per
# path, the one-liner an SRE would write).
#
#   benches/distinct.sh [--lines N] [--dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

lines=10000000 dir=/tmp/logburst-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) lines=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "distinct.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in mawk /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "distinct.sh: please install ${tool##*/} (Debian: mawk, time)" >&2; exit 1; }
done

cargo build --release --quiet
lb=$PWD/target/release/logburst
mkdir -p "$dir"
log=$dir/distinct-$lines.log
if [ ! -s "$log" ]; then
  echo "generating $log ($lines lines, each URL distinct)..." >&2
  # 3 h from 2023-02-02 04:00 UTC; the path carries a random token (not an
  # id a template would fold), the client one of a million addresses.
  mawk -v n="$lines" 'BEGIN {
    srand(7); span = 3 * 3600
    split("Jan Feb Mar", mon, " ")
    for (i = 0; i < n; i++) {
      t = int(i * span / n); h = 4 + int(t / 3600); m = int(t / 60) % 60; s = t % 60
      c = int(rand() * 1000000)
      status = (rand() < 0.5) ? 503 : 200
      printf "10.%d.%d.%d - - [02/Feb/2023:%02d:%02d:%02d +0000] \"GET /item/x%08xz%07d/view?q=%d HTTP/1.1\" %d 512 \"-\" \"bench\"\n",
        int(c / 65536), int(c / 256) % 256, c % 256, h, m, s, int(rand() * 2147483647), i, i, status
    }
  }' >"$log.tmp" && mv "$log.tmp" "$log"
fi
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null # warm the page cache

measure() { # label, command…: wall seconds and peak RSS
  local label=$1; shift
  local out
  out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)
  printf '| %s | %s s | %s MB |\n' "$label" "${out% *}" "$(( ${out#* } / 1024 ))"
}

echo
printf '%s lines, %s MB, every URL distinct, half of them 5xx\n\n' "$lines" "$(( bytes / 1000000 ))"
echo '| command | time | peak RSS |'
echo '|---|---|---|'
measure "logburst (text)" "$lb" -q "$log"
measure "logburst -o json" "$lb" -q -o json "$log"
measure "mawk: 5xx per path" mawk '$9 ~ /^5/ { split($7, p, "?"); n[p[1]]++ } END { for (k in n) c++; print c }' "$log"
echo
"$lb" -q -o json "$log" | python3 -c '
import json, sys
a = json.load(sys.stdin)
for i in a["incidents"]:
    if i["kind"] == "error-burst":
        top = i["top_paths"][0] if i["top_paths"] else ("none stands out" if i["paths_scattered"] else "none")
        print("burst:", i["errors"], "5xx;", i["clients_affected"], "clients", "(estimated)" if i["clients_estimated"] else "", "; top path:", top)
'
