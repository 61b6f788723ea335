//! Scoring rankings against judgments, query by query.

use crate::metrics::{Truth, ndcg, recall, reciprocal_rank};

use super::Hit;

/// The search metrics `metrics.json` reports, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Ndcg10,
    Recall100,
    Mrr,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Ndcg10, Metric::Recall100, Metric::Mrr];

    /// The key in `metrics.json` (CONTRACT.md).
    pub fn key(self) -> &'static str {
        match self {
            Metric::Ndcg10 => "ndcg@10",
            Metric::Recall100 => "recall@100",
            Metric::Mrr => "mrr",
        }
    }

    /// How deep a ranking this metric reads.
    pub fn depth(self) -> usize {
        match self {
            Metric::Ndcg10 => 10,
            Metric::Recall100 | Metric::Mrr => 100,
        }
    }
}

/// Per-query values of every [`Metric`], in the order of the judged queries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryScores {
    pub by_metric: [Vec<f64>; 3],
}

impl QueryScores {
    pub fn get(&self, m: Metric) -> &[f64] {
        &self.by_metric[m as usize]
    }
}

/// Scores `rankings[q]` against `truths[q]` for every query. MRR reads the top 100.
pub fn evaluate(rankings: &[Vec<Hit>], truths: &[Truth]) -> QueryScores {
    assert_eq!(rankings.len(), truths.len(), "one ranking per judged query");
    let mut s = QueryScores::default();
    for (hits, truth) in rankings.iter().zip(truths) {
        let docs: Vec<u32> = hits.iter().take(100).map(|h| h.doc).collect();
        s.by_metric[Metric::Ndcg10 as usize].push(ndcg(&docs, truth, 10));
        s.by_metric[Metric::Recall100 as usize].push(recall(&docs, truth, 100));
        s.by_metric[Metric::Mrr as usize].push(reciprocal_rank(&docs, truth));
    }
    s
}
