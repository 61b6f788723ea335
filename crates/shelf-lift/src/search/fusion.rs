//! Reciprocal-rank fusion (Cormack, Clarke & Büttcher 2009): each list gives a doc
//! 1 / (RRF_K + rank), summed over lists. It needs no score calibration between a BM25 score
//! and a cosine, which is why it is the default hybrid: a tuned linear mix would have to be
//! re-tuned per catalog and per embedder.

use super::{Hit, rank};

/// The constant from the paper; it damps the difference between the very top ranks.
pub const RRF_K: f32 = 60.0;

/// Fuses several rankings of the same query into one of at most `k` hits.
pub fn fuse(lists: &[&[Hit]], k: usize) -> Vec<Hit> {
    let mut scores: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
    for list in lists {
        for (r, h) in list.iter().enumerate() {
            *scores.entry(h.doc).or_default() += 1.0 / (RRF_K + (r + 1) as f32);
        }
    }
    rank(
        scores
            .into_iter()
            .map(|(doc, score)| Hit { doc, score })
            .collect(),
        k,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(docs: &[u32]) -> Vec<Hit> {
        docs.iter().map(|&doc| Hit { doc, score: 0.0 }).collect()
    }

    #[test]
    fn agreement_wins_over_one_strong_vote() {
        // Doc 2 is second in both lists; doc 1 tops one list only.
        let fused = fuse(&[&hits(&[1, 2, 3]), &hits(&[4, 2, 5])], 10);
        assert_eq!(fused[0].doc, 2);
        assert_eq!(fused.len(), 5);
        // Ties (1 and 4, both first once) break by the lower doc.
        assert_eq!((fused[1].doc, fused[2].doc), (1, 4));
    }

    #[test]
    fn one_list_keeps_its_order() {
        let fused = fuse(&[&hits(&[9, 3, 7])], 2);
        assert_eq!(fused.iter().map(|h| h.doc).collect::<Vec<_>>(), [9, 3]);
    }
}
