//! Confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty
//! in Dataset Labels", JAIR 2021) over out-of-fold class probabilities.
//!
//! Each class `j` gets a threshold `t_j`: the mean probability the model gives `j` on the
//! examples labelled `j` — how sure the model usually is when a label is right, per class, so
//! a rare class is not drowned by a common one. An example counts as confidently class `j`
//! when `p_j ≥ t_j` (the most probable such class when several pass). Examples labelled `i`
//! but confidently `j ≠ i` form the off-diagonal of the *confident joint*; they are the
//! label issues, ranked by the margin `p_j − p_i`.

use super::classes::Classes;

/// A judgment whose label the model confidently contradicts.
#[derive(Debug, Clone, Copy)]
pub struct Suspect {
    /// Position in the analysed judgments.
    pub row: usize,
    pub given: usize,
    pub likely: usize,
    pub p_likely: f64,
    /// The model's probability for the given label's class (self-confidence).
    pub p_given: f64,
}

impl Suspect {
    pub fn margin(&self) -> f64 {
        self.p_likely - self.p_given
    }
}

/// Per-class thresholds; a class nobody is labelled with gets `∞` (nothing is confidently it).
pub fn thresholds(probs: &[Vec<f64>], given: &[usize], classes: usize) -> Vec<f64> {
    let mut sum = vec![0.0; classes];
    let mut n = vec![0usize; classes];
    for (p, &y) in probs.iter().zip(given) {
        sum[y] += p[y];
        n[y] += 1;
    }
    (0..classes)
        .map(|j| {
            if n[j] == 0 {
                f64::INFINITY
            } else {
                sum[j] / n[j] as f64
            }
        })
        .collect()
}

/// The class an example is confidently in, if any.
pub fn confident_class(p: &[f64], thresholds: &[f64]) -> Option<usize> {
    (0..p.len())
        .filter(|&j| p[j] >= thresholds[j])
        .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
}

/// The confident joint (`joint[given][confident]` counts) and the suspects whose confident class
/// is far from their label, strongest margin first (ties by position).
pub fn far_suspects(
    probs: &[Vec<f64>],
    given: &[usize],
    thresholds: &[f64],
    classes: &Classes,
    min_margin: f64,
) -> (Vec<Vec<u64>>, Vec<Suspect>) {
    let k = classes.count();
    let mut joint = vec![vec![0u64; k]; k];
    let mut out = Vec::new();
    for (row, (p, &y)) in probs.iter().zip(given).enumerate() {
        let Some(j) = confident_class(p, thresholds) else {
            continue;
        };
        joint[y][j] += 1;
        let s = Suspect {
            row,
            given: y,
            likely: j,
            p_likely: p[j],
            p_given: p[y],
        };
        if classes.far(y, j) && s.margin() >= min_margin {
            out.push(s);
        }
    }
    out.sort_by(|a, b| b.margin().total_cmp(&a.margin()).then(a.row.cmp(&b.row)));
    (joint, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelf_io::presets::LabelScale;

    #[test]
    fn only_confident_far_disagreements_are_suspects() {
        let c = Classes::for_scale(Some(LabelScale::Range(1.0, 3.0)), &[1.0, 3.0]).unwrap();
        let probs = vec![
            vec![0.7, 0.2, 0.1], // labelled low, looks low
            vec![0.6, 0.3, 0.1], // labelled low, looks low
            vec![0.1, 0.3, 0.6], // labelled high, looks high
            vec![0.1, 0.2, 0.7], // labelled high, looks high
            vec![0.2, 0.6, 0.2], // labelled middle
            vec![0.8, 0.1, 0.1], // labelled high, confidently low: far
            vec![0.1, 0.7, 0.2], // labelled high, confidently middle: adjacent, not far
        ];
        let given = [0, 0, 2, 2, 1, 2, 2];
        let t = thresholds(&probs, &given, 3);
        assert!((t[0] - 0.65).abs() < 1e-12);
        let (joint, s) = far_suspects(&probs, &given, &t, &c, 0.0);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].row, s[0].given, s[0].likely), (5, 2, 0));
        assert_eq!(joint[2][0], 1);
        assert_eq!(joint[2][1], 1);
        let (_, none) = far_suspects(&probs, &given, &t, &c, 0.8);
        assert!(none.is_empty(), "margin 0.7 is under 0.8");
    }
}
