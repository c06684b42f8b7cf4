#!/usr/bin/env bash
# logburst side by side with the tools an SRE would use instead, on the same
# deterministic nginx combined log, from a warm page cache.
#
#   benches/compare.sh [--size MIB] [--dir DIR] [--runs N] [--big] [--kern-only]
#                      [--json-only] [--cloudfront-only] [--gzip-only]
#                      [--proxies-only]
#
#   --size MIB  size of the generated log (default 1024, i.e. 1 GiB)
#   --dir DIR   where the data goes (default /tmp/logburst-bench); it is kept
#               and reused by the next run of the same size
#   --runs N    timed runs per command, best kept (default 3; GoAccess once)
#   --big       also stream 10x the size through logburst from the generator
#               (standard input) to show peak RSS does not grow with input
#   --kern-only only the kernel-log table (syslog-framed kern.log of the
#               same size with nine OOM kills, benches/gen_kern.py)
#   --json-only only the JSON-lines table (nginx escape=json lines of the
#               same traffic, benches/gen_access.py --json)
#   --cloudfront-only only the CloudFront table (a standard log of the same
#               traffic, benches/gen_access.py --cloudfront)
#   --proxies-only only the Envoy, HAProxy and custom nginx log_format
#               tables (the same traffic, benches/gen_access.py --envoy,
#               --haproxy: syslog-framed, --nginx-custom)
#   --gzip-only only the one-big-archive table: the combined log as one
#               gzip -6 member and as BGZF (bgzip), logburst on one and on
#               all cores against gzip -dc and pigz -dc
#
# Prints a Markdown table (the README shows the latest one) and the ratios
# the throughput issue asks for. Installs goaccess, ripgrep, mawk and time
# from Debian when they are missing and it can.
set -euo pipefail
cd "$(dirname "$0")/.."

size=1024 dir=/tmp/logburst-bench runs=3 big=0 kern_only=0 json_only=0 cf_only=0 gz_only=0 px_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --big) big=1; shift ;;
    --kern-only) kern_only=1; shift ;;
    --json-only) json_only=1; shift ;;
    --cloudfront-only) cf_only=1; shift ;;
    --gzip-only) gz_only=1; shift ;;
    --proxies-only) px_only=1; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

need=()
command -v goaccess >/dev/null || need+=(goaccess)
command -v rg >/dev/null || need+=(ripgrep)
command -v mawk >/dev/null || need+=(mawk)
[ -x /usr/bin/time ] || need+=(time)
command -v pigz >/dev/null || need+=(pigz)
command -v bgzip >/dev/null || need+=(tabix)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null; }
  else
    echo "compare.sh: please install: ${need[*]}" >&2
    exit 1
  fi
fi

cargo build --release --quiet
lb=$PWD/target/release/logburst
mkdir -p "$dir"
log=$dir/access-${size}m.log
if [ "$kern_only" = 0 ] && [ "$json_only" = 0 ] && [ "$cf_only" = 0 ] && [ "$px_only" = 0 ]; then
  if [ ! -s "$log" ]; then
    echo "generating $log ($size MiB)..." >&2
    python3 benches/gen_access.py "$log.tmp" "$size" && mv "$log.tmp" "$log"
  fi
  if [ ! -s "$log.gz" ]; then
    echo "compressing (gzip -6, what logrotate uses)..." >&2
    gzip -6 -c "$log" >"$log.gz.tmp" && mv "$log.gz.tmp" "$log.gz"
  fi
  # Four rotated archives: the same log cut in four at line boundaries.
  parts=$dir/parts-${size}m
  if [ ! -s "$parts/access.log.4.gz" ]; then
    rm -rf "$parts" && mkdir -p "$parts"
    split -n l/4 -d -a 1 "$log" "$parts/p"
    for i in 0 1 2 3; do gzip -6 "$parts/p$i" && mv "$parts/p$i.gz" "$parts/access.log.$((4 - i)).gz"; done
  fi
  # The log stands for an archive or a rotated file, not one being written:
  # dated ten minutes back, so that --mmap auto (the default) maps it as it
  # would those. A file modified within the last minute is read; the
  # "--mmap never" row shows that.
  touch -d '10 minutes ago' "$log"
  bytes=$(stat -L -c %s "$log")
  gz_bytes=$(stat -L -c %s "$log.gz")
  cat "$log" "$log.gz" "$parts"/*.gz >/dev/null # warm the page cache
fi

# best NAME RUNS CMD...: runs CMD, keeps the fastest wall time (s) and the
# peak RSS (MB) of that run in $best_s and $best_mb.
best() {
  local name=$1 n=$2; shift 2
  best_s= best_mb=
  for _ in $(seq "$n"); do
    local t0 t1 s
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$dir/rss" "$@" >/dev/null 2>"$dir/stderr" ||
      { echo "compare.sh: $name failed:" >&2; cat "$dir/stderr" >&2; exit 1; }
    t1=$(date +%s%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
      best_s=$s best_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$dir/rss")
    fi
  done
}

declare -A secs rss
row() { # KEY NAME RUNS CMD...
  local key=$1 name=$2 n=$3; shift 3
  echo "timing: $name" >&2
  best "$name" "$n" "$@"
  secs[$key]=$best_s rss[$key]=$best_mb
  printf '| %s | %s | %s | %s |\n' "$name" "$best_s" \
    "$(awk -v b="$bytes" -v s="$best_s" 'BEGIN { printf "%.0f", b / s / 1e6 }')" "$best_mb"
}

# table_log LOG WHAT EXTRA GENERATOR ARGS...: writes LOG with GENERATOR (a
# script in benches/, given LOG.tmp, the size and ARGS) unless it is there,
# dates it ten minutes back and warms the page cache, sets $bytes, and
# prints the table's title (WHAT describes the file, EXTRA follows its line
# count) and header.
table_log() {
  local log=$1 what=$2 extra=$3 gen=$4
  shift 4
  if [ ! -s "$log" ]; then
    echo "generating $log ($size MiB)..." >&2
    python3 "benches/$gen" "$log.tmp" "$size" "$@" && mv "$log.tmp" "$log"
  fi
  touch -d '10 minutes ago' "$log"
  cat "$log" >/dev/null
  bytes=$(stat -L -c %s "$log")
  echo
  echo "$(numfmt --to=iec --round=nearest "$bytes")B $what ($(wc -l <"$log") lines$extra), $(nproc) cores, page cache warm; best of $runs."
  echo
  echo '| command | seconds | MB/s | peak RSS (MB) |'
  echo '|---|---:|---:|---:|'
}

# The kernel-log table: wc, rg and mawk against logburst on a syslog-framed
# kern.log with nine OOM kills (full dumps) among ordinary kernel lines.
kern_table() {
  local klog=$dir/kern-${size}m.log
  table_log "$klog" 'syslog-framed kern.log' ', 9 OOM kills' gen_kern.py 9
  row kwc 'wc -l' "$runs" wc -l "$klog"
  row krg "rg -c 'Killed process'" "$runs" rg -c 'Killed process' "$klog"
  row kawk 'mawk: kills per minute' "$runs" mawk '/Killed process/ { c[substr($0, 1, 12)]++ } END { for (k in c) print k, c[k] }' "$klog"
  row klb1 'logburst -j1' "$runs" "$lb" -q -j1 -o json "$klog"
  row klb "logburst ($(nproc) cores)" "$runs" "$lb" -q -o json "$klog"
  echo
  echo "- logburst throughput / wc -l throughput: $(ratio "${secs[kwc]}" "${secs[klb]}") (target >= 0.5)"
  echo "- mawk time / logburst time: $(ratio "${secs[kawk]}" "${secs[klb]}")x (target >= 3)"
}

# The JSON-lines table: the same traffic as nginx escape=json lines, and
# the tools' equivalents of the combined-log rows.
json_table() {
  local jlog=$dir/json-${size}m.log
  table_log "$jlog" 'of nginx escape=json lines' '' gen_access.py --json
  row jwc 'wc -l' "$runs" wc -l "$jlog"
  row jrg "rg -c '\"status\": \"5'" "$runs" rg -c '"status": "5' "$jlog"
  row jawk 'mawk: 5xx per minute' "$runs" mawk -F'"status": "' 'substr($2, 1, 1) == "5" { c[substr($0, 11, 16)]++ } END { for (k in c) print k, c[k] }' "$jlog"
  row jlb1 'logburst -j1' "$runs" "$lb" -q -j1 -o json "$jlog"
  row jlb "logburst ($(nproc) cores)" "$runs" "$lb" -q -o json "$jlog"
  echo
  echo "- logburst throughput / wc -l throughput: $(ratio "${secs[jwc]}" "${secs[jlb]}") (target >= 0.5)"
  echo "- mawk time / logburst time: $(ratio "${secs[jawk]}" "${secs[jlb]}")x (target >= 5)"
}

# The CloudFront table: the same traffic as a CloudFront standard log
# (tab-separated W3C fields), and the tools' equivalents.
cf_table() {
  local clog=$dir/cloudfront-${size}m.log
  table_log "$clog" 'CloudFront standard log' '' gen_access.py --cloudfront
  row cwc 'wc -l' "$runs" wc -l "$clog"
  row crg "rg -c '\\t5[0-9][0-9]\\t'" "$runs" rg -c '\t5[0-9][0-9]\t' "$clog"
  row cawk 'mawk: 5xx per minute' "$runs" mawk -F'\t' '$9 ~ /^5/ { c[$1 " " substr($2, 1, 5)]++ } END { for (k in c) print k, c[k] }' "$clog"
  row clb1 'logburst -j1' "$runs" "$lb" -q -j1 -o json "$clog"
  row clb "logburst ($(nproc) cores)" "$runs" "$lb" -q -o json "$clog"
  echo
  echo "- logburst throughput / wc -l throughput: $(ratio "${secs[cwc]}" "${secs[clb]}") (target >= 0.4)"
  echo "- mawk time / logburst time: $(ratio "${secs[cawk]}" "${secs[clb]}")x (target >= 5)"
}

# lb_rows KEY LOG WC_TARGET MAWK_TARGET [ARGS...]: what every format's table
# ends with, after its wc (KEYwc), rg and mawk (KEYawk) rows: logburst on
# one core and on all (with ARGS), and the ratios against the targets.
lb_rows() {
  local k=$1 f=$2 wct=$3 awkt=$4
  shift 4
  row "${k}lb1" 'logburst -j1' "$runs" "$lb" -q -j1 -o json "$@" "$f"
  row "${k}lb" "logburst ($(nproc) cores)" "$runs" "$lb" -q -o json "$@" "$f"
  echo
  echo "- logburst throughput / wc -l throughput: $(ratio "${secs[${k}wc]}" "${secs[${k}lb]}") (target >= $wct)"
  echo "- mawk time / logburst time: $(ratio "${secs[${k}awk]}" "${secs[${k}lb]}")x (target >= $awkt)"
}

# The proxies' tables: the same traffic as Envoy's default access log,
# HAProxy's httplog in syslog framing, and a custom nginx log_format.
px_tables() {
  local elog=$dir/envoy-${size}m.log hlog=$dir/haproxy-${size}m.log nlog=$dir/nginx-custom-${size}m.log
  table_log "$elog" 'Envoy default access log' '' gen_access.py --envoy
  row ewc 'wc -l' "$runs" wc -l "$elog"
  row erg "rg -c '\" 5[0-9][0-9] '" "$runs" rg -c '" 5[0-9][0-9] ' "$elog"
  row eawk 'mawk: 5xx per minute' "$runs" mawk '$5 ~ /^5/ { c[substr($1, 2, 16)]++ } END { for (k in c) print k, c[k] }' "$elog"
  lb_rows e "$elog" 0.4 5
  table_log "$hlog" 'HAProxy httplog (syslog-framed)' '' gen_access.py --haproxy
  row hwc 'wc -l' "$runs" wc -l "$hlog"
  row hrg "rg -c ' 5[0-9][0-9] [0-9]'" "$runs" rg -c ' 5[0-9][0-9] [0-9]' "$hlog"
  row hawk 'mawk: 5xx per minute' "$runs" mawk '$11 ~ /^5/ { c[substr($7, 2, 17)]++ } END { for (k in c) print k, c[k] }' "$hlog"
  lb_rows h "$hlog" 0.4 5
  local fmt
  fmt=$(python3 -c 'import sys; sys.path.insert(0, "benches"); import gen_access; print(gen_access.NGINX_CUSTOM)')
  table_log "$nlog" 'custom nginx log_format' '' gen_access.py --nginx-custom
  row nwc 'wc -l' "$runs" wc -l "$nlog"
  row nrg "rg -c '\" 5[0-9][0-9] '" "$runs" rg -c '" 5[0-9][0-9] ' "$nlog"
  row nawk 'mawk: 5xx per minute' "$runs" mawk '$9 ~ /^5/ { c[substr($4, 2, 17)]++ } END { for (k in c) print k, c[k] }' "$nlog"
  lb_rows n "$nlog" 0.4 5 --nginx-log-format "$fmt"
}

# The one-big-archive table: one rotated day as one gzip member (what
# logrotate writes) and as BGZF (bgzip: members that say where the next
# begins), on one core and on all.
gz_table() {
  if [ ! -s "$log.bgz" ]; then
    echo "compressing (bgzip)..." >&2
    bgzip -c "$log" >"$log.bgz.tmp" && mv "$log.bgz.tmp" "$log.bgz"
  fi
  cat "$log.gz" "$log.bgz" >/dev/null
  echo
  echo "$(numfmt --to=iec --round=nearest "$bytes")B combined log as one archive, $(nproc) cores, page cache warm; best of $runs."
  echo
  echo '| command | seconds | MB/s | peak RSS (MB) |'
  echo '|---|---:|---:|---:|'
  row zgunzip 'gzip -dc file.gz' "$runs" gzip -dc "$log.gz"
  row zpigz 'pigz -dc file.gz' "$runs" pigz -dc "$log.gz"
  row zlb1 'logburst -j1 file.gz' "$runs" "$lb" -q -j1 -o json "$log.gz"
  row zlb "logburst file.gz ($(nproc) cores)" "$runs" "$lb" -q -o json "$log.gz"
  row zblb1 'logburst -j1 file.bgz (BGZF)' "$runs" "$lb" -q -j1 -o json "$log.bgz"
  row zblb "logburst file.bgz ($(nproc) cores)" "$runs" "$lb" -q -o json "$log.bgz"
  echo
  echo "- one gzip member, speed-up from 1 to $(nproc) cores: $(ratio "${secs[zlb1]}" "${secs[zlb]}")x (target >= 1.6); pigz -dc time / logburst time: $(ratio "${secs[zpigz]}" "${secs[zlb]}")x (target > 1)"
  echo "- BGZF, speed-up from 1 to $(nproc) cores: $(ratio "${secs[zblb1]}" "${secs[zblb]}")x (target >= 1.8)"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
if [ "$gz_only" = 1 ]; then
  gz_table
  exit 0
fi
if [ "$px_only" = 1 ]; then
  px_tables
  exit 0
fi
if [ "$cf_only" = 1 ]; then
  cf_table
  exit 0
fi
if [ "$kern_only" = 1 ]; then
  kern_table
  exit 0
fi
if [ "$json_only" = 1 ]; then
  json_table
  exit 0
fi

cores=$(nproc)
echo
echo "$(numfmt --to=iec --round=nearest "$bytes")B combined log ($(wc -l <"$log") lines, last modified 10 minutes ago), $cores cores, page cache warm; best of $runs."
echo "Throughput is uncompressed bytes per second."
echo
echo '| command | seconds | MB/s | peak RSS (MB) |'
echo '|---|---:|---:|---:|'
row wc 'wc -l' "$runs" wc -l "$log"
row rg "rg -c '\" 5[0-9][0-9] '" "$runs" rg -c '" 5[0-9][0-9] ' "$log"
row awk 'mawk: 5xx per minute' "$runs" mawk '$9 ~ /^5/ { c[substr($4, 2, 17)]++ } END { for (k in c) print k, c[k] }' "$log"
row goaccess 'goaccess (JSON report)' 1 goaccess "$log" --log-format=COMBINED --no-global-config --no-progress -o "$dir/goaccess.json"
row lb1 'logburst -j1' "$runs" "$lb" -q -j1 -o json "$log"
row lb "logburst (all $cores cores)" "$runs" "$lb" -q -o json "$log"
row lbread "logburst --mmap never (read, not mapped)" "$runs" "$lb" -q --mmap never -o json "$log"
row gunzip 'gzip -dc file.gz' "$runs" gzip -dc "$log.gz"
row lbgz 'logburst file.gz' "$runs" "$lb" -q -o json "$log.gz"
row lbparts1 'logburst -j1 on 4 .gz parts' "$runs" "$lb" -q -j1 -o json "$parts"
row lbparts "logburst on 4 .gz parts ($cores cores)" "$runs" "$lb" -q -o json "$parts"

echo
echo "- logburst throughput / wc -l throughput: $(ratio "${secs[wc]}" "${secs[lb]}") (target >= 0.5)"
echo "- GoAccess time / logburst time: $(ratio "${secs[goaccess]}" "${secs[lb]}")x (target >= 10)"
echo "- rg -c time / logburst time: $(ratio "${secs[rg]}" "${secs[lb]}")x (target > 1)"
echo "- logburst file.gz time / gzip -dc time: $(ratio "${secs[lbgz]}" "${secs[gunzip]}") (target <= 1.3)"
echo "- 4 .gz parts, speed-up from 1 to $cores threads: $(ratio "${secs[lbparts1]}" "${secs[lbparts]}")x"
echo "- logburst peak RSS: ${rss[lb]} MB mapped (default for a settled file), ${rss[lbread]} MB read, ${rss[lbgz]} MB gzip (target <= 100)"
echo "- compressed: $(numfmt --to=iec --round=nearest "$gz_bytes")B; the progress bar counts these bytes for archives"

# What the hardware leaves for parsing (benches/floor.rs): on the same file,
# mapped, the time merely touching every cache line takes, against the
# parser alone and the parser with the series, one thread and all cores.
echo "timing: floor (benches/floor.rs)" >&2
echo
echo "What the hardware leaves (benches/floor.rs on the same file, mapped; best of $runs):"
echo
cargo bench --quiet --bench floor -- "$log" "$runs" 2>/dev/null | tee "$dir/floor.md"
touch_s=$(awk -F'|' -v c="$cores" '$2 ~ /touch/ && $3 + 0 == c { printf "%.3f", $4 / 1000 }' "$dir/floor.md")
parse_s=$(awk -F'|' -v c="$cores" '$2 ~ /block parser $/ && $3 + 0 == c { printf "%.3f", $4 / 1000 }' "$dir/floor.md")
echo
echo "- rg -c time / time $cores threads take to touch every cache line of the file: $(ratio "${secs[rg]}" "$touch_s")"
echo "- rg -c time / time of the block parser alone on $cores threads: $(ratio "${secs[rg]}" "$parse_s")"

kern_table
json_table

if [ "$big" = 1 ]; then
  echo "timing: 10x streamed through stdin" >&2
  big_mib=$((size * 10))
  t0=$(date +%s%N)
  python3 benches/gen_access.py - "$big_mib" |
    /usr/bin/time -f %M -o "$dir/rss" "$lb" -q -o json - >"$dir/big.json"
  t1=$(date +%s%N)
  echo "- $((big_mib / 1024)) GiB streamed from the generator through stdin in $(( (t1 - t0) / 1000000000 )) s (bound by the Python generator): logburst peak RSS $(awk '{ printf "%.0f", $1 / 1024 }' "$dir/rss") MB"
fi
