#!/usr/bin/env python3
"""Benchmark: `shelf diff` on two versions of Online Retail replicated to each size.

The old version is UCI Online Retail replicated N times (fresh invoice and customer ids per
copy, as audit_vs_duckdb.py does); the new version is the same rows with every UnitPrice
raised by 20 % and every CustomerID moved to a new range (new customers). The script runs
`shelf diff OLD NEW --kind events --no-audit` (the comparison alone: every column's grouping
over both versions, the heavy part) under `/usr/bin/time -v`, and prints rows, wall time and
peak RSS per size, then checks that the diff saw what was done: price moved, customers are all
new, items are all shared. `--with-audit` times the whole command (both audits included) too.

    cargo build --release -p shelf-cli && python3 bench/diff_scaling.py --copies 1,5,10,20

Needs python3, pyarrow and GNU time (`/usr/bin/time`).
"""

import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit_vs_duckdb as bench  # noqa: E402  (replication and measuring are shared)

PRICE_FACTOR = 1.2
CUSTOMER_OFFSET = 90_000_000


def drifted(src, dst):
    """Writes `src` with prices × PRICE_FACTOR and customers moved, one row group at a time."""
    pa = bench.need("pyarrow", "to write the drifted Parquet file")
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(src).metadata.num_rows
    if os.path.exists(dst) and pq.ParquetFile(dst).metadata.num_rows == rows:
        bench.log(f"  {dst}: exists with {bench.fmt_int(rows)} rows, kept")
        return rows
    f = pq.ParquetFile(src)
    tmp = dst + ".part"
    with pq.ParquetWriter(tmp, f.schema_arrow) as w:
        for i in range(f.num_row_groups):
            t = f.read_row_group(i)
            price = pc.multiply(t["UnitPrice"], pa.scalar(PRICE_FACTOR))
            customer = pc.add(t["CustomerID"], pa.scalar(float(CUSTOMER_OFFSET)))
            t = t.set_column(t.schema.get_field_index("UnitPrice"), "UnitPrice", price)
            t = t.set_column(t.schema.get_field_index("CustomerID"), "CustomerID", customer)
            w.write_table(t)
    os.replace(tmp, dst)
    bench.log(f"  {dst}: wrote {bench.fmt_int(rows)} rows")
    return rows


def run_diff(args, old, new, n, work, prefix, audit):
    out = os.path.join(work, f"diff-out-x{n}{'-audit' if audit else ''}")
    shutil.rmtree(out, ignore_errors=True)
    cfg = os.path.join(work, "diff.toml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("# Written by bench/diff_scaling.py\n[run]\n"
                f"threads = {args.threads}\nmemory_limit_mb = {args.memory_limit_mb}\n"
                'now = "2026-01-01T00:00:00Z"\n')
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ, TMPDIR=tmp, NO_COLOR="1")
    cmd = [os.path.abspath(args.shelf), "diff", old, new, "--kind", "events", "--config", cfg,
           "--out", out, "--fail-on", "never"]
    if not audit:
        cmd.append("--no-audit")
    log_base = os.path.join(work, "logs", f"diff-x{n}{'-audit' if audit else ''}")
    m = bench.measure(cmd, log_base, env=env, prefix=prefix)
    if m["exit_code"] != 0:
        bench.die(f"shelf diff failed (exit {m['exit_code']}); its stderr ends with:\n"
                  f"{bench.tail(log_base + '.stderr')}")
    with open(os.path.join(out, "diff.json"), encoding="utf-8") as f:
        m["diff"] = json.load(f)
    return m


def check(d, n):
    """The diff must see what drifted() did; returns a one-line summary."""
    t = d["tables"][0]
    cols = {c["role"]: c for c in t["columns"]}
    keys = {k["role"]: k for k in t["keys"]}
    price, users, items = cols["price"], keys["user_id"], keys["item_id"]
    problems = []
    if price["drift"] == "none":
        problems.append(f"price drift {price['drift']} (PSI {price['psi']:.3f})")
    if users["shared"] != 0:
        problems.append(f"{users['shared']} customers shared")
    if items["appeared"]["count"] or items["vanished"]["count"]:
        problems.append("items appeared or vanished")
    for role in ("country", "quantity", "title"):
        if cols[role]["psi"] != 0:
            problems.append(f"{role} PSI {cols[role]['psi']} (untouched, should be 0)")
    if problems:
        bench.die(f"{n}×: the diff is wrong: " + "; ".join(problems))
    return (f"price PSI {price['psi']:.3f} ({price['drift']}), KS {price['ks']:.3f}, "
            f"median {price['stats']['old']['median']:.2f} → {price['stats']['new']['median']:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", default="1,5,10,20",
                    help="comma-separated sizes, in copies of the data (default 1,5,10,20)")
    ap.add_argument("--memory-limit-mb", type=int, default=1024,
                    help="shelf's [run] memory_limit_mb (default 1024, shelf's own default)")
    ap.add_argument("--threads", type=int, default=2, help="[run] threads (default 2)")
    ap.add_argument("--work", default="/tmp/shelf-bench", help="work directory")
    ap.add_argument("--shelf", default="target/release/shelf",
                    help="the shelf binary (pass $CARGO_TARGET_DIR/release/shelf when that is set)")
    ap.add_argument("--source", default=bench.SOURCE, help="the UCI Online Retail Parquet file")
    ap.add_argument("--with-audit", action="store_true",
                    help="also time the whole command, both audits included")
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

    rows_out = []
    for n in sizes:
        old = os.path.join(work, f"online_retail_x{n}.parquet")
        new = os.path.join(work, f"online_retail_x{n}_drifted.parquet")
        rows = bench.replicate(args.source, old, n)
        drifted(old, new)
        runs = [("diff", run_diff(args, old, new, n, work, prefix, False))]
        if args.with_audit:
            runs.append(("diff + audits", run_diff(args, old, new, n, work, prefix, True)))
        for what, m in runs:
            seen = check(m["diff"], n)
            bench.log(f"  {n}× {what}: {m['wall_s']:.2f} s, peak RSS {m['peak_rss_mib']:.0f} MiB; "
                      f"{seen}")
            rows_out.append([f"{n}×", what, bench.fmt_int(rows), f"{m['wall_s']:.2f}",
                             f"{m['cpu_s']:.2f}", f"{m['peak_rss_mib']:.0f}"])
    bench.log(f"\nmemory_limit_mb = {args.memory_limit_mb}, threads = {args.threads}; "
              "rows are per version (both versions are read)")
    bench.print_table(["size", "command", "rows", "wall s", "CPU s", "peak RSS MiB"], rows_out,
                      "llrrrr")


if __name__ == "__main__":
    main()
