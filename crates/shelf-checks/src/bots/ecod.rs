//! ECOD (Li et al., 2022: "Empirical-Cumulative-distribution-based Outlier Detection"), one-sided.
//!
//! Each feature's empirical distribution over all actors gives every actor a tail probability:
//! the share of actors at least as extreme. The score is the sum of `-ln` of those
//! probabilities, so an actor is unusual when it sits far out in several features at once.
//!
//! Why ECOD and not an isolation forest: it has no parameters to tune and no randomness (the
//! same log gives the same scores), it costs one sort per feature, and it explains itself — each
//! feature's tail probability says in plain words which behaviour made the actor unusual ("more
//! actions in one minute than 99.7% of users"). Every feature here is oriented so that larger
//! means more bot-like, so only the upper tail counts: a two-sided score would also flag the
//! slow, quiet users that make up most of a shop's traffic.

/// Upper-tail probabilities `P(X >= x)` per actor (rows) and feature (columns), and the ECOD
/// score per actor.
#[derive(Debug, Clone)]
pub struct Ecod {
    pub tails: Vec<Vec<f64>>,
    pub scores: Vec<f64>,
}

/// Scores `rows` (one feature vector per actor, all of one length). Ties share the tail
/// probability of their value, so a feature most actors have at zero adds nothing for them.
pub fn score(rows: &[Vec<f64>]) -> Ecod {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    let mut tails = vec![vec![1.0; d]; n];
    for j in 0..d {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| rows[b][j].total_cmp(&rows[a][j]));
        // Walk from the largest value down; `at_least` counts actors with a value >= this one.
        let mut i = 0;
        while i < n {
            let v = rows[order[i]][j];
            let mut k = i;
            while k < n && rows[order[k]][j] == v {
                k += 1;
            }
            let tail = k as f64 / n as f64;
            for &a in &order[i..k] {
                tails[a][j] = tail;
            }
            i = k;
        }
    }
    let scores = tails
        .iter()
        .map(|t| t.iter().map(|p| -p.ln()).sum())
        .collect();
    Ecod { tails, scores }
}

/// The share of actors whose score is strictly below each actor's (0 for the least unusual,
/// close to 1 for the most).
pub fn percentiles(scores: &[f64]) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = scores.len().max(1) as f64;
    scores
        .iter()
        .map(|s| sorted.partition_point(|x| x < s) as f64 / n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_are_shares_at_least_as_large_with_ties_shared() {
        let e = score(&[vec![1.0], vec![5.0], vec![1.0], vec![3.0]]);
        let tails: Vec<f64> = e.tails.iter().map(|t| t[0]).collect();
        assert_eq!(tails, vec![1.0, 0.25, 1.0, 0.5]);
        assert!((e.scores[1] - 4f64.ln()).abs() < 1e-12);
        assert_eq!(e.scores[0], 0.0);
    }

    #[test]
    fn extreme_in_two_features_outranks_extreme_in_one() {
        // (With a sum of log tails, being fairly high in every feature can outrank being
        // extreme in one; that is ECOD's design, and why strong rules do not depend on it.)
        let mut rows: Vec<Vec<f64>> = (0..100)
            .map(|i| vec![(i % 10) as f64, (i % 7) as f64])
            .collect();
        rows.push(vec![50.0, 0.0]);
        rows.push(vec![50.0, 50.0]);
        let e = score(&rows);
        assert!(e.scores[101] > e.scores[100]);
        let p = percentiles(&e.scores);
        assert!(p[101] > 0.99 && p[100] > 0.5, "{p:?}");
    }
}
