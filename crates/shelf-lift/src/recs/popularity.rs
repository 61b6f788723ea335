//! The floor every personalised model has to beat: the same best-sellers for everyone.

use super::data::Interactions;
use super::eval::{Recommender, top_k};

/// Items ranked by their summed train weight (ties: lower item index first).
#[derive(Debug, Clone)]
pub struct Popularity {
    /// Summed train weight per item.
    score: Vec<f32>,
}

impl Popularity {
    pub fn fit(train: &Interactions) -> Self {
        let score = (0..train.items())
            .map(|i| {
                let (_, w) = train.item_users().row(i);
                // f64 so the sum does not depend on how many users an item has.
                w.iter().map(|&w| f64::from(w)).sum::<f64>() as f32
            })
            .collect();
        Self { score }
    }
}

impl Recommender for Popularity {
    fn name(&self) -> &str {
        "popularity"
    }

    fn recommend(&self, _user: u32, k: usize, exclude: &[u32]) -> Vec<u32> {
        top_k(
            self.score.iter().enumerate().map(|(i, &s)| (i as u32, s)),
            k,
            exclude,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recs::data::Event;

    #[test]
    fn ranks_by_weight_and_excludes_the_users_items() {
        let ev = |user, item, weight| Event {
            user,
            item,
            weight,
            time: 0,
        };
        // Item weights: 0 → 1, 1 → 5 + 3 = 8, 2 → 1 + 1 + 1 = 3, 3 → 3.
        let train = Interactions::from_events(
            3,
            4,
            &[
                ev(0, 1, 5.0),
                ev(1, 1, 3.0),
                ev(0, 2, 1.0),
                ev(1, 2, 1.0),
                ev(2, 2, 1.0),
                ev(2, 0, 1.0),
                ev(2, 3, 3.0),
            ],
        );
        let pop = Popularity::fit(&train);
        // Items 2 and 3 tie at 3: the lower index first.
        assert_eq!(pop.recommend(0, 4, &[]), vec![1, 2, 3, 0]);
        assert_eq!(pop.recommend(2, 4, train.items_of(2)), vec![1]);
        assert_eq!(pop.recommend(0, 2, train.items_of(0)), vec![3, 0]);
    }
}
