//! Reference models for proving a data change's lift, and the statistics to judge it.
//!
//! Everything here is plain Rust over plain inputs (texts, ids, judged gains); reading tables,
//! roles and writing `metrics.json` is the facade's job (`shelf::lift`).
//!
//! - [`search`]: BM25 (tantivy over [`text`]'s segmentation), dense retrieval over any
//!   [`shelf_core::lm::Embedder`], and their reciprocal-rank fusion.
//! - [`ctr`]: click models on hashed features (logistic regression, a factorization machine)
//!   with early stopping, AUC / log loss with paired bootstrap intervals, and IPS off-policy
//!   estimates on logged bandit feedback.
//! - [`metrics`]: nDCG, recall, reciprocal rank, coverage over graded gains.
//! - [`recs`]: recommendation baselines (popularity, item-kNN, implicit ALS with early
//!   stopping) over a leave-last-out or temporal split, scored per user.
//! - [`stats`]: seeded bootstrap intervals, paired for A-vs-B deltas.

pub mod ctr;
pub mod metrics;
pub mod recs;
pub mod search;
pub mod stats;
pub mod text;
