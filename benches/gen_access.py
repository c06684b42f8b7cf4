#!/usr/bin/env python3
"""Writes a deterministic nginx combined access log of about SIZE bytes.

    gen_access.py OUT [SIZE_MIB]     (default 1024; OUT "-" for stdout)

About 55 requests a second from 2023-02-01 00:00 +03:00 on, 0.3 % 5xx
scattered, and one 12-minute outage (mostly 502) in the afternoon of the
first day, so that the benchmarked job finds an incident like a real one.
"""
import random
import sys

def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    target = size << 20
    rng = random.Random(1024)
    ips = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(5000)]
    ips += [f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0xffff):x}" for _ in range(500)]
    paths = [f"/api/v2/products/{rng.randrange(100000)}" for _ in range(2000)] + \
            [f"/static/js/chunk.{rng.randrange(16**8):08x}.js" for _ in range(200)] + \
            ["/", "/api/v2/cart", "/api/v2/checkout", "/healthz", "/search?q=red+shoes&page=2"]
    agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
              "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
              "okhttp/4.12.0", "curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)"]
    refs = ["-", "https://shop.example.com/", "https://www.google.com/"]
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    days_in = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    outage = (14 * 3600 + 5 * 60, 14 * 3600 + 17 * 60)  # day 1, 14:05-14:17 local
    written = 0
    sec = 0
    stamp_cache = {}
    f = sys.stdout if out == "-" else open(out, "w", buffering=1 << 22)
    with f:
        while written < target:
            n = 45 + rng.randrange(21)
            d, s = divmod(sec, 86400)
            mon, day = 1, 1 + d  # February 2023, rolling into March
            if day > days_in[mon]:
                mon, day = 2, day - days_in[mon]
            stamp = f"{day:02d}/{months[mon]}/2023:{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d} +0300"
            in_outage = d == 0 and outage[0] <= s < outage[1]
            lines = []
            for _ in range(n):
                r = rng.random()
                if in_outage:
                    status = 502 if r < 0.7 else (504 if r < 0.75 else 200)
                elif r < 0.003:
                    status = 500
                elif r < 0.03:
                    status = 404
                elif r < 0.05:
                    status = 304
                else:
                    status = 200
                lines.append(f'{rng.choice(ips)} - - [{stamp}] "GET {rng.choice(paths)} HTTP/1.1" {status} {rng.randrange(200, 60000)} "{rng.choice(refs)}" "{rng.choice(agents)}"\n')
            chunk = "".join(lines)
            f.write(chunk)
            written += len(chunk)
            sec += 1

if __name__ == "__main__":
    main()
