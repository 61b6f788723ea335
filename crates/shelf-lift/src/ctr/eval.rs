//! Test-set metrics for click models: AUC and log loss, and their paired bootstrap
//! intervals for comparing two models (or one model trained on two data versions) on the
//! same test rows.

use rayon::prelude::*;
use serde::Serialize;

use crate::stats::{Bootstrap, Delta, Estimate, SplitMix64};

use super::features::hash64;

/// Probabilities are clipped to `[CLIP, 1 − CLIP]` before the log: one confident mistake
/// costs at most `−ln(1e-7) ≈ 16.1` instead of infinity.
const CLIP: f64 = 1e-7;

/// Each example's binary cross-entropy `−[y ln p + (1−y) ln(1−p)]`, clipped (see [`CLIP`]).
/// These are the per-unit values to hand to [`Bootstrap::paired`] for a log-loss delta.
pub fn log_losses(labels: &[bool], probs: &[f64]) -> Vec<f64> {
    assert_eq!(labels.len(), probs.len(), "one probability per label");
    labels
        .iter()
        .zip(probs)
        .map(|(&y, &p)| {
            let p = p.clamp(CLIP, 1.0 - CLIP);
            -if y { p.ln() } else { (1.0 - p).ln() }
        })
        .collect()
}

/// Mean [`log_losses`] (NaN for no examples).
pub fn log_loss(labels: &[bool], probs: &[f64]) -> f64 {
    let l = log_losses(labels, probs);
    l.iter().sum::<f64>() / l.len() as f64
}

/// Area under the ROC curve: the probability that a random click scores above a random
/// non-click, a tie counting one half. Exact (no binning). NaN when either class is absent.
/// Scores are compared by `f64::total_cmp`.
pub fn auc(labels: &[bool], scores: &[f64]) -> f64 {
    Ranked::new(scores).auc(labels, |_| 1.0)
}

/// [`auc`] where example `i` counts `weights[i]` times, as if repeated: the statistic a
/// bootstrap resample (integer multiplicities) or importance weights need.
pub fn auc_weighted(labels: &[bool], scores: &[f64], weights: &[f64]) -> f64 {
    assert_eq!(labels.len(), weights.len(), "one weight per label");
    Ranked::new(scores).auc(labels, |i| weights[i])
}

/// AUC of two score vectors on the same test rows, each with its interval, and B − A with
/// its paired interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AucComparison {
    pub a: Estimate,
    pub b: Estimate,
    pub delta: Delta,
    /// Resamples that had both a click and a non-click (the others have no AUC and are left
    /// out). Far below the requested number means too few clicks for the interval to mean
    /// much.
    pub resamples_used: usize,
}

/// Paired percentile bootstrap of AUC. AUC is not a mean of per-row values, so each
/// resample draws rows with replacement (as multiplicities) and recomputes both AUCs on the
/// same draw.
///
/// Cost: two sorts up front, then per resample `n` draws and one linear pass per model over
/// the presorted rows, weighted by the multiplicities; resamples run in parallel, each from
/// its own seed derived from `(bootstrap.seed, resample index)`, so the result does not
/// depend on the thread count. A resample with no click or no non-click has no AUC and is
/// left out of the percentiles. Values are the full-sample AUCs.
pub fn auc_bootstrap(
    labels: &[bool],
    scores_a: &[f64],
    scores_b: &[f64],
    bootstrap: &Bootstrap,
) -> AucComparison {
    let n = labels.len();
    assert!(
        scores_a.len() == n && scores_b.len() == n,
        "one score per label"
    );
    let (ra, rb) = (Ranked::new(scores_a), Ranked::new(scores_b));
    let (full_a, full_b) = (ra.auc(labels, |_| 1.0), rb.auc(labels, |_| 1.0));
    let draws: Vec<(f64, f64)> = (0..bootstrap.resamples.max(1) as u64)
        .into_par_iter()
        .map_init(
            || vec![0u32; n],
            |counts, r| {
                counts.fill(0);
                let mut rng = SplitMix64(hash64(bootstrap.seed, &[b"auc", &r.to_le_bytes()]));
                for _ in 0..n {
                    counts[rng.below(n)] += 1;
                }
                let w = |i: usize| counts[i] as f64;
                (ra.auc(labels, w), rb.auc(labels, w))
            },
        )
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .collect();
    let interval = |f: &dyn Fn(&(f64, f64)) -> f64| {
        let mut xs: Vec<f64> = draws.iter().map(f).collect();
        xs.sort_by(f64::total_cmp);
        if xs.is_empty() {
            return [f64::NAN, f64::NAN];
        }
        [percentile(&xs, 0.025), percentile(&xs, 0.975)]
    };
    AucComparison {
        a: Estimate {
            value: full_a,
            ci95: interval(&|d| d.0),
        },
        b: Estimate {
            value: full_b,
            ci95: interval(&|d| d.1),
        },
        delta: Delta {
            delta: full_b - full_a,
            ci95: interval(&|d| d.1 - d.0),
        },
        resamples_used: draws.len(),
    }
}

/// The same rule as `stats`' private percentile (linear between closest ranks), so AUC and
/// mean intervals read alike.
fn percentile(xs: &[f64], p: f64) -> f64 {
    let at = p * (xs.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    xs[lo] + (xs[hi] - xs[lo]) * (at - lo as f64)
}

/// Rows sorted by ascending score, with the end of each run of tied scores marked.
struct Ranked {
    order: Vec<u32>,
    block_end: Vec<bool>,
}

impl Ranked {
    fn new(scores: &[f64]) -> Self {
        let mut order: Vec<u32> = (0..scores.len() as u32).collect();
        order.sort_by(|&i, &j| scores[i as usize].total_cmp(&scores[j as usize]));
        let block_end = (0..order.len())
            .map(|k| {
                k + 1 == order.len()
                    || scores[order[k] as usize]
                        .total_cmp(&scores[order[k + 1] as usize])
                        .is_ne()
            })
            .collect();
        Self { order, block_end }
    }

    /// Weighted AUC in one pass: a click beats every non-click weight in lower blocks and
    /// ties with half of its own block's.
    fn auc(&self, labels: &[bool], weight: impl Fn(usize) -> f64) -> f64 {
        let (mut below, mut wins, mut pos) = (0.0, 0.0, 0.0);
        let (mut bp, mut bn) = (0.0, 0.0);
        for (k, &i) in self.order.iter().enumerate() {
            let (i, w) = (i as usize, weight(i as usize));
            if labels[i] {
                bp += w;
            } else {
                bn += w;
            }
            if self.block_end[k] {
                wins += bp * (below + 0.5 * bn);
                below += bn;
                pos += bp;
                bp = 0.0;
                bn = 0.0;
            }
        }
        if pos == 0.0 || below == 0.0 {
            f64::NAN
        } else {
            wins / (pos * below)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, pair by pair.
    fn naive_auc(labels: &[bool], scores: &[f64]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &yi) in labels.iter().enumerate() {
            for (j, &yj) in labels.iter().enumerate() {
                if yi && !yj {
                    pairs += 1.0;
                    wins += match scores[i].total_cmp(&scores[j]) {
                        std::cmp::Ordering::Greater => 1.0,
                        std::cmp::Ordering::Equal => 0.5,
                        std::cmp::Ordering::Less => 0.0,
                    };
                }
            }
        }
        wins / pairs
    }

    #[test]
    fn auc_by_hand_with_ties() {
        // Clicks score 0.9, 0.5, 0.5; non-clicks 0.9, 0.1. Pairs: 0.9 vs 0.9 tie (½), 0.9 vs
        // 0.1 win, each 0.5 loses to 0.9 and beats 0.1: (½ + 1 + 0 + 1 + 0 + 1) / 6 = 3.5/6.
        let labels = [true, false, true, false, true];
        let scores = [0.9, 0.9, 0.5, 0.1, 0.5];
        assert!((auc(&labels, &scores) - 3.5 / 6.0).abs() < 1e-15);
        assert_eq!(auc(&labels, &[0.3; 5]), 0.5);
        assert_eq!(auc(&[true, false], &[0.2, 0.1]), 1.0);
        assert_eq!(auc(&[true, false], &[0.1, 0.2]), 0.0);
        assert!(auc(&[true, true], &[0.1, 0.2]).is_nan());
    }

    #[test]
    fn auc_matches_the_pairwise_definition_and_weights_mean_repeats() {
        let mut rng = SplitMix64(5);
        let n = 300;
        let labels: Vec<bool> = (0..n).map(|_| rng.unit() < 0.3).collect();
        // Few distinct scores, so ties are everywhere.
        let scores: Vec<f64> = (0..n).map(|_| rng.below(12) as f64 / 10.0).collect();
        assert!((auc(&labels, &scores) - naive_auc(&labels, &scores)).abs() < 1e-12);
        let w: Vec<f64> = (0..n).map(|_| rng.below(4) as f64).collect();
        let (mut el, mut es) = (Vec::new(), Vec::new());
        for i in 0..n {
            for _ in 0..w[i] as usize {
                el.push(labels[i]);
                es.push(scores[i]);
            }
        }
        assert!((auc_weighted(&labels, &scores, &w) - naive_auc(&el, &es)).abs() < 1e-12);
    }

    #[test]
    fn log_loss_by_hand() {
        // −ln 0.8 = 0.223144, −ln 0.7 = 0.356675.
        let l = log_losses(&[true, false], &[0.8, 0.3]);
        assert!((l[0] - 0.223_143_551).abs() < 1e-9 && (l[1] - 0.356_674_944).abs() < 1e-9);
        assert!((log_loss(&[true, false], &[0.8, 0.3]) - 0.289_909_247).abs() < 1e-9);
        // A certain mistake is clipped at −ln(1e-7).
        let worst = log_losses(&[true, false], &[0.0, 1.0]);
        assert!((worst[0] - 16.118_095_65).abs() < 1e-6, "{worst:?}");
        assert!((worst[1] - 16.118_095_65).abs() < 1e-6, "{worst:?}");
    }

    #[test]
    fn the_auc_bootstrap_is_paired_and_covers_a_real_difference() {
        let mut rng = SplitMix64(9);
        let n = 4000;
        let labels: Vec<bool> = (0..n).map(|_| rng.unit() < 0.2).collect();
        let signal: Vec<f64> = labels.iter().map(|&y| if y { 1.0 } else { 0.0 }).collect();
        // A sees the label through heavy noise, B through less of the same noise plus its own.
        let noise: Vec<f64> = (0..n).map(|_| rng.unit() * 3.0).collect();
        let a: Vec<f64> = signal.iter().zip(&noise).map(|(s, e)| s + e).collect();
        let b: Vec<f64> = (0..n)
            .map(|i| signal[i] + 0.6 * noise[i] + 0.3 * rng.unit())
            .collect();
        let boot = Bootstrap {
            resamples: 300,
            seed: 1,
        };
        let c = auc_bootstrap(&labels, &a, &b, &boot);
        assert_eq!(c.a.value, auc(&labels, &a));
        assert!(c.a.ci95[0] < c.a.value && c.a.value < c.a.ci95[1]);
        assert!(c.delta.delta > 0.0 && c.delta.significant(), "{c:?}");
        // The paired interval is narrower than the two marginal ones side by side.
        let width = |x: [f64; 2]| x[1] - x[0];
        assert!(width(c.delta.ci95) < width(c.a.ci95) + width(c.b.ci95));
        // Comparing a model with itself: a point interval at zero.
        let same = auc_bootstrap(&labels, &a, &a, &boot);
        assert_eq!(same.delta.ci95, [0.0, 0.0]);
        assert_eq!(auc_bootstrap(&labels, &a, &b, &boot), c, "seeded");
        assert_eq!(c.resamples_used, 300);
        // One click in 50 rows: about a third of resamples draw no click at all.
        let mut one = vec![false; 50];
        one[7] = true;
        let sparse = auc_bootstrap(&one, &a[..50], &b[..50], &boot);
        assert!(
            (150..250).contains(&sparse.resamples_used),
            "{}",
            sparse.resamples_used
        );
    }
}
