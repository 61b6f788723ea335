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

/// The installed embedder `name` on one thread, loaded once per test binary (each model is a
/// few hundred MB; every test that uses it shares the one copy).
pub fn embedder(name: &'static str) -> &'static dyn shelf_core::lm::Embedder {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Loaded = HashMap<&'static str, &'static dyn shelf_core::lm::Embedder>;
    static MODELS: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let mut models = MODELS.get_or_init(Default::default).lock().unwrap();
    *models.entry(name).or_insert_with(|| {
        let opts = shelf_lm::LmOptions {
            threads: 1,
            ..shelf_lm::LmOptions::default()
        };
        let path = model(name);
        let e = shelf_lm::open_embedder(&path.to_string_lossy(), &opts)
            .unwrap_or_else(|e| panic!("{e}"));
        Box::leak(e)
    })
}
