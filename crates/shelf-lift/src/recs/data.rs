//! Interactions (users × items, CSR both ways) and the train / validation / test split.
//!
//! The split is deterministic by construction and needs no randomness: orders are total
//! (time, then item index), so the same log gives the same split on every machine.

/// One event, already mapped by the caller: dense user and item indexes, a weight for the
/// event type (see [`EventWeights`]) and a time in any monotone unit (seconds, days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub user: u32,
    pub item: u32,
    pub weight: f32,
    pub time: i64,
}

/// The kinds of implicit feedback a shop log records, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    View,
    Cart,
    Purchase,
}

/// Weights for the event kinds: view 1, cart 3, purchase 5 by default.
///
/// Why these: each step is rarer and says more about intent than the one before (a cart costs
/// the shopper a decision, a purchase money), so it should count for several views, but not so
/// many that one purchase drowns a user's whole browsing history. With ALS's confidence
/// `1 + alpha·w`, a purchase weighs as much as five views of the same item. The order of the
/// weights matters more than their exact values; what matters most is that the two data
/// versions of a comparison use the *same* weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventWeights {
    pub view: f32,
    pub cart: f32,
    pub purchase: f32,
}

impl Default for EventWeights {
    fn default() -> Self {
        Self {
            view: 1.0,
            cart: 3.0,
            purchase: 5.0,
        }
    }
}

impl EventWeights {
    pub fn weight(&self, kind: EventKind) -> f32 {
        match kind {
            EventKind::View => self.view,
            EventKind::Cart => self.cart,
            EventKind::Purchase => self.purchase,
        }
    }
}

/// A compressed sparse row matrix of `f32`. Guarantees: within each row the column indexes are
/// strictly increasing (no duplicates), so a row's indexes can be binary-searched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    cols: u32,
}

impl Csr {
    /// Builds from `(row, col, value)` triples with distinct `(row, col)` pairs, in any order.
    ///
    /// Panics when a pair repeats or an index is out of range: that is a caller bug.
    pub fn from_triples(rows: u32, cols: u32, triples: &[(u32, u32, f32)]) -> Self {
        let mut indptr = vec![0usize; rows as usize + 1];
        for &(r, c, _) in triples {
            assert!(
                r < rows && c < cols,
                "entry ({r}, {c}) outside {rows} × {cols}"
            );
            indptr[r as usize + 1] += 1;
        }
        for r in 0..rows as usize {
            indptr[r + 1] += indptr[r];
        }
        let mut next = indptr.clone();
        let mut entries = vec![(0u32, 0f32); triples.len()];
        for &(r, c, v) in triples {
            entries[next[r as usize]] = (c, v);
            next[r as usize] += 1;
        }
        for r in 0..rows as usize {
            let row = &mut entries[indptr[r]..indptr[r + 1]];
            row.sort_unstable_by_key(|e| e.0);
            assert!(
                row.windows(2).all(|w| w[0].0 < w[1].0),
                "row {r} repeats a column"
            );
        }
        let (indices, values) = entries.into_iter().unzip();
        Self {
            indptr,
            indices,
            values,
            cols,
        }
    }

    pub fn rows(&self) -> u32 {
        (self.indptr.len() - 1) as u32
    }

    pub fn cols(&self) -> u32 {
        self.cols
    }

    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Column indexes (increasing) and values of row `r`.
    pub fn row(&self, r: u32) -> (&[u32], &[f32]) {
        let span = self.indptr[r as usize]..self.indptr[r as usize + 1];
        (&self.indices[span.clone()], &self.values[span])
    }

    /// Column indexes of row `r`, increasing.
    pub fn indices(&self, r: u32) -> &[u32] {
        self.row(r).0
    }

    /// The same entries, columns as rows.
    pub fn transpose(&self) -> Self {
        let triples: Vec<(u32, u32, f32)> = (0..self.rows())
            .flat_map(|r| {
                let (cols, vals) = self.row(r);
                cols.iter().zip(vals).map(move |(&c, &v)| (c, r, v))
            })
            .collect();
        Self::from_triples(self.cols, self.rows(), &triples)
    }
}

/// Users × items with summed weights, held as CSR both ways (built once).
///
/// Repeated (user, item) events sum their weights and keep their last time.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions {
    user_items: Csr,
    item_users: Csr,
    /// Last time of each `user_items` entry, in the same order.
    last_time: Vec<i64>,
}

impl Interactions {
    /// Panics when an event's user or item is outside `users` × `items` (a caller bug: the
    /// caller made the dense indexes).
    pub fn from_events(users: u32, items: u32, events: &[Event]) -> Self {
        let pairs = aggregate(events);
        Self::from_pairs(users, items, &pairs)
    }

    /// From already aggregated, distinct (user, item) pairs.
    fn from_pairs(users: u32, items: u32, pairs: &[Pair]) -> Self {
        let triples: Vec<(u32, u32, f32)> =
            pairs.iter().map(|p| (p.user, p.item, p.weight)).collect();
        let user_items = Csr::from_triples(users, items, &triples);
        // `aggregate` returns pairs sorted by (user, item): the CSR's own order.
        let mut sorted: Vec<&Pair> = pairs.iter().collect();
        sorted.sort_unstable_by_key(|p| (p.user, p.item));
        let last_time = sorted.iter().map(|p| p.time).collect();
        let item_users = user_items.transpose();
        Self {
            user_items,
            item_users,
            last_time,
        }
    }

    pub fn users(&self) -> u32 {
        self.user_items.rows()
    }

    pub fn items(&self) -> u32 {
        self.user_items.cols()
    }

    /// Distinct (user, item) pairs.
    pub fn nnz(&self) -> usize {
        self.user_items.nnz()
    }

    pub fn user_items(&self) -> &Csr {
        &self.user_items
    }

    pub fn item_users(&self) -> &Csr {
        &self.item_users
    }

    /// The user's items, increasing.
    pub fn items_of(&self, user: u32) -> &[u32] {
        self.user_items.indices(user)
    }

    #[cfg(test)]
    fn pairs(&self) -> Vec<Pair> {
        let mut out = Vec::with_capacity(self.nnz());
        for user in 0..self.users() {
            let (items, weights) = self.user_items.row(user);
            let start = self.user_items.indptr[user as usize];
            for (k, (&item, &weight)) in items.iter().zip(weights).enumerate() {
                let time = self.last_time[start + k];
                out.push(Pair {
                    user,
                    item,
                    weight,
                    time,
                });
            }
        }
        out
    }
}

/// One distinct (user, item) with its summed weight and last time.
#[derive(Debug, Clone, Copy)]
struct Pair {
    user: u32,
    item: u32,
    weight: f32,
    time: i64,
}

/// Sums repeated pairs (in f64, so the sum does not depend on event order) and keeps the last
/// time. Output sorted by (user, item).
fn aggregate(events: &[Event]) -> Vec<Pair> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_unstable_by_key(|e| (e.user, e.item));
    let mut out: Vec<Pair> = Vec::new();
    let mut sum = 0f64;
    for e in sorted {
        match out.last_mut() {
            Some(p) if p.user == e.user && p.item == e.item => {
                sum += f64::from(e.weight);
                p.weight = sum as f32;
                p.time = p.time.max(e.time);
            }
            _ => {
                sum = f64::from(e.weight);
                out.push(Pair {
                    user: e.user,
                    item: e.item,
                    weight: e.weight,
                    time: e.time,
                });
            }
        }
    }
    out
}

/// How to hold interactions out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SplitRule {
    /// Per user, over distinct items ordered by their last time (ties: lower item index
    /// first): the last item → test, the one before → validation, the rest → train. Users with
    /// fewer than 3 distinct items stay wholly in train. An item is held out with *all* its
    /// events, so a test item is never a train item.
    LeaveLastOut,
    /// One cut for everybody, at quantiles of the event times: events before the
    /// `validation_from` quantile → train, from it to the `test_from` quantile → validation,
    /// the rest → test (an event at a cut's exact time goes to the later part). Both in [0, 1],
    /// `validation_from <= test_from`.
    Temporal {
        validation_from: f64,
        test_from: f64,
    },
}

/// A user's held-out items, for the users that have any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeldOut {
    /// Increasing.
    users: Vec<u32>,
    /// Each increasing, never empty.
    items: Vec<Vec<u32>>,
}

impl HeldOut {
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Held-out item count over all users.
    pub fn pairs(&self) -> usize {
        self.items.iter().map(Vec::len).sum()
    }

    /// (user, held-out items), users increasing.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u32])> {
        self.users
            .iter()
            .copied()
            .zip(self.items.iter().map(Vec::as_slice))
    }

    pub fn get(&self, user: u32) -> Option<&[u32]> {
        let at = self.users.binary_search(&user).ok()?;
        Some(&self.items[at])
    }

    /// From (user, item) pairs in any order, duplicates merged.
    fn from_pairs(mut pairs: Vec<(u32, u32)>) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        let mut out = Self::default();
        for (user, item) in pairs {
            if out.users.last() != Some(&user) {
                out.users.push(user);
                out.items.push(Vec::new());
            }
            out.items.last_mut().unwrap().push(item);
        }
        out
    }
}

/// Train interactions and the held-out validation and test items.
///
/// Guarantees: a held-out item is never one of the user's train items, and a test item is
/// never one of the user's validation items. Held-out interactions that break this (possible
/// only under [`SplitRule::Temporal`]: a repeat of something the user already had) are *not*
/// counted as held out — no recommender that excludes known items could ever hit them — and
/// are counted in [`Split::dropped_repeats`] instead. Held-out users with no train items are
/// left out too (no personalised model can rank for them) and counted in
/// [`Split::dropped_cold_users`].
#[derive(Debug, Clone)]
pub struct Split {
    pub rule: SplitRule,
    pub train: Interactions,
    pub validation: HeldOut,
    pub test: HeldOut,
    /// Held-out (user, item) pairs dropped because the user already had the item.
    pub dropped_repeats: usize,
    /// Users with held-out items but no train items, left out of validation and test.
    pub dropped_cold_users: usize,
}

impl Split {
    /// Panics when an event is outside `users` × `items` (a caller bug).
    pub fn new(users: u32, items: u32, events: &[Event], rule: SplitRule) -> Self {
        match rule {
            SplitRule::LeaveLastOut => Self::leave_last_out(users, items, events),
            SplitRule::Temporal {
                validation_from,
                test_from,
            } => Self::temporal(users, items, events, validation_from, test_from),
        }
    }

    /// Items the user is known to have before the test: train and validation, increasing. The
    /// test ranking excludes these.
    pub fn known_before_test(&self, user: u32) -> Vec<u32> {
        let mut known = self.train.items_of(user).to_vec();
        if let Some(v) = self.validation.get(user) {
            known.extend_from_slice(v);
            known.sort_unstable();
            known.dedup();
        }
        known
    }

    fn leave_last_out(users: u32, items: u32, events: &[Event]) -> Self {
        let all = aggregate(events);
        let (mut train, mut validation, mut test) = (Vec::new(), Vec::new(), Vec::new());
        // `all` is sorted by user: walk one user's run at a time.
        for run in all.chunk_by(|a, b| a.user == b.user) {
            let mut run = run.to_vec();
            if run.len() < 3 {
                train.extend(run);
                continue;
            }
            run.sort_unstable_by_key(|p| (p.time, p.item));
            let last = run.pop().unwrap();
            let before = run.pop().unwrap();
            test.push((last.user, last.item));
            validation.push((before.user, before.item));
            train.extend(run);
        }
        Self {
            rule: SplitRule::LeaveLastOut,
            train: Interactions::from_pairs(users, items, &train),
            validation: HeldOut::from_pairs(validation),
            test: HeldOut::from_pairs(test),
            dropped_repeats: 0,
            dropped_cold_users: 0,
        }
    }

    fn temporal(
        users: u32,
        items: u32,
        events: &[Event],
        validation_from: f64,
        test_from: f64,
    ) -> Self {
        assert!(
            (0.0..=1.0).contains(&validation_from)
                && (0.0..=1.0).contains(&test_from)
                && validation_from <= test_from,
            "temporal split needs 0 <= validation_from <= test_from <= 1"
        );
        let mut times: Vec<i64> = events.iter().map(|e| e.time).collect();
        times.sort_unstable();
        let cut = |q: f64| -> i64 {
            let at = (q * times.len() as f64) as usize;
            times.get(at).copied().unwrap_or(i64::MAX)
        };
        let (val_cut, test_cut) = (cut(validation_from), cut(test_from));
        let part = |keep: &dyn Fn(i64) -> bool| -> Vec<Event> {
            events.iter().filter(|e| keep(e.time)).copied().collect()
        };
        let train = Interactions::from_events(users, items, &part(&|t| t < val_cut));
        let val_events = part(&|t| t >= val_cut && t < test_cut);
        let test_events = part(&|t| t >= test_cut);

        let mut dropped_repeats = 0;
        let mut cold = std::collections::BTreeSet::new();
        let mut hold = |events: &[Event], also_known: &HeldOut| -> HeldOut {
            let mut kept = Vec::new();
            for p in aggregate(events) {
                let known = |u: u32, i: u32| {
                    train.items_of(u).binary_search(&i).is_ok()
                        || also_known
                            .get(u)
                            .is_some_and(|v| v.binary_search(&i).is_ok())
                };
                if known(p.user, p.item) {
                    dropped_repeats += 1;
                } else if train.items_of(p.user).is_empty() {
                    cold.insert(p.user);
                } else {
                    kept.push((p.user, p.item));
                }
            }
            HeldOut::from_pairs(kept)
        };
        let validation = hold(&val_events, &HeldOut::default());
        let test = hold(&test_events, &validation);
        Self {
            rule: SplitRule::Temporal {
                validation_from,
                test_from,
            },
            train,
            validation,
            test,
            dropped_repeats,
            dropped_cold_users: cold.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(user: u32, item: u32, weight: f32, time: i64) -> Event {
        Event {
            user,
            item,
            weight,
            time,
        }
    }

    /// Four users:
    /// - 0: items 0 (t1), 1 (t2), 2 (t3), 3 (t4) → train {0, 1}, validation 2, test 3;
    /// - 1: items 4 (t5), 0 (t5), 1 (t1) — 0 and 4 tie at t5, the higher index (4) is later →
    ///   train {1}, validation 0, test 4;
    /// - 2: only two distinct items (5 bought twice) → all in train;
    /// - 3: item 2 at t1 and again at t9, item 3 at t5, item 0 at t6 → 2's last time is 9, so 2
    ///   is the test item with both its events; validation 0; train {3}.
    fn toy() -> Vec<Event> {
        vec![
            ev(0, 0, 1.0, 1),
            ev(0, 1, 1.0, 2),
            ev(0, 2, 1.0, 3),
            ev(0, 3, 1.0, 4),
            ev(1, 4, 1.0, 5),
            ev(1, 0, 1.0, 5),
            ev(1, 1, 1.0, 1),
            ev(2, 5, 1.0, 1),
            ev(2, 5, 5.0, 2),
            ev(2, 0, 3.0, 3),
            ev(3, 2, 1.0, 1),
            ev(3, 3, 1.0, 5),
            ev(3, 0, 1.0, 6),
            ev(3, 2, 1.0, 9),
        ]
    }

    #[test]
    fn repeated_pairs_sum_weights_and_keep_the_last_time() {
        let x = Interactions::from_events(4, 6, &toy());
        assert_eq!(x.nnz(), 12);
        assert_eq!(x.user_items().row(2), (&[0u32, 5][..], &[3.0f32, 6.0][..]));
        let pairs = x.pairs();
        let p = pairs.iter().find(|p| p.user == 3 && p.item == 2).unwrap();
        assert_eq!((p.weight, p.time), (2.0, 9));
        // The transpose holds the same entries.
        assert_eq!(
            x.item_users().row(0),
            (&[0u32, 1, 2, 3][..], &[1.0f32, 1.0, 3.0, 1.0][..])
        );
        assert_eq!(x.item_users().transpose(), *x.user_items());
    }

    #[test]
    fn leave_last_out_on_a_four_user_log() {
        let s = Split::new(4, 6, &toy(), SplitRule::LeaveLastOut);
        let test: Vec<(u32, Vec<u32>)> = s.test.iter().map(|(u, i)| (u, i.to_vec())).collect();
        let val: Vec<(u32, Vec<u32>)> = s.validation.iter().map(|(u, i)| (u, i.to_vec())).collect();
        assert_eq!(test, vec![(0, vec![3]), (1, vec![4]), (3, vec![2])]);
        assert_eq!(val, vec![(0, vec![2]), (1, vec![0]), (3, vec![0])]);
        assert_eq!(s.train.items_of(0), &[0, 1]);
        assert_eq!(s.train.items_of(1), &[1]);
        assert_eq!(s.train.items_of(2), &[0, 5]);
        assert_eq!(s.train.items_of(3), &[3]);
        assert_eq!(s.train.nnz() + s.validation.pairs() + s.test.pairs(), 12);
        assert_eq!(s.known_before_test(1), vec![0, 1]);
        // The same log in another order gives the same split.
        let mut shuffled = toy();
        shuffled.reverse();
        let again = Split::new(4, 6, &shuffled, SplitRule::LeaveLastOut);
        assert_eq!(again.test, s.test);
        assert_eq!(again.train, s.train);
    }

    #[test]
    fn temporal_split_drops_repeats_and_cold_users() {
        // 14 event times; the 0.5 quantile is the 8th sorted time (3), the 0.75 the 11th (5).
        let s = Split::new(
            4,
            6,
            &toy(),
            SplitRule::Temporal {
                validation_from: 0.5,
                test_from: 0.75,
            },
        );
        // Train: times 1, 2 → user 0 {0, 1}, user 1 {1}, user 2 {5}, user 3 {2}.
        assert_eq!(s.train.items_of(0), &[0, 1]);
        assert_eq!(s.train.items_of(3), &[2]);
        // Validation: times 3, 4 → (0, 2), (0, 3), (2, 0).
        assert_eq!(s.validation.get(0), Some(&[2u32, 3][..]));
        assert_eq!(s.validation.get(2), Some(&[0u32][..]));
        // Test: times 5, 6, 9 → (1, 4), (1, 0), (3, 3), (3, 0), and (3, 2) which user 3 had in
        // train: dropped as a repeat.
        assert_eq!(s.test.get(1), Some(&[0u32, 4][..]));
        assert_eq!(s.test.get(3), Some(&[0u32, 3][..]));
        assert_eq!(s.dropped_repeats, 1);
        assert_eq!(s.dropped_cold_users, 0);
    }

    #[test]
    fn held_out_users_without_train_history_are_counted_not_kept() {
        let events = vec![ev(0, 0, 1.0, 1), ev(0, 1, 1.0, 2), ev(1, 1, 1.0, 3)];
        let s = Split::new(
            2,
            2,
            &events,
            SplitRule::Temporal {
                validation_from: 0.0,
                test_from: 0.6,
            },
        );
        // Everything from the start is validation or test; user 0 has no train items either.
        assert!(s.test.is_empty());
        assert_eq!(s.dropped_cold_users, 2);
    }
}
