//! Multinomial logistic regression, fitted by Newton's method with L2 regularisation.
//!
//! Small on purpose: 17 standardised features and 2–5 classes make at most 90 weights, so the
//! exact Hessian is cheap and Newton converges in a handful of steps with no learning rate to
//! tune. Sums over examples are taken per chunk in parallel and added in chunk order, so a fit
//! is bit-for-bit the same on any number of threads.

use rayon::prelude::*;

use super::features::{COUNT, Vector};

/// Inputs per example: the features and a bias.
const D: usize = COUNT + 1;
const CHUNK: usize = 2048;
const MAX_STEPS: usize = 30;

/// A fitted model.
#[derive(Debug, Clone)]
pub struct Logistic {
    classes: usize,
    mean: Vector,
    scale: Vector,
    /// `classes × D`, row-major.
    weights: Vec<f64>,
}

fn standardised(x: &Vector, mean: &Vector, scale: &Vector) -> [f64; D] {
    let mut z = [1.0; D];
    for f in 0..COUNT {
        z[f] = (x[f] - mean[f]) / scale[f];
    }
    z
}

fn softmax(scores: &mut [f64]) {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// Loss, gradient and (upper triangle of the) Hessian summed over a set of examples.
struct Sums {
    loss: f64,
    grad: Vec<f64>,
    hess: Vec<f64>,
}

impl Logistic {
    /// Fits on `xs` with classes `ys` (each `< classes`); `l2` is the penalty on the mean loss.
    pub fn fit(xs: &[Vector], ys: &[usize], classes: usize, l2: f64) -> Logistic {
        let n = xs.len().max(1) as f64;
        let mut mean = [0.0; COUNT];
        let mut scale = [1.0; COUNT];
        for f in 0..COUNT {
            mean[f] = xs.iter().map(|x| x[f]).sum::<f64>() / n;
            let var = xs.iter().map(|x| (x[f] - mean[f]).powi(2)).sum::<f64>() / n;
            // A constant feature stays 0 after centring.
            scale[f] = if var > 1e-12 { var.sqrt() } else { 1.0 };
        }
        let zs: Vec<[f64; D]> = xs.iter().map(|x| standardised(x, &mean, &scale)).collect();
        let mut model = Logistic {
            classes,
            mean,
            scale,
            weights: vec![0.0; classes * D],
        };
        let p = classes * D;
        let objective = |m: &Logistic, s: &Sums| {
            s.loss / n + 0.5 * l2 * m.weights.iter().map(|w| w * w).sum::<f64>()
        };
        let mut sums = model.sums(&zs, ys, true);
        for _ in 0..MAX_STEPS {
            // Mean gradient and Hessian plus the penalty's.
            let mut h = vec![0.0; p * p];
            for a in 0..p {
                for b in a..p {
                    let v = sums.hess[a * p + b] / n + if a == b { l2 } else { 0.0 };
                    h[a * p + b] = v;
                    h[b * p + a] = v;
                }
            }
            let g: Vec<f64> = (0..p)
                .map(|a| sums.grad[a] / n + l2 * model.weights[a])
                .collect();
            let Some(step) = solve(h, g, p) else { break };
            let before = objective(&model, &sums);
            // Newton's step, halved until the objective does not rise.
            let mut t = 1.0;
            let accepted = loop {
                let mut trial = model.clone();
                for (w, s) in trial.weights.iter_mut().zip(&step) {
                    *w -= t * s;
                }
                let trial_sums = trial.sums(&zs, ys, true);
                if objective(&trial, &trial_sums) <= before + 1e-12 {
                    break Some((trial, trial_sums));
                }
                t /= 2.0;
                if t < 1e-4 {
                    break None;
                }
            };
            let Some((next, next_sums)) = accepted else {
                break;
            };
            let moved = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
            model = next;
            sums = next_sums;
            if moved < 1e-6 {
                break;
            }
        }
        model
    }

    fn sums(&self, zs: &[[f64; D]], ys: &[usize], hessian: bool) -> Sums {
        let k = self.classes;
        let p = k * D;
        let parts: Vec<Sums> = zs
            .par_chunks(CHUNK)
            .zip(ys.par_chunks(CHUNK))
            .map(|(zc, yc)| {
                let mut s = Sums {
                    loss: 0.0,
                    grad: vec![0.0; p],
                    hess: if hessian {
                        vec![0.0; p * p]
                    } else {
                        Vec::new()
                    },
                };
                let mut probs = vec![0.0; k];
                for (z, &y) in zc.iter().zip(yc) {
                    self.scores(z, &mut probs);
                    softmax(&mut probs);
                    s.loss -= probs[y].max(1e-300).ln();
                    for (a, (pa, g)) in probs.iter().zip(s.grad.chunks_mut(D)).enumerate() {
                        let r = pa - f64::from(u8::from(a == y));
                        for (g, zi) in g.iter_mut().zip(z) {
                            *g += r * zi;
                        }
                    }
                    if !hessian {
                        continue;
                    }
                    for a in 0..k {
                        for b in a..k {
                            let c = probs[a] * (f64::from(u8::from(a == b)) - probs[b]);
                            for (i, zi) in z.iter().enumerate() {
                                let ci = c * zi;
                                let row = (a * D + i) * p + b * D;
                                // Within a diagonal block only the upper triangle is needed.
                                let from = if a == b { i } else { 0 };
                                for (h, zj) in
                                    s.hess[row + from..row + D].iter_mut().zip(&z[from..])
                                {
                                    *h += ci * zj;
                                }
                            }
                        }
                    }
                }
                s
            })
            .collect();
        let mut total = Sums {
            loss: 0.0,
            grad: vec![0.0; p],
            hess: if hessian {
                vec![0.0; p * p]
            } else {
                Vec::new()
            },
        };
        for part in parts {
            total.loss += part.loss;
            for (t, v) in total.grad.iter_mut().zip(&part.grad) {
                *t += v;
            }
            for (t, v) in total.hess.iter_mut().zip(&part.hess) {
                *t += v;
            }
        }
        total
    }

    fn scores(&self, z: &[f64; D], out: &mut [f64]) {
        for (a, o) in out.iter_mut().enumerate() {
            let w = &self.weights[a * D..(a + 1) * D];
            *o = w.iter().zip(z).map(|(w, z)| w * z).sum();
        }
    }

    /// Class probabilities for one example.
    pub fn predict(&self, x: &Vector) -> Vec<f64> {
        let z = standardised(x, &self.mean, &self.scale);
        let mut p = vec![0.0; self.classes];
        self.scores(&z, &mut p);
        softmax(&mut p);
        p
    }
}

/// Solves `h · x = g` for a symmetric positive definite `h` (Cholesky); `None` if it is not.
fn solve(mut h: Vec<f64>, g: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut d = h[j * n + j];
        for k in 0..j {
            d -= h[j * n + k] * h[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        h[j * n + j] = d;
        for i in j + 1..n {
            let mut v = h[i * n + j];
            for k in 0..j {
                v -= h[i * n + k] * h[j * n + k];
            }
            h[i * n + j] = v / d;
        }
    }
    let mut y = g;
    for i in 0..n {
        for k in 0..i {
            y[i] -= h[i * n + k] * y[k];
        }
        y[i] /= h[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= h[k * n + i] * y[k];
        }
        y[i] /= h[i * n + i];
    }
    Some(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_ordering_and_stays_finite() {
        // Class follows feature 2 (coverage): 0 → class 0, 0.5 → 1, 1 → 2, with some noise.
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..300 {
            let class = i % 3;
            let mut x = [0.0; COUNT];
            x[2] = class as f64 / 2.0 + ((i * 7919) % 13) as f64 / 100.0;
            x[5] = (i % 2) as f64;
            xs.push(x);
            ys.push(class);
        }
        let m = Logistic::fit(&xs, &ys, 3, 1e-3);
        let right = xs
            .iter()
            .zip(&ys)
            .filter(|(x, y)| {
                let p = m.predict(x);
                p.iter().all(|v| v.is_finite()) && p[**y] == p.iter().copied().fold(0.0, f64::max)
            })
            .count();
        assert!(right >= 290, "{right} of 300 right");
        assert_eq!(
            m.predict(&xs[0]),
            Logistic::fit(&xs, &ys, 3, 1e-3).predict(&xs[0])
        );
    }

    #[test]
    fn cholesky_solves() {
        let h = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve(h, vec![2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }
}
