#!/usr/bin/env python3
"""logburst over an archive with Spark: one task per object, one merge.

    spark-submit examples/spark/logburst_spark.py --out fleet.json \\
        s3://acme-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/ \\
        --since 2023-02-02T06:00:00Z --until 2023-02-02T09:00:00Z -- -o json

1. The driver asks `logburst --list-inputs` what a run over the URLs (or
   paths) would read: the prefixes listed and pruned by --since/--until,
   copies found, every object's host named from its key.
2. One Spark task per object runs `logburst --save-summary - URL` on an
   executor: the executor fetches and decompresses the object itself
   (a .gz is not splittable, so one task per object is the unit anyway)
   and hands back the summary, gzip-compressed; the listing's notes for
   the object go into it, so the report says what a single run would.
3. The driver takes the summaries back a batch of tasks at a time (a few
   per core: never all of them in memory), keeps them in a directory, and runs `logburst merge` over them in the
   listing's order: the report is the one a single `logburst` run over the
   same URLs gives, byte for byte.

Options after `--` go to `logburst merge` (-o, --window, --tz, ...);
--since/--until go to every step. Reading options (--log-format, --tz for
zone-less logs, --year, --signal ...) go to the tasks with --read-option.
The logburst binary is shipped to the executors with SparkContext.addFile;
the executors need the object store's credentials in their environment
(an instance role, or spark.executorEnv.AWS_* settings).

Exit status: logburst's (0; 1 with --exit-code and an incident; 2 when an
input could not be read, after the report of the others).
"""

import argparse
import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile


def parse_args(argv):
    merge_args = []
    if "--" in argv:
        at = argv.index("--")
        argv, merge_args = argv[:at], argv[at + 1:]
    p = argparse.ArgumentParser(
        description="logburst over object storage with Spark: a task per object, one merge"
    )
    p.add_argument("inputs", nargs="+", help="s3://, gs://, az:// URLs or paths")
    p.add_argument("--logburst", default=shutil.which("logburst"),
                   help="the logburst binary to ship to the executors (default: the one on PATH)")
    p.add_argument("--out", default="-", help="where the merged report goes (default: stdout)")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--read-option", action="append", default=[], metavar="OPT",
                   help="an option for the runs that read the objects, e.g. --read-option=--tz=UTC")
    p.add_argument("--summaries", help="keep the per-object summaries in this directory")
    p.add_argument("--master", help="Spark master (default: spark-submit's, else local[*])")
    args = p.parse_args(argv)
    if not args.logburst or not os.path.isfile(args.logburst):
        p.error("the logburst binary was not found: give --logburst PATH")
    args.merge_args = merge_args
    return args


def span_args(args):
    out = []
    if args.since:
        out += ["--since", args.since]
    if args.until:
        out += ["--until", args.until]
    return out


def list_inputs(args):
    """What a single run would read: [{path, host, bytes, notes}], then
    [{path, error}] for what it cannot."""
    cmd = [args.logburst, "-q", "--list-inputs", *args.read_option, *span_args(args), *args.inputs]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
    if proc.returncode not in (0, 2):
        raise SystemExit(f"logburst --list-inputs failed ({proc.returncode})")
    listed = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return listed, proc.returncode


def summarise(rows, binary, read_args):
    """A Spark task: each (index, path, notes) row becomes (index, status,
    gzip-compressed summary)."""
    from pyspark import SparkFiles

    exe = SparkFiles.get(binary)
    mode = os.stat(exe).st_mode
    if not mode & stat.S_IXUSR:
        os.chmod(exe, mode | stat.S_IXUSR)
    for index, path, notes in rows:
        proc = subprocess.run(
            [exe, "-q", "-j", "1", *read_args, "--save-summary", "-", path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # 2: the object could not be read; its summary says why, as a
        # single run's report would.
        if proc.returncode not in (0, 2) or not proc.stdout:
            raise RuntimeError(
                f"logburst failed on {path} ({proc.returncode}): "
                + proc.stderr.decode("utf-8", "replace")[-2000:])
        summary = proc.stdout
        if notes:
            doc = json.loads(summary)
            for given in doc.get("inputs", [])[:1]:
                given["notes"] = notes + given.get("notes", [])
            summary = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        yield index, proc.returncode, gzip.compress(summary, compresslevel=1)


def main(argv):
    args = parse_args(argv)
    listed, list_status = list_inputs(args)
    if args.out != "-" and any(
            os.path.exists(row["path"]) and os.path.samefile(row["path"], args.out)
            for row in listed):
        raise SystemExit(f"logburst_spark: --out {args.out} is one of the inputs")
    if not listed:
        raise SystemExit("logburst_spark: nothing to read")
    if any(row["path"] == "-" for row in listed):
        raise SystemExit("logburst_spark: standard input cannot be shared out to tasks")

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("logburst")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    sc.addFile(os.path.abspath(args.logburst))
    binary = os.path.basename(args.logburst)
    read_args = [*args.read_option, *span_args(args)]

    # An input that cannot be read is a task too: its run's summary names
    # it and the error, as a single run's report does.
    rows = [(i, row["path"], row.get("notes", [])) for i, row in enumerate(listed)]
    tasks = sc.parallelize(rows, len(rows)).mapPartitions(
        lambda part: summarise(part, binary, read_args))

    keep = args.summaries or tempfile.mkdtemp(prefix="logburst-spark-")
    os.makedirs(keep, exist_ok=True)
    names = [None] * len(rows)
    status = list_status
    # Batches of a few tasks per core: parallel, yet the driver never holds
    # more than a batch of summaries.
    batch = max(4 * sc.defaultParallelism, 8)
    try:
        for start in range(0, len(rows), batch):
            parts = list(range(start, min(start + batch, len(rows))))
            for index, code, data in sc.runJob(tasks, lambda part: part, parts):
                name = os.path.join(keep, f"{index:06d}.json.gz")
                with open(name, "wb") as f:
                    f.write(data)
                names[index] = name
                status = max(status, code)
    finally:
        spark.stop()
    missing = [rows[i][1] for i, n in enumerate(names) if n is None]
    if missing:
        raise SystemExit(f"logburst_spark: no summary came back for {missing[:5]}")

    out = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")
    merged = subprocess.run(
        [args.logburst, "merge", *span_args(args), *args.merge_args, *names], stdout=out)
    if out is not sys.stdout.buffer:
        out.close()
    if not args.summaries:
        shutil.rmtree(keep, ignore_errors=True)
    return max(merged.returncode, status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
