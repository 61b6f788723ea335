//! Off-policy evaluation on logged bandit feedback (Open Bandit style): what click rate
//! would a policy built on a click model get, judged only from logs of another policy?
//!
//! The inverse-propensity (IPS) estimate: every logged row showed action `a`, chosen by the
//! logging policy with probability `π0`, and got `click`; a new deterministic policy `π`
//! earns `V̂ = mean(1[π(x) = a] · click / π0)`. It is unbiased whenever `π0 > 0` for every
//! action `π` can choose, and its variance grows with `1/π0`: with 80 items logged uniformly
//! only one row in 80 counts, so intervals are wide unless the log is large.
//!
//! Position: clicks depend on where an item was shown as well as on the item. Train with the
//! position as a feature so the item weights do not absorb the position's effect, then score
//! every candidate at one reference position ([`PositionBias::Reference`]). Use the first
//! slot: every page has one and it is where the policy's choice matters most, so the
//! counterfactual scored is one the logs cover well. For a model in which position only adds
//! to the logit (logistic regression) the greedy choice is the same for any reference; it
//! matters for a factorization machine, where position interacts with the item.

use rayon::prelude::*;
use serde::Serialize;

use crate::stats::{Bootstrap, Delta, Estimate};

use super::{Ctr, Examples};

/// One logged impression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Logged {
    /// Index of the shown item among the policy's candidates.
    pub action: usize,
    pub click: bool,
    /// The logging policy's probability of showing this item (at this position).
    pub propensity: f64,
}

/// How the position feature is set when candidates are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionBias<'a> {
    /// Keep each row's logged position feature (or none, if the model has no position).
    AsLogged,
    /// Remove the `field` features of each row and add `id` instead: the hashed reference
    /// position (`hasher.id(field, Feature::Cat("1"))` for the first slot).
    Reference { field: &'a str, id: u32 },
}

/// The greedy policy of a click model: for each row, the candidate item with the highest
/// predicted click probability given the row's other features.
#[derive(Debug, Clone, Copy)]
pub struct GreedyPolicy<'a> {
    /// The field holding the item; its features are swapped for each candidate's.
    pub item_field: &'a str,
    /// Each candidate's hashed item id (`hasher.id(item_field, value)`).
    pub candidates: &'a [u32],
    pub position: PositionBias<'a>,
}

impl GreedyPolicy<'_> {
    /// The chosen candidate index for every row of `rows`, in order; ties go to the lower
    /// index. Parallel over rows and deterministic. Panics with no candidates.
    pub fn choose<M: Ctr + ?Sized>(&self, model: &M, rows: &Examples) -> Vec<usize> {
        assert!(!self.candidates.is_empty(), "a policy needs candidates");
        let item = rows.field_index(self.item_field);
        let position = match self.position {
            PositionBias::AsLogged => None,
            PositionBias::Reference { field, id } => Some((rows.field_index(field), id)),
        };
        (0..rows.len())
            .into_par_iter()
            .map_init(Vec::new, |ids, i| {
                ids.clear();
                for (&id, &f) in rows.ids(i).iter().zip(rows.fields(i)) {
                    let replaced = Some(f) == item || position.is_some_and(|(p, _)| Some(f) == p);
                    if !replaced {
                        ids.push(id);
                    }
                }
                if let Some((_, id)) = position {
                    ids.push(id);
                }
                ids.push(0);
                let last = ids.len() - 1;
                let mut best = (f64::NEG_INFINITY, 0);
                for (c, &cand) in self.candidates.iter().enumerate() {
                    ids[last] = cand;
                    let p = model.predict_ids(ids);
                    if p > best.0 {
                        best = (p, c);
                    }
                }
                best.1
            })
            .collect()
    }
}

/// A policy's IPS value next to the logging policy's own click rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ips {
    /// `V̂`, the estimated click rate of the evaluated policy.
    pub policy: Estimate,
    /// The logged click rate (the logging policy's value, measured directly).
    pub logged: Estimate,
    /// policy − logged, paired over rows.
    pub lift: Delta,
    /// Rows where the policy chose the logged action: the only ones that carry its value.
    pub matches: usize,
    pub rows: usize,
    /// Rows left out because their propensity is not in (0, 1] (no IPS weight exists).
    pub skipped: usize,
}

/// IPS estimate of a deterministic policy that chose `chosen[i]` for logged row `i`.
pub fn ips(logged: &[Logged], chosen: &[usize], bootstrap: &Bootstrap) -> Ips {
    assert_eq!(logged.len(), chosen.len(), "one choice per logged row");
    let (mut values, mut clicks) = (Vec::new(), Vec::new());
    let mut matches = 0;
    for (row, &c) in logged.iter().zip(chosen) {
        if !(row.propensity > 0.0 && row.propensity <= 1.0) {
            continue;
        }
        let click = row.click as u8 as f64;
        let hit = row.action == c;
        matches += hit as usize;
        values.push(if hit { click / row.propensity } else { 0.0 });
        clicks.push(click);
    }
    Ips {
        policy: bootstrap.mean(&values),
        logged: bootstrap.mean(&clicks),
        lift: bootstrap.paired(&clicks, &values),
        matches,
        rows: values.len(),
        skipped: logged.len() - values.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctr::{Feature, FeatureHasher, Fm, FmOptions, TrainOptions};
    use crate::stats::SplitMix64;

    /// Click probability of item `a` for user segment `x`: each segment has one best item,
    /// and the best items' rates differ by segment (so over-sampling a segment biases a
    /// naive average).
    fn p_click(x: usize, a: usize) -> f64 {
        if a == best_item(x) {
            0.1 + 0.05 * x as f64
        } else {
            0.02 + 0.01 * a as f64
        }
    }

    fn best_item(x: usize) -> usize {
        (x * 3) % 5
    }

    /// Logs `n` impressions of 5 items to users of 5 segments, uniformly when `skew` is 0;
    /// otherwise segment `x` sees item `(5 − x) mod 5` `1 + skew` times as often as each other
    /// item (a context-dependent π0 that favours segment 0's best item and no other's).
    fn simulate(n: usize, skew: f64, seed: u64) -> (Vec<usize>, Vec<Logged>) {
        let mut rng = SplitMix64(seed);
        let (mut xs, mut logs) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let x = rng.below(5);
            let w: Vec<f64> = (0..5)
                .map(|a| 1.0 + skew * (a + x).is_multiple_of(5) as u8 as f64)
                .collect();
            let total: f64 = w.iter().sum();
            let (mut u, mut a) = (rng.unit() * total, 0);
            while u >= w[a] {
                u -= w[a];
                a += 1;
            }
            let click = rng.unit() < p_click(x, a);
            xs.push(x);
            logs.push(Logged {
                action: a,
                click,
                propensity: w[a] / total,
            });
        }
        (xs, logs)
    }

    #[test]
    fn ips_is_unbiased_under_uniform_logging() {
        let (xs, logs) = simulate(50_000, 0.0, 1);
        // A fixed policy that is right for segments 0–2 and wrong (item 4) otherwise.
        let chosen: Vec<usize> = xs
            .iter()
            .map(|&x| if x < 3 { best_item(x) } else { 4 })
            .collect();
        let truth = xs
            .iter()
            .zip(&chosen)
            .map(|(&x, &a)| p_click(x, a))
            .sum::<f64>()
            / xs.len() as f64;
        let e = ips(&logs, &chosen, &Bootstrap::default());
        assert!(
            e.policy.ci95[0] < truth && truth < e.policy.ci95[1],
            "truth {truth}, {e:?}"
        );
        assert!((e.matches as f64 / 50_000.0 - 0.2).abs() < 0.01);
        assert!(e.lift.significant() && e.lift.delta > 0.0, "{e:?}");
    }

    #[test]
    fn ips_corrects_a_skewed_logging_policy_where_matched_rows_alone_do_not() {
        // The logger shows segment 0 its best item 9 times in 13 and other segments theirs
        // 1 in 13, so matched rows are mostly segment 0, whose best rate is the lowest.
        let (xs, logs) = simulate(50_000, 8.0, 2);
        let chosen: Vec<usize> = xs.iter().map(|&x| best_item(x)).collect();
        let truth = xs
            .iter()
            .zip(&chosen)
            .map(|(&x, &a)| p_click(x, a))
            .sum::<f64>()
            / xs.len() as f64;
        let e = ips(&logs, &chosen, &Bootstrap::default());
        assert!(
            e.policy.ci95[0] < truth && truth < e.policy.ci95[1],
            "truth {truth}, {e:?}"
        );
        let matched: Vec<f64> = logs
            .iter()
            .zip(&chosen)
            .filter(|(l, c)| l.action == **c)
            .map(|(l, _)| l.click as u8 as f64)
            .collect();
        let naive = matched.iter().sum::<f64>() / matched.len() as f64;
        assert!(
            naive < e.policy.ci95[0],
            "naive {naive} should be biased low, {e:?}"
        );
    }

    #[test]
    fn the_greedy_policy_of_a_factorization_machine_finds_the_best_items() {
        let (xs, logs) = simulate(40_000, 0.0, 3);
        let h = FeatureHasher::new(12, 0);
        let names: Vec<String> = (0..5).map(|a| format!("item{a}")).collect();
        let mut ex = Examples::new(h);
        for (&x, l) in xs.iter().zip(&logs) {
            let seg = x.to_string();
            ex.push(
                &[
                    ("user", Feature::Cat(&seg)),
                    ("item", Feature::Cat(&names[l.action])),
                ],
                l.click,
                None,
            );
        }
        let (train, valid) = (0..ex.len()).partition::<Vec<_>, _>(|i| i % 10 != 0);
        let (train, valid) = (ex.select(&train), ex.select(&valid));
        let o = TrainOptions {
            learning_rate: 0.02,
            ..Default::default()
        };
        let (fm, fit) = Fm::fit(&train, &valid, &o, &FmOptions::default());
        let candidates: Vec<u32> = names
            .iter()
            .map(|n| h.id("item", Feature::Cat(n)))
            .collect();
        let policy = GreedyPolicy {
            item_field: "item",
            candidates: &candidates,
            position: PositionBias::AsLogged,
        };
        let chosen = policy.choose(&fm, &ex);
        let right = (0..5)
            .filter(|&x| chosen[xs.iter().position(|&y| y == x).unwrap()] == best_item(x))
            .count();
        assert!(right >= 4, "{right} of 5 segments, {fit:?}");
        let e = ips(&logs, &chosen, &Bootstrap::default());
        assert!(e.lift.significant() && e.lift.delta > 0.0, "{e:?}");
    }

    /// A model that likes item 1 when the position-1 id is present and item 2 otherwise.
    struct Lookup {
        pos1: u32,
        item: [u32; 3],
    }

    impl Ctr for Lookup {
        fn name(&self) -> &str {
            "lookup"
        }
        fn predict_ids(&self, ids: &[u32]) -> f64 {
            let top = ids.contains(&self.pos1);
            let liked = if top { self.item[1] } else { self.item[2] };
            if ids.contains(&liked) { 0.9 } else { 0.1 }
        }
    }

    #[test]
    fn a_reference_position_replaces_the_logged_one() {
        let h = FeatureHasher::new(16, 0);
        let item = [0, 1, 2].map(|i| h.id("item", Feature::Cat(&i.to_string())));
        let model = Lookup {
            pos1: h.id("pos", Feature::Cat("1")),
            item,
        };
        let mut rows = Examples::new(h);
        for p in ["1", "2", "3"] {
            rows.push(
                &[
                    ("user", Feature::Cat("u")),
                    ("item", Feature::Cat("0")),
                    ("pos", Feature::Cat(p)),
                ],
                false,
                None,
            );
        }
        let logged = GreedyPolicy {
            item_field: "item",
            candidates: &item,
            position: PositionBias::AsLogged,
        };
        assert_eq!(logged.choose(&model, &rows), vec![1, 2, 2]);
        let reference = GreedyPolicy {
            position: PositionBias::Reference {
                field: "pos",
                id: model.pos1,
            },
            ..logged
        };
        assert_eq!(reference.choose(&model, &rows), vec![1, 1, 1]);
    }
}
