//! Ranking metrics over one ranked list and what the judgments say about it.
//!
//! Gains are graded in [0, 1] (the caller maps its label scale there). An item is *relevant*
//! for the binary metrics (recall, reciprocal rank) when its gain is at least
//! [`RELEVANT_FROM`]. Judged items the ranker could never return (absent from the corpus)
//! still count in the ideal DCG and in recall's denominator: losing an item from the catalog
//! must cost a data version, not flatter it.

use std::collections::HashMap;

/// The gain from which an item counts as relevant: the middle of the scale (Home Depot's
/// 2 of 1–3, ESCI's Substitute and Exact).
pub const RELEVANT_FROM: f64 = 0.5;

/// The judged items of one query (or one user's held-out items).
#[derive(Debug, Clone, Default)]
pub struct Truth {
    /// Corpus index → gain, for judged items the corpus holds.
    gains: HashMap<u32, f64>,
    /// Every judged gain, the unreachable ones too, best first.
    ideal: Vec<f64>,
}

impl Truth {
    /// `judged`: (corpus index, or None when the item is not in the corpus; gain in [0, 1]).
    /// An item judged twice keeps its higher gain.
    pub fn new(judged: impl IntoIterator<Item = (Option<u32>, f64)>) -> Self {
        let mut gains: HashMap<u32, f64> = HashMap::new();
        let mut unreachable = Vec::new();
        for (item, gain) in judged {
            match item {
                Some(i) => {
                    let g = gains.entry(i).or_insert(gain);
                    *g = g.max(gain);
                }
                None => unreachable.push(gain),
            }
        }
        let mut ideal: Vec<f64> = gains.values().copied().chain(unreachable).collect();
        ideal.sort_by(|a, b| b.total_cmp(a));
        Self { gains, ideal }
    }

    pub fn gain(&self, item: u32) -> f64 {
        self.gains.get(&item).copied().unwrap_or(0.0)
    }

    /// How many judged items are relevant, reachable or not.
    pub fn relevant(&self) -> usize {
        self.ideal.iter().filter(|g| **g >= RELEVANT_FROM).count()
    }
}

fn discount(rank: usize) -> f64 {
    1.0 / ((rank + 2) as f64).log2()
}

/// nDCG@k with linear gains: DCG of the top k over the DCG of the best possible top k. 0 when
/// nothing judged has a positive gain.
pub fn ndcg(ranking: &[u32], truth: &Truth, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(r, &i)| truth.gain(i) * discount(r))
        .sum();
    let idcg: f64 = truth
        .ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(r, g)| g * discount(r))
        .sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Share of the relevant items found in the top k (0 when none is relevant).
pub fn recall(ranking: &[u32], truth: &Truth, k: usize) -> f64 {
    let relevant = truth.relevant();
    if relevant == 0 {
        return 0.0;
    }
    let hits = ranking
        .iter()
        .take(k)
        .filter(|&&i| truth.gain(i) >= RELEVANT_FROM)
        .count();
    hits as f64 / relevant as f64
}

/// 1 / rank of the first relevant item (0 when none is returned).
pub fn reciprocal_rank(ranking: &[u32], truth: &Truth) -> f64 {
    ranking
        .iter()
        .position(|&i| truth.gain(i) >= RELEVANT_FROM)
        .map_or(0.0, |r| 1.0 / (r + 1) as f64)
}

/// Fraction of the corpus that appears in at least one top-k list (recommendation coverage).
pub fn coverage<'a>(rankings: impl IntoIterator<Item = &'a [u32]>, k: usize, corpus: usize) -> f64 {
    if corpus == 0 {
        return 0.0;
    }
    let mut seen = vec![false; corpus];
    for r in rankings {
        for &i in r.iter().take(k) {
            if let Some(s) = seen.get_mut(i as usize) {
                *s = true;
            }
        }
    }
    seen.iter().filter(|s| **s).count() as f64 / corpus as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(pairs: &[(Option<u32>, f64)]) -> Truth {
        Truth::new(pairs.iter().copied())
    }

    #[test]
    fn ndcg_by_hand() {
        // Gains 1.0 at item 7, 0.5 at item 3. Ranking 3, 9, 7:
        // DCG = 0.5/log2(2) + 0 + 1.0/log2(4) = 1.0; IDCG = 1.0 + 0.5/log2(3) = 1.3155.
        let t = truth(&[(Some(7), 1.0), (Some(3), 0.5)]);
        let got = ndcg(&[3, 9, 7], &t, 10);
        assert!(
            (got - 1.0 / (1.0 + 0.5 / 3f64.log2())).abs() < 1e-12,
            "{got}"
        );
        assert_eq!(ndcg(&[7, 3], &t, 10), 1.0);
        // k cuts the ranking, not the ideal.
        assert!((ndcg(&[3, 9, 7], &t, 2) - 0.5 / (1.0 + 0.5 / 3f64.log2())).abs() < 1e-12);
    }

    #[test]
    fn unreachable_judged_items_lower_the_ceiling() {
        let reachable = truth(&[(Some(1), 1.0)]);
        let lost = truth(&[(Some(1), 1.0), (None, 1.0)]);
        assert_eq!(ndcg(&[1], &reachable, 10), 1.0);
        assert!(ndcg(&[1], &lost, 10) < 1.0);
        assert_eq!(recall(&[1], &lost, 100), 0.5);
    }

    #[test]
    fn binary_metrics_use_the_relevance_threshold() {
        let t = truth(&[(Some(1), 0.25), (Some(2), 0.75), (Some(3), 1.0)]);
        assert_eq!(t.relevant(), 2);
        assert_eq!(reciprocal_rank(&[1, 2, 3], &t), 0.5);
        assert_eq!(recall(&[1, 2], &t, 100), 0.5);
        assert_eq!(reciprocal_rank(&[1, 9], &t), 0.0);
    }

    #[test]
    fn duplicate_judgments_keep_the_higher_gain() {
        let t = truth(&[(Some(4), 0.2), (Some(4), 0.9)]);
        assert_eq!(t.gain(4), 0.9);
        assert_eq!(ndcg(&[4], &t, 10), 1.0);
    }

    #[test]
    fn coverage_counts_distinct_items() {
        let lists: Vec<Vec<u32>> = vec![vec![0, 1], vec![1, 2], vec![9]];
        assert_eq!(coverage(lists.iter().map(Vec::as_slice), 1, 10), 0.3);
        assert_eq!(coverage(lists.iter().map(Vec::as_slice), 2, 10), 0.4);
    }
}
