#!/usr/bin/env python3
"""shelf's implicit-feedback ALS (shelf-lift recs) against the Python `implicit` library's.

Two real logs, written as the plain `user,item,weight,time` CSV that the `recs_eval` example
reads (under --work, default /tmp/shelf-recs-bench; never in the repository):
- UCI Online Retail (../shared/data/uci_online_retail/online_retail_raw.parquet): customers ×
  StockCode, one event of weight 1 per invoice line; rows without CustomerID, cancellations
  (InvoiceNo starting with "C") and non-positive quantities dropped.
- MovieLens-100k as shipped in recbole 1.2.1 (recbole/dataset_example/ml-100k/ml-100k.inter
  under --recbole, default /tmp/recbole): every rating is an implicit interaction of weight 1.

The same split: `recs_eval --dump` writes the leave-last-out split shelf made (indexes), and
implicit is trained on exactly those train rows and scored on exactly those test users, with
each user's train and validation items filtered out of its top 20 (as shelf does).

The same objective: shelf's confidence is Hu et al.'s c = 1 + alpha·w; implicit's is
c = alpha·w (it multiplies the matrix by alpha). implicit is therefore given the matrix
1 + alpha·w and alpha = 1, so both solve the same least-squares problem with the same factors,
regularization, 3 CG steps and iterations. Initial factors differ (different generators, same
distribution: uniform [0, 0.01)).

The same threads: shelf runs with RAYON_NUM_THREADS=T, implicit with num_threads=T and its
BLAS pool held at 1 thread (threadpoolctl), for each T in --threads. Times are the wall time of
the fit call alone (shelf: `Als::fit_iterations`; implicit: `model.fit`), the minimum and
median over --repeats rounds. Each round fits once with each library, alternating which goes
first, so load from other jobs on a shared machine falls on both alike.

Run: cargo build --release -p shelf-lift --example recs_eval
     python3 -m pip download --no-deps recbole==1.2.1 -d /tmp/recbole
     (cd /tmp/recbole && unzip -o recbole-1.2.1-py3-none-any.whl 'recbole/dataset_example/*')
     python3 bench/recs_vs_implicit.py [--threads 1,2] [--iterations 15] [--repeats 5]
         [--alpha 1] [--factors 64]
Needs: python3 -m pip install implicit==0.7.3 pandas pyarrow
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RETAIL = os.path.join(ROOT, "..", "shared", "data", "uci_online_retail", "online_retail_raw.parquet")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
EXAMPLE = os.path.join(TARGET, "release", "examples", "recs_eval")


def write_online_retail(out):
    df = pd.read_parquet(RETAIL, columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "CustomerID"])
    keep = df["CustomerID"].notna() & ~df["InvoiceNo"].astype(str).str.startswith("C") & (df["Quantity"] > 0)
    df = df[keep]
    log = pd.DataFrame(
        {
            "user": df["CustomerID"].astype("int64").astype(str),
            "item": df["StockCode"].astype(str).str.strip(),
            "weight": 1,
            "time": df["InvoiceDate"].astype("int64") // 10**9,
        }
    )
    assert not log["item"].str.contains(",").any()
    log.to_csv(out, index=False)
    return len(log)


def write_movielens(recbole, out):
    path = os.path.join(recbole, "recbole", "dataset_example", "ml-100k", "ml-100k.inter")
    if not os.path.exists(path):
        sys.exit(f"{path} missing: see the Run lines in this script's docstring")
    df = pd.read_csv(path, sep="\t")
    log = pd.DataFrame(
        {
            "user": df["user_id:token"].astype(str),
            "item": df["item_id:token"].astype(str),
            "weight": 1,
            "time": df["timestamp:float"].astype("int64"),
        }
    )
    log.to_csv(out, index=False)
    return len(log)


def run_shelf(log, work, threads, args, bench_only=False):
    out = os.path.join(work, f"shelf_t{threads}.json")
    cmd = [
        EXAMPLE, log, "--alpha", str(args.alpha), "--factors", str(args.factors),
        "--bench-iterations", str(args.iterations), "--bench-repeats", "1", "--json", out,
    ]
    cmd += ["--bench-only"] if bench_only else ["--dump", os.path.join(work, "split")]
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    table = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    with open(out) as f:
        return json.load(f), table


def csr(rows, users, items, data):
    return sp.csr_matrix((data, (rows["user"], rows["item"])), shape=(users, items), dtype=np.float32)


class Implicit:
    """implicit's side on the split shelf dumped: one fit per call, recall on the last."""

    def __init__(self, work, shape, threads, args):
        self.users, self.items = shape
        self.threads, self.args = threads, args
        split = os.path.join(work, "split")
        train = pd.read_csv(os.path.join(split, "train.csv"))
        validation = pd.read_csv(os.path.join(split, "validation.csv"))
        self.test = pd.read_csv(os.path.join(split, "test.csv"))
        # Hu et al.'s confidence, given to implicit with alpha = 1 (see the docstring).
        self.cui = csr(train, self.users, self.items, 1.0 + args.alpha * train["weight"].to_numpy())
        both = pd.concat([train[["user", "item"]], validation])
        self.known = csr(both, self.users, self.items, np.ones(len(both)))
        self.model = None

    def fit(self):
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        a = self.args
        with threadpool_limits(1, "blas"):
            self.model = AlternatingLeastSquares(
                factors=a.factors, regularization=0.01, alpha=1.0, iterations=a.iterations,
                use_cg=True, use_native=True, calculate_training_loss=False,
                num_threads=self.threads, random_state=a.seed,
            )
            t = time.perf_counter()
            self.model.fit(self.cui, show_progress=False)
            return time.perf_counter() - t

    def recall(self):
        held = self.test.groupby("user")["item"].apply(set)
        ids = held.index.to_numpy()
        recs, _ = self.model.recommend(ids, self.known[ids], N=20, filter_already_liked_items=True)
        return float(np.mean([len(held[u] & set(r)) / len(held[u]) for u, r in zip(ids, recs)])), len(ids)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work", default="/tmp/shelf-recs-bench")
    p.add_argument("--recbole", default="/tmp/recbole")
    p.add_argument("--datasets", default="online_retail,movielens_100k")
    args = p.parse_args()
    if not os.path.exists(EXAMPLE):
        sys.exit(f"{EXAMPLE} missing: cargo build --release -p shelf-lift --example recs_eval")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"load (1-min) at the start {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for name in args.datasets.split(","):
        work = os.path.join(args.work, name)
        os.makedirs(work, exist_ok=True)
        log = os.path.join(work, "log.csv")
        n = write_online_retail(log) if name == "online_retail" else write_movielens(args.recbole, log)
        print(f"== {name}: {n} events -> {log}", flush=True)
        for t in threads:
            shelf, table = run_shelf(log, work, t, args)
            print(table, flush=True)
            imp = Implicit(work, (shelf["users"], shelf["items"]), t, args)
            shelf_s, imp_s = [], []
            for r in range(args.repeats):
                for side in (("shelf", "implicit") if r % 2 == 0 else ("implicit", "shelf")):
                    if side == "shelf":
                        b = run_shelf(log, work, t, args, bench_only=True)[0]["bench"]
                        shelf_s.append(b["seconds"][0])
                    else:
                        imp_s.append(imp.fit())
            recall, test_users = imp.recall()
            assert test_users == shelf["test_users"], (test_users, shelf["test_users"])
            rows.append((name, t, shelf_s, imp_s, b["test_recall"], recall))
            print(f"{t} threads: shelf fits {['%.3f' % x for x in shelf_s]} s, test Recall@20 {b['test_recall']:.4f}; "
                  f"implicit fits {['%.3f' % x for x in imp_s]} s, test Recall@20 {recall:.4f}", flush=True)
    print(f"\n{args.iterations} iterations, factors {args.factors}, alpha {args.alpha}, regularization 0.01, "
          f"3 CG steps; seconds = min (median) of {args.repeats} alternating rounds; "
          f"load (1-min) at the end {os.getloadavg()[0]:.2f}")
    print("| data | threads | shelf s | implicit s | speed ratio (implicit s / shelf s) | shelf Recall@20 | implicit Recall@20 |")
    print("|---|---|---|---|---|---|---|")
    for name, t, s, i, rs, ri in rows:
        print(f"| {name} | {t} | {min(s):.3f} ({statistics.median(s):.3f}) | {min(i):.3f} ({statistics.median(i):.3f}) "
              f"| {min(i) / min(s):.2f}x | {rs:.4f} | {ri:.4f} |")


if __name__ == "__main__":
    main()
