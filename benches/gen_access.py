#!/usr/bin/env python3
"""Writes a deterministic access log of about SIZE bytes.

    gen_access.py OUT [SIZE_MIB] [--json | --cloudfront | --envoy | --haproxy | --nginx-custom]
    (default 1024; OUT "-" for stdout)

About 55 requests a second from 2023-02-01 00:00 +03:00 on, 0.3 % 5xx
scattered, and one 12-minute outage (mostly 502) in the afternoon of the
first day, so that the benchmarked job finds an incident like a real one.
Where the file would end before the afternoon (a format of long lines,
JSON or CloudFront, or a small SIZE), the outage is moved to 55 % of the
span the first ten minutes' bytes predict, so every file holds it.

The traffic is shaped like a real shop's rather than a parser's best case:
40,000 paths, a quarter of them with query strings (some long tracking
ones), 22 user agents from curl to a 200-byte in-app browser, six methods,
referers with paths; about a tenth of the request lines end past byte 128.

Default: nginx combined. --json: nginx `log_format ... escape=json` with
the fields most such templates carry, `"key": "value"` spacing.
--cloudfront: an Amazon CloudFront standard log (tab-separated, the 33
fields of AWS's "Standard log file fields" page, `#Version`/`#Fields`
header, times in UTC from 2023-02-01 00:00).
--envoy: Envoy's default access-log format (times in UTC, durations in ms,
upstream host, request id).
--haproxy: HAProxy `option httplog` lines inside syslog framing (RFC 3164,
`haproxy[pid]:` tag), as rsyslog writes them to haproxy.log.
--nginx-custom: the custom nginx `log_format` NGINX_CUSTOM below (timings,
upstream and host), read with `--nginx-log-format`.
"""
import random
import sys

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.71 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "okhttp/4.12.0",
    "Dalvik/2.1.0 (Linux; U; Android 12; SM-A525F Build/SP1A.210812.016)",
    "ShopApp/5.12.1 (com.example.shop; build:5121; iOS 17.1.1) Alamofire/5.8.0",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "kube-probe/1.28",
]
# The --nginx-custom template (benches/compare.sh passes it to logburst).
NGINX_CUSTOM = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                '"$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" '
                'urt="$upstream_response_time" ua="$upstream_addr" host=$host')
METHODS = ["GET"] * 85 + ["POST"] * 9 + ["HEAD"] * 2 + ["PUT", "DELETE", "OPTIONS", "PATCH"]


def took(rng):
    """A request's time in ms: log-normal, median 40 ms, p99 about 330 ms,
    as a healthy service's (a uniform 0-3 s made every bench log a latency
    incident)."""
    return max(1, min(60000, round(rng.lognormvariate(3.7, 0.9))))


def upstream(rng, status, r):
    """The backend that answered: none for a third of the outage's 502s
    (no backend left), else one of 80."""
    return "-" if status == 502 and r < 0.35 else f"10.0.{rng.randrange(4)}.{rng.randrange(2, 20)}:8080"


def paths(rng):
    out = []
    words = "red blue shoes shirt dress summer sale kids men women running trail leather wool".split()
    for _ in range(40000):
        k = rng.random()
        if k < 0.35:
            p = f"/api/v2/products/{rng.randrange(10**6)}"
        elif k < 0.5:
            p = f"/static/js/chunk.{rng.randrange(16**8):08x}.js"
        elif k < 0.6:
            p = f"/images/catalog/{rng.randrange(10**5)}/{rng.randrange(16**12):012x}_{rng.choice([320, 640, 1280])}.webp"
        elif k < 0.75:
            p = f"/{rng.choice(words)}/{rng.choice(words)}-{rng.choice(words)}-{rng.randrange(10**5)}.html"
        else:
            p = f"/api/v2/{rng.choice(['cart', 'checkout', 'users', 'orders', 'search'])}/{rng.randrange(10**7)}"
        q = rng.random()
        if q < 0.15:
            p += f"?q={rng.choice(words)}+{rng.choice(words)}&page={rng.randrange(1, 30)}"
        elif q < 0.25:
            p += (f"?utm_source={rng.choice(['google', 'newsletter', 'facebook'])}&utm_medium=cpc"
                  f"&utm_campaign={rng.choice(words)}_{rng.randrange(2020, 2024)}"
                  f"&gclid={rng.randrange(16**24):024x}{rng.randrange(16**16):016x}")
        out.append(p)
    return out + ["/", "/healthz", "/api/v2/cart", "/api/v2/checkout"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    json = "--json" in sys.argv[1:]
    cloudfront = "--cloudfront" in sys.argv[1:]
    envoy = "--envoy" in sys.argv[1:]
    haproxy = "--haproxy" in sys.argv[1:]
    custom = "--nginx-custom" in sys.argv[1:]
    out = args[0]
    size = int(args[1]) if len(args) > 1 else 1024
    target = size << 20
    rng = random.Random(1024)
    ips = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(5000)]
    ips += [f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0xffff):x}" for _ in range(500)]
    all_paths = paths(rng)
    refs = ["-"] * 6 + ["https://shop.example.com/", "https://www.google.com/", "https://shop.example.com/cart",
                        "https://shop.example.com/women/summer-sale-1234.html", "android-app://com.google.android.gm/"]
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    days_in = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    outage = (14 * 3600 + 5 * 60, 14 * 3600 + 17 * 60)  # day 1, 14:05-14:17 local
    written = 0
    sec = 0
    f = sys.stdout if out == "-" else open(out, "w", buffering=1 << 22)
    with f:
        if cloudfront:
            f.write("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) "
                    "cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
                    "x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol "
                    "ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields "
                    "c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
                    "sc-range-start sc-range-end\n")
        while written < target:
            n = 45 + rng.randrange(21)
            d, s = divmod(sec, 86400)
            mon, day = 1, 1 + d  # February 2023, rolling into March
            if day > days_in[mon]:
                mon, day = 2, day - days_in[mon]
            hms = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
            stamp = f"{day:02d}/{months[mon]}/2023:{hms} +0300"
            iso = f"2023-{mon + 1:02d}-{day:02d}T{hms}+03:00"
            # Envoy writes UTC; the log's local day starts at 21:00 UTC
            # the day before, kept as the same instants.
            u = sec - 3 * 3600
            ud, us = divmod(u, 86400)
            umon, uday = (0, 31) if ud < 0 else (1, 1 + ud)
            if uday > days_in[umon] and umon == 1:
                umon, uday = 2, uday - days_in[1]
            uhms = f"{us // 3600:02d}:{us // 60 % 60:02d}:{us % 60:02d}"
            sys_stamp = f"{months[mon]} {day:2d} {hms}"
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
                ip, method, path = rng.choice(ips), rng.choice(METHODS), rng.choice(all_paths)
                size_b, ref, agent = rng.randrange(200, 60000), rng.choice(refs), rng.choice(AGENTS)
                if json:
                    rt = took(rng) / 1000
                    up = upstream(rng, status, r)
                    lines.append(
                        f'{{"time": "{iso}", "remote_addr": "{ip}", "request": "{method} {path} HTTP/1.1", '
                        f'"status": "{status}", "body_bytes_sent": "{size_b}", "request_time": "{rt:.3f}", '
                        f'"http_referer": "{"" if ref == "-" else ref}", "http_user_agent": "{agent}", '
                        f'"upstream_addr": "{up}", "host": "shop.example.com"}}\n')
                elif cloudfront:
                    rt = took(rng) / 1000
                    stem, _, query = path.partition("?")
                    result = "Error" if status >= 500 else rng.choice(["Hit", "Miss", "RefreshHit"])
                    detailed = "OriginConnectError" if status == 502 and r < 0.35 else result
                    lines.append(
                        f"2023-{mon + 1:02d}-{day:02d}\t{hms}\tFRA56-P{rng.randrange(1, 9)}\t{size_b}\t{ip}\t{method}\t"
                        f"d111111abcdef8.cloudfront.net\t{stem}\t{status}\t{ref}\t{agent.replace(' ', '%20')}\t"
                        f"{query or '-'}\t-\t{result}\t{rng.getrandbits(224):056x}\tshop.example.com\thttps\t"
                        f"{rng.randrange(60, 900)}\t{rt:.3f}\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t{result}\tHTTP/2.0\t"
                        f"-\t-\t{rng.randrange(1024, 65536)}\t{rt:.3f}\t{detailed}\ttext/html\t{size_b}\t-\t-\n")
                elif envoy:
                    dur = took(rng)
                    up = upstream(rng, status, r)
                    flags = "UF" if up == "-" else "-"
                    lines.append(
                        f'[2023-{umon + 1:02d}-{uday:02d}T{uhms}.{rng.randrange(1000):03d}Z] "{method} {path} HTTP/1.1" '
                        f'{status} {flags} {rng.randrange(0, 900)} {size_b} {dur} {max(dur - 2, 0)} "{ip}" "{agent}" '
                        f'"{rng.getrandbits(128):032x}" "shop.example.com" "{up}"\n')
                elif haproxy:
                    tr, tw, tc, trs = rng.randrange(0, 20), rng.randrange(0, 3), rng.randrange(0, 5), took(rng)
                    srv = "<NOSRV>" if status == 502 and r < 0.35 else f"app{rng.randrange(1, 9)}"
                    lines.append(
                        f'{sys_stamp} lb-01 haproxy[2211]: {ip}:{rng.randrange(1024, 65536)} '
                        f'[{stamp[:20]}.{rng.randrange(1000):03d}] https-in~ shop/{srv} '
                        f'{tr}/{tw}/{tc}/{trs}/{tr + tw + tc + trs} {status} {size_b} - - ---- '
                        f'{rng.randrange(1, 900)}/{rng.randrange(1, 900)}/{rng.randrange(0, 50)}/{rng.randrange(0, 20)}/0 0/0 '
                        f'"{method} {path} HTTP/1.1"\n')
                elif custom:
                    rt = took(rng) / 1000
                    up = upstream(rng, status, r)
                    uct = "-" if up == "-" else f"{rng.randrange(0, 20) / 1000:.3f}"
                    urt = "-" if up == "-" else f"{max(rt - 0.001, 0):.3f}"
                    lines.append(
                        f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size_b} "{ref}" "{agent}" '
                        f'rt={rt:.3f} uct="{uct}" urt="{urt}" ua="{up}" host=shop.example.com\n')
                else:
                    lines.append(f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size_b} "{ref}" "{agent}"\n')
            chunk = "".join(lines)
            f.write(chunk)
            written += len(chunk)
            sec += 1
            if sec == 600:
                span = target * 600 // written
                if span < outage[1] + 3600:
                    start = span * 55 // 100 // 60 * 60
                    outage = (start, start + 12 * 60)


if __name__ == "__main__":
    main()
