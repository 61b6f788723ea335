//! Train / validation / test assignment by a seeded hash of each row's key.
//!
//! The caller builds the key from the row's content (the full text of a CSV line, or the
//! columns that identify an impression). A row's split then depends on nothing but its key
//! and the seed: the same row lands in the same split in every data version, whatever rows
//! were added, removed or reordered around it, so a paired comparison of A and B tests both
//! on the rows they share and never trains one version on the other's test rows.

use super::features::hash64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    Validation,
    Test,
}

/// Shares of validation and test rows (train gets the rest) and the hash seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Splitter {
    pub validation: f64,
    pub test: f64,
    pub seed: u64,
}

impl Default for Splitter {
    /// 80 / 10 / 10.
    fn default() -> Self {
        Self {
            validation: 0.1,
            test: 0.1,
            seed: 0,
        }
    }
}

impl Splitter {
    /// Guarantee: a pure function of `(key, seed, shares)`. Each row falls in test with
    /// probability `test`, validation with `validation`, independently of other rows.
    pub fn assign(&self, key: &[u8]) -> Split {
        // A different domain byte from feature hashing, so a key that happens to equal a
        // feature's bytes does not correlate its split with that feature's id.
        let h = hash64(self.seed, &[b"split\xFF", key]);
        let u = (h >> 11) as f64 / (1u64 << 53) as f64;
        if u < self.test {
            Split::Test
        } else if u < self.test + self.validation {
            Split::Validation
        } else {
            Split::Train
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Vec<u8> {
        format!("row {i},user {},item {}", i % 97, i % 13).into_bytes()
    }

    #[test]
    fn shares_are_close_to_the_requested_ones() {
        let s = Splitter::default();
        let n = 20_000;
        let mut counts = [0usize; 3];
        for i in 0..n {
            counts[s.assign(&key(i)) as usize] += 1;
        }
        // Binomial sd for 10 % of 20,000 is 42 rows; allow 5 sd.
        assert!(
            (1790..2210).contains(&counts[Split::Validation as usize]),
            "{counts:?}"
        );
        assert!(
            (1790..2210).contains(&counts[Split::Test as usize]),
            "{counts:?}"
        );
    }

    #[test]
    fn a_row_keeps_its_split_when_other_rows_come_and_go() {
        let s = Splitter::default();
        // Version A: rows 0..5000. Version B: drops every third row, adds 2000 new ones, and
        // is shuffled. Every shared row must be in the same split in both.
        let a: Vec<(Vec<u8>, Split)> = (0..5000).map(|i| (key(i), s.assign(&key(i)))).collect();
        let mut b: Vec<usize> = (0..7000).filter(|i| i % 3 != 0).collect();
        b.reverse();
        let in_b: std::collections::HashMap<Vec<u8>, Split> =
            b.iter().map(|&i| (key(i), s.assign(&key(i)))).collect();
        let mut shared = 0;
        for (k, split) in &a {
            if let Some(sb) = in_b.get(k) {
                assert_eq!(sb, split);
                shared += 1;
            }
        }
        assert!(shared > 3000);
        // The seed is what moves rows: another seed must reassign some of them.
        let other = Splitter { seed: 1, ..s };
        assert!(a.iter().any(|(k, split)| other.assign(k) != *split));
    }
}
