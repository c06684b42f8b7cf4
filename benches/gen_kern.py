#!/usr/bin/env python3
"""Writes a deterministic syslog-framed kernel log of about SIZE bytes.

    gen_kern.py OUT [SIZE_MIB] [KILLS]   (default 1024 MiB, 9 kills; OUT "-" for stdout)

What /var/log/kern.log holds on a busy host: firewall drops, link and
driver chatter, audit records, cgroup and filesystem notices, segfaults,
at about 70 lines a second from 2023-02-01 on, and KILLS full OOM-killer
dumps (the invoking task, Mem-Info, the task table, the kill and the
reaper; about 90 lines each) spread evenly through it.
"""
import random
import sys

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def noise(rng, ips):
    """One kernel message that is neither an OOM kill nor a signal."""
    r = rng.random()
    if r < 0.45:
        src, dst = rng.choice(ips), "10.0.0.11"
        proto = rng.choice(["TCP", "UDP"])
        return (f"[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:8a:1c:3e:52:54:00:12:35:02:08:00 "
                f"SRC={src} DST={dst} LEN={rng.randrange(40, 1500)} TOS=0x00 PREC=0x00 "
                f"TTL={rng.randrange(30, 250)} ID={rng.randrange(65536)} PROTO={proto} "
                f"SPT={rng.randrange(1024, 65536)} DPT={rng.choice([22, 23, 3389, 5900, 8080, 445])} "
                f"WINDOW=65535 RES=0x00 SYN URGP=0")
    if r < 0.60:
        return (f"audit: type=1400 audit({rng.randrange(1675200000, 1675900000)}.{rng.randrange(1000):03d}:"
                f"{rng.randrange(100000)}): apparmor=\"DENIED\" operation=\"open\" "
                f"profile=\"/usr/sbin/cups-browsed\" name=\"/proc/{rng.randrange(100, 99999)}/stat\" "
                f"pid={rng.randrange(100, 99999)} comm=\"cups-browsed\" requested_mask=\"r\" "
                f"denied_mask=\"r\" fsuid=0 ouid=0")
    if r < 0.70:
        return (f"TCP: request_sock_TCP: Possible SYN flooding on port {rng.choice([80, 443])}. "
                f"Sending cookies.  Check SNMP counters.")
    if r < 0.78:
        return (f"EXT4-fs (nvme0n1p{rng.randrange(1, 4)}): mounted filesystem with ordered data mode. "
                f"Quota mode: none.")
    if r < 0.84:
        return (f"{rng.choice(['python3', 'node', 'php-fpm7.4', 'java'])}[{rng.randrange(100, 99999)}]: "
                f"segfault at {rng.randrange(16**12):x} ip {rng.randrange(16**12):012x} "
                f"sp {rng.randrange(16**12):012x} error 4 in libc.so.6[7f3a2c{rng.randrange(16**4):04x}+195000]")
    if r < 0.90:
        return (f"e1000e 0000:00:1f.6 eth{rng.randrange(2)}: NIC Link is Up 1000 Mbps Full Duplex, "
                f"Flow Control: Rx/Tx")
    if r < 0.95:
        return (f"nf_conntrack: nf_conntrack: table full, dropping packet")
    return (f"usb {rng.randrange(1, 4)}-{rng.randrange(1, 9)}: new high-speed USB device number "
            f"{rng.randrange(2, 90)} using xhci_hcd")


def dump(rng, victim, pid):
    """The lines of one OOM kill, as a 5.x kernel writes them."""
    out = [f"{victim} invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
           f"CPU: 1 PID: {pid} Comm: {victim} Not tainted 5.15.0-91-generic #101-Ubuntu",
           "Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.15.0-1 04/01/2014",
           "Call Trace:", " <TASK>", " dump_stack_lvl+0x4a/0x63", " dump_header+0x4a/0x1f4",
           " oom_kill_process.cold+0xb/0x10", " out_of_memory+0x106/0x2e0",
           " __alloc_pages_slowpath.constprop.0+0x974/0xa50", " __alloc_pages+0x311/0x330",
           " alloc_pages_vma+0x9d/0x380", " handle_mm_fault+0xd8/0x2c0", " exc_page_fault+0x77/0x170",
           " asm_exc_page_fault+0x27/0x30", " </TASK>", "Mem-Info:",
           "active_anon:1953182 inactive_anon:14 isolated_anon:0",
           " active_file:52 inactive_file:31 isolated_file:0",
           " unevictable:0 dirty:0 writeback:0",
           " slab_reclaimable:5418 slab_unreclaimable:9833",
           " mapped:42 shmem:159 pagetables:5211 bounce:0",
           " free:25183 free_pcp:62 free_cma:0",
           "Node 0 active_anon:7812728kB inactive_anon:56kB active_file:208kB inactive_file:124kB "
           "unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:168kB dirty:0kB",
           "Node 0 DMA free:15360kB min:132kB low:164kB high:196kB reserved_highatomic:0KB",
           "lowmem_reserve[]: 0 2955 7928 7928 7928",
           "Node 0 DMA32 free:48304kB min:25452kB low:31812kB high:38172kB",
           "Node 0 Normal free:37068kB min:43052kB low:53812kB high:64572kB",
           "Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB",
           "342 total pagecache pages", "0 pages in swap cache", "Free swap  = 0kB",
           "Total swap = 0kB", "2097022 pages RAM", "0 pages HighMem/MovableOnly",
           "50631 pages reserved",
           "Tasks state (memory values in pages):",
           "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"]
    for i in range(40):
        p = rng.randrange(200, 99999)
        name = rng.choice(["systemd", "sshd", "nginx", "php-fpm7.4", "node", "python3", "cron", "rsyslogd"])
        out.append(f"[{p:7d}]  {rng.choice([0, 33, 1000]):4d} {p:5d} {rng.randrange(2000, 90000):8d} "
                   f"{rng.randrange(100, 9000):8d} {rng.randrange(40000, 900000):14d} "
                   f"{0:8d} {0:13d} {name}")
    out += [f"[{pid:7d}]    33 {pid:5d}  1012345   878906  7065600        0             0 {victim}",
            f"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
            f"global_oom,task_memcg=/system.slice/app.service,task={victim},pid={pid},uid=33",
            f"Out of memory: Killed process {pid} ({victim}) total-vm:4049380kB, anon-rss:3515625kB, "
            f"file-rss:2816kB, shmem-rss:0kB, UID:33 pgtables:6900kB oom_score_adj:0",
            f"oom_reaper: reaped process {pid} ({victim}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"]
    return out


def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    kills = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    target = size << 20
    rng = random.Random(2023)
    ips = [f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
           for _ in range(3000)]
    # ~165 bytes a line: where the kills go, by bytes written.
    every = target // (kills + 1) if kills else target + 1
    next_kill = every
    written, sec, uptime = 0, 0, 3034412.0
    f = sys.stdout if out == "-" else open(out, "w", buffering=1 << 22)
    with f:
        while written < target:
            d, s = divmod(sec, 86400)
            mon, day = 1, 1 + d
            while day > DAYS_IN[mon % 12]:
                day -= DAYS_IN[mon % 12]
                mon += 1
            stamp = f"{MONTHS[mon % 12]} {day:2d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
            msgs = [noise(rng, ips) for _ in range(60 + rng.randrange(21))]
            if written >= next_kill:
                victim = rng.choice(["python3", "java", "node"])
                msgs[len(msgs) // 2:len(msgs) // 2] = dump(rng, victim, rng.randrange(1000, 99999))
                next_kill += every
            lines = []
            for m in msgs:
                uptime += 0.0137
                lines.append(f"{stamp} web-01 kernel: [{uptime:13.6f}] {m}\n")
            chunk = "".join(lines)
            f.write(chunk)
            written += len(chunk)
            sec += 1


if __name__ == "__main__":
    main()
