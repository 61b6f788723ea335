//! What the two CTR models share: AdamW on sparse gradients, and the epoch loop with early
//! stopping on validation log loss.

use std::time::Instant;

use crate::stats::SplitMix64;

use super::{Ctr, Examples, eval};

/// Optimizer and schedule settings, shared by [`super::Logistic`] and [`super::Fm`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Adam's step size. The default, 0.001, is Adam's usual one; 0.01 let the
    /// factorization machine overfit rare ids within the first epoch on a synthetic
    /// 10^6-row set (bench/README.md, "CTR reference models").
    pub learning_rate: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Decoupled weight decay (Loshchilov & Hutter): each step multiplies every weight by
    /// `1 - learning_rate * weight_decay`, apart from the gradient step. Not applied to the
    /// global bias.
    pub weight_decay: f32,
    pub batch_size: usize,
    pub max_epochs: usize,
    /// Stop after this many epochs in a row without a lower validation loss.
    pub patience: usize,
    /// Seeds initialisation, the per-epoch shuffle and dropout.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-4,
            batch_size: 256,
            max_epochs: 20,
            patience: 2,
            seed: 42,
        }
    }
}

/// How a fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Epochs run (at most `max_epochs`).
    pub epochs: usize,
    /// The epoch (1-based) whose weights the model kept: the one with the lowest validation
    /// loss.
    pub best_epoch: usize,
    /// Validation log loss after each epoch (weighted mean when examples carry weights).
    pub validation_loss: Vec<f64>,
    pub seconds: f64,
}

/// A model the shared loop can train: flat parameters and a per-example gradient.
pub(crate) trait Learner: Ctr {
    fn params(&self) -> &[f32];
    fn params_mut(&mut self) -> &mut [f32];
    /// Parameters from this index on are not weight-decayed (the global bias is last).
    fn decay_until(&self) -> usize;
    /// Adds `scale ×` the gradient of one example's log loss to `grads`, reading the
    /// parameters as they were at the start of the mini-batch. `rng` is the model's own
    /// training randomness (dropout); it is drawn in example order, so a fit is reproducible.
    fn accumulate(
        &self,
        ids: &[u32],
        label: bool,
        scale: f32,
        grads: &mut Grads,
        rng: &mut SplitMix64,
    );
}

/// A sparse gradient: a dense buffer plus the list of entries touched in this mini-batch, so
/// a step costs the batch's features, not the model's size.
pub(crate) struct Grads {
    g: Vec<f32>,
    touched: Vec<u32>,
    mark: Vec<bool>,
}

impl Grads {
    fn new(n: usize) -> Self {
        Self {
            g: vec![0.0; n],
            touched: Vec::new(),
            mark: vec![false; n],
        }
    }

    #[inline]
    pub(crate) fn add(&mut self, j: usize, v: f32) {
        if !self.mark[j] {
            self.mark[j] = true;
            self.touched.push(j as u32);
        }
        self.g[j] += v;
    }
}

/// AdamW with lazy moments and exact decoupled decay.
///
/// Only the weights a mini-batch touches get an Adam step (their moments are not decayed on
/// steps they sit out, like TensorFlow's LazyAdam: a rare feature's momentum would otherwise
/// keep moving it long after its last example). Weight decay, in contrast, is applied to
/// every weight on every step, as AdamW defines it, but lazily: a weight records the step it
/// was last decayed at and catches up with `(1 - lr·wd)^missed` when it is next touched and
/// at the end of every epoch, so the weights the model is evaluated with are exactly decayed.
struct AdamW {
    o: TrainOptions,
    m: Vec<f32>,
    v: Vec<f32>,
    last: Vec<u32>,
    t: u32,
    decay_until: usize,
}

impl AdamW {
    fn new(n: usize, decay_until: usize, o: TrainOptions) -> Self {
        Self {
            o,
            m: vec![0.0; n],
            v: vec![0.0; n],
            last: vec![0; n],
            t: 0,
            decay_until,
        }
    }

    fn keep(&self) -> f32 {
        1.0 - self.o.learning_rate * self.o.weight_decay
    }

    fn step(&mut self, w: &mut [f32], grads: &mut Grads) {
        self.t += 1;
        let t = self.t;
        let o = self.o;
        let bc1 = 1.0 - o.beta1.powi(t as i32);
        let bc2 = 1.0 - o.beta2.powi(t as i32);
        let keep = self.keep();
        for &j in &grads.touched {
            let j = j as usize;
            let g = std::mem::take(&mut grads.g[j]);
            grads.mark[j] = false;
            if j < self.decay_until {
                // The steps missed since the last touch plus this one.
                w[j] *= keep.powi((t - self.last[j]) as i32);
                self.last[j] = t;
            }
            self.m[j] = o.beta1 * self.m[j] + (1.0 - o.beta1) * g;
            self.v[j] = o.beta2 * self.v[j] + (1.0 - o.beta2) * g * g;
            w[j] -= o.learning_rate * (self.m[j] / bc1) / ((self.v[j] / bc2).sqrt() + o.eps);
        }
        grads.touched.clear();
    }

    /// Applies every weight's pending decay up to the current step.
    fn catch_up(&mut self, w: &mut [f32]) {
        let keep = self.keep();
        for (wj, last) in w[..self.decay_until].iter_mut().zip(&mut self.last) {
            if *last < self.t {
                *wj *= keep.powi((self.t - *last) as i32);
                *last = self.t;
            }
        }
    }
}

/// Weighted mean log loss of `model` on `examples` (NaN when there are none).
pub(crate) fn validation_loss<M: Ctr + ?Sized>(model: &M, examples: &Examples) -> f64 {
    let p = model.predict(examples);
    let losses = eval::log_losses(examples.labels(), &p);
    let (mut sum, mut total) = (0.0, 0.0);
    for (i, l) in losses.iter().enumerate() {
        let w = examples.weight(i);
        sum += w * l;
        total += w;
    }
    sum / total
}

/// Mini-batch AdamW over shuffled `train`, one validation pass per epoch; returns the model
/// with the parameters of its best epoch.
///
/// With an empty `valid` every loss is NaN and the last epoch's parameters are kept after
/// `max_epochs`.
pub(crate) fn fit<L: Learner>(
    mut model: L,
    train: &Examples,
    valid: &Examples,
    o: &TrainOptions,
) -> (L, Fit) {
    assert_eq!(
        train.hasher(),
        valid.hasher(),
        "train and validation hashed differently"
    );
    let start = Instant::now();
    let n = model.params().len();
    let mut adam = AdamW::new(n, model.decay_until(), *o);
    let mut grads = Grads::new(n);
    let mut order: Vec<u32> = (0..train.len() as u32).collect();
    // Two streams, so changing the dropout rate does not change the shuffles.
    let mut shuffle = SplitMix64(o.seed ^ 0x5348_5546_464C_4531);
    let mut noise = SplitMix64(o.seed ^ 0x4452_4F50_4F55_5431);
    let mut best: (f64, usize, Vec<f32>) = (f64::INFINITY, 0, model.params().to_vec());
    let mut history = Vec::new();
    let mut stale = 0;
    for epoch in 1..=o.max_epochs {
        for k in (1..order.len()).rev() {
            order.swap(k, shuffle.below(k + 1));
        }
        for batch in order.chunks(o.batch_size.max(1)) {
            let total: f64 = batch.iter().map(|&i| train.weight(i as usize)).sum();
            if total <= 0.0 {
                continue;
            }
            for &i in batch {
                let i = i as usize;
                let scale = (train.weight(i) / total) as f32;
                model.accumulate(train.ids(i), train.label(i), scale, &mut grads, &mut noise);
            }
            adam.step(model.params_mut(), &mut grads);
        }
        adam.catch_up(model.params_mut());
        let loss = validation_loss(&model, valid);
        history.push(loss);
        // A NaN loss (no validation rows) counts as an improvement, so the last epoch is kept.
        if loss.is_nan() || loss < best.0 {
            best = (loss, epoch, model.params().to_vec());
            stale = 0;
        } else {
            stale += 1;
            if stale >= o.patience {
                break;
            }
        }
    }
    model.params_mut().copy_from_slice(&best.2);
    let fit = Fit {
        epochs: history.len(),
        best_epoch: best.1,
        validation_loss: history,
        seconds: start.elapsed().as_secs_f64(),
    };
    (model, fit)
}
