//! A factorization machine (Rendle 2010): logistic regression plus a learned interaction for
//! every pair of features, `⟨v_i, v_j⟩`, with one k-dimensional vector per id.
//!
//! The pairwise sum over an example's n features is computed in O(k·n) with Rendle's identity
//! `Σ_{i<j} ⟨v_i, v_j⟩ = ½ Σ_f [(Σ_i v_if)² − Σ_i v_if²]`.
//!
//! Parallelism: none in training. Hogwild (lock-free parallel SGD) would be faster but its
//! result depends on thread timing; shelf's comparisons must be reproducible from a seed, so
//! mini-batches run on one thread and only prediction is parallel (see [`super`]).

use crate::stats::SplitMix64;

use super::logistic::base_logit;
use super::optim::{self, Grads, Learner};
use super::{Ctr, Examples, Fit, TrainOptions, sigmoid};

/// Factorization-machine settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FmOptions {
    /// Embedding dimension k. 8 is the common choice for Criteo-scale data; past 16 the gain
    /// is small and memory is `2^bits · (k + 1)` floats per parameter copy.
    pub k: usize,
    /// Inverted dropout on the embedding entries during training: each entry of each
    /// feature's vector is zeroed with this probability and the rest scaled by `1/(1−rate)`,
    /// so the expected interaction is unchanged and inference uses the vectors as they are.
    pub dropout: f32,
    /// Embeddings start uniform with this standard deviation. Small, so the model starts as
    /// logistic regression, but not zero, which would leave every gradient of `v` at zero.
    pub init_std: f32,
}

impl Default for FmOptions {
    fn default() -> Self {
        Self {
            k: 8,
            dropout: 0.1,
            init_std: 0.01,
        }
    }
}

/// `P(click) = σ(b + Σ w_i + Σ_{i<j} ⟨v_i, v_j⟩)`.
#[derive(Debug, Clone)]
pub struct Fm {
    k: usize,
    dim: usize,
    dropout: f32,
    /// `w` (dim), then `v` (dim × k, row-major by id), then the bias.
    params: Vec<f32>,
}

impl Fm {
    /// Trains like [`super::Logistic::fit`] (same optimizer, bias start and early stopping).
    ///
    /// Panics when `k` is 0 or `dropout` is not in `[0, 1)`.
    pub fn fit(
        train: &Examples,
        valid: &Examples,
        options: &TrainOptions,
        fm: &FmOptions,
    ) -> (Self, Fit) {
        assert!(fm.k > 0, "FM needs k ≥ 1");
        assert!(
            (0.0..1.0).contains(&fm.dropout),
            "dropout must be in [0, 1)"
        );
        let dim = train.hasher().dim();
        let mut params = vec![0.0f32; dim * (fm.k + 1) + 1];
        // Uniform(−a, a) has standard deviation a/√3.
        let a = fm.init_std * 3f32.sqrt();
        let mut rng = SplitMix64(options.seed ^ 0x494E_4954_5F46_4D31);
        for x in &mut params[dim..dim * (fm.k + 1)] {
            *x = (rng.unit() as f32 * 2.0 - 1.0) * a;
        }
        params[dim * (fm.k + 1)] = base_logit(train);
        let model = Self {
            k: fm.k,
            dim,
            dropout: fm.dropout,
            params,
        };
        optim::fit(model, train, valid, options)
    }

    pub fn k(&self) -> usize {
        self.k
    }

    fn bias_index(&self) -> usize {
        self.params.len() - 1
    }

    fn v(&self, id: u32) -> &[f32] {
        let at = self.dim + id as usize * self.k;
        &self.params[at..at + self.k]
    }
}

impl Ctr for Fm {
    fn name(&self) -> &str {
        "fm"
    }

    fn predict_ids(&self, ids: &[u32]) -> f64 {
        let mut z = self.params[self.bias_index()] as f64;
        let mut pair = 0.0f64;
        for f in 0..self.k {
            let (mut s, mut sq) = (0.0f64, 0.0f64);
            for &j in ids {
                let x = self.v(j)[f] as f64;
                s += x;
                sq += x * x;
            }
            pair += s * s - sq;
        }
        for &j in ids {
            z += self.params[j as usize] as f64;
        }
        sigmoid(z + 0.5 * pair)
    }
}

impl Learner for Fm {
    fn params(&self) -> &[f32] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    fn decay_until(&self) -> usize {
        self.bias_index()
    }

    fn accumulate(
        &self,
        ids: &[u32],
        label: bool,
        scale: f32,
        grads: &mut Grads,
        rng: &mut SplitMix64,
    ) {
        let k = self.k;
        let n = ids.len();
        // The dropped-out vectors ṽ = v · mask / (1 − rate), one row per feature occurrence;
        // `gain` holds mask / (1 − rate), the factor the chain rule brings back.
        let keep = 1.0 - self.dropout;
        let mut tv = vec![0.0f32; n * k];
        let mut gain = vec![1.0f32; n * k];
        for (r, &j) in ids.iter().enumerate() {
            let v = self.v(j);
            for f in 0..k {
                if self.dropout > 0.0 {
                    gain[r * k + f] = if rng.unit() < self.dropout as f64 {
                        0.0
                    } else {
                        1.0 / keep
                    };
                }
                tv[r * k + f] = v[f] * gain[r * k + f];
            }
        }
        let mut s = vec![0.0f64; k];
        let mut pair = 0.0f64;
        for f in 0..k {
            let mut sq = 0.0f64;
            for r in 0..n {
                let x = tv[r * k + f] as f64;
                s[f] += x;
                sq += x * x;
            }
            pair += s[f] * s[f] - sq;
        }
        let z = self.params[self.bias_index()] as f64
            + ids
                .iter()
                .map(|&j| self.params[j as usize] as f64)
                .sum::<f64>()
            + 0.5 * pair;
        let g = scale * (sigmoid(z) as f32 - label as u8 as f32);
        for (r, &j) in ids.iter().enumerate() {
            grads.add(j as usize, g);
            let at = self.dim + j as usize * k;
            for f in 0..k {
                // ∂pair/∂ṽ_rf = s_f − ṽ_rf; ∂ṽ_rf/∂v = gain_rf.
                let d = (s[f] as f32 - tv[r * k + f]) * gain[r * k + f];
                if d != 0.0 {
                    grads.add(at + f, g * d);
                }
            }
        }
        grads.add(self.bias_index(), g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctr::logistic::tests::planted_linear;
    use crate::ctr::{Feature, FeatureHasher, Logistic, auc};

    /// Clicks follow XOR of two categorical fields (each half of its values "on"); neither
    /// field alone says anything, so a linear model is stuck near AUC 0.5.
    fn planted_xor(n: usize, seed: u64, hasher: FeatureHasher) -> Examples {
        let mut rng = SplitMix64(seed);
        let mut ex = Examples::new(hasher);
        for _ in 0..n {
            let (a, b) = (rng.below(6), rng.below(6));
            let on = (a < 3) != (b < 3);
            let y = rng.unit() < if on { 0.8 } else { 0.2 };
            let (sa, sb, noise) = (format!("a{a}"), format!("b{b}"), rng.below(50).to_string());
            ex.push(
                &[
                    ("a", Feature::Cat(&sa)),
                    ("b", Feature::Cat(&sb)),
                    ("n", Feature::Cat(&noise)),
                ],
                y,
                None,
            );
        }
        ex
    }

    #[test]
    fn beats_logistic_regression_on_a_planted_interaction() {
        let h = FeatureHasher::new(14, 0);
        let (train, valid, test) = (
            planted_xor(20_000, 1, h),
            planted_xor(2_000, 2, h),
            planted_xor(5_000, 3, h),
        );
        let o = TrainOptions::default();
        let (lr, _) = Logistic::fit(&train, &valid, &o);
        let (fm, fit) = Fm::fit(&train, &valid, &o, &FmOptions::default());
        let (a_lr, a_fm) = (
            auc(test.labels(), &lr.predict(&test)),
            auc(test.labels(), &fm.predict(&test)),
        );
        // The optimum is 0.8: P(on | click) = 0.8.
        assert!(a_lr < 0.6, "LR should not see XOR: {a_lr}");
        assert!(a_fm > 0.75, "FM AUC {a_fm}, LR {a_lr}, {fit:?}");
    }

    #[test]
    fn the_pairwise_term_matches_the_naive_double_sum() {
        let h = FeatureHasher::new(10, 0);
        let train = planted_linear(500, 1, h);
        let o = TrainOptions {
            max_epochs: 2,
            ..Default::default()
        };
        let (fm, _) = Fm::fit(
            &train,
            &train,
            &o,
            &FmOptions {
                k: 4,
                ..Default::default()
            },
        );
        for i in 0..20 {
            let ids = train.ids(i);
            let mut z = fm.params[fm.bias_index()] as f64;
            for (a, &x) in ids.iter().enumerate() {
                z += fm.params[x as usize] as f64;
                for &y in &ids[a + 1..] {
                    z += fm
                        .v(x)
                        .iter()
                        .zip(fm.v(y))
                        .map(|(p, q)| (p * q) as f64)
                        .sum::<f64>();
                }
            }
            assert!((fm.predict_ids(ids) - sigmoid(z)).abs() < 1e-9);
        }
    }

    #[test]
    fn dropout_is_seeded_and_changes_training() {
        let h = FeatureHasher::new(12, 0);
        let (train, valid) = (planted_xor(2_000, 1, h), planted_xor(500, 2, h));
        let o = TrainOptions {
            max_epochs: 2,
            ..Default::default()
        };
        let fit = |rate| {
            Fm::fit(
                &train,
                &valid,
                &o,
                &FmOptions {
                    dropout: rate,
                    ..Default::default()
                },
            )
            .0
            .params
        };
        assert_eq!(fit(0.3), fit(0.3));
        assert_ne!(fit(0.3), fit(0.0));
    }
}
