#!/usr/bin/env python3
"""Benchmark: the position and propensity checks (PB001, PB002) as the impression log grows.

Replicates the real Open Bandit log (random policy, all items: 10,000 impressions) N times
(the same items and policy, so the copies are more rounds of one experiment), switches off
every check but PB001 and PB002, and times `shelf audit --events` under `/usr/bin/time -v`.
Prints rows, wall time, rows/s, peak RSS and the rows each check flagged. PB002 should flag
nothing (the random policy's propensities are exact) and PB001 no position (CTR is about flat
across the three positions); PB001 does flag the impressions of items never clicked, which
replication makes significant (an item without a click in its 125 impressions has none in
12,500 at 100 copies).

    cargo build --release -p shelf-cli && python3 bench/positions_scaling.py --copies 100,400

Needs python3 and GNU time (`/usr/bin/time`).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_vs_duckdb as bench  # noqa: E402  (measuring and tables are shared)

SOURCE = "/work/shared/data/open_bandit/random/all/all.csv"
CHECKS = ("PB001", "PB002")


def replicate(src, dst, copies):
    """The log's rows `copies` times under one header, the first (index) column renumbered."""
    with open(src, encoding="utf-8") as f:
        header, *rows = f.read().splitlines()
    n = 0
    with open(dst, "w", encoding="utf-8") as out:
        out.write(header + "\n")
        for _ in range(copies):
            for r in rows:
                out.write(f"{n}{r[r.index(','):]}\n")
                n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", default="100,400")
    ap.add_argument("--memory-limit-mb", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default="/tmp/shelf-bench")
    ap.add_argument("--shelf", default="target/release/shelf",
                    help="the shelf binary (pass $CARGO_TARGET_DIR/release/shelf when that is set)")
    ap.add_argument("--source", default=SOURCE)
    args = ap.parse_args()
    try:
        sizes = sorted({int(c) for c in args.copies.split(",")})
    except ValueError:
        bench.die(f"--copies must be comma-separated integers, got {args.copies!r}")
    if not os.path.exists("/usr/bin/time"):
        bench.die("GNU time (/usr/bin/time) is needed; install it (apt-get install time)")
    if not (os.path.isfile(args.shelf) and os.access(args.shelf, os.X_OK)):
        bench.die(f"no shelf binary at {args.shelf}; build it with: "
                  "cargo build --release -p shelf-cli")
    if not os.path.exists(args.source):
        bench.die(f"the Open Bandit log is not at {args.source}; pass --source")
    work = os.path.abspath(args.work)
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    cfg = os.path.join(work, "positions.toml")
    bench.only_checks_config(cfg, CHECKS, args.threads, args.memory_limit_mb, args.shelf,
                             "bench/positions_scaling.py")
    prefix = bench.pin_prefix(args.threads, True)
    table = []
    for n in sizes:
        data = os.path.join(work, f"open_bandit_x{n}.csv")
        rows = replicate(args.source, data, n)
        out = os.path.join(work, f"positions-out-x{n}")
        subprocess.run(["rm", "-rf", out], check=True)
        cmd = [args.shelf, "audit", "--events", data, "--config", cfg, "--out", out]
        m = bench.measure(cmd, os.path.join(work, "logs", f"positions-x{n}"), prefix=prefix)
        if m["exit_code"] not in (0, 1):
            bench.die(f"shelf failed (exit {m['exit_code']}); see {work}/logs/positions-x{n}.stderr")
        flagged = {c: 0 for c in CHECKS}
        with open(os.path.join(out, "findings.jsonl"), encoding="utf-8") as f:
            for line in f:
                finding = json.loads(line)
                if finding["code"] in flagged:
                    flagged[finding["code"]] += finding["rows_affected"]
        bench.log(f"  {n}x: {m['wall_s']:.2f} s, {m['peak_rss_mib']:.0f} MiB")
        table.append([f"{n}x", bench.fmt_int(rows), f"{m['wall_s']:.2f}",
                      bench.fmt_int(int(rows / m["wall_s"])), f"{m['peak_rss_mib']:.0f}",
                      *(str(flagged[c]) for c in CHECKS)])
    bench.log(f"\nthreads = {args.threads}, memory_limit_mb = {args.memory_limit_mb}")
    bench.print_table(["size", "rows", "wall s", "rows/s", "peak RSS MiB", *CHECKS], table,
                      "rrrrrrr")


if __name__ == "__main__":
    main()
