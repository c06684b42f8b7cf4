#!/usr/bin/env bash
# Peak memory (RSS) and time of the release binary on inputs whose content
# or number is chosen to exhaust memory (issue 17), against the 256 MB
# target. Generates every input in a temporary directory, prints a table,
# and exits 1 when a case is over its target.
#
#   bash benches/memory.sh            (about 2 minutes on 2 cores)
#
# Needs GNU time (/usr/bin/time), python3, gzip and zstd.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/logburst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target_kb=$((256 * 1024))

python3 - "$work" <<'EOF'
import os, sys
work = sys.argv[1]
line = ('Feb  2 07:{m:02d}:{s:02d} host-{i:07d} haproxy[1]: 10.0.0.1:5555 '
        '[02/Feb/2023:07:{m:02d}:{s:02d}.123] fe be/srv1 0/0/1/2/3 200 100 - - '
        '---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"\n')
with open(f'{work}/hosts1m.log', 'w') as f:
    for i in range(1_000_000):
        s = i % 3600
        f.write(line.format(m=s // 60, s=s % 60, i=i))
os.mkdir(f'{work}/files')
for i in range(100_000):
    with open(f'{work}/files/f{i:06d}.log', 'w') as f:
        f.write('10.0.%d.%d - - [02/Feb/2023:%02d:%02d:%02d +0300] "GET /%d HTTP/1.1" 200 1 "-" "x"\n'
                % (i // 256 % 256, i % 256, i // 3600 % 24, i // 60 % 60, i % 60, i))
months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()
import datetime
t, end = datetime.datetime(1975, 1, 1), datetime.datetime(2025, 1, 1)
with open(f'{work}/sparse50y.log', 'w') as f:
    while t < end:
        f.write(f'10.0.0.1 - - [{t.day:02d}/{months[t.month-1]}/{t.year}:{t.hour:02d}:00:00 +0000] '
                f'"GET / HTTP/1.1" 200 1 "-" "x"\n')
        t += datetime.timedelta(hours=1)
EOF
# Four xz archives whose block header declares a 1.5 GiB dictionary (xz -6
# output with the LZMA2 dictionary byte set to 37 and the header CRC fixed;
# `xz -lvv` says "Memory needed: 1537 MiB", and `xz -d` reads them).
mkdir "$work/xz"
python3 - "$work/xz" <<'EOF2'
import lzma, struct, sys, zlib
x = bytearray(lzma.compress(b'10.0.0.1 - - [02/Feb/2023:07:00:00 +0300] "GET / HTTP/1.1" 200 1 "-" "x"\n' * 1000,
                            format=lzma.FORMAT_XZ, preset=6))
size = (x[12] + 1) * 4
hdr = x[12:12 + size]
i = hdr.find(bytes([0x21, 0x01]))
hdr[i + 2] = 37
hdr[size - 4:] = struct.pack('<I', zlib.crc32(bytes(hdr[:size - 4])) & 0xffffffff)
x[12:12 + size] = hdr
for k in range(4):
    open(f'{sys.argv[1]}/h{k}.log.xz', 'wb').write(x)
EOF2
# A summary bomb: 3 GiB of spaces in a 3 MB gzip.
head -c 3G /dev/zero | tr '\0' ' ' | gzip -1 > "$work/bomb.json.gz"
# Eight zstd archives with 128 MiB windows (streamed: the frame keeps it).
mkdir "$work/long"
for k in 1 2 3 4 5 6 7 8; do
  head -c 8M "$work/hosts1m.log" | zstd -q --long=27 -c > "$work/long/h$k.log.zst"
done

over=0
printf '%-44s %10s %8s %6s\n' case 'peak RSS' time exit
run() {
  local held=$1 name=$2; shift 2
  set +e
  /usr/bin/time -o "$work/time" -f '%M %e' "$bin" "$@" > /dev/null 2>&1
  local code=$?
  set -e
  local kb secs
  read -r kb secs < <(tail -1 "$work/time")
  printf '%-44s %7d MB %6.1f s %6s\n' "$name" $((kb / 1024)) "$secs" "$code"
  if [ "$held" = held ] && [ "$kb" -gt "$target_kb" ]; then over=1; fi
}
run held '1,000,000 host names (153 MB)' --year 2023 -o json "$work/hosts1m.log"
run held '100,000 one-line files' -o json "$work/files"
run held 'a request an hour for 50 years' -o json "$work/sparse50y.log"
run held 'merge: 3 MB gzip inflating to 3 GiB' merge "$work/bomb.json.gz"
run held 'four xz archives declaring 1.5 GiB dictionaries, -j 4' -j 4 -o json "$work/xz"
run held 'eight zstd --long=27 archives, -j 8' -j 8 -o json "$work/long"
run free 'the same with --decoder-memory 1G' -j 8 --decoder-memory 1G -o json "$work/long"
echo "target: peak RSS <= 256 MB in every case but the last (which raises the limit)"
exit $over
