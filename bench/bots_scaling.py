#!/usr/bin/env python3
"""Benchmark: bot detection (BT001) as the event log grows.

Replicates the real Taobao UserBehavior head N times, each copy under fresh user and item ids
(so the number of users grows with the log, as it does in a real shop), writes it as headerless CSV,
and runs `shelf audit --events` with every check but BT001 switched off, under
`/usr/bin/time -v`. Prints rows, users, wall time, rows/s and peak RSS per size, and how many
users BT001 flagged (none is right: the copies are real people).

    cargo build --release -p shelf-cli && python3 bench/bots_scaling.py --copies 100,400,1600

Needs python3 and GNU time (`/usr/bin/time`).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_vs_duckdb as bench  # noqa: E402  (measuring and tables are shared)

SOURCE = "/work/shared/data/taobao_userbehavior/UserBehavior_head.csv"


def replicate(src, dst, copies):
    """Copies of the log, user and item ids offset per copy (identical copies would be click
    farms: every user would share its sequences of actions with its copies); returns (rows, users)."""
    with open(src, encoding="utf-8") as f:
        lines = [l.rstrip("\n").split(",") for l in f if l.strip()]
    users = {l[0] for l in lines}
    top = max(int(u) for u in users) + 1
    top_item = max(int(l[1]) for l in lines) + 1
    with open(dst, "w", encoding="utf-8") as out:
        for k in range(copies):
            for u, item, cat, behaviour, ts in lines:
                out.write(f"{int(u) + k * top},{int(item) + k * top_item},{cat},{behaviour},{ts}\n")
    return len(lines) * copies, len(users) * copies


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", default="100,400,1600",
                    help="comma-separated sizes, in copies of the 4,321-row log")
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
        bench.die(f"the Taobao log is not at {args.source}; pass --source")
    work = os.path.abspath(args.work)
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    cfg = os.path.join(work, "bots.toml")
    bench.only_checks_config(cfg, ("BT001",), args.threads, args.memory_limit_mb, args.shelf,
                             "bench/bots_scaling.py")
    prefix = bench.pin_prefix(args.threads, True)
    table = []
    for n in sizes:
        data = os.path.join(work, f"taobao_x{n}.csv")
        rows, users = replicate(args.source, data, n)
        out = os.path.join(work, f"bots-out-x{n}")
        subprocess.run(["rm", "-rf", out], check=True)
        cmd = [args.shelf, "audit", "--events", data, "--config", cfg, "--out", out]
        m = bench.measure(cmd, os.path.join(work, "logs", f"bots-x{n}"), prefix=prefix)
        if m["exit_code"] not in (0, 1):
            bench.die(f"shelf failed (exit {m['exit_code']}); see {work}/logs/bots-x{n}.stderr")
        flagged = 0
        with open(os.path.join(out, "findings.jsonl"), encoding="utf-8") as f:
            for line in f:
                if '"code":"BT001"' in line:
                    flagged = json.loads(line)["evidence"]["actors_flagged"]
        bench.log(f"  {n}x: {m['wall_s']:.2f} s, {m['peak_rss_mib']:.0f} MiB")
        table.append([f"{n}x", bench.fmt_int(rows), bench.fmt_int(users), f"{m['wall_s']:.2f}",
                      bench.fmt_int(int(rows / m["wall_s"])), f"{m['peak_rss_mib']:.0f}",
                      str(flagged)])
    bench.log(f"\nthreads = {args.threads}, memory_limit_mb = {args.memory_limit_mb}")
    bench.print_table(["size", "rows", "users", "wall s", "rows/s", "peak RSS MiB", "flagged"],
                      table, "rrrrrrr")


if __name__ == "__main__":
    main()
