//! Search reference models over one catalog version: [`Bm25`] (lexical), [`Dense`] (an
//! embedder's vectors, exact nearest neighbours) and [`fuse`] (reciprocal-rank fusion of the
//! two, "hybrid"), plus [`evaluate`] against graded judgments.
//!
//! A catalog version is a slice of [`Doc`]s; a ranking names docs by their index in that slice,
//! so the caller maps indexes back to its own item ids.

mod bm25;
mod dense;
mod eval;
mod fusion;

pub use bm25::{Bm25, Bm25Options, FIELD_BOOSTS};
pub use dense::Dense;
pub use eval::{Metric, QueryScores, evaluate};
pub use fusion::{RRF_K, fuse};

/// One item's searchable text, field by field. Empty fields are fine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    pub title: String,
    pub brand: String,
    pub category: String,
    pub description: String,
    pub attributes: String,
    /// Queries attached to the item (e.g. synthetic queries an augmentation generated): they
    /// describe how people ask for it, so both BM25 and the dense text use them.
    pub queries: String,
}

/// A ranked item: its index in the catalog's doc slice and the model's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub doc: u32,
    pub score: f32,
}

/// A search model built over one catalog version.
///
/// Contract: `search` returns, for each query in order, at most `k` hits, best first, with
/// distinct docs; a query that matches nothing gets an empty list (never an error). Results
/// depend only on the docs, the query and the model's settings: the same inputs give the same
/// hits in the same order on every run and thread count (ties are broken by the lower doc
/// index).
pub trait Retriever: Sync {
    /// The model's name in outputs (`bm25`, `dense`).
    fn name(&self) -> &str;
    fn search(&self, queries: &[String], k: usize) -> shelf_core::ShelfResult<Vec<Vec<Hit>>>;
}

/// Sorts hits best first, ties by lower doc index, and keeps `k`.
fn rank(mut hits: Vec<Hit>, k: usize) -> Vec<Hit> {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
    hits.truncate(k);
    hits
}
