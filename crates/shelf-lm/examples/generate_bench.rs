//! Times one greedy generation with shelf's GGUF backend, for `bench/generate_vs_llamacpp.py`:
//! prints one JSON line with prompt and decode tokens/s (split the way llama.cpp's `timings`
//! are) and the peak RSS.
//!
//! Usage: `generate_bench MODEL.gguf THREADS MAX_TOKENS PROMPT [--candle] [--batch B]
//! [--batch-size N]` (the
//! prompt is one user message; the model's chat template is applied). A warm-up run comes
//! first so that both sides are timed with the weights paged in.
//! - `--candle` runs candle's quantized model instead of shelf's decoder.
//! - `--batch B` also times B requests (the prompt, sampled at temperature 0.7 with seeds
//!   1…B), decoded together up to `--batch-size N` at a time (default: the generator's), and
//!   reports their generated tokens per second of wall time.

use std::path::PathBuf;

use std::time::Instant;

use shelf_core::lm::GenRequest;
use shelf_lm::gguf::{Engine, GgufGenerator};

fn main() -> anyhow_free::Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: generate_bench MODEL.gguf THREADS MAX_TOKENS PROMPT [--candle] [--batch B] [--batch-size N]";
    let (Some([model, threads, max_tokens, prompt]), flags) =
        (args.get(..4), args.get(4..).unwrap_or_default())
    else {
        return Err(usage.into());
    };
    let mut engine = Engine::Shelf;
    let mut batch = 0usize;
    let mut batch_size = None;
    let mut flags = flags.iter();
    while let Some(flag) = flags.next() {
        match flag.as_str() {
            "--candle" => engine = Engine::Candle,
            "--batch" => batch = flags.next().ok_or(usage)?.parse()?,
            "--batch-size" => batch_size = Some(flags.next().ok_or(usage)?.parse()?),
            _ => return Err(usage.into()),
        }
    }
    let threads: usize = threads.parse()?;
    if !shelf_lm::candle_threads_pinned(threads) {
        return Err(format!(
            "set CANDLE_NUM_THREADS={threads}: candle multiplies the tensor types shelf has no \
             kernel for (and runs --candle) on its own pool, not on the {threads} threads asked \
             for"
        )
        .into());
    }
    let max_tokens: usize = max_tokens.parse()?;
    let mut g = GgufGenerator::load_with(&PathBuf::from(model), threads, engine)?;
    if let Some(n) = batch_size {
        g = g.with_batch(n);
    }
    g.generate_timed(&GenRequest::user(prompt.as_str(), 4))?;
    let (out, t) = g.generate_timed(&GenRequest::user(prompt.as_str(), max_tokens))?;
    let batch_per_second = (batch > 0).then(|| {
        let requests: Vec<GenRequest> = (1..=batch as u64)
            .map(|seed| GenRequest {
                temperature: 0.7,
                seed,
                ..GenRequest::user(prompt.as_str(), max_tokens)
            })
            .collect();
        let start = Instant::now();
        let outs = g.generate_batch_timed(&requests)?;
        let tokens: usize = outs.iter().map(|(o, _)| o.tokens).sum();
        Ok::<_, shelf_core::ShelfError>(tokens as f64 / start.elapsed().as_secs_f64())
    });
    let batch_per_second = batch_per_second.transpose()?;
    let line = serde_json::json!({
        "engine": format!("{engine:?}"),
        "batch": batch,
        "batch_tokens_per_second": batch_per_second,
        "prompt_tokens": t.prompt_tokens,
        "prompt_per_second": t.prompt_tokens as f64 / t.prompt_secs,
        "decode_tokens": t.decode_tokens,
        "decode_per_second": t.decode_tokens as f64 / t.decode_secs,
        "tokens": out.tokens,
        "peak_rss_kb": peak_rss_kb(),
        "text": out.text,
    });
    println!("{line}");
    Ok(())
}

/// The process's peak resident set (`VmHWM`), in KiB; 0 where /proc is not there.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A boxed error is all an example needs; it prints with `Debug` on the way out.
mod anyhow_free {
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}
