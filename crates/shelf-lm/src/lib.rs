//! shelf's language-model backends, behind the two traits of `shelf_core::lm`.
//!
//! - [`bert`]: BERT-family embedders through candle, from a folder (`config.json` +
//!   `tokenizer.json` + `model.safetensors`) or from the `E5S1` file of multilingual-e5-small.
//! - [`gguf`]: quantized GGUF generators (Qwen2 and Llama families): shelf's own batched
//!   decoder and kernels on the CPU, candle's models in a CUDA build.
//! - [`http`]: any OpenAI-compatible server (`/v1/embeddings`, `/v1/chat/completions`).
//! - [`scripted`]: deterministic backends for tests, no model needed.
//! - [`cache`]: an on-disk cache keyed by backend id (which carries the model file's hash) and
//!   request, so a rerun is exact and free.
//! - [`models`]: the models this project knows how to fetch, where they are installed, and
//!   `shelf models fetch` / `list`.
//!
//! Key decision: every backend is chosen at run time from one string ([`open_embedder`],
//! [`open_generator`]); a backend compiled out by a cargo feature is a typed error that says
//! which feature to build with, never a missing symbol (STYLE.md §3).

pub mod cache;
pub mod models;
pub mod scripted;

#[cfg(feature = "candle")]
pub mod bert;
#[cfg(feature = "candle")]
mod device;
#[cfg(feature = "candle")]
pub use device::candle_threads_pinned;
#[cfg(feature = "candle")]
pub mod e5s1;
#[cfg(feature = "candle")]
pub mod gguf;
#[cfg(feature = "http")]
pub mod http;

mod open;

pub use open::{LmOptions, open_embedder, open_generator, runs_on_candle};
