//! shelf-lm's integration tests: one binary, one module per backend. Tests that need a model
//! read it from the models directory (`shelf models fetch NAME` installs it) and fail with
//! that instruction when it is missing; every model runs on one thread.

mod bert;
mod bert_reference;
mod e5;
mod gguf;
#[cfg(all(feature = "http", feature = "candle"))]
mod http;

use std::path::PathBuf;

/// The installed model `name`, or a failure that says how to install it.
pub fn model(name: &str) -> PathBuf {
    shelf_lm::models::resolve(name, &shelf_lm::models::default_dir())
        .unwrap_or_else(|e| panic!("{e}"))
}
