//! Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky
//! 2008, "Collaborative Filtering for Implicit Feedback Datasets").
//!
//! Every (user, item) cell is a target: 1 where the user had the item, 0 elsewhere, with
//! confidence `c = 1 + alpha·w` on the cells the user had (weight `w`) and 1 on the rest.
//! Each half-iteration solves all users with the items fixed, then all items with the users
//! fixed. Like the Python `implicit` library, the per-row linear system
//! `(YᵀY + λI + Yᵀ(Cᵤ − I)Y) xᵤ = YᵀCᵤpᵤ` is not solved exactly but by a few steps of
//! conjugate gradient warm-started from the previous iteration's `xᵤ` (Takács, Pilászy & Tikk
//! 2011): `YᵀY` is shared, so a step costs `f²` plus `2f` per interaction instead of the
//! `f³` of a Cholesky solve.
//!
//! Determinism: the initial factors come from [`SplitMix64`] with the configured seed, every
//! row is solved independently, and `YᵀY` is summed over fixed-size item blocks in block
//! order, so the factors do not depend on the thread count.
//!
//! The kernels run 8-wide with fused multiply-add where the CPU has AVX2, else as plain
//! loops for the build's target; see [`super::kernels`].

use std::time::Instant;

use rayon::prelude::*;

use super::data::{Csr, Interactions, Split};
use super::eval::{Metric, Recommender, Stage, evaluate, top_k};
use super::kernels::{self, KernelOp, Kernels, Portable};
use crate::stats::SplitMix64;

/// ALS settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Als {
    /// Latent dimensions (default 64).
    pub factors: usize,
    /// λ, the L2 penalty on every factor (default 0.01, `implicit`'s default).
    pub regularization: f32,
    /// Confidence slope: `c = 1 + alpha·w`. Default 1; see [`Als::default`].
    pub alpha: f32,
    /// Conjugate-gradient steps per row and half-iteration (default 3, as `implicit`).
    pub cg_steps: usize,
    /// Iteration cap (default 30).
    pub max_iterations: usize,
    /// Early stopping: stop after this many iterations without a better validation Recall@k
    /// (default 3).
    pub patience: usize,
    /// The k of the validation Recall@k (default 20).
    pub k: usize,
    pub seed: u64,
}

impl Default for Als {
    /// alpha = 1, so the confidence is `1 + w`: the caller's weights *are* the confidence
    /// scale (with the default [`super::EventWeights`], a purchase cell counts six times an
    /// unobserved one, a view twice). Hu et al.'s 40 was tuned on hours of TV watched; on the
    /// two shop-like logs measured here (UCI Online Retail, MovieLens-100k; leave-last-out,
    /// best validation Recall@20 over the early-stopped fit) 1 and 3 tie within a few users,
    /// and 10 and 40 lose on both: at 40 a user's few observed cells outweigh all the
    /// unobserved ones so much that the factors overfit them. Figures in `bench/README.md`.
    fn default() -> Self {
        Self {
            factors: 64,
            regularization: 0.01,
            alpha: 1.0,
            cg_steps: 3,
            max_iterations: 30,
            patience: 3,
            k: 20,
            seed: 42,
        }
    }
}

/// Fitted user and item factors.
#[derive(Debug, Clone, PartialEq)]
pub struct AlsModel {
    factors: usize,
    /// Users × factors, row-major.
    user_factors: Vec<f32>,
    /// Items × factors, row-major.
    item_factors: Vec<f32>,
}

impl AlsModel {
    pub fn factors(&self) -> usize {
        self.factors
    }

    pub fn user_factors(&self, user: u32) -> &[f32] {
        let f = self.factors;
        &self.user_factors[user as usize * f..][..f]
    }

    pub fn item_factors(&self, item: u32) -> &[f32] {
        let f = self.factors;
        &self.item_factors[item as usize * f..][..f]
    }

    /// The predicted preference `xᵤ·yᵢ`.
    pub fn score(&self, user: u32, item: u32) -> f32 {
        kernels::dot(self.user_factors(user), self.item_factors(item))
    }
}

impl Recommender for AlsModel {
    fn name(&self) -> &str {
        "als"
    }

    /// Scores every item (`xᵤ·yᵢ`) and keeps the top k: always `k` items when the catalog
    /// minus `exclude` has that many.
    fn recommend(&self, user: u32, k: usize, exclude: &[u32]) -> Vec<u32> {
        let scores = kernels::run(ScoreItems {
            x: self.user_factors(user),
            items: &self.item_factors,
        });
        top_k(
            scores.into_iter().enumerate().map(|(i, s)| (i as u32, s)),
            k,
            exclude,
        )
    }
}

/// `xᵤ·yᵢ` for every item, in item order.
struct ScoreItems<'a> {
    x: &'a [f32],
    items: &'a [f32],
}

impl KernelOp for ScoreItems<'_> {
    type Output = Vec<f32>;

    /// A `for` loop, not `map`: a closure is a function of its own, compiled without the
    /// AVX2 context, and every kernel call in it would stay a call.
    #[inline(always)]
    fn run<K: Kernels>(self, k: K) -> Vec<f32> {
        let mut scores = Vec::with_capacity(self.items.len() / self.x.len().max(1));
        for y in self.items.chunks_exact(self.x.len()) {
            scores.push(k.dot(self.x, y));
        }
        scores
    }
}

/// An early-stopped fit and its history.
#[derive(Debug, Clone)]
pub struct AlsFit {
    /// The factors of the best iteration on validation.
    pub model: AlsModel,
    /// 1-based iteration the model is from.
    pub best_iteration: usize,
    /// Validation Recall@k after each iteration run (its length is the iterations run).
    pub validation_recall: Vec<f64>,
    /// Seconds in the ALS sweeps alone (what a fixed-iteration benchmark compares).
    pub train_seconds: f64,
    /// Seconds spent evaluating on validation after each iteration.
    pub validation_seconds: f64,
}

impl Als {
    /// Fits on `split.train`, evaluating validation Recall@k after every iteration, and keeps
    /// the best iteration's factors (a tie is no improvement: the earlier iteration stays).
    /// Stops after `patience` iterations without improvement or at `max_iterations`. With no
    /// validation users there is nothing to stop on: it runs `max_iterations` and keeps the
    /// last.
    pub fn fit(&self, split: &Split) -> AlsFit {
        let mut state = State::new(self, &split.train);
        let mut stop = EarlyStop::new(self.patience);
        let mut best = state.model();
        let mut history = Vec::new();
        let (mut train_seconds, mut validation_seconds) = (0.0, 0.0);
        for iteration in 1..=self.max_iterations {
            let t = Instant::now();
            state.iterate(self);
            train_seconds += t.elapsed().as_secs_f64();
            if split.validation.is_empty() {
                best = state.model();
                stop.best_iteration = iteration;
                continue;
            }
            let t = Instant::now();
            let current = state.model();
            let recall = evaluate(&current, split, Stage::Validation, self.k).mean(Metric::Recall);
            validation_seconds += t.elapsed().as_secs_f64();
            history.push(recall);
            match stop.observe(iteration, recall) {
                Verdict::Improved => best = current,
                Verdict::Continue => {}
                Verdict::Stop => break,
            }
        }
        AlsFit {
            model: best,
            best_iteration: stop.best_iteration,
            validation_recall: history,
            train_seconds,
            validation_seconds,
        }
    }

    /// Exactly `iterations` iterations on `train`, no validation: the benchmark's fit.
    pub fn fit_iterations(&self, train: &Interactions, iterations: usize) -> AlsModel {
        let mut state = State::new(self, train);
        for _ in 0..iterations {
            state.iterate(self);
        }
        state.model()
    }
}

/// The factors being fitted and the two views of the train matrix.
struct State<'a> {
    factors: usize,
    user_items: &'a Csr,
    item_users: &'a Csr,
    x: Vec<f32>,
    y: Vec<f32>,
}

impl<'a> State<'a> {
    /// Factors start uniform in [0, 0.01) (as `implicit`), users first, then items.
    fn new(als: &Als, train: &'a Interactions) -> Self {
        let f = als.factors;
        let mut rng = SplitMix64(als.seed);
        let mut init = |rows: u32| -> Vec<f32> {
            (0..rows as usize * f)
                .map(|_| rng.unit() as f32 * 0.01)
                .collect()
        };
        let x = init(train.users());
        let y = init(train.items());
        Self {
            factors: f,
            user_items: train.user_items(),
            item_users: train.item_users(),
            x,
            y,
        }
    }

    fn iterate(&mut self, als: &Als) {
        solve_rows(self.user_items, &mut self.x, &self.y, self.factors, als);
        solve_rows(self.item_users, &mut self.y, &self.x, self.factors, als);
    }

    fn model(&self) -> AlsModel {
        AlsModel {
            factors: self.factors,
            user_factors: self.x.clone(),
            item_factors: self.y.clone(),
        }
    }
}

/// One half-iteration: every row of `x` by conjugate gradient against the fixed `y`.
fn solve_rows(matrix: &Csr, x: &mut [f32], y: &[f32], f: usize, als: &Als) {
    let mut yty = gram(y, f);
    for d in 0..f {
        yty[d * f + d] += als.regularization;
    }
    x.par_chunks_mut(f).enumerate().for_each_init(
        || vec![0f32; 3 * f],
        |scratch, (row, xu)| {
            let (cols, weights) = matrix.row(row as u32);
            kernels::run(CgRow {
                x: xu,
                cols,
                weights,
                y,
                yty: &yty,
                als,
                scratch,
            });
        },
    );
}

/// A few conjugate-gradient steps on `(YᵀY + λI + Σ (c−1) yᵢyᵢᵀ) x = Σ c yᵢ`, from the current
/// `x` (`implicit`'s `least_squares_cg`, step for step). `scratch` holds `3f` floats.
struct CgRow<'a> {
    x: &'a mut [f32],
    cols: &'a [u32],
    weights: &'a [f32],
    y: &'a [f32],
    yty: &'a [f32],
    als: &'a Als,
    scratch: &'a mut [f32],
}

impl KernelOp for CgRow<'_> {
    type Output = ();

    #[inline(always)]
    fn run<K: Kernels>(self, k: K) {
        let Self {
            x,
            cols,
            weights,
            y,
            yty,
            als,
            scratch,
        } = self;
        let f = x.len();
        let (r, rest) = scratch.split_at_mut(f);
        let (p, ap) = rest.split_at_mut(f);
        // r = b − A x
        k.matvec(yty, x, r);
        r.iter_mut().for_each(|v| *v = -*v);
        for (&i, &w) in cols.iter().zip(weights) {
            let yi = &y[i as usize * f..][..f];
            let c = 1.0 + als.alpha * w;
            k.axpy(c - (c - 1.0) * k.dot(yi, x), yi, r);
        }
        p.copy_from_slice(r);
        let mut rs_old = k.dot(r, r);
        if rs_old < 1e-20 {
            return;
        }
        for _ in 0..als.cg_steps {
            k.matvec(yty, p, ap);
            for (&i, &w) in cols.iter().zip(weights) {
                let yi = &y[i as usize * f..][..f];
                k.axpy(als.alpha * w * k.dot(yi, p), yi, ap);
            }
            let step = rs_old / k.dot(p, ap);
            k.axpy(step, p, x);
            k.axpy(-step, ap, r);
            let rs_new = k.dot(r, r);
            if rs_new < 1e-20 {
                break;
            }
            let beta = rs_new / rs_old;
            p.iter_mut()
                .zip(r.iter())
                .for_each(|(p, &r)| *p = r + beta * *p);
            rs_old = rs_new;
        }
    }
}

/// Rows per block of the `YᵀY` sum: blocks are summed in parallel, then added in block order.
const GRAM_BLOCK: usize = 512;

/// `YᵀY` (f × f, row-major) of row-major `y`.
fn gram(y: &[f32], f: usize) -> Vec<f32> {
    let partials: Vec<Vec<f32>> = y
        .par_chunks(GRAM_BLOCK * f)
        .map(|block| {
            let mut g = vec![0f32; f * f];
            for row in block.chunks_exact(f) {
                for (a, &ya) in row.iter().enumerate() {
                    Portable.axpy(ya, row, &mut g[a * f..][..f]);
                }
            }
            g
        })
        .collect();
    let mut g = vec![0f32; f * f];
    for p in partials {
        g.iter_mut().zip(p).for_each(|(g, p)| *g += p);
    }
    g
}

/// Patience bookkeeping, separate so its rule can be tested on planted sequences.
#[derive(Debug)]
struct EarlyStop {
    patience: usize,
    best: f64,
    best_iteration: usize,
    since_best: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Improved,
    Continue,
    Stop,
}

impl EarlyStop {
    fn new(patience: usize) -> Self {
        Self {
            patience,
            best: f64::NEG_INFINITY,
            best_iteration: 0,
            since_best: 0,
        }
    }

    /// Strictly better than the best so far is an improvement; `patience` observations in a
    /// row without one stop the fit.
    fn observe(&mut self, iteration: usize, score: f64) -> Verdict {
        if score > self.best {
            self.best = score;
            self.best_iteration = iteration;
            self.since_best = 0;
            return Verdict::Improved;
        }
        self.since_best += 1;
        if self.since_best >= self.patience {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recs::data::{Event, SplitRule};
    use crate::recs::popularity::Popularity;

    #[test]
    fn dot_and_gram_match_naive_sums() {
        let mut rng = SplitMix64(1);
        let f = 21; // not a multiple of the 16 lanes
        let y: Vec<f32> = (0..1100 * f).map(|_| rng.unit() as f32 - 0.5).collect();
        let naive_dot: f32 = y[..f].iter().zip(&y[f..2 * f]).map(|(a, b)| a * b).sum();
        assert!((Portable.dot(&y[..f], &y[f..2 * f]) - naive_dot).abs() < 1e-5);
        let g = gram(&y, f);
        for (a, b) in [(0, 0), (3, 17), (20, 5)] {
            let want: f64 = y
                .chunks_exact(f)
                .map(|r| f64::from(r[a]) * f64::from(r[b]))
                .sum();
            assert!((f64::from(g[a * f + b]) - want).abs() < 1e-3, "({a}, {b})");
        }
    }

    #[test]
    // Textbook Gaussian elimination reads clearest with indexes.
    #[allow(clippy::needless_range_loop)]
    fn cg_converges_to_the_exact_solution() {
        // Enough CG steps on an f-dimensional system reach the exact least-squares answer;
        // compare with the normal equations solved by Gaussian elimination.
        let f = 4;
        let mut rng = SplitMix64(9);
        let y: Vec<f32> = (0..6 * f).map(|_| rng.unit() as f32).collect();
        let (cols, weights) = (vec![0u32, 2, 5], vec![1.0f32, 3.0, 2.0]);
        let als = Als {
            factors: f,
            cg_steps: 40,
            alpha: 2.0,
            regularization: 0.1,
            ..Als::default()
        };
        let mut yty = gram(&y, f);
        for d in 0..f {
            yty[d * f + d] += als.regularization;
        }
        let mut x = vec![0.0f32; f];
        kernels::run(CgRow {
            x: &mut x,
            cols: &cols,
            weights: &weights,
            y: &y,
            yty: &yty,
            als: &als,
            scratch: &mut vec![0.0; 3 * f],
        });
        // Dense A and b in f64.
        let mut a: Vec<Vec<f64>> = (0..f)
            .map(|r| (0..f).map(|c| f64::from(yty[r * f + c])).collect())
            .collect();
        let mut b = vec![0f64; f];
        for (&i, &w) in cols.iter().zip(&weights) {
            let yi = &y[i as usize * f..][..f];
            let c = 1.0 + f64::from(als.alpha * w);
            for r in 0..f {
                b[r] += c * f64::from(yi[r]);
                for s in 0..f {
                    a[r][s] += (c - 1.0) * f64::from(yi[r]) * f64::from(yi[s]);
                }
            }
        }
        for col in 0..f {
            for row in col + 1..f {
                let m = a[row][col] / a[col][col];
                for s in col..f {
                    a[row][s] -= m * a[col][s];
                }
                b[row] -= m * b[col];
            }
        }
        let mut exact = vec![0f64; f];
        for row in (0..f).rev() {
            let known: f64 = (row + 1..f).map(|s| a[row][s] * exact[s]).sum();
            exact[row] = (b[row] - known) / a[row][row];
        }
        for d in 0..f {
            assert!(
                (f64::from(x[d]) - exact[d]).abs() < 1e-3,
                "{x:?} vs {exact:?}"
            );
        }
    }

    /// Three communities of 30 users; each community's users had a random 10 of the
    /// community's own 20 items, at increasing times. Community 0's items are also the most
    /// popular overall (each of its users had 14), so popularity serves community 0 and
    /// fails the others.
    fn planted() -> Split {
        let mut rng = SplitMix64(17);
        let mut events = Vec::new();
        for user in 0..90u32 {
            let block = user / 30;
            let have = if block == 0 { 14 } else { 10 };
            let mut items: Vec<u32> = (0..20).map(|i| block * 20 + i).collect();
            for t in 0..have {
                let at = t + rng.below(items.len() - t);
                items.swap(t, at);
                events.push(Event {
                    user,
                    item: items[t],
                    weight: 1.0,
                    time: t as i64,
                });
            }
        }
        Split::new(90, 60, &events, SplitRule::LeaveLastOut)
    }

    fn small() -> Als {
        Als {
            factors: 8,
            max_iterations: 10,
            ..Als::default()
        }
    }

    #[test]
    fn als_recovers_planted_communities_better_than_popularity() {
        let split = planted();
        let fit = small().fit(&split);
        let als = evaluate(&fit.model, &split, Stage::Test, 20).mean(Metric::Recall);
        let pop =
            evaluate(&Popularity::fit(&split.train), &split, Stage::Test, 20).mean(Metric::Recall);
        // Popularity's top 20 holds community 0's items and a few others: about a third of
        // the users can be hit. ALS only has to rank a user's own community first.
        assert!(pop < 0.6, "popularity {pop}");
        assert!(als > 0.9, "als {als}");
        assert!(als > pop + 0.3, "als {als} vs popularity {pop}");
        // And it ranks a user's own community above the others.
        let (u0, u2) = (0, 60);
        assert!(fit.model.score(u0, 5) > fit.model.score(u0, 45));
        assert!(fit.model.score(u2, 45) > fit.model.score(u2, 5));
    }

    #[test]
    fn early_stopping_keeps_the_best_iteration() {
        let split = planted();
        let fit = Als {
            patience: 2,
            ..small()
        }
        .fit(&split);
        let history = &fit.validation_recall;
        let best = history.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // The kept model is the first iteration that reached the best validation recall...
        let first_best = history.iter().position(|&r| r == best).unwrap() + 1;
        assert_eq!(fit.best_iteration, first_best);
        let again = evaluate(&fit.model, &split, Stage::Validation, 20).mean(Metric::Recall);
        assert_eq!(again, best);
        // ...and the fit stopped `patience` iterations after it, or at the cap.
        assert!(history.len() == fit.best_iteration + 2 || history.len() == 10);
        // The kept factors are those of a fixed fit of that many iterations.
        let fixed = small().fit_iterations(&split.train, fit.best_iteration);
        assert_eq!(fixed, fit.model);
    }

    #[test]
    fn early_stop_rule_on_a_planted_sequence() {
        let mut stop = EarlyStop::new(3);
        let verdicts: Vec<Verdict> = [0.1, 0.3, 0.2, 0.3, 0.29]
            .iter()
            .enumerate()
            .map(|(i, &s)| stop.observe(i + 1, s))
            .collect();
        use Verdict::*;
        assert_eq!(verdicts, vec![Improved, Improved, Continue, Continue, Stop]);
        assert_eq!((stop.best, stop.best_iteration), (0.3, 2));
    }

    #[test]
    fn the_same_seed_gives_the_same_factors_whatever_the_threads() {
        let split = planted();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let a = one.install(|| small().fit_iterations(&split.train, 3));
        let b = three.install(|| small().fit_iterations(&split.train, 3));
        assert_eq!(a, b);
        let c = small().fit_iterations(&split.train, 3);
        let d = Als { seed: 7, ..small() }.fit_iterations(&split.train, 3);
        assert_eq!(a, c);
        assert_ne!(a, d);
    }
}
