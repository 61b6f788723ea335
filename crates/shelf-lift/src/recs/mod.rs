//! Recommendation reference models: does a data change make "what to show this shopper next"
//! better?
//!
//! The caller maps its ids to dense indexes and its event types to weights
//! ([`EventWeights`]); everything here works on `u32` indexes. The flow:
//!
//! 1. [`Interactions::from_events`] sums repeated (user, item) pairs into two CSR matrices;
//! 2. [`Split`] holds out each user's last items (or cuts the log at time quantiles);
//! 3. a model is fitted on the train part: [`Popularity`], [`ItemKnn`], [`Als`];
//! 4. [`evaluate`] ranks the top k for every held-out user through the [`Recommender`]
//!    trait and returns per-user Recall@k and NDCG@k, which [`align`] pairs across two data
//!    versions for [`crate::stats::Bootstrap::paired`].
//!
//! Key decision: no dense users × items or items × items matrix is ever built, so a catalog of
//! 100k+ items fits; the models are rayon-parallel and deterministic for a given seed,
//! whatever the thread count (each user's and item's work is independent and reduced in a
//! fixed order).

mod als;
mod data;
mod eval;
mod item_knn;
mod kernels;
mod popularity;

pub use als::{Als, AlsFit, AlsModel};
pub use data::{Csr, Event, EventKind, EventWeights, HeldOut, Interactions, Split, SplitRule};
pub use eval::{Aligned, Evaluation, Metric, Recommender, Stage, align, evaluate, top_k};
pub use item_knn::{ItemKnn, ItemKnnModel};
pub use popularity::Popularity;
