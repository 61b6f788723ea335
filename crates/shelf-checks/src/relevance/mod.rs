//! Noisy relevance labels: judgments whose label the text contradicts.
//!
//! Every (query, title) judgment gets text features ([`features`]: BM25, term coverage, phrase,
//! character bigrams, numbers, and their rank within the query). A multinomial logistic
//! regression ([`model`]) is trained K-fold with the folds drawn by query, so no query is ever
//! scored by a model that saw its labels, and predicts each judgment's class ([`classes`])
//! out of fold. Confident learning ([`confident`]) then keeps the judgments whose label sits
//! far from the class the model is confident of. Deterministic: folds come from a seeded shuffle
//! of the sorted queries and every parallel sum is added in a fixed order.

pub mod classes;
pub mod confident;
pub mod features;
pub mod model;

use std::collections::HashMap;

use rayon::prelude::*;

pub use classes::Classes;
pub use confident::Suspect;
pub use features::{Facts, Vector};

/// One judgment with text.
#[derive(Debug, Clone, Copy)]
pub struct Judgment<'a> {
    /// What makes two judgments the same query (its id, else its text).
    pub query_key: &'a str,
    pub query: &'a str,
    pub title: &'a str,
    pub label: f64,
    /// Cosine of the query's and the title's embeddings, when the run has an embedder.
    pub meaning: Option<f64>,
}

/// Settings (`[checks.noisy-label]`).
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseParams {
    pub folds: usize,
    pub seed: u64,
    /// L2 penalty on the model's weights (per example).
    pub l2: f64,
    /// A suspect's probability for the far class must beat its label's by this much.
    pub min_margin: f64,
}

impl Default for NoiseParams {
    fn default() -> Self {
        Self {
            folds: 5,
            seed: 1,
            l2: 1e-3,
            min_margin: 0.0,
        }
    }
}

/// Everything the review found, per judgment in input order.
#[derive(Debug)]
pub struct Review {
    pub classes: Classes,
    /// Whether the embedder's features were there (else they are constant 0 and unused).
    pub semantic: bool,
    pub given: Vec<usize>,
    pub features: Vec<Vector>,
    pub facts: Vec<Facts>,
    /// Out-of-fold class probabilities.
    pub probs: Vec<Vec<f64>>,
    pub thresholds: Vec<f64>,
    /// `joint[given][confident class]`.
    pub joint: Vec<Vec<u64>>,
    /// Strongest first.
    pub suspects: Vec<Suspect>,
    pub queries: usize,
    /// Share of judgments whose most probable class is their label's, out of fold.
    pub accuracy: f64,
    /// The same for always answering the most common class.
    pub majority_share: f64,
}

/// SplitMix64: a seeded, portable shuffle.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fold of each query group: the sorted query keys, shuffled with `seed`, dealt round-robin.
fn folds_by_query(keys: &[&str], folds: usize, seed: u64) -> (Vec<u32>, Vec<usize>) {
    let mut distinct: Vec<&str> = keys.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut state = seed;
    for i in (1..distinct.len()).rev() {
        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
        distinct.swap(i, j);
    }
    let fold_of: HashMap<&str, (u32, usize)> = distinct
        .iter()
        .enumerate()
        .map(|(pos, k)| (*k, (pos as u32, pos % folds)))
        .collect();
    keys.iter().map(|k| fold_of[k]).unzip()
}

/// Reviews the labels of `judgments`; needs at least `params.folds` distinct queries.
pub fn review(judgments: &[Judgment<'_>], classes: Classes, params: &NoiseParams) -> Review {
    let k = classes.count();
    let given: Vec<usize> = judgments.iter().map(|j| classes.of(j.label)).collect();
    let keys: Vec<&str> = judgments.iter().map(|j| j.query_key).collect();
    let folds = params.folds.max(2);
    let (groups, fold) = folds_by_query(&keys, folds, params.seed);
    let pairs: Vec<features::Pair<'_>> = judgments
        .iter()
        .zip(&groups)
        .map(|(j, &group)| features::Pair {
            group,
            query: j.query,
            title: j.title,
            meaning: j.meaning,
        })
        .collect();
    let (xs, facts) = features::features(&pairs);

    let per_fold: Vec<Vec<(usize, Vec<f64>)>> = (0..folds)
        .into_par_iter()
        .map(|f| {
            let (train_x, train_y): (Vec<Vector>, Vec<usize>) = (0..xs.len())
                .filter(|&i| fold[i] != f)
                .map(|i| (xs[i], given[i]))
                .unzip();
            let m = model::Logistic::fit(&train_x, &train_y, k, params.l2);
            (0..xs.len())
                .filter(|&i| fold[i] == f)
                .map(|i| (i, m.predict(&xs[i])))
                .collect()
        })
        .collect();
    let mut probs = vec![Vec::new(); xs.len()];
    for (i, p) in per_fold.into_iter().flatten() {
        probs[i] = p;
    }

    let thresholds = confident::thresholds(&probs, &given, k);
    let (joint, suspects) =
        confident::far_suspects(&probs, &given, &thresholds, &classes, params.min_margin);
    let n = judgments.len().max(1) as f64;
    let right = probs
        .iter()
        .zip(&given)
        .filter(|(p, y)| (0..k).all(|j| p[j] <= p[**y]))
        .count();
    let mut per_class = vec![0usize; k];
    for &y in &given {
        per_class[y] += 1;
    }
    Review {
        classes,
        semantic: judgments.iter().any(|j| j.meaning.is_some()),
        queries: groups.iter().copied().max().map_or(0, |g| g as usize + 1),
        accuracy: right as f64 / n,
        majority_share: per_class.iter().copied().max().unwrap_or(0) as f64 / n,
        given,
        features: xs,
        facts,
        probs,
        thresholds,
        joint,
        suspects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_keep_a_query_together_and_do_not_depend_on_row_order() {
        let keys = ["b", "a", "c", "a", "d", "e", "b"];
        let (g, f) = folds_by_query(&keys, 3, 7);
        assert_eq!(f[1], f[3]);
        assert_eq!(f[0], f[6]);
        assert_eq!(g[1], g[3]);
        let reversed: Vec<&str> = keys.iter().rev().copied().collect();
        let (_, fr) = folds_by_query(&reversed, 3, 7);
        assert_eq!(fr[0], f[6], "query b gets the same fold in any row order");
    }
}
