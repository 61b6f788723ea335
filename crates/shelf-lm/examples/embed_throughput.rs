//! Embedding throughput of shelf's candle BERT embedder: embeds the first N lines of a file
//! with a fixed thread count, batch size and maximum length, and prints one JSON line (titles/s
//! and the first values of the first vector, a cheap check that two runs did the same thing).
//!
//! `bench/embed_vs_sentence_transformers.py` runs this side by side with sentence-transformers;
//! `--out FILE` writes every vector (little-endian f32, row-major) so that script can compare
//! them. Key decision: the model is opened with [`BertEmbedder::from_folder`] rather than
//! `open_embedder`, because the batch size is part of what is measured and `LmOptions` does
//! not carry it. A warm-up pass over the first `--warmup` titles runs before the clock starts.
//!
//! `--model` is a BERT folder or the `E5S1` file of multilingual-e5-small (embedded with its
//! `passage: ` prefix).
//!
//! Build: `cargo build --release -p shelf-lm --example embed_throughput`
//! Run:   `embed_throughput --model DIR|FILE --titles FILE [--n 5000] [--threads 1] [--batch 32]
//!         [--max-len 256] [--max-batch-tokens 8192] [--warmup 64] [--out FILE]`

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use shelf_core::lm::{Embedder, TextKind};
use shelf_core::{ShelfError, ShelfResult};
use shelf_lm::bert::{BatchOptions, BertEmbedder, Prefixes};

struct Args {
    model: PathBuf,
    titles: PathBuf,
    n: usize,
    batch: BatchOptions,
    warmup: usize,
    out: Option<PathBuf>,
}

const USAGE: &str = "usage: embed_throughput --model DIR --titles FILE [--n N] [--threads T] \
                     [--batch B] [--max-len L] [--max-batch-tokens K] [--warmup W] [--out FILE]";

fn number(flag: &str, value: &str) -> ShelfResult<usize> {
    value
        .parse()
        .map_err(|_| ShelfError::user(format!("{flag} {value}: not a whole number\n{USAGE}")))
}

fn parse_args() -> ShelfResult<Args> {
    let mut args = Args {
        model: PathBuf::new(),
        titles: PathBuf::new(),
        n: 5000,
        batch: BatchOptions {
            max_batch: 32,
            threads: 1,
            ..BatchOptions::default()
        },
        warmup: 64,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| ShelfError::user(format!("{flag} needs a value\n{USAGE}")))?;
        match flag.as_str() {
            "--model" => args.model = value.into(),
            "--titles" => args.titles = value.into(),
            "--out" => args.out = Some(value.into()),
            "--n" => args.n = number(&flag, &value)?,
            "--threads" => args.batch.threads = number(&flag, &value)?,
            "--batch" => args.batch.max_batch = number(&flag, &value)?.max(1),
            "--max-len" => args.batch.max_len = number(&flag, &value)?,
            "--max-batch-tokens" => args.batch.max_batch_tokens = number(&flag, &value)?,
            "--warmup" => args.warmup = number(&flag, &value)?,
            _ => return Err(ShelfError::user(format!("unknown option {flag}\n{USAGE}"))),
        }
    }
    if args.model.as_os_str().is_empty() || args.titles.as_os_str().is_empty() {
        return Err(ShelfError::user(USAGE.to_string()));
    }
    Ok(args)
}

/// The first `n` lines of `path` (fewer if the file is shorter).
fn read_titles(path: &PathBuf, n: usize) -> ShelfResult<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| ShelfError::io(path, "cannot read", e))?;
    Ok(text.lines().take(n).map(str::to_string).collect())
}

fn write_vectors(path: &PathBuf, data: &[f32]) -> ShelfResult<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).map_err(|e| ShelfError::io(path, "cannot write", e))
}

fn run() -> ShelfResult<()> {
    let args = parse_args()?;
    if !shelf_lm::candle_threads_pinned(args.batch.threads) {
        eprintln!(
            "embed_throughput: set CANDLE_NUM_THREADS={} too, or candle's own pool uses every \
             core whatever --threads says",
            args.batch.threads
        );
    }
    let titles = read_titles(&args.titles, args.n)?;
    let texts: Vec<&str> = titles.iter().map(String::as_str).collect();
    let id = format!("candle:{}", args.model.display());
    let started = Instant::now();
    let model = if shelf_lm::e5s1::is_e5s1(&args.model) {
        shelf_lm::e5s1::load(&args.model, args.batch)?
    } else {
        BertEmbedder::from_folder(id, &args.model, Prefixes::default(), args.batch)?
    };
    let load_s = started.elapsed().as_secs_f64();
    // Warm-up: first-touch page faults and allocator growth stay out of the timing.
    model.embed(&texts[..args.warmup.min(texts.len())], TextKind::Passage)?;
    let started = Instant::now();
    let vectors = model.embed(&texts, TextKind::Passage)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(out) = &args.out {
        write_vectors(out, vectors.as_slice())?;
    }
    let first: Vec<f32> = vectors.as_slice().iter().take(4).copied().collect();
    let report = serde_json::json!({
        "titles": texts.len(),
        "threads": args.batch.threads,
        "batch": args.batch.max_batch,
        "max_len": args.batch.max_len,
        "load_s": load_s,
        "seconds": seconds,
        "titles_per_s": texts.len() as f64 / seconds,
        "first": first,
    });
    writeln!(std::io::stdout(), "{report}").map_err(|e| ShelfError::io("stdout", "write", e))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed_throughput: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
