//! Ranking the top k for every held-out user and scoring it per user.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::data::Split;
use crate::metrics::{self, Truth};

/// A fitted recommendation model.
///
/// What an implementor must guarantee from [`Recommender::recommend`]:
/// - at most `k` distinct item indexes, each below the train catalog's item count, best first;
/// - none of them in `exclude`;
/// - the same answer for the same arguments (no hidden randomness, whatever the thread), with
///   ties between equal scores going to the lower item index ([`top_k`] does all of this).
///
/// What an implementor may do: return fewer than `k` items when it has evidence for fewer
/// (item-kNN knows nothing about items outside the user's neighbourhoods); it must not pad
/// with arbitrary items.
///
/// What an implementor can rely on: `exclude` is sorted increasing (binary-searchable);
/// `user` is below the train matrix's user count (it may have no train items); calls come
/// from many threads at once, hence `Sync`.
pub trait Recommender: Sync {
    fn name(&self) -> &str;

    fn recommend(&self, user: u32, k: usize, exclude: &[u32]) -> Vec<u32>;
}

/// The `k` best `(item, score)` candidates, best first: NaN scores and items in `exclude`
/// (sorted increasing) are skipped, equal scores go to the lower item index.
///
/// Linear in the candidates for small `k` (a candidate that does not beat the current k-th is
/// rejected with one comparison).
pub fn top_k(scores: impl IntoIterator<Item = (u32, f32)>, k: usize, exclude: &[u32]) -> Vec<u32> {
    debug_assert!(
        exclude.windows(2).all(|w| w[0] < w[1]),
        "exclude not sorted"
    );
    if k == 0 {
        return Vec::new();
    }
    // (score, item), best first.
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
    let beats = |a: (f32, u32), b: (f32, u32)| a.0 > b.0 || (a.0 == b.0 && a.1 < b.1);
    for (item, score) in scores {
        if score.is_nan() {
            continue;
        }
        let candidate = (score, item);
        if best.len() == k && !beats(candidate, best[k - 1]) {
            continue;
        }
        if exclude.binary_search(&item).is_ok() {
            continue;
        }
        let at = best.partition_point(|&b| beats(b, candidate));
        best.insert(at, candidate);
        best.truncate(k);
    }
    best.into_iter().map(|(_, i)| i).collect()
}

/// Which held-out items to score against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The validation items; rankings exclude the user's train items.
    Validation,
    /// The test items; rankings exclude everything known before the test (train and
    /// validation items): recommending what the user is already known to have is no
    /// recommendation.
    Test,
}

/// Per-user scores of one model on one stage, users increasing.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub model: String,
    pub k: usize,
    /// User indexes of the split, increasing.
    pub users: Vec<u32>,
    /// Recall@k per user, aligned with `users`.
    pub recall: Vec<f64>,
    /// NDCG@k per user, aligned with `users`.
    pub ndcg: Vec<f64>,
    /// Share of the train catalog that appears in at least one user's top k.
    pub coverage: f64,
}

impl Evaluation {
    pub fn mean(&self, metric: Metric) -> f64 {
        let v = self.values(metric);
        if v.is_empty() {
            return f64::NAN;
        }
        v.iter().sum::<f64>() / v.len() as f64
    }

    pub fn values(&self, metric: Metric) -> &[f64] {
        match metric {
            Metric::Recall => &self.recall,
            Metric::Ndcg => &self.ndcg,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Recall,
    Ndcg,
}

/// Ranks the top `k` for every user held out at `stage` and scores it: each held-out item has
/// gain 1.0, so Recall@k is the share of the user's held-out items in the top k and NDCG@k
/// their discounted position (via [`crate::metrics`]). Users are scored in parallel; the
/// result does not depend on the thread count.
pub fn evaluate(model: &dyn Recommender, split: &Split, stage: Stage, k: usize) -> Evaluation {
    let held_out = match stage {
        Stage::Validation => &split.validation,
        Stage::Test => &split.test,
    };
    let targets: Vec<(u32, &[u32])> = held_out.iter().collect();
    let scored: Vec<(Vec<u32>, f64, f64)> = targets
        .par_iter()
        .map(|&(user, items)| {
            let ranking = match stage {
                Stage::Validation => model.recommend(user, k, split.train.items_of(user)),
                Stage::Test => model.recommend(user, k, &split.known_before_test(user)),
            };
            let truth = Truth::new(items.iter().map(|&i| (Some(i), 1.0)));
            let recall = metrics::recall(&ranking, &truth, k);
            let ndcg = metrics::ndcg(&ranking, &truth, k);
            (ranking, recall, ndcg)
        })
        .collect();
    let coverage = metrics::coverage(
        scored.iter().map(|s| s.0.as_slice()),
        k,
        split.train.items() as usize,
    );
    Evaluation {
        model: model.name().to_string(),
        k,
        users: targets.iter().map(|t| t.0).collect(),
        recall: scored.iter().map(|s| s.1).collect(),
        ndcg: scored.iter().map(|s| s.2).collect(),
        coverage,
    }
}

/// One metric of two evaluations on the users both hold, ready for
/// [`crate::stats::Bootstrap::paired`].
#[derive(Debug, Clone)]
pub struct Aligned<K> {
    /// The shared users' keys, increasing.
    pub users: Vec<K>,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    /// Users evaluated only under A, only under B (left out of the pairing).
    pub only_a: usize,
    pub only_b: usize,
}

/// Pairs two evaluations by user.
///
/// Two data versions usually map ids to different dense indexes, so users are matched by a
/// *key* the caller derives from each side's index (the original user id): `key_a` maps A's
/// indexes, `key_b` B's. The pairing keeps users held out under both versions, sorted by key;
/// a user held out under only one version is counted in `only_a` / `only_b`, not scored.
/// Under leave-last-out a data change can change *which* item a shared user holds out; the
/// pairing is on users, and that is part of what the change did.
///
/// Panics when two indexes of one side map to the same key (a caller bug).
pub fn align<K: Ord + Clone>(
    a: &Evaluation,
    key_a: impl Fn(u32) -> K,
    b: &Evaluation,
    key_b: impl Fn(u32) -> K,
    metric: Metric,
) -> Aligned<K> {
    let keyed = |e: &Evaluation, key: &dyn Fn(u32) -> K| -> BTreeMap<K, f64> {
        let mut m = BTreeMap::new();
        for (&u, &v) in e.users.iter().zip(e.values(metric)) {
            assert!(m.insert(key(u), v).is_none(), "two users share a key");
        }
        m
    };
    let (ma, mb) = (keyed(a, &key_a), keyed(b, &key_b));
    let mut out = Aligned {
        users: Vec::new(),
        a: Vec::new(),
        b: Vec::new(),
        only_a: 0,
        only_b: 0,
    };
    for (k, &va) in &ma {
        match mb.get(k) {
            Some(&vb) => {
                out.users.push(k.clone());
                out.a.push(va);
                out.b.push(vb);
            }
            None => out.only_a += 1,
        }
    }
    out.only_b = mb.len() - out.users.len();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recs::data::{Event, SplitRule};

    #[test]
    fn top_k_orders_breaks_ties_and_skips() {
        let scores = [
            (0, 0.5),
            (1, 0.9),
            (2, f32::NAN),
            (3, 0.5),
            (4, 0.7),
            (5, 0.95),
        ];
        assert_eq!(top_k(scores, 3, &[]), vec![5, 1, 4]);
        assert_eq!(top_k(scores, 3, &[1, 5]), vec![4, 0, 3]);
        // Ties in reverse order of arrival still go to the lower index.
        assert_eq!(top_k([(9, 1.0), (3, 1.0), (7, 1.0)], 2, &[]), vec![3, 7]);
        assert_eq!(top_k(scores, 10, &[]).len(), 5);
        assert!(top_k(scores, 0, &[]).is_empty());
    }

    /// Recommends a fixed list, minus the excluded.
    struct Fixed(Vec<u32>);

    impl Recommender for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn recommend(&self, _user: u32, k: usize, exclude: &[u32]) -> Vec<u32> {
            let kept = self.0.iter().filter(|i| exclude.binary_search(i).is_err());
            kept.take(k).copied().collect()
        }
    }

    fn split() -> Split {
        // Users 0 and 1 each see items in index order; the last → test, the one before →
        // validation. User 0: train {0, 1}, validation 2, test 3. User 1: train {4}, validation
        // 0, test 1.
        let mut events = Vec::new();
        for (user, items) in [(0u32, vec![0u32, 1, 2, 3]), (1, vec![4, 0, 1])] {
            for (t, item) in items.into_iter().enumerate() {
                events.push(Event {
                    user,
                    item,
                    weight: 1.0,
                    time: t as i64,
                });
            }
        }
        Split::new(2, 5, &events, SplitRule::LeaveLastOut)
    }

    #[test]
    fn evaluate_scores_per_user_and_excludes_known_items() {
        let s = split();
        let model = Fixed(vec![0, 3, 2, 1, 4]);
        // Test, k = 2. User 0 (known 0, 1, 2): [3, 4] → hit at rank 1. User 1 (known 0, 4):
        // [3, 2] → miss.
        let e = evaluate(&model, &s, Stage::Test, 2);
        assert_eq!(e.users, vec![0, 1]);
        assert_eq!(e.recall, vec![1.0, 0.0]);
        assert_eq!(e.ndcg, vec![1.0, 0.0]);
        assert_eq!(e.coverage, 3.0 / 5.0);
        // Validation, k = 2. User 0 (train 0, 1): [3, 2] → hit at rank 2. User 1 (train 4):
        // [0, 3] → hit at rank 1.
        let v = evaluate(&model, &s, Stage::Validation, 2);
        assert_eq!(v.recall, vec![1.0, 1.0]);
        assert!((v.ndcg[0] - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(v.ndcg[1], 1.0);
        assert!((v.mean(Metric::Recall) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn align_pairs_users_by_key() {
        let eval = |users: Vec<u32>, recall: Vec<f64>| Evaluation {
            model: "m".into(),
            k: 20,
            ndcg: recall.clone(),
            users,
            recall,
            coverage: 0.0,
        };
        // A's index i is user "u{i}"; B's indexes are shifted: B's i is "u{i + 1}".
        let a = eval(vec![0, 1, 2], vec![0.1, 0.2, 0.3]);
        let b = eval(vec![0, 1, 5], vec![0.7, 0.8, 0.9]);
        let got = align(
            &a,
            |i| format!("u{i}"),
            &b,
            |i| format!("u{}", i + 1),
            Metric::Recall,
        );
        assert_eq!(got.users, vec!["u1", "u2"]);
        assert_eq!(got.a, vec![0.2, 0.3]);
        assert_eq!(got.b, vec![0.7, 0.8]);
        assert_eq!((got.only_a, got.only_b), (1, 1));
    }
}
