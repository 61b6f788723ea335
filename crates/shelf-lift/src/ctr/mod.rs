//! Click-through-rate reference models over hashed features: [`Logistic`] regression and a
//! factorization machine ([`Fm`]), both trained with AdamW and early stopping on validation log
//! loss; [`eval`]'s AUC and log loss with paired bootstrap intervals; and [`ips`], the
//! inverse-propensity estimate of what a greedy policy built on a model would earn on logged
//! bandit feedback.
//!
//! The pipeline: hash every row into [`Examples`] with one [`FeatureHasher`], assign rows to
//! train / validation / test with a [`Splitter`] keyed by the row's content (so the same row
//! lands in the same split in every data version), fit, predict the test rows, compare.
//!
//! Determinism: every random choice (initialisation, shuffling, dropout, bootstrap) comes
//! from a seed the caller passes. Training runs on one thread — the mini-batch gradient is
//! a sum in a fixed order — so a fit is bit-identical for a seed whatever the thread count;
//! only prediction and the bootstrap's resamples use rayon, and both compute each output
//! independently of the others (no cross-thread reductions), so they are bit-identical too.

mod eval;
mod features;
mod fm;
mod ips;
mod logistic;
mod optim;
mod split;

pub use eval::{AucComparison, auc, auc_bootstrap, auc_weighted, log_loss, log_losses};
pub use features::{DEFAULT_BITS, Examples, Feature, FeatureHasher, discretize};
pub use fm::{Fm, FmOptions};
pub use ips::{GreedyPolicy, Ips, Logged, PositionBias, ips};
pub use logistic::Logistic;
pub use optim::{Fit, TrainOptions};
pub use split::{Split, Splitter};

use rayon::prelude::*;

/// A trained click model.
///
/// Contract: `predict_ids` returns a probability in (0, 1) for one example given as its
/// hashed feature ids (as [`Examples::ids`] stores them; order does not matter, a repeated id
/// counts twice), and depends only on the ids and the trained parameters. Ids must be below
/// the dimension of the hasher the model was trained with (a larger id is a caller bug and
/// panics).
pub trait Ctr: Sync {
    /// The model's name in outputs (`lr`, `fm`).
    fn name(&self) -> &str;

    /// P(click) for one example.
    fn predict_ids(&self, ids: &[u32]) -> f64;

    /// P(click) for every example, in order. Parallel over examples, deterministic.
    fn predict(&self, examples: &Examples) -> Vec<f64> {
        (0..examples.len())
            .into_par_iter()
            .map(|i| self.predict_ids(examples.ids(i)))
            .collect()
    }
}

/// The logistic function, written so that neither tail overflows.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
