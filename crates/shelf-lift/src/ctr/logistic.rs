//! Logistic regression on hashed features: one weight per id plus a bias, the baseline every
//! CTR comparison starts from.

use crate::stats::SplitMix64;

use super::optim::{self, Grads, Learner};
use super::{Ctr, Examples, Fit, TrainOptions, sigmoid};

/// `P(click) = σ(b + Σ w[id])` over an example's ids.
#[derive(Debug, Clone)]
pub struct Logistic {
    /// `2^bits` weights, then the bias.
    params: Vec<f32>,
}

impl Logistic {
    /// Trains on `train` with binary cross-entropy and AdamW, evaluates `valid` after every
    /// epoch and keeps the epoch with the lowest validation log loss (see [`Fit`]).
    ///
    /// Weights start at 0 and the bias at the logit of `train`'s click rate, so the first
    /// epochs learn features rather than the base rate (at a 0.5 % click rate the bias needs
    /// a logit of −5.3, hundreds of Adam steps from 0). Both sets must come from the same
    /// [`super::FeatureHasher`]; that is asserted.
    pub fn fit(train: &Examples, valid: &Examples, options: &TrainOptions) -> (Self, Fit) {
        let dim = train.hasher().dim();
        let mut params = vec![0.0; dim + 1];
        params[dim] = base_logit(train);
        optim::fit(Self { params }, train, valid, options)
    }

    pub fn bias(&self) -> f32 {
        self.params[self.params.len() - 1]
    }

    pub fn weight(&self, id: u32) -> f32 {
        self.params[id as usize]
    }
}

/// The logit of the weighted click rate, clamped so a set with no clicks (or only clicks)
/// still starts from a finite bias.
pub(crate) fn base_logit(train: &Examples) -> f32 {
    let (mut clicks, mut total) = (0.0, 0.0);
    for i in 0..train.len() {
        total += train.weight(i);
        if train.label(i) {
            clicks += train.weight(i);
        }
    }
    let p = if total > 0.0 {
        (clicks / total).clamp(1e-4, 1.0 - 1e-4)
    } else {
        0.5
    };
    (p / (1.0 - p)).ln() as f32
}

impl Ctr for Logistic {
    fn name(&self) -> &str {
        "lr"
    }

    fn predict_ids(&self, ids: &[u32]) -> f64 {
        let z: f64 = self.bias() as f64
            + ids
                .iter()
                .map(|&j| self.params[j as usize] as f64)
                .sum::<f64>();
        sigmoid(z)
    }
}

impl Learner for Logistic {
    fn params(&self) -> &[f32] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    fn decay_until(&self) -> usize {
        self.params.len() - 1
    }

    fn accumulate(
        &self,
        ids: &[u32],
        label: bool,
        scale: f32,
        grads: &mut Grads,
        _: &mut SplitMix64,
    ) {
        // d(BCE)/dz = p − y.
        let g = scale * (self.predict_ids(ids) as f32 - label as u8 as f32);
        for &j in ids {
            grads.add(j as usize, g);
        }
        grads.add(self.params.len() - 1, g);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ctr::{Feature, FeatureHasher, auc};

    /// A planted linear rule: the logit is a sum of per-value effects of three categorical
    /// fields plus a numeric one, and a noise field carries nothing.
    pub(crate) fn planted_linear(n: usize, seed: u64, hasher: FeatureHasher) -> Examples {
        planted_linear_with_logits(n, seed, hasher).0
    }

    /// [`planted_linear`] and each example's true logit.
    fn planted_linear_with_logits(
        n: usize,
        seed: u64,
        hasher: FeatureHasher,
    ) -> (Examples, Vec<f64>) {
        let mut rng = SplitMix64(seed);
        let mut ex = Examples::new(hasher);
        let mut logits = Vec::new();
        let effect = |field: u64, v: u64| ((field * 31 + v * 17) % 11) as f64 / 2.0 - 2.5;
        for _ in 0..n {
            let vals: Vec<u64> = (0..3).map(|_| rng.below(8) as u64).collect();
            let count = rng.below(50) as f64;
            let noise = rng.below(1000).to_string();
            let logit = -1.0
                + vals
                    .iter()
                    .enumerate()
                    .map(|(f, &v)| effect(f as u64, v))
                    .sum::<f64>()
                + if count > 20.0 { 1.5 } else { 0.0 };
            logits.push(logit);
            let y = rng.unit() < sigmoid(logit);
            let names: Vec<String> = vals.iter().map(|v| format!("v{v}")).collect();
            ex.push(
                &[
                    ("a", Feature::Cat(&names[0])),
                    ("b", Feature::Cat(&names[1])),
                    ("c", Feature::Cat(&names[2])),
                    ("count", Feature::Num(count)),
                    ("noise", Feature::Cat(&noise)),
                ],
                y,
                None,
            );
        }
        (ex, logits)
    }

    #[test]
    fn learns_a_planted_linear_rule() {
        let h = FeatureHasher::new(16, 0);
        let (train, valid) = (planted_linear(20_000, 1, h), planted_linear(2_000, 2, h));
        let (test, truth) = planted_linear_with_logits(5_000, 3, h);
        let (model, fit) = Logistic::fit(&train, &valid, &TrainOptions::default());
        let a = auc(test.labels(), &model.predict(&test));
        // The planted logit itself is the best possible score; a constant model gets 0.5.
        let best = auc(test.labels(), &truth);
        assert!(best > 0.9, "the rule is too weak to test with: {best}");
        assert!(
            a > 0.9 && a > best - 0.01,
            "test AUC {a}, best {best}, {fit:?}"
        );
        assert!(fit.best_epoch >= 1 && fit.epochs <= 20);
    }

    #[test]
    fn the_same_seed_gives_the_same_model() {
        let h = FeatureHasher::new(12, 0);
        let (train, valid) = (planted_linear(3_000, 1, h), planted_linear(500, 2, h));
        let o = TrainOptions {
            max_epochs: 3,
            ..Default::default()
        };
        let (a, _) = Logistic::fit(&train, &valid, &o);
        let (b, _) = Logistic::fit(&train, &valid, &o);
        assert_eq!(a.params, b.params);
        let (c, _) = Logistic::fit(&train, &valid, &TrainOptions { seed: 7, ..o });
        assert_ne!(a.params, c.params);
    }

    #[test]
    fn early_stopping_keeps_the_best_epoch() {
        // Few rows, many one-off ids and a large step: the model memorises noise, the
        // validation loss turns up after an epoch or two, and the kept weights must be those
        // of the lowest point, not the last epoch's.
        let h = FeatureHasher::new(16, 0);
        let (train, valid) = (planted_linear(400, 1, h), planted_linear(2_000, 2, h));
        let o = TrainOptions {
            learning_rate: 0.2,
            batch_size: 16,
            max_epochs: 30,
            ..Default::default()
        };
        let (model, fit) = Logistic::fit(&train, &valid, &o);
        let losses = &fit.validation_loss;
        let min = losses.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(fit.epochs < 30, "never stopped: {losses:?}");
        assert_eq!(losses[fit.best_epoch - 1], min);
        assert_eq!(fit.epochs, fit.best_epoch + o.patience, "{losses:?}");
        assert!(losses[fit.epochs - 1] > min);
        let kept = optim::validation_loss(&model, &valid);
        assert!((kept - min).abs() < 1e-12, "kept {kept}, best {min}");
    }
}
