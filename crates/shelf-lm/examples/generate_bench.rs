//! Times one greedy generation with shelf's candle GGUF backend, for
//! `bench/generate_vs_llamacpp.py`: prints one JSON line with prompt and decode tokens/s (split
//! the way llama.cpp's `timings` are) and the peak RSS.
//!
//! Usage: `generate_bench MODEL.gguf THREADS MAX_TOKENS PROMPT` (the prompt is one user
//! message; the model's chat template is applied). A warm-up run comes first so that both
//! sides are timed with the weights paged in.

use std::path::PathBuf;

use shelf_core::lm::GenRequest;
use shelf_lm::gguf::GgufGenerator;

fn main() -> anyhow_free::Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, threads, max_tokens, prompt] = args.as_slice() else {
        return Err("usage: generate_bench MODEL.gguf THREADS MAX_TOKENS PROMPT".into());
    };
    let threads: usize = threads.parse()?;
    if !shelf_lm::candle_threads_pinned(threads) {
        return Err(format!(
            "set CANDLE_NUM_THREADS={threads}: candle decodes on its own pool, not on the \
             {threads} threads asked for"
        )
        .into());
    }
    let max_tokens: usize = max_tokens.parse()?;
    let g = GgufGenerator::load(&PathBuf::from(model), threads)?;
    g.generate_timed(&GenRequest::user(prompt.as_str(), 4))?;
    let (out, t) = g.generate_timed(&GenRequest::user(prompt.as_str(), max_tokens))?;
    let line = serde_json::json!({
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
