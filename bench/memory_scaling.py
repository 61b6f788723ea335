#!/usr/bin/env python3
"""Benchmark: shelf's peak memory as the input grows, under one memory limit.

Replicates UCI Online Retail to each size in --copies (fresh invoice and customer ids, as
audit_vs_duckdb.py does), runs `shelf audit` on each under `/usr/bin/time -v` with
`[run] memory_limit_mb` set, and prints rows, wall time and peak RSS per size. Memory is
"independent of file size" when the peak stops growing once the data outgrows the limit.

    cargo build --release -p shelf-cli && python3 bench/memory_scaling.py --copies 1,5,10,20,40

Needs python3, pyarrow and GNU time (`/usr/bin/time`).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_vs_duckdb as bench  # noqa: E402  (replication and measuring are shared)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", default="1,5,10,20,40",
                    help="comma-separated sizes, in copies of the data (default 1,5,10,20,40)")
    ap.add_argument("--memory-limit-mb", type=int, default=512,
                    help="shelf's [run] memory_limit_mb (default 512)")
    ap.add_argument("--threads", type=int, default=2, help="[run] threads (default 2)")
    ap.add_argument("--work", default="/tmp/shelf-bench", help="work directory")
    ap.add_argument("--shelf", default="target/release/shelf",
                    help="the shelf binary (pass $CARGO_TARGET_DIR/release/shelf when that is set)")
    ap.add_argument("--source", default=bench.SOURCE, help="the UCI Online Retail Parquet file")
    args = ap.parse_args()
    try:
        sizes = sorted({int(c) for c in args.copies.split(",")})
    except ValueError:
        bench.die(f"--copies must be comma-separated integers, got {args.copies!r}")
    if not sizes or sizes[0] < 1:
        bench.die("--copies: every size must be at least 1")
    if not os.path.exists("/usr/bin/time"):
        bench.die("GNU time (/usr/bin/time) is needed to measure peak memory; install it "
                  "(apt-get install time)")
    if not (os.path.isfile(args.shelf) and os.access(args.shelf, os.X_OK)):
        bench.die(f"no shelf binary at {args.shelf}; build it with: "
                  "cargo build --release -p shelf-cli")
    work = os.path.abspath(args.work)
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    prefix = bench.pin_prefix(args.threads, True)
    now_iso = "2026-01-01T00:00:00Z"

    rows_out = []
    for n in sizes:
        path = os.path.join(work, f"online_retail_x{n}.parquet")
        rows = bench.replicate(args.source, path, n)
        s = bench.run_shelf(args_for_run(args), path, n, work, now_iso, prefix)
        bench.log(f"  {n}×: {s['wall_s']:.2f} s, peak RSS {s['peak_rss_mib']:.0f} MiB")
        rows_out.append([f"{n}×", bench.fmt_int(rows), f"{s['wall_s']:.2f}",
                         f"{s['peak_rss_mib']:.0f}"])
    bench.log(f"\nmemory_limit_mb = {args.memory_limit_mb}, threads = {args.threads}")
    bench.print_table(["size", "rows", "wall s", "peak RSS MiB"], rows_out, "rrrr")


def args_for_run(args):
    """The fields `run_shelf` reads, with one run per size."""
    return argparse.Namespace(shelf=os.path.abspath(args.shelf), threads=args.threads,
                              memory_limit_mb=args.memory_limit_mb, copies=-1, repeat=1)


if __name__ == "__main__":
    main()
