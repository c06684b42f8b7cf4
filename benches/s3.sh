#!/usr/bin/env bash
# Object storage throughput: the same gzip archives read from a local
# directory and from `s3://` on a real S3 API on loopback (moto's server),
# by the release binary, from a warm page cache.
#
#   benches/s3.sh [--size MIB] [--objects N] [--runs N] [--python PY]
#
#   --size MIB    uncompressed traffic generated (default 1024), by
#                 benches/gen_access.py, cut into N objects and gzipped
#   --objects N   how many objects (default 8)
#   --runs N      timed runs each, best kept (default 5)
#   --python PY   a Python with moto[server] (default $LOGBURST_PYTHON, else
#                 target/ci-python/bin/python, which .ci/run makes)
#
# Prints wall time, peak RSS and throughput for both, and the ratio the
# scale-out issue asks for (s3:// at >= 80 % of the local throughput). moto
# is a Python server: the ratio is a floor for a real endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

size=1024 objects=8 runs=5 python=${LOGBURST_PYTHON:-target/ci-python/bin/python}
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --objects) objects=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
"$python" -c 'import moto.server' 2>/dev/null || { echo "no moto[server] for $python" >&2; exit 2; }

cargo build --release --locked -q
bin=$PWD/target/release/logburst
dir=/tmp/logburst-bench/s3-$size-$objects
if [ ! -d "$dir/web" ]; then
  mkdir -p "$dir/web"
  python3 benches/gen_access.py "$dir/all.log" "$size"
  (cd "$dir" && split -n "l/$objects" -d -a 3 all.log part && rm all.log)
  for p in "$dir"/part*; do gzip -c "$p" > "$dir/web/access-$(basename "$p").log.gz" && rm "$p"; done
fi

port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m moto.server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
timing=$(mktemp)
trap 'kill $moto 2>/dev/null; rm -f "$timing"' EXIT
url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
curl -sf -X PUT "$url/bench" >/dev/null
for f in "$dir"/web/*.gz; do
  curl -sf -H 'Expect:' -H 'Content-Type: application/octet-stream' -X PUT \
    --data-binary @"$f" "$url/bench/web/$(basename "$f")" >/dev/null
done
export AWS_ENDPOINT_URL=$url AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=bench \
  AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

best() { # best wall seconds and its peak RSS (KiB) of $runs runs of "$@"
  local b=999999 rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$timing" -f '%e %M' "$@" >/dev/null 2>&1
    read -r t m < "$timing"
    if awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t rss=$m; fi
  done
  echo "$b $rss"
}
gz=$(du -cb "$dir"/web/*.gz | tail -1 | cut -f1)
read -r lt lm < <(best "$bin" -q -o json "$dir/web")
read -r st sm < <(best "$bin" -q -o json s3://bench/web/)
cmp <("$bin" -q -o json "$dir/web" | sed "s#$dir/web/##") \
    <("$bin" -q -o json s3://bench/web/ | sed "s#s3://bench/web/##") \
  || { echo "the JSON differs between local and s3://" >&2; exit 1; }
echo "| input | objects | gzip MiB | wall s | MiB/s (uncompressed) | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for row in "local $lt $lm" "s3:// $st $sm"; do
  set -- $row
  awk -v n="$1" -v o="$objects" -v g="$gz" -v s="$size" -v t="$2" -v m="$3" \
    'BEGIN { printf "| %s | %d | %.0f | %.2f | %.0f | %.0f |\n", n, o, g / 1048576, t, s / t, m / 1024 }'
done
awk -v l="$lt" -v s="$st" 'BEGIN { printf "s3:// throughput = %.0f %% of local (target >= 80 %%)\n", 100 * l / s }'
