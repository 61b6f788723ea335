//! Quantized GGUF generators (Qwen2 and Llama families) through candle. (Being written.)

use std::path::Path;

use shelf_core::lm::{GenRequest, Generation, Generator};
use shelf_core::{ShelfError, ShelfResult};

/// A GGUF chat model.
pub struct GgufGenerator {
    id: String,
}

impl GgufGenerator {
    /// Loads `path` to run on `threads` threads (0 = one per core).
    pub fn load(path: &Path, _threads: usize) -> ShelfResult<Self> {
        Err(ShelfError::backend(
            "gguf",
            format!("{}: GGUF loading is not written yet", path.display()),
        ))
    }
}

impl Generator for GgufGenerator {
    fn id(&self) -> &str {
        &self.id
    }
    fn generate(&self, _requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        Err(ShelfError::backend(&self.id, "not written yet"))
    }
}
