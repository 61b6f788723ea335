#!/usr/bin/env python3
"""Benchmark: `shelf audit` against the same checks written as DuckDB SQL.

Replicates UCI Online Retail N times with fresh ids, runs `shelf audit` and a DuckDB
script that expresses the same checks in SQL (each in its own process, both under
`/usr/bin/time -v`), and reports rows/s, the shelf/DuckDB ratio, peak RSS and each
check's affected-row count on both sides. See bench/README.md.

    cargo build --release -p shelf-cli && python3 bench/audit_vs_duckdb.py --copies 20

Needs python3, pyarrow, duckdb and GNU time (`/usr/bin/time`).
"""

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time

SOURCE = "/work/shared/data/uci_online_retail/online_retail_raw.parquet"
ROW_GROUP_ROWS = 128 * 1024
LISTED_IDS = 1000  # shelf lists the 1000 smallest row ids of each finding

# Token lists copied from crates/shelf-checks/src/text.rs so both sides look for the same things.
NULL_LIKE = ["nan", "null", "none", "nil", "n/a", "n.a.", "na/", "#n/a", "-", "--", "—", "?",
             "??", "undefined", "无", "暂无", "未知", "空", "不详"]
TEST_VALUES = ["test", "testing", "test product", "test item", "测试", "测试商品", "dummy", "asdf",
               "qwerty", "xxx", "lorem ipsum", "foo", "foobar"]
PLACEHOLDER_TITLES = ["product title", "product name", "title", "untitled", "no title", "new item",
                      "new product", "item", "product", "name", "商品名称", "商品标题", "标题",
                      "新商品", "宝贝标题", "tbd", "todo"]
NON_PRODUCT_WORDS = ["postage", "carriage", "shipping", "delivery charge", "delivery fee",
                     "bank charges", "amazon fee", "commission", "discount", "manual",
                     "adjust bad debt", "adjustment", "samples", "service charge", "handling fee",
                     "运费", "邮费", "手续费", "补差价", "邮费补拍"]

# Checks whose SQL groups by a value (no result row when nothing is found).
GROUPED = {"MV002", "OR001"}

TEXT_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Country"]
ALL_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
               "CustomerID", "Country"]

# Codes the DuckDB side expresses; shelf runs more (its other checks find nothing here).
DUCK_CODES = ["DU001", "DU003", "MV001", "MV002", "MV003", "NU001", "NU002", "NU003", "NU004",
              "NU005", "OR001", "OR002", "TX004", "TX006", "TX008", "TI001", "TI002"]

CHECK_LABELS = {
    "DU001": "exact duplicate rows (later copies)",
    "DU003": "duplicate events (same customer, item, time; row differs)",
    "MV001": "missing value",
    "MV002": "null-like placeholder",
    "MV003": "test value",
    "NU001": "price = 0",
    "NU002": "price < 0",
    "NU003": "price > 1e6",
    "NU004": "quantity <= 0, not a cancellation",
    "NU005": "|quantity| > 10000",
    "OR001": "cancellation line",
    "OR002": "non-product line (fees, postage)",
    "TX004": "title shorter than 3 chars",
    "TX006": "ALL CAPS title",
    "TX008": "placeholder title",
    "TI001": "future timestamp",
    "TI002": "outside the data's time window",
}

# Where the two sides' definitions differ, and how that can show in the counts.
DEFINITION_NOTES = {
    "TX006": "shelf uses Rust's Unicode Uppercase/Lowercase properties; the SQL uses RE2's "
             "\\p{Lu}/\\p{Ll} categories (they differ on rare letters such as ª º and Ⓐ).",
    "TI002": "both sides use approximate 1st/99th percentiles (DataFusion's t-digest vs "
             "DuckDB's approx_quantile); rows right at the edge of the window can differ.",
    "MV002": "shelf trims Unicode whitespace, DuckDB's trim() only spaces (same for MV003, "
             "TX008, NU004/OR001's cancellation marker).",
    "MV001": "shelf's blank = all Unicode whitespace; the SQL uses the regex [\\s\\p{Z}]*.",
}


def die(msg, code=2):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def need(module, why):
    try:
        return __import__(module)
    except ImportError:
        die(f"the Python package '{module}' is missing ({why}); install it with: "
            f"pip install pyarrow duckdb")


def fmt_int(n):
    return f"{n:,}" if isinstance(n, int) else str(n)


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# Replication
# ---------------------------------------------------------------------------------------------

def fresh_ids(base, k, width):
    """Copy k of the data: invoice numbers and customer ids no other copy uses; items unchanged."""
    import pyarrow.compute as pc

    p = f"{k:0{width}d}"
    inv = base["InvoiceNo"]
    cancelled = pc.starts_with(inv, "C")
    new_inv = pc.if_else(
        cancelled,
        pc.binary_join_element_wise("C", p, pc.utf8_slice_codeunits(inv, 1), ""),
        pc.binary_join_element_wise(p, inv, ""),
    )
    cust = pc.add(base["CustomerID"], float(k * 100000))
    t = base.set_column(base.schema.get_field_index("InvoiceNo"), "InvoiceNo", new_inv)
    return t.set_column(t.schema.get_field_index("CustomerID"), "CustomerID", cust)


def replicate(src, dst, copies):
    """Writes `copies` copies of `src` to `dst` in row groups of 128k rows; copy 0 is the original.

    Streams one copy at a time (a 541,909-row table), never the whole output. Skips the work when
    `dst` already has the right row count.
    """
    pa = need("pyarrow", "to write the replicated Parquet file")
    import pyarrow.parquet as pq

    src_rows = pq.ParquetFile(src).metadata.num_rows
    expected = src_rows * copies
    if os.path.exists(dst):
        try:
            if pq.ParquetFile(dst).metadata.num_rows == expected:
                log(f"  {dst}: exists with {fmt_int(expected)} rows, kept")
                return expected
        except Exception:  # a truncated file from an interrupted run: rewrite it
            pass
    base = pq.read_table(src).replace_schema_metadata(None)
    width = max(2, len(str(copies - 1)))
    tmp = dst + ".part"
    t0 = time.perf_counter()
    with pq.ParquetWriter(tmp, base.schema) as w:
        pending, pending_rows = [], 0
        for k in range(copies):
            pending.append(base if k == 0 else fresh_ids(base, k, width))
            pending_rows += src_rows
            while pending_rows >= ROW_GROUP_ROWS:
                cat = pa.concat_tables(pending)
                w.write_table(cat.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
                rest = cat.slice(ROW_GROUP_ROWS)
                pending, pending_rows = [rest], rest.num_rows
        if pending_rows:
            w.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
    os.replace(tmp, dst)
    log(f"  {dst}: wrote {fmt_int(expected)} rows ({copies} cop{'y' if copies == 1 else 'ies'}) in "
        f"{time.perf_counter() - t0:.1f} s")
    return expected


# ---------------------------------------------------------------------------------------------
# Measuring a process
# ---------------------------------------------------------------------------------------------


def only_checks_config(path, codes, threads, memory_limit_mb, shelf, writer):
    """A shelf.toml that pins threads, memory and "now" and switches off every check but
    `codes` (read from `shelf checks`); `writer` names the script in its first line."""
    listing = subprocess.run([shelf, "checks"], capture_output=True, text=True, check=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# Written by {writer}\n[run]\n"
                f"threads = {threads}\nmemory_limit_mb = {memory_limit_mb}\n"
                'now = "2026-01-01T00:00:00Z"\n')
        for line in listing.stdout.splitlines():
            code = line.split()[0] if line.split() else ""
            if code[:2].isalpha() and code[2:].isdigit() and code not in codes:
                f.write(f"[checks.{code}]\nenabled = false\n")


def pin_prefix(threads, pin):
    """`taskset -c <first N allowed cpus>` when the machine has more cores than the run may use."""
    if not pin or not shutil.which("taskset") or not hasattr(os, "sched_getaffinity"):
        return []
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) <= threads:
        return []
    return ["taskset", "-c", ",".join(str(c) for c in cpus[:threads])]


def measure(cmd, log_base, env=None, prefix=()):
    """Runs `cmd` under `/usr/bin/time -v`; returns wall seconds, CPU seconds (user + system),
    peak RSS in MiB and the exit code."""
    time_file = log_base + ".time"
    argv = ["/usr/bin/time", "-v", "-o", time_file, *prefix, *cmd]
    with open(log_base + ".stdout", "wb") as out, open(log_base + ".stderr", "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdout=out, stderr=err, env=env)
        wall = time.perf_counter() - t0
    rss_kb, cpu = None, 0.0
    with open(time_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size (kbytes):"):
                rss_kb = int(line.rsplit(":", 1)[1])
            elif line.startswith(("User time (seconds):", "System time (seconds):")):
                cpu += float(line.rsplit(":", 1)[1])
    return {"wall_s": wall, "cpu_s": cpu,
            "peak_rss_mib": (rss_kb / 1024 if rss_kb is not None else None),
            "exit_code": p.returncode}


def tail(path, n=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# shelf
# ---------------------------------------------------------------------------------------------

def run_shelf(args, data, copies, work, now_iso, prefix):
    out = os.path.join(work, "shelf-out" if copies == args.copies else f"shelf-out-x{copies}")
    shutil.rmtree(out, ignore_errors=True)
    cfg = os.path.join(work, "shelf.toml")
    with open(cfg, "w", encoding="utf-8") as f:
        # shelf reads its thread count from [run] threads (there is no environment variable).
        f.write("# Written by bench/audit_vs_duckdb.py\n[run]\n"
                f"threads = {args.threads}\nmemory_limit_mb = {args.memory_limit_mb}\n"
                f'now = "{now_iso}"\n')
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ, TMPDIR=tmp, NO_COLOR="1")
    cmd = [args.shelf, "audit", "--events", data, "--config", cfg, "--out", out]
    log_base = os.path.join(work, "logs", f"shelf-x{copies}")
    best = None
    for _ in range(args.repeat):
        m = measure(cmd, log_base, env=env, prefix=prefix)
        # 0: no error-level findings, 1: some (Online Retail has negative prices) — both are runs.
        if m["exit_code"] not in (0, 1):
            die(f"shelf failed (exit {m['exit_code']}); its stderr ends with:\n"
                f"{tail(log_base + '.stderr')}")
        best = pick_best(best, m)
    best["out"] = out
    best["counts"] = shelf_counts(out)
    return best


def pick_best(best, m):
    """Over repeats: the fastest wall time (and that run's CPU time), the highest peak RSS."""
    if best is None:
        return dict(m)
    if m["wall_s"] < best["wall_s"]:
        best["wall_s"], best["cpu_s"] = m["wall_s"], m["cpu_s"]
    if m["peak_rss_mib"] is not None:
        best["peak_rss_mib"] = max(best["peak_rss_mib"] or 0, m["peak_rss_mib"])
    return best


def shelf_counts(out):
    """(code, column, variant) → {rows, row_ids} from findings.jsonl, plus checks that ran with 0."""
    counts = {}
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    ran = {}
    for c in summary.get("checks", []):
        ran[(c["code"], c.get("column") or "")] = c.get("rows_affected", 0)
    with open(os.path.join(out, "findings.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            fi = json.loads(line)
            ev = fi.get("evidence") or {}
            key = (fi["code"], fi.get("column") or "", str(ev.get("value") or ""))
            counts[key] = {"rows": fi["rows_affected"], "row_ids": fi.get("row_ids", [])}
    return {"findings": counts, "ran": ran, "table_rows": summary["tables"]["events"]["rows"],
            "preset": summary["tables"]["events"].get("preset"),
            "version": summary.get("shelf_version")}


def shelf_lookup(sc, code, column, variant):
    """A shelf count for a comparison key: the finding, 0 when the check ran without it, or None."""
    hit = sc["findings"].get((code, column, variant))
    if hit is not None:
        return hit
    if variant:
        # A build that does not split this check by value: the unsplit finding has no variant.
        if (code, column, "") in sc["findings"]:
            return None
    if (code, column) in sc["ran"]:
        return {"rows": 0, "row_ids": []}
    return None


# ---------------------------------------------------------------------------------------------
# DuckDB (runs in its own process: `--duckdb-worker`)
# ---------------------------------------------------------------------------------------------

def sql_list(items):
    return "(" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + ")"


def duckdb_checks(now_us):
    """The checks as SQL. Row checks: (key, predicate), evaluated in one scan of the file.
    Query checks: (name, sql) returning (variant, count, 1000 smallest row ids) per key."""
    day = 86_400_000_000
    year = 31_536_000_000_000
    floor = 631_152_000_000_000  # 1990-01-01
    limit = now_us + day
    rows = []
    # MV001: roles every row should have (shelf skips sparse ones: quantity, price, order id).
    rows.append((("MV001", "StockCode", ""), "is_blank(StockCode)"))
    rows.append((("MV001", "Description", ""), "is_blank(Description)"))
    rows.append((("MV001", "InvoiceDate", ""), "InvoiceDate IS NULL"))
    rows.append((("MV001", "CustomerID", ""), "CustomerID IS NULL"))
    rows.append((("MV001", "Country", ""), "is_blank(Country)"))
    for c in TEXT_COLUMNS:
        rows.append((("MV003", c, ""), f"lower(trim({c})) IN {sql_list(TEST_VALUES)}"))
    rows += [
        (("NU001", "UnitPrice", ""), "UnitPrice = 0"),
        (("NU002", "UnitPrice", ""), "UnitPrice < 0"),
        (("NU003", "UnitPrice", ""), "isfinite(UnitPrice) AND UnitPrice > 1e6"),
        (("NU004", "Quantity", ""), "Quantity <= 0 AND NOT is_cancel(InvoiceNo)"),
        (("NU005", "Quantity", ""), "abs(Quantity) > 10000"),
        (("OR002", "StockCode", ""), "non_product(StockCode, Description)"),
        (("TX004", "Description", ""),
         "length(trim(Description)) BETWEEN 1 AND 2 AND NOT null_like(Description)"),
        (("TX006", "Description", ""), "all_caps(Description)"),
        (("TX008", "Description", ""),
         f"lower(trim(Description)) IN {sql_list(PLACEHOLDER_TITLES)}"),
        (("TI001", "InvoiceDate", ""), f"epoch_us(InvoiceDate) > {limit}"),
    ]
    mv002 = " UNION ALL ".join(
        f"SELECT '{c}' AS col, trim({c}) AS v, count(*) AS n, min(rid, {LISTED_IDS}) AS ids "
        f"FROM ev WHERE null_like({c}) GROUP BY ALL" for c in TEXT_COLUMNS)
    mv002 += "".join(
        f" UNION ALL SELECT '{c}', 'NaN', count(*), min(rid, {LISTED_IDS}) FROM ev "
        f"WHERE isnan({c}) HAVING count(*) > 0" for c in ("UnitPrice", "CustomerID"))
    eq = " AND ".join(f"e.{c} IS NOT DISTINCT FROM g.{c}" for c in ALL_COLUMNS)
    cols = ", ".join(ALL_COLUMNS)
    queries = [
        # Rows identical in all 8 columns (nulls equal) to an earlier row; the first is kept.
        # (Equivalent to row_number() OVER (PARTITION BY all columns ORDER BY rid) > 1; the
        # group-and-join form is about twice as fast in DuckDB.)
        ("DU001", f"""
            WITH g AS (SELECT {cols}, min(rid) AS first FROM ev GROUP BY ALL HAVING count(*) > 1)
            SELECT 'DU001', '', '', count(*), min(e.rid, {LISTED_IDS})
            FROM ev e JOIN g ON {eq} WHERE e.rid <> g.first"""),
        # Same customer, item and time as the group's first row, but some other column differs.
        # (Equivalent to first_value(...) OVER (PARTITION BY CustomerID, StockCode, InvoiceDate
        # ORDER BY rid); the join form is faster in DuckDB.)
        ("DU003", f"""
            WITH k AS (SELECT rid, CustomerID, StockCode, InvoiceDate,
                              row(InvoiceNo, Description, Quantity, UnitPrice, Country) AS h
                       FROM ev WHERE CustomerID IS NOT NULL AND StockCode IS NOT NULL
                                 AND InvoiceDate IS NOT NULL),
                 f AS (SELECT CustomerID, StockCode, InvoiceDate, min(rid) AS first
                       FROM k GROUP BY ALL HAVING count(*) > 1),
                 fh AS (SELECT f.*, k.h FROM f JOIN k ON k.rid = f.first)
            SELECT 'DU003', '', '', count(*), min(k.rid, {LISTED_IDS})
            FROM k JOIN fh USING (CustomerID, StockCode, InvoiceDate)
            WHERE k.rid <> fh.first AND k.h IS DISTINCT FROM fh.h"""),
        ("MV002", f"SELECT 'MV002', col, v, n, ids FROM ({mv002})"),
        # Cancellations, split by whether a non-cancelled line of the same customer and item
        # exists no later than the cancellation.
        ("OR001", f"""
            WITH c AS (SELECT rid, CustomerID, StockCode, InvoiceDate FROM ev
                       WHERE is_cancel(InvoiceNo)),
                 o AS (SELECT CustomerID, StockCode, min(InvoiceDate) AS first_seen FROM ev
                       WHERE NOT is_cancel(InvoiceNo) GROUP BY ALL)
            SELECT 'OR001', 'InvoiceNo',
                   CASE WHEN o.first_seen IS NOT NULL AND o.first_seen <= c.InvoiceDate
                        THEN 'with_original' ELSE 'without_original' END,
                   count(*), min(c.rid, {LISTED_IDS})
            FROM c LEFT JOIN o ON c.CustomerID = o.CustomerID AND c.StockCode = o.StockCode
            GROUP BY ALL"""),
        # Far outside the 1st–99th percentile window (by at least its width, min. one year) or
        # before 1990; future times are TI001's.
        ("TI002", f"""
            WITH v AS (SELECT rid, epoch_us(InvoiceDate) AS t FROM ev
                       WHERE InvoiceDate IS NOT NULL),
                 b AS (SELECT approx_quantile(t, 0.01) AS lo, approx_quantile(t, 0.99) AS hi
                       FROM v)
            SELECT 'TI002', 'InvoiceDate', '', count(*), min(rid, {LISTED_IDS}) FROM v, b
            WHERE t <= {limit} AND (t < {floor} OR t < lo - greatest(hi - lo, {year})
                                    OR t > hi + greatest(hi - lo, {year}))"""),
    ]
    return rows, queries


def duckdb_worker(a):
    import duckdb

    t_start = time.perf_counter()
    con = duckdb.connect()
    tmp = os.path.join(a.work, "duckdb-tmp")
    os.makedirs(tmp, exist_ok=True)
    con.execute(f"SET threads = {a.threads}")
    con.execute(f"SET memory_limit = '{a.memory_limit_mb}MB'")
    con.execute(f"SET temp_directory = '{tmp}'")
    path = a.file.replace("'", "''")
    con.execute("CREATE VIEW ev AS SELECT * EXCLUDE (file_row_number), file_row_number AS rid "
                f"FROM read_parquet('{path}', file_row_number = true)")
    words = "|".join(NON_PRODUCT_WORDS)
    macros = [
        "CREATE MACRO is_blank(x) AS x IS NULL OR regexp_full_match(x, '[\\s\\p{Z}]*')",
        f"CREATE MACRO null_like(x) AS lower(trim(x)) IN {sql_list(NULL_LIKE)}",
        "CREATE MACRO is_cancel(x) AS coalesce(regexp_full_match(trim(x), '[Cc][0-9]+') "
        "OR regexp_matches(lower(x), 'cancel|return|refund|取消|退货|退款'), false)",
        # A title of at most 4 words that contains a fee/postage word ("samples/damages",
        # "re-adjustment" count), or a letters-only code of at most 4 characters.
        "CREATE MACRO non_product(item, title) AS "
        f"coalesce(CASE WHEN regexp_matches(lower(title), '{words}') "
        "THEN len(regexp_split_to_array(trim(title), '\\s+')) <= 4 ELSE false END, false) "
        "OR coalesce(regexp_full_match(trim(item), '[A-Za-z _]{1,4}'), false)",
        "CREATE MACRO all_caps(x) AS NOT regexp_matches(x, '\\p{Ll}') "
        "AND length(regexp_replace(x, '[^\\p{Lu}]', '', 'g')) >= 8",
    ]
    for m in macros:
        con.execute(m)
    setup_s = time.perf_counter() - t_start

    row_checks, queries = duckdb_checks(a.now_us)
    results = {}
    timings = {}
    t0 = time.perf_counter()
    sel = ", ".join(
        f"count(*) FILTER (WHERE {p}), min(rid, {LISTED_IDS}) FILTER (WHERE {p})"
        for _, p in row_checks)
    r = con.execute(f"SELECT count(*), {sel} FROM ev").fetchone()
    total_rows = r[0]
    for i, (key, _) in enumerate(row_checks):
        results["|".join(key)] = {"rows": r[1 + 2 * i], "row_ids": list(r[2 + 2 * i] or [])}
    timings["row checks (one scan)"] = time.perf_counter() - t0
    for name, q in queries:
        t0 = time.perf_counter()
        for code, col, variant, n, ids in con.execute(q).fetchall():
            results[f"{code}|{col}|{variant}"] = {"rows": n, "row_ids": list(ids or [])}
        timings[name] = time.perf_counter() - t0
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump({"rows": total_rows, "results": results, "timings_s": timings,
                   "setup_s": setup_s, "duckdb_version": duckdb.__version__}, f)


def run_duckdb(args, data, copies, work, now_us, prefix):
    out_json = os.path.join(work, f"duckdb-out-x{copies}.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--duckdb-worker", "--file", data,
           "--json", out_json, "--threads", str(args.threads), "--work", work,
           "--now-us", str(now_us), "--memory-limit-mb", str(args.memory_limit_mb)]
    log_base = os.path.join(work, "logs", f"duckdb-x{copies}")
    best = None
    for _ in range(args.repeat):
        if os.path.exists(out_json):
            os.remove(out_json)
        m = measure(cmd, log_base, prefix=prefix)
        if m["exit_code"] != 0 or not os.path.exists(out_json):
            die(f"the DuckDB run failed (exit {m['exit_code']}); its stderr ends with:\n"
                f"{tail(log_base + '.stderr')}")
        best = pick_best(best, m)
    with open(out_json, encoding="utf-8") as f:
        best["detail"] = json.load(f)
    return best


def duckdb_baseline(work, prefix):
    """Peak RSS of a Python process that only imports DuckDB and runs `SELECT 1`."""
    cmd = [sys.executable, "-c", "import duckdb; duckdb.connect().execute('SELECT 1').fetchall()"]
    return measure(cmd, os.path.join(work, "logs", "duckdb-baseline"), prefix=prefix)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def comparison_keys(shelf_by_size, duck_by_size):
    keys = set()
    for sc in shelf_by_size.values():
        for (code, col, var) in sc["findings"]:
            if code in DUCK_CODES:
                keys.add((code, col, var))
    for d in duck_by_size.values():
        for k in d["detail"]["results"]:
            keys.add(tuple(k.split("|")))
    # Every DuckDB key is listed (zero counts too); shelf only lists findings, so its zeros
    # come from summary.json's checks (see shelf_lookup).
    order = {c: i for i, c in enumerate(DUCK_CODES)}
    return sorted(keys, key=lambda k: (order.get(k[0], 99), k[1], k[2]))


def print_table(headers, rows, align):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(str(c).rjust(w) if a == "r" else str(c).ljust(w)
                         for c, w, a in zip(cells, widths, align))

    log(line(headers))
    log(line(["-" * w for w in widths]))
    for r in rows:
        log(line(r))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=20, help="copies of the data (default 20)")
    ap.add_argument("--work", default="/tmp/shelf-bench", help="work directory")
    ap.add_argument("--shelf", default="target/release/shelf", help="the shelf binary")
    ap.add_argument("--threads", type=int, default=2, help="threads for both engines (default 2)")
    ap.add_argument("--memory-limit-mb", type=int, default=1024,
                    help="memory limit for both engines (shelf's [run] memory_limit_mb, "
                         "DuckDB's memory_limit); default 1024, shelf's own default")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per tool and size; the fastest wall time is reported")
    ap.add_argument("--source", default=SOURCE, help="the UCI Online Retail Parquet file")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin both processes to --threads CPUs with taskset")
    # Internal: the DuckDB side, run as its own process so its RSS is measured alone.
    ap.add_argument("--duckdb-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    ap.add_argument("--now-us", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.duckdb_worker:
        duckdb_worker(args)
        return

    need("pyarrow", "to replicate the data")
    need("duckdb", "for the DuckDB side of the comparison")
    if not os.path.exists("/usr/bin/time"):
        die("GNU time (/usr/bin/time) is needed to measure peak memory; install it "
            "(apt-get install time)")
    if args.copies < 1 or args.threads < 1 or args.repeat < 1:
        die("--copies, --threads and --repeat must be at least 1")
    if not (os.path.isfile(args.shelf) and os.access(args.shelf, os.X_OK)):
        die(f"no shelf binary at {args.shelf}; build it with: cargo build --release -p shelf-cli")
    if not os.path.isfile(args.source):
        die(f"no input at {args.source}")
    args.shelf = os.path.abspath(args.shelf)
    work = os.path.abspath(args.work)
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    debug_build = f"{os.sep}debug{os.sep}" in args.shelf
    shelf_version = subprocess.run([args.shelf, "--version"], capture_output=True,
                                   text=True).stdout.strip()

    # One "now" for both sides (future-timestamp), pinned to the second.
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    now_iso = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    now_us = int(now.timestamp()) * 1_000_000
    prefix = pin_prefix(args.threads, not args.no_pin)

    log(f"shelf: {args.shelf} ({shelf_version}){'  [DEBUG BUILD]' if debug_build else ''}")
    log(f"threads: {args.threads}; memory limit: {args.memory_limit_mb} MiB; "
        f"pinned: {' '.join(prefix) if prefix else 'no'}; now: {now_iso}")
    log("replicating:")
    sizes = sorted({1, args.copies})
    files = {}
    for n in sizes:
        path = os.path.join(work, f"online_retail_x{n}.parquet")
        files[n] = (path, replicate(args.source, path, n))

    runs, shelf_by_size, duck_by_size = [], {}, {}
    baseline = duckdb_baseline(work, prefix)
    for n in sizes:
        path, rows = files[n]
        log(f"shelf audit, {n}× ({fmt_int(rows)} rows)…")
        s = run_shelf(args, path, n, work, now_iso, prefix)
        log(f"  {s['wall_s']:.2f} s, peak RSS {s['peak_rss_mib']:.0f} MiB")
        log(f"DuckDB, {n}×…")
        d = run_duckdb(args, path, n, work, now_us, prefix)
        log(f"  {d['wall_s']:.2f} s, peak RSS {d['peak_rss_mib']:.0f} MiB "
            f"(queries {sum(d['detail']['timings_s'].values()):.2f} s)")
        shelf_by_size[n], duck_by_size[n] = s["counts"], d
        if s["counts"]["table_rows"] != rows or d["detail"]["rows"] != rows:
            die(f"row counts disagree at {n}×: file {rows}, shelf {s['counts']['table_rows']}, "
                f"DuckDB {d['detail']['rows']}")
        for tool, m in (("shelf", s), ("duckdb", d)):
            runs.append({"tool": tool, "copies": n, "rows": rows, "wall_s": round(m["wall_s"], 3),
                         "cpu_s": round(m["cpu_s"], 2),
                         "rows_per_s": round(rows / m["wall_s"]),
                         "peak_rss_mib": round(m["peak_rss_mib"], 1),
                         "exit_code": m["exit_code"]})

    # --- speed and memory
    log("")
    log("== speed and peak memory" + ("  (DEBUG shelf build — not the target figures)"
                                      if debug_build else ""))
    print_table(
        ["size", "tool", "rows", "wall s", "CPU s", "rows/s", "peak RSS MiB"],
        [[f"{r['copies']}×", r["tool"], fmt_int(r["rows"]), f"{r['wall_s']:.2f}",
          f"{r['cpu_s']:.2f}", fmt_int(r["rows_per_s"]), f"{r['peak_rss_mib']:.0f}"]
         for r in runs],
        ["l", "l", "r", "r", "r", "r", "r"])
    ratios = {}
    for n in sizes:
        s = next(r for r in runs if r["tool"] == "shelf" and r["copies"] == n)
        d = next(r for r in runs if r["tool"] == "duckdb" and r["copies"] == n)
        ratios[n] = {"rows_per_s_shelf_over_duckdb": round(s["rows_per_s"] / d["rows_per_s"], 4),
                     "peak_rss_shelf_over_duckdb": round(s["peak_rss_mib"] / d["peak_rss_mib"], 3)}
        log(f"{n}×: shelf/DuckDB rows/s = {ratios[n]['rows_per_s_shelf_over_duckdb']:.3f}"
            f"  (goal ≥ 1.0);  peak RSS shelf/DuckDB = "
            f"{ratios[n]['peak_rss_shelf_over_duckdb']:.2f}")
    growth = {}
    if len(sizes) > 1:
        for tool in ("shelf", "duckdb"):
            a = next(r for r in runs if r["tool"] == tool and r["copies"] == 1)
            b = next(r for r in runs if r["tool"] == tool and r["copies"] == args.copies)
            growth[tool] = round(b["peak_rss_mib"] / a["peak_rss_mib"], 3)
        log(f"peak RSS {args.copies}× / 1×: shelf {growth['shelf']:.2f}, "
            f"DuckDB {growth['duckdb']:.2f}  (a small 1× run uses less than the budget; whether "
            f"the peak stops growing with the file is what bench/memory_scaling.py measures)")
    log(f"DuckDB process baseline (python + import duckdb, no query): "
        f"{baseline['peak_rss_mib']:.0f} MiB RSS")

    # --- counts side by side
    log("")
    log("== affected rows per check (ids: the 1000 smallest row ids agree)")
    keys = comparison_keys(shelf_by_size, duck_by_size)

    def shelf_hit(n, k):
        return shelf_lookup(shelf_by_size[n], *k)

    def duck_hit(n, k):
        hit = duck_by_size[n]["detail"]["results"].get("|".join(k))
        if hit is None and k[0] in GROUPED:  # grouped queries return no row for a count of 0
            hit = {"rows": 0, "row_ids": []}
        return hit

    table, differences, zero_keys = [], [], []
    for k in keys:
        code, col, var = k
        row = [code, col or "-", var or "-"]
        nonzero = False
        for n in sizes:
            sh, du = shelf_hit(n, k), duck_hit(n, k)
            s_rows = sh["rows"] if sh else None
            d_rows = du["rows"] if du else None
            ids_ok = sh is not None and du is not None and sh["row_ids"] == du["row_ids"]
            nonzero = nonzero or bool(s_rows) or bool(d_rows)
            row += ["—" if s_rows is None else fmt_int(s_rows),
                    "—" if d_rows is None else fmt_int(d_rows), "yes" if ids_ok else "no"]
            if s_rows != d_rows or not ids_ok:
                differences.append({"copies": n, "code": code, "column": col, "variant": var,
                                    "shelf": s_rows, "duckdb": d_rows, "ids_match": ids_ok})
        if nonzero:
            table.append(row)
        else:
            zero_keys.append(f"{code} {col}".strip())
    heads = ["check", "column", "variant"]
    align = ["l", "l", "l"]
    for n in sizes:
        heads += [f"shelf {n}×", f"duckdb {n}×", "ids"]
        align += ["r", "r", "l"]
    print_table(heads, table, align)
    log(f"0 rows on both sides: {', '.join(zero_keys) if zero_keys else 'none'}")
    if len(sizes) > 1:
        off = []
        for tool, hit in (("shelf", shelf_hit), ("duckdb", duck_hit)):
            for k in keys:
                a, b = hit(1, k), hit(args.copies, k)
                if a is not None and b is not None and b["rows"] != a["rows"] * args.copies:
                    off.append(f"{tool} {'/'.join(x for x in k if x)}: "
                               f"{b['rows']} ≠ {args.copies}×{a['rows']}")
        log("counts at {0}× = {0} × counts at 1× (fresh ids per copy): {1}".format(
            args.copies, "all" if not off else "all except " + "; ".join(off)))
    if differences:
        log("differences:")
        for d in differences:
            note = DEFINITION_NOTES.get(d["code"], "")
            log(f"  {d['copies']}× {d['code']} {d['column']} {d['variant']}: shelf {d['shelf']}, "
                f"DuckDB {d['duckdb']}, ids match: {d['ids_match']}" + (f" — {note}" if note else ""))
    else:
        log("shelf and DuckDB agree on every count and on the listed row ids.")
    extra = sorted({c for sc in shelf_by_size.values() for (c, _) in sc["ran"]} - set(DUCK_CODES))
    log(f"shelf also ran (no DuckDB counterpart here): {', '.join(extra)}")

    bench = {
        "created": now_iso,
        "source": args.source,
        "copies": args.copies,
        "threads": args.threads,
        "memory_limit_mb": args.memory_limit_mb,
        "pinned_cpus": prefix[-1] if prefix else None,
        "shelf_binary": args.shelf,
        "shelf_version": shelf_version,
        "shelf_debug_build": debug_build,
        "duckdb_version": duck_by_size[sizes[0]]["detail"]["duckdb_version"],
        "duckdb_baseline_rss_mib": round(baseline["peak_rss_mib"], 1),
        "runs": runs,
        "ratios": {f"{n}x": v for n, v in ratios.items()},
        "peak_rss_growth_nx_over_1x": growth,
        "duckdb_query_timings_s": {f"{n}x": {k: round(v, 3) for k, v in
                                             duck_by_size[n]["detail"]["timings_s"].items()}
                                   for n in sizes},
        "counts": {f"{n}x": {
            "/".join(x for x in k if x): {
                "shelf": (shelf_hit(n, k) or {}).get("rows"),
                "duckdb": (duck_hit(n, k) or {}).get("rows"),
            } for k in keys} for n in sizes},
        "differences": differences,
    }
    with open(os.path.join(work, "bench.json"), "w", encoding="utf-8") as f:
        json.dump(bench, f, indent=1, ensure_ascii=False)
    log(f"\nwrote {os.path.join(work, 'bench.json')}")


if __name__ == "__main__":
    main()
