#!/usr/bin/env python3
"""duplicate-products' candidate search (MinHash-LSH) against datasketch's MinHashLSH.

Icecat's titles (../shared/data/icecat, 19,406 products) are replicated to N rows (default
1,000,000). Copy 0 of each title is the original; every further copy drops one random word
(titles of 3+ words) so copies are near-duplicates, not identical. Same source title = same
product: that is the truth recall is measured against.

Both tools get the same titles, the same Jaccard threshold and the same number of
permutations; both choose their banding by the same criterion (equal false-positive and
false-negative weights), and both produce every candidate pair (datasketch: insert every item,
then query every item). Recall is the share of same-source pairs found, over the first
--sample items. Times include tokenising. shelf runs on --threads rayon threads; datasketch is
single-threaded Python, and the script also times shelf on 1 thread for a like-for-like figure.

Equal recall: shelf pairs an LSH bucket over --max-bucket items (default 100) by sorted
neighbourhood (--window neighbours, default 10) and so misses some pairs datasketch finds by
pairing every bucket whole. Raise --max-bucket to buy shelf recall with time, or give
datasketch a higher --ds-threshold (fewer bands) to lower its recall to shelf's; see
bench/README.md for the settings that match.

Run: cargo build --release -p shelf-checks --example lsh_bench
     python3 bench/dedup_vs_datasketch.py [--rows 1000000] [--max-bucket N] [--window N]
         [--ds-threshold T] [--no-datasketch] [--no-one-thread]
Needs: pip install datasketch
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "icecat")


def titles():
    out = []
    for i in range(1, 5):
        with zipfile.ZipFile(os.path.join(DATA, f"{i}.json.zip")) as z:
            out += [r["title"] for r in json.loads(z.read(z.namelist()[0]))]
    return out


def replicate(base, rows, seed):
    rnd = random.Random(seed)
    out, src = [], []
    k = 0
    while len(out) < rows:
        for i, t in enumerate(base):
            if len(out) >= rows:
                break
            words = t.split()
            if k > 0 and len(words) >= 3:
                del words[rnd.randrange(len(words))]
            out.append(" ".join(words))
            src.append(i)
        k += 1
    return out, src


def tokens(t):
    return set(re.findall(r"\w+", t.lower()))


def datasketch_run(items, src, threshold, num_perm, sample, params=None):
    """params: (bands, rows) to override datasketch's choice for the threshold."""
    from datasketch import MinHash, MinHashLSH

    start = time.perf_counter()
    sets = [[w.encode("utf8") for w in tokens(t)] for t in items]
    hashes = MinHash.bulk(sets, num_perm=num_perm)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)
    with lsh.insertion_session() as s:
        for i, m in enumerate(hashes):
            s.insert(i, m, check_duplication=False)
    pairs = 0
    found = 0
    for i, m in enumerate(hashes):
        res = lsh.query(m)
        pairs += len(res) - 1
        if i < sample:
            found += sum(1 for j in res if j != i and src[j] == src[i])
    secs = time.perf_counter() - start
    by = {}
    for s_ in src:
        by[s_] = by.get(s_, 0) + 1
    truth = sum(by[src[i]] - 1 for i in range(sample))
    return {"seconds": secs, "candidate_pairs": pairs // 2, "recall": found / max(truth, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--num-perm", type=int, default=64)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-bucket", type=int, default=100,
                    help="shelf: buckets over this many items are paired by sorted neighbourhood")
    ap.add_argument("--window", type=int, default=10,
                    help="shelf: neighbours per item in such a bucket")
    ap.add_argument("--ds-threshold", type=float, default=None,
                    help="datasketch's threshold (default: --threshold)")
    ap.add_argument("--ds-bands", default=None,
                    help="datasketch's banding as BANDS,ROWS (overrides the threshold's)")
    ap.add_argument("--no-datasketch", action="store_true")
    ap.add_argument("--no-one-thread", action="store_true", help="skip shelf on 1 thread")
    ap.add_argument("--work", default="/tmp/shelf-dedup-bench")
    ap.add_argument("--bin", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples", "lsh_bench"))
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"{a.bin} not found: run cargo build --release -p shelf-checks --example lsh_bench")
    os.makedirs(a.work, exist_ok=True)
    items, src = replicate(titles(), a.rows, seed=7)
    tf, sf = os.path.join(a.work, "titles.txt"), os.path.join(a.work, "sources.txt")
    with open(tf, "w") as f:
        f.write("\n".join(t.replace("\n", " ") for t in items) + "\n")
    with open(sf, "w") as f:
        f.write("\n".join(map(str, src)) + "\n")
    print(f"{len(items):,} titles from {len(set(src)):,} Icecat products; threshold {a.threshold}, "
          f"{a.num_perm} permutations", flush=True)

    def shelf(threads):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        out = subprocess.run([a.bin, tf, sf, str(a.threshold), str(a.num_perm), str(a.sample),
                              str(a.max_bucket), str(a.window)],
                             env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    s2 = shelf(a.threads)
    print(f"shelf ({a.threads} threads, max bucket {a.max_bucket}, window {a.window}): "
          f"{s2['seconds']:.2f} s, {s2['candidate_pairs']:,} pairs, recall {s2['recall']:.4f}", flush=True)
    s1 = None
    if not a.no_one_thread:
        s1 = shelf(1)
        print(f"shelf (1 thread):  {s1['seconds']:.2f} s, recall {s1['recall']:.4f}", flush=True)
    if a.no_datasketch:
        return
    ds_threshold = a.threshold if a.ds_threshold is None else a.ds_threshold
    params = tuple(int(x) for x in a.ds_bands.split(",")) if a.ds_bands else None
    d = datasketch_run(items, src, ds_threshold, a.num_perm, a.sample, params)
    print(f"datasketch (threshold {ds_threshold}, bands x rows {params or 'its choice'}): {d['seconds']:.2f} s, "
          f"{d['candidate_pairs']:,} pairs, recall {d['recall']:.4f}")
    print(f"throughput ratio: {d['seconds'] / s2['seconds']:.1f}x ({a.threads} threads)"
          + (f", {d['seconds'] / s1['seconds']:.1f}x (1 thread)" if s1 else ""))


if __name__ == "__main__":
    main()
