//! Relevance labels as ordered classes: what the model predicts and what "far apart" means.
//!
//! A small integer scale (ESCI's 0–3, a 0–1 or 0–4 grade) keeps its values as classes. Any other
//! scale — Home Depot's means of three raters' 1/2/3, a 0–100 rating — is cut into thirds of the
//! declared (else observed) range: low, middle, high. On Home Depot that makes low "a mean
//! under 1.67" (at least two of three raters said 1: 1, 1.25, 1.33) and high "over 2.33"
//! (2.5, 2.67, 3: raters leaning to 3, none or one saying 1); a value on a boundary (1.67 =
//! 1,2,2; 2.33 = 2,2,3) is a split vote and goes to the middle.

use shelf_io::presets::LabelScale;

/// Integer scales with at most this many steps keep their values as classes.
const MAX_INTEGER_STEPS: f64 = 4.0;

/// How labels map to classes.
#[derive(Debug, Clone, PartialEq)]
enum Binning {
    /// Class `k` is the label `lo + k`.
    Integers { lo: f64 },
    /// Three classes split at a third and two thirds of `lo..hi`.
    Thirds { lo: f64, hi: f64 },
}

/// The classes of one judgments table, lowest relevance first.
#[derive(Debug, Clone, PartialEq)]
pub struct Classes {
    binning: Binning,
    names: Vec<String>,
}

fn integral(x: f64) -> bool {
    x.fract() == 0.0
}

const ESCI_NAMES: [&str; 4] = [
    "I (irrelevant)",
    "C (complement)",
    "S (substitute)",
    "E (exact)",
];

impl Classes {
    /// Classes for a table's declared scale (or, without one, its observed labels); `None`
    /// when the labels do not vary.
    pub fn for_scale(scale: Option<LabelScale>, labels: &[f64]) -> Option<Classes> {
        let all_integral = labels.iter().all(|&l| integral(l));
        let (lo, hi) = match scale {
            Some(LabelScale::Esci) => {
                return Some(Classes {
                    binning: Binning::Integers { lo: 0.0 },
                    names: ESCI_NAMES.iter().map(|s| s.to_string()).collect(),
                });
            }
            Some(LabelScale::Range(lo, hi)) => (lo, hi),
            None => {
                let lo = labels.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = labels.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi)
            }
        };
        // Also refuses a NaN end.
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let binning =
            if integral(lo) && integral(hi) && hi - lo <= MAX_INTEGER_STEPS && all_integral {
                Binning::Integers { lo }
            } else {
                Binning::Thirds { lo, hi }
            };
        let names = match binning {
            Binning::Integers { lo } => {
                let top = (hi - lo) as i64;
                (0..=top)
                    .map(|k| match k {
                        0 => format!("{} (lowest)", lo),
                        k if k == top => format!("{} (highest)", lo + k as f64),
                        k => format!("{}", lo + k as f64),
                    })
                    .collect()
            }
            Binning::Thirds { lo, hi } => {
                let (a, b) = (lo + (hi - lo) / 3.0, lo + 2.0 * (hi - lo) / 3.0);
                vec![
                    format!("low, under {}", round2(a)),
                    format!("middle, {}–{}", round2(a), round2(b)),
                    format!("high, over {}", round2(b)),
                ]
            }
        };
        Some(Classes { binning, names })
    }

    pub fn count(&self) -> usize {
        self.names.len()
    }

    /// The class of a label; labels outside the scale (label-out-of-scale's business) go to the
    /// nearest end.
    pub fn of(&self, label: f64) -> usize {
        let top = self.count() - 1;
        match self.binning {
            Binning::Integers { lo } => ((label - lo).round().max(0.0) as usize).min(top),
            Binning::Thirds { lo, hi } => {
                let r = hi - lo;
                // Boundary values (1.67 and 2.33 on a 1–3 scale, written with two decimals) are
                // split votes: middle.
                let tol = 0.01 * r;
                if label < lo + r / 3.0 - tol {
                    0
                } else if label > lo + 2.0 * r / 3.0 + tol {
                    2
                } else {
                    1
                }
            }
        }
    }

    pub fn name(&self, class: usize) -> &str {
        &self.names[class]
    }

    /// Classes at least this many steps apart disagree strongly: the two ends of a three-class
    /// scale (never a neighbour), two steps on ESCI (E against C or I, S against I) or a 0–4
    /// grade, either class of a binary one.
    pub fn far_gap(&self) -> usize {
        match self.count() {
            0..=2 => 1,
            k => ((k - 1).div_ceil(2)).max(2),
        }
    }

    pub fn far(&self, a: usize, b: usize) -> bool {
        a.abs_diff(b) >= self.far_gap()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_depot_means_fall_into_thirds_with_split_votes_in_the_middle() {
        let c = Classes::for_scale(Some(LabelScale::Range(1.0, 3.0)), &[1.0, 2.33]).unwrap();
        let classes: Vec<usize> = [1.0, 1.25, 1.33, 1.5, 1.67, 2.0, 2.33, 2.5, 2.67, 3.0]
            .iter()
            .map(|&l| c.of(l))
            .collect();
        assert_eq!(classes, vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
        assert_eq!(c.name(0), "low, under 1.67");
        assert!(c.far(0, 2) && !c.far(0, 1) && !c.far(1, 2));
    }

    #[test]
    fn small_integer_scales_keep_their_values() {
        let esci = Classes::for_scale(Some(LabelScale::Esci), &[0.0, 3.0]).unwrap();
        assert_eq!(esci.count(), 4);
        assert_eq!(esci.of(3.0), 3);
        assert!(esci.far(3, 1) && esci.far(2, 0) && !esci.far(3, 2));
        let binary = Classes::for_scale(Some(LabelScale::Range(0.0, 1.0)), &[0.0, 1.0]).unwrap();
        assert!(binary.far(0, 1));
        let observed = Classes::for_scale(None, &[0.0, 1.0, 2.0]).unwrap();
        assert_eq!((observed.count(), observed.of(2.0)), (3, 2));
        assert_eq!(observed.name(2), "2 (highest)");
        assert!(Classes::for_scale(None, &[2.0, 2.0]).is_none());
    }

    #[test]
    fn wide_or_fractional_scales_are_cut_into_thirds() {
        let c = Classes::for_scale(Some(LabelScale::Range(0.0, 100.0)), &[0.0, 100.0]).unwrap();
        assert_eq!(
            (c.count(), c.of(10.0), c.of(50.0), c.of(90.0)),
            (3, 0, 1, 2)
        );
        let f = Classes::for_scale(Some(LabelScale::Range(0.0, 3.0)), &[0.5, 3.0]).unwrap();
        assert_eq!(f.count(), 3);
    }
}
