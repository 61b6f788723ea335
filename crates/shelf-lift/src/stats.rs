//! Confidence intervals by the bootstrap: resample the evaluation units (queries, users) with
//! replacement, recompute the statistic, read the 2.5th and 97.5th percentiles.
//!
//! A comparison of two data versions is *paired*: both versions are scored on the same units,
//! so one resample draws the same units for both and the interval is on the mean of the
//! per-unit differences. That is much tighter than two independent intervals and is what
//! answers "did B beat A on these queries".

use serde::Serialize;

/// A mean and its 95 % percentile-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The statistic on the full sample (not the bootstrap mean).
    pub value: f64,
    pub ci95: [f64; 2],
}

/// A difference B − A and its 95 % paired-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    pub delta: f64,
    pub ci95: [f64; 2],
}

impl Delta {
    /// True when the whole interval lies on one side of zero.
    pub fn significant(&self) -> bool {
        self.ci95[0] > 0.0 || self.ci95[1] < 0.0
    }
}

/// How many resamples and from which seed. 1,000 resamples put the percentile bounds within
/// about ±0.1 standard errors of where 100,000 would; the seed makes every run identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            resamples: 1000,
            seed: 42,
        }
    }
}

impl Bootstrap {
    /// The mean of `values` with its interval. Empty input gives NaN everywhere.
    pub fn mean(&self, values: &[f64]) -> Estimate {
        let (value, ci95) = self.interval(values.len(), |i| values[i]);
        Estimate { value, ci95 }
    }

    /// The mean of `b[i] - a[i]` with its paired interval. `a` and `b` are the same units'
    /// scores under two versions, in the same order.
    ///
    /// Panics when the lengths differ: that is a caller bug, not a data problem.
    pub fn paired(&self, a: &[f64], b: &[f64]) -> Delta {
        assert_eq!(a.len(), b.len(), "paired bootstrap over different units");
        let (delta, ci95) = self.interval(a.len(), |i| b[i] - a[i]);
        Delta { delta, ci95 }
    }

    fn interval(&self, n: usize, value: impl Fn(usize) -> f64) -> (f64, [f64; 2]) {
        if n == 0 {
            return (f64::NAN, [f64::NAN, f64::NAN]);
        }
        let full = (0..n).map(&value).sum::<f64>() / n as f64;
        let mut rng = SplitMix64(self.seed);
        let mut means: Vec<f64> = (0..self.resamples.max(1))
            .map(|_| (0..n).map(|_| value(rng.below(n))).sum::<f64>() / n as f64)
            .collect();
        means.sort_by(f64::total_cmp);
        (full, [percentile(&means, 0.025), percentile(&means, 0.975)])
    }
}

/// Linear interpolation between closest ranks of sorted `xs`.
fn percentile(xs: &[f64], p: f64) -> f64 {
    let at = p * (xs.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    xs[lo] + (xs[hi] - xs[lo]) * (at - lo as f64)
}

/// A small, fast, seedable generator (Steele et al.'s SplitMix64): statistically good enough
/// for resampling and splits, and the same sequence on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for any n we use).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_has_a_point_interval() {
        let e = Bootstrap::default().mean(&[0.5; 40]);
        assert_eq!(e.value, 0.5);
        assert_eq!(e.ci95, [0.5, 0.5]);
    }

    #[test]
    fn the_interval_covers_the_mean_and_narrows_with_more_units() {
        let mut rng = SplitMix64(7);
        let small: Vec<f64> = (0..50).map(|_| rng.unit()).collect();
        let large: Vec<f64> = (0..5000).map(|_| rng.unit()).collect();
        let b = Bootstrap::default();
        let (s, l) = (b.mean(&small), b.mean(&large));
        assert!(s.ci95[0] < s.value && s.value < s.ci95[1]);
        assert!(l.ci95[0] < l.value && l.value < l.ci95[1]);
        // Width shrinks like 1/sqrt(n): 100× the units, about a tenth of the width.
        let ratio = (l.ci95[1] - l.ci95[0]) / (s.ci95[1] - s.ci95[0]);
        assert!((0.05..0.2).contains(&ratio), "width ratio {ratio}");
        // Uniform(0,1) has sd 0.289: the 95 % half-width for n = 5000 is about 0.008.
        let half = (l.ci95[1] - l.ci95[0]) / 2.0;
        assert!((0.0065..0.0095).contains(&half), "half-width {half}");
    }

    #[test]
    fn pairing_removes_the_spread_shared_by_both_versions() {
        // Per-query scores vary a lot, but B is A + 0.01 on every query: the paired interval
        // is a point at 0.01 even though an unpaired one would straddle zero.
        let mut rng = SplitMix64(3);
        let a: Vec<f64> = (0..300).map(|_| rng.unit()).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.01).collect();
        let d = Bootstrap::default().paired(&a, &b);
        assert!((d.delta - 0.01).abs() < 1e-12);
        assert!((d.ci95[0] - 0.01).abs() < 1e-9 && (d.ci95[1] - 0.01).abs() < 1e-9);
        assert!(d.significant());
    }

    #[test]
    fn no_difference_is_not_significant() {
        let mut rng = SplitMix64(11);
        let a: Vec<f64> = (0..400).map(|_| rng.unit()).collect();
        let b: Vec<f64> = (0..400).map(|_| rng.unit()).collect();
        let d = Bootstrap::default().paired(&a, &b);
        assert!(!d.significant(), "{d:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_interval() {
        let xs: Vec<f64> = (0..100).map(|i| (i % 7) as f64).collect();
        let b = Bootstrap::default();
        assert_eq!(b.mean(&xs), b.mean(&xs));
        assert!(Bootstrap { seed: 1, ..b }.mean(&xs) != b.mean(&xs));
    }

    #[test]
    fn empty_input_is_nan() {
        assert!(Bootstrap::default().mean(&[]).value.is_nan());
    }
}
