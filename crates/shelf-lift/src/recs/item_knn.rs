//! Item-item collaborative filtering: "shoppers who had this also had".
//!
//! Similarity is the cosine over the *binarized* train matrix (did the user have the item at
//! all), with shrinkage: `sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i|)·sqrt(|U_j|) + shrink)`.
//!
//! Why binarized rather than weighted: the weights are the caller's mapping of event kinds and
//! repeat counts, and on retail logs a few wholesale buyers repeat the same lines hundreds of
//! times; weighted cosines let those few users decide the neighbourhoods. Binarized co-counts
//! give every shopper one vote per pair (the classic item-kNN of Deshpande & Karypis 2004) and
//! make the similarity independent of the weight scale, so two data versions that differ only
//! in weights compare on what they change in *who had what*. ALS is the model that uses the
//! weights (as confidences).
//!
//! Why shrinkage: a pair seen together by one user of two gets cosine 1 otherwise; `shrink`
//! pulls similarities backed by few users towards 0.

use std::collections::HashMap;

use rayon::prelude::*;

use super::data::{Csr, Interactions};
use super::eval::{Recommender, top_k};

/// Item-kNN settings. The model keeps, per item, its `neighbours` most similar items.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemKnn {
    /// Neighbours kept per item (default 100).
    pub neighbours: usize,
    /// Added to the cosine's denominator (default 10: a pair needs tens of shared users before
    /// its similarity gets near its unshrunk value).
    pub shrink: f32,
}

impl Default for ItemKnn {
    fn default() -> Self {
        Self {
            neighbours: 100,
            shrink: 10.0,
        }
    }
}

/// A fitted item-kNN: the top neighbours of every train item.
#[derive(Debug, Clone)]
pub struct ItemKnnModel {
    /// Items × items, at most `neighbours` entries per row, never the diagonal.
    similar: Csr,
    /// The train matrix the scores are computed from (the user's items).
    user_items: Csr,
}

impl ItemKnn {
    /// Computes every item's neighbours in parallel without an items × items matrix: for item
    /// i, a per-thread dense counter over items is filled from the users who had i and their
    /// items, then cleared through the list of touched items. Work is the sum over users of
    /// their item count squared; memory one counter per thread plus the kept neighbours.
    pub fn fit(&self, train: &Interactions) -> ItemKnnModel {
        let items = train.items();
        let (user_items, item_users) = (train.user_items(), train.item_users());
        let norm: Vec<f32> = (0..items)
            .map(|i| (item_users.indices(i).len() as f32).sqrt())
            .collect();
        let rows: Vec<Vec<(u32, f32)>> = (0..items)
            .into_par_iter()
            .map_init(
                || (vec![0u32; items as usize], Vec::<u32>::new()),
                |(count, touched), i| {
                    for &u in item_users.indices(i) {
                        for &j in user_items.indices(u) {
                            if count[j as usize] == 0 {
                                touched.push(j);
                            }
                            count[j as usize] += 1;
                        }
                    }
                    let mut row: Vec<(u32, f32)> = Vec::with_capacity(touched.len());
                    for &j in touched.iter() {
                        let co = std::mem::take(&mut count[j as usize]);
                        if j != i {
                            let s = co as f32 / (norm[i as usize] * norm[j as usize] + self.shrink);
                            row.push((j, s));
                        }
                    }
                    touched.clear();
                    keep_best(&mut row, self.neighbours);
                    row
                },
            )
            .collect();
        let triples: Vec<(u32, u32, f32)> = rows
            .iter()
            .enumerate()
            .flat_map(|(i, row)| row.iter().map(move |&(j, s)| (i as u32, j, s)))
            .collect();
        ItemKnnModel {
            similar: Csr::from_triples(items, items, &triples),
            user_items: user_items.clone(),
        }
    }
}

/// Keeps the `k` most similar (ties: lower index) in any order.
fn keep_best(row: &mut Vec<(u32, f32)>, k: usize) {
    if row.len() > k {
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if k > 0 {
            row.select_nth_unstable_by(k - 1, order);
        }
        row.truncate(k);
    }
}

impl ItemKnnModel {
    /// The kept similarity of `j` to `i` (0 when `j` is not among `i`'s neighbours).
    pub fn similarity(&self, i: u32, j: u32) -> f32 {
        let (cols, vals) = self.similar.row(i);
        cols.binary_search(&j).map_or(0.0, |at| vals[at])
    }

    /// The kept neighbours of `i`, by item index.
    pub fn neighbours(&self, i: u32) -> &[u32] {
        self.similar.indices(i)
    }
}

impl Recommender for ItemKnnModel {
    fn name(&self) -> &str {
        "item-knn"
    }

    /// Score of item j = sum of sim(i, j) over the user's train items i. Only items in some
    /// neighbourhood get a score, so fewer than `k` may come back.
    fn recommend(&self, user: u32, k: usize, exclude: &[u32]) -> Vec<u32> {
        let mut score: HashMap<u32, f32> = HashMap::new();
        for &i in self.user_items.indices(user) {
            let (cols, vals) = self.similar.row(i);
            for (&j, &s) in cols.iter().zip(vals) {
                *score.entry(j).or_insert(0.0) += s;
            }
        }
        top_k(score, k, exclude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recs::data::Event;
    use crate::stats::SplitMix64;

    fn matrix(users: u32, items: u32, pairs: &[(u32, u32, f32)]) -> Interactions {
        let events: Vec<Event> = pairs
            .iter()
            .map(|&(user, item, weight)| Event {
                user,
                item,
                weight,
                time: 0,
            })
            .collect();
        Interactions::from_events(users, items, &events)
    }

    /// u0 {0, 1}, u1 {0, 1, 2 (weight 5)}, u2 {1, 2}, u3 {0}. Item user counts 3, 3, 2;
    /// co-counts (0,1) = 2, (0,2) = 1, (1,2) = 2.
    fn toy() -> Interactions {
        matrix(
            4,
            3,
            &[
                (0, 0, 1.0),
                (0, 1, 1.0),
                (1, 0, 1.0),
                (1, 1, 1.0),
                (1, 2, 5.0),
                (2, 1, 1.0),
                (2, 2, 1.0),
                (3, 0, 1.0),
            ],
        )
    }

    #[test]
    fn cosine_by_hand() {
        let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-6;
        let m = ItemKnn {
            neighbours: 100,
            shrink: 0.0,
        }
        .fit(&toy());
        // Binarized: u1's weight 5 on item 2 counts once.
        assert!(close(m.similarity(0, 1), 2.0 / 3.0));
        assert!(close(m.similarity(0, 2), 1.0 / 6f64.sqrt()));
        assert!(close(m.similarity(1, 2), 2.0 / 6f64.sqrt()));
        assert!(close(m.similarity(2, 1), 2.0 / 6f64.sqrt()));
        assert_eq!(m.similarity(1, 1), 0.0);

        let shrunk = ItemKnn {
            neighbours: 1,
            shrink: 1.0,
        }
        .fit(&toy());
        assert!(close(shrunk.similarity(0, 1), 2.0 / 4.0));
        // Item 2's best neighbour is 1 (2/(√6+1) = 0.58 against 1/(√6+1) for item 0).
        assert_eq!(shrunk.neighbours(2), &[1]);
        assert!(close(shrunk.similarity(2, 1), 2.0 / (6f64.sqrt() + 1.0)));
    }

    #[test]
    fn scores_sum_the_users_item_similarities() {
        let t = toy();
        let m = ItemKnn {
            neighbours: 100,
            shrink: 0.0,
        }
        .fit(&t);
        // u3 has item 0: item 1 (2/3) before item 2 (0.41).
        assert_eq!(m.recommend(3, 5, t.items_of(3)), vec![1, 2]);
        // u2 has {1, 2}: item 0 scores 2/3 + 1/√6 = 1.07; nothing else is left.
        assert_eq!(m.recommend(2, 5, t.items_of(2)), vec![0]);
        // Unexcluded, items 1 and 2 score 2/√6 each (from each other): tie → lower index.
        assert_eq!(m.recommend(2, 5, &[]), vec![0, 1, 2]);
    }

    #[test]
    fn matches_a_dense_oracle_on_random_data() {
        let (users, items) = (40u32, 25u32);
        let mut rng = SplitMix64(5);
        let mut pairs = Vec::new();
        for u in 0..users {
            for i in 0..items {
                if rng.unit() < 0.2 {
                    pairs.push((u, i, 1.0 + rng.below(3) as f32));
                }
            }
        }
        let t = matrix(users, items, &pairs);
        let (k, shrink) = (4, 2.0f32);
        let m = ItemKnn {
            neighbours: k,
            shrink,
        }
        .fit(&t);
        let has = |u: u32, i: u32| t.items_of(u).binary_search(&i).is_ok();
        for i in 0..items {
            // Naive: every other item's shrunk cosine from dense columns.
            let mut all: Vec<(u32, f32)> = (0..items)
                .filter(|&j| j != i)
                .map(|j| {
                    let co = (0..users).filter(|&u| has(u, i) && has(u, j)).count() as f32;
                    let ni = (0..users).filter(|&u| has(u, i)).count() as f32;
                    let nj = (0..users).filter(|&u| has(u, j)).count() as f32;
                    (j, co / (ni.sqrt() * nj.sqrt() + shrink))
                })
                .filter(|p| p.1 > 0.0)
                .collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            let mut want: Vec<u32> = all.iter().map(|p| p.0).collect();
            want.sort_unstable();
            assert_eq!(m.neighbours(i), want.as_slice(), "item {i}");
            for (j, s) in all {
                assert!((m.similarity(i, j) - s).abs() < 1e-6);
            }
        }
    }
}
