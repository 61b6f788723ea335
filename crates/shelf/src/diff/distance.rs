//! Distances between two distributions given as counts over the same bins, and the bands that
//! call a distance "notable" or "major". Pure functions: the SQL that counts lives in
//! `profile.rs`.
//!
//! Bins are the unit of comparison everywhere: categories (the top K plus "other" plus
//! "null"), or for numbers the buckets of a mergeable log-scale sketch, ordered by value.

use shelf_report::Drift;

/// A share below this counts as this in PSI, so a bin empty on one side gives a large but
/// finite term (the usual fix: PSI is undefined for empty bins).
pub const PSI_EPSILON: f64 = 1e-4;
/// PSI at or above this is a notable shift (the standard band: below 0.1 "no significant
/// change").
pub const PSI_NOTABLE: f64 = 0.1;
/// PSI at or above this is a major shift (the standard band: above 0.25 "significant change,
/// investigate").
pub const PSI_MAJOR: f64 = 0.25;

/// Counts per bin to shares (all zero when the total is zero).
pub fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if total == 0 {
                0.0
            } else {
                c as f64 / total as f64
            }
        })
        .collect()
}

/// Population stability index: Σ (new − old) · ln(new / old) over the bins, each share at
/// least [`PSI_EPSILON`]. Symmetric in its arguments, 0 for equal distributions.
pub fn psi(old: &[f64], new: &[f64]) -> f64 {
    debug_assert_eq!(old.len(), new.len());
    old.iter()
        .zip(new)
        .map(|(&o, &n)| {
            let (o, n) = (o.max(PSI_EPSILON), n.max(PSI_EPSILON));
            (n - o) * (n / o).ln()
        })
        .sum()
}

/// Jensen–Shannon distance (the square root of the divergence, logarithms base 2): 0 for
/// equal distributions, 1 for distributions with no bin in common. Needs no smoothing.
pub fn js_distance(old: &[f64], new: &[f64]) -> f64 {
    debug_assert_eq!(old.len(), new.len());
    let kl = |p: f64, m: f64| if p > 0.0 { p * (p / m).log2() } else { 0.0 };
    let div: f64 = old
        .iter()
        .zip(new)
        .map(|(&p, &q)| {
            let m = (p + q) / 2.0;
            0.5 * kl(p, m) + 0.5 * kl(q, m)
        })
        .sum();
    // Rounding can leave a tiny negative divergence for equal inputs.
    div.max(0.0).sqrt().min(1.0)
}

/// Kolmogorov–Smirnov statistic over ordered bins: the largest gap between the two
/// cumulative shares.
pub fn ks(old: &[f64], new: &[f64]) -> f64 {
    debug_assert_eq!(old.len(), new.len());
    let (mut fo, mut fn_, mut d) = (0.0f64, 0.0f64, 0.0f64);
    for (&o, &n) in old.iter().zip(new) {
        fo += o;
        fn_ += n;
        d = d.max((fo - fn_).abs());
    }
    d
}

/// Wasserstein-1 (earth mover's) distance between two distributions on the same ordered
/// support points `at` (ascending): ∫ |F_old − F_new| dx, in the unit of the values. Exact
/// for point masses at `at`; for sketch buckets, within the buckets' width.
pub fn wasserstein(at: &[f64], old: &[f64], new: &[f64]) -> f64 {
    debug_assert!(at.len() == old.len() && old.len() == new.len());
    let (mut fo, mut fn_, mut w) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..at.len() {
        fo += old[i];
        fn_ += new[i];
        if let Some(next) = at.get(i + 1) {
            w += (fo - fn_).abs() * (next - at[i]);
        }
    }
    w
}

/// The band a PSI falls in.
pub fn psi_band(psi: f64) -> Drift {
    if psi >= PSI_MAJOR {
        Drift::Major
    } else if psi >= PSI_NOTABLE {
        Drift::Notable
    } else {
        Drift::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn psi_by_hand() {
        // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
        // = 0.25·ln 2 + 0.25·ln 1.5 = 0.173287 + 0.101366 = 0.274653
        let p = psi(&[0.5, 0.5], &[0.25, 0.75]);
        assert!(close(p, 0.25 * 2f64.ln() + 0.25 * 1.5f64.ln()), "{p}");
        assert!((p - 0.274653).abs() < 1e-6);
        assert_eq!(psi_band(p), Drift::Major);
        assert!(close(psi(&[0.25, 0.75], &[0.5, 0.5]), p), "symmetric");
        assert_eq!(psi(&[0.2, 0.3, 0.5], &[0.2, 0.3, 0.5]), 0.0);
    }

    #[test]
    fn psi_smooths_an_empty_bin() {
        // A category that appears with 10 % of the rows: old share 0 counts as 1e-4.
        // (0.1 − 1e-4)·ln(0.1/1e-4) + (0.9 − 1.0)·ln(0.9/1.0) = 0.0999·6.907755 + 0.010536
        let p = psi(&[1.0, 0.0], &[0.9, 0.1]);
        let want = 0.0999 * 1000f64.ln() + (-0.1) * 0.9f64.ln();
        assert!(close(p, want), "{p} vs {want}");
        assert!((p - 0.700621).abs() < 1e-6);
    }

    #[test]
    fn psi_bands() {
        assert_eq!(psi_band(0.0999), Drift::None);
        assert_eq!(psi_band(0.1), Drift::Notable);
        assert_eq!(psi_band(0.2499), Drift::Notable);
        assert_eq!(psi_band(0.25), Drift::Major);
    }

    #[test]
    fn js_by_hand() {
        assert_eq!(js_distance(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
        assert_eq!(js_distance(&[0.3, 0.7], &[0.3, 0.7]), 0.0);
        // P = (1/2, 1/2), Q = (1, 0), M = (3/4, 1/4):
        // KL(P‖M) = ½ log2(2/3) + ½ log2(2) = ½(1 − log2 3) + ½ = 1 − ½ log2 3
        // KL(Q‖M) = log2(4/3) = 2 − log2 3
        // JSD = ½(1 − ½ log2 3) + ½(2 − log2 3) = 1.5 − ¾ log2 3 = 0.311278
        let d = js_distance(&[0.5, 0.5], &[1.0, 0.0]);
        let want = (1.5 - 0.75 * 3f64.log2()).sqrt();
        assert!(close(d, want), "{d} vs {want}");
        assert!((d - 0.557923).abs() < 1e-6);
    }

    #[test]
    fn ks_and_wasserstein_by_hand() {
        // Samples {1, 2, 3} and {2, 3, 4} on the support 1..4: the CDFs differ by 1/3 at
        // 1, 2 and 3, so KS = 1/3 and W1 = 3 · 1/3 · 1 = 1 (a shift by one).
        let at = [1.0, 2.0, 3.0, 4.0];
        let old = shares(&[1, 1, 1, 0]);
        let new = shares(&[0, 1, 1, 1]);
        assert!(close(ks(&old, &new), 1.0 / 3.0));
        assert!(close(wasserstein(&at, &old, &new), 1.0));
        // Moving all mass from 0 to 10 costs 10.
        assert!(close(
            wasserstein(&[0.0, 10.0], &[1.0, 0.0], &[0.0, 1.0]),
            10.0
        ));
        assert_eq!(ks(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
        assert_eq!(wasserstein(&at, &old, &old), 0.0);
    }

    #[test]
    fn shares_of_nothing_are_zero() {
        assert_eq!(shares(&[0, 0]), vec![0.0, 0.0]);
        assert_eq!(shares(&[1, 3]), vec![0.25, 0.75]);
    }
}
