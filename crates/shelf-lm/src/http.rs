//! OpenAI-compatible servers. (Being written.)

use shelf_core::lm::{Embedder, Embeddings, GenRequest, Generation, Generator, TextKind};
use shelf_core::{ShelfError, ShelfResult};

/// `/v1/embeddings` of a server.
pub struct HttpEmbedder {
    id: String,
}

impl HttpEmbedder {
    /// Connects to the server at `base` (…/v1), asking for `model`.
    pub fn connect(base: &str, _model: Option<&str>) -> ShelfResult<Self> {
        Err(ShelfError::backend(
            base,
            "HTTP embeddings are not written yet",
        ))
    }
}

impl Embedder for HttpEmbedder {
    fn id(&self) -> &str {
        &self.id
    }
    fn dim(&self) -> usize {
        0
    }
    fn embed(&self, _texts: &[&str], _kind: TextKind) -> ShelfResult<Embeddings> {
        Err(ShelfError::backend(&self.id, "not written yet"))
    }
}

/// `/v1/chat/completions` of a server.
pub struct HttpGenerator {
    id: String,
}

impl HttpGenerator {
    /// Connects to the server at `base` (…/v1), asking for `model`.
    pub fn connect(base: &str, _model: Option<&str>) -> ShelfResult<Self> {
        Err(ShelfError::backend(
            base,
            "HTTP generation is not written yet",
        ))
    }
}

impl Generator for HttpGenerator {
    fn id(&self) -> &str {
        &self.id
    }
    fn generate(&self, _requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        Err(ShelfError::backend(&self.id, "not written yet"))
    }
}
