//! From counts to a column's verdict: the bins compared, the distances, the summaries. Pure
//! functions of what `profile.rs` read.

use shelf_report::{Bin, CategoryChanges, ColumnDiff, Drift, Measure, NumStats, OldNew};

use super::distance::{js_distance, ks, psi, psi_band, shares, wasserstein};
use super::profile::{Bucket, Categories, Sketch};

/// Numbers are compared in this many bins, cut at the old version's deciles.
pub const NUMERIC_BINS: usize = 10;
/// Categories compared one by one; the rest are pooled as "other".
pub const TOP_K: usize = 20;
/// A PSI below this many times the PSI expected between two samples of one distribution
/// (see [`psi_noise`]) is not called drift, however high: small tables wobble.
pub const NOISE_FACTOR: f64 = 2.0;

/// Label of the bin that pools the categories outside the top K.
pub const OTHER: &str = "(other)";
/// Label of the bin of rows without a value.
pub const NULL: &str = "(null)";

/// The PSI two independent samples of the same distribution show on average, about
/// (bins − 1) · (1/n_old + 1/n_new) (PSI is the symmetric Kullback–Leibler divergence, whose
/// sampling distribution is close to χ² with bins − 1 degrees of freedom scaled that way).
pub fn psi_noise(bins: usize, rows: OldNew<u64>) -> f64 {
    if rows.old == 0 || rows.new == 0 {
        return 0.0;
    }
    bins.saturating_sub(1) as f64 * (1.0 / rows.old as f64 + 1.0 / rows.new as f64)
}

/// The verdict for a PSI, and the sentence that explains it.
pub fn judge(psi: f64, noise: f64) -> (Drift, String) {
    let band = psi_band(psi);
    if band > Drift::None && psi < NOISE_FACTOR * noise {
        return (
            Drift::None,
            format!(
                "PSI {psi:.3} is within sampling noise for tables this small (about {noise:.3} is expected between two samples of one distribution)"
            ),
        );
    }
    let reason = match band {
        Drift::Major => format!(
            "PSI {psi:.3} ≥ {} (major shift)",
            super::distance::PSI_MAJOR
        ),
        Drift::Notable => format!(
            "PSI {psi:.3} ≥ {} (notable shift)",
            super::distance::PSI_NOTABLE
        ),
        Drift::None => format!("PSI {psi:.3} < {} (stable)", super::distance::PSI_NOTABLE),
    };
    (band, reason)
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A categorical column: bins are the top values, "other" and "null", as shares of all rows.
/// `by_label` orders the bins by label (hours) instead of by share.
pub fn categorical(
    role: &str,
    column: OldNew<String>,
    measure: Measure,
    c: &Categories,
    rows: OldNew<u64>,
    by_label: bool,
) -> ColumnDiff {
    let mut counts: Vec<(String, u64, u64)> = c.top.clone();
    if by_label {
        counts.sort_by(|a, b| a.0.cmp(&b.0));
    }
    if c.other.old + c.other.new > 0 {
        counts.push((OTHER.to_string(), c.other.old, c.other.new));
    }
    if c.null.old + c.null.new > 0 {
        counts.push((NULL.to_string(), c.null.old, c.null.new));
    }
    let old = shares(&counts.iter().map(|b| b.1).collect::<Vec<_>>());
    let new = shares(&counts.iter().map(|b| b.2).collect::<Vec<_>>());
    let p = psi(&old, &new);
    let noise = psi_noise(counts.len(), rows);
    let (drift, reason) = judge(p, noise);
    ColumnDiff {
        role: role.to_string(),
        column,
        measure,
        null_rate: OldNew {
            old: rate(c.null.old, rows.old),
            new: rate(c.null.new, rows.new),
        },
        psi: p,
        psi_noise: noise,
        js: js_distance(&old, &new),
        ks: None,
        wasserstein: None,
        wasserstein_normed: None,
        drift,
        reason,
        bins: counts
            .iter()
            .zip(old.iter().zip(&new))
            .map(|((label, _, _), (&o, &n))| Bin {
                label: label.clone(),
                old: o,
                new: n,
            })
            .collect(),
        stats: None,
        categories: Some(CategoryChanges {
            distinct: c.distinct,
            appeared: c.appeared.clone(),
            vanished: c.vanished.clone(),
        }),
        time_range: None,
    }
}

/// A numeric column: PSI over the old version's deciles (plus nulls), KS and Wasserstein-1
/// over the sketch buckets (values only).
pub fn numeric(
    role: &str,
    column: OldNew<String>,
    measure: Measure,
    s: &Sketch,
    rows: OldNew<u64>,
) -> ColumnDiff {
    let old_counts: Vec<u64> = s.buckets.iter().map(|b| b.old).collect();
    let new_counts: Vec<u64> = s.buckets.iter().map(|b| b.new).collect();
    let (old_v, new_v) = (shares(&old_counts), shares(&new_counts));
    let at: Vec<f64> = s.buckets.iter().map(Bucket::at).collect();
    let both_valued = old_counts.iter().sum::<u64>() > 0 && new_counts.iter().sum::<u64>() > 0;
    let w1 = both_valued.then(|| wasserstein(&at, &old_v, &new_v));
    let stats = OldNew {
        old: side_stats(&s.buckets, |b| (b.old, b.old_sum, b.old_range)),
        new: side_stats(&s.buckets, |b| (b.new, b.new_sum, b.new_range)),
    };
    let mut bins = decile_bins(&s.buckets);
    if s.null.old + s.null.new > 0 {
        bins.push((NULL.to_string(), s.null.old, s.null.new));
    }
    let old = shares(&bins.iter().map(|b| b.1).collect::<Vec<_>>());
    let new = shares(&bins.iter().map(|b| b.2).collect::<Vec<_>>());
    let p = psi(&old, &new);
    let noise = psi_noise(bins.len(), rows);
    let (drift, reason) = judge(p, noise);
    ColumnDiff {
        role: role.to_string(),
        column,
        measure,
        null_rate: OldNew {
            old: rate(s.null.old, rows.old),
            new: rate(s.null.new, rows.new),
        },
        psi: p,
        psi_noise: noise,
        js: js_distance(&old, &new),
        ks: both_valued.then(|| ks(&old_v, &new_v)),
        wasserstein: w1,
        wasserstein_normed: w1
            .zip(stats.old.std)
            .and_then(|(w, sd)| (sd > 0.0).then(|| w / sd)),
        drift,
        reason,
        bins: bins
            .iter()
            .zip(old.iter().zip(&new))
            .map(|((label, _, _), (&o, &n))| Bin {
                label: label.clone(),
                old: o,
                new: n,
            })
            .collect(),
        stats: Some(stats),
        categories: None,
        time_range: None,
    }
}

/// Buckets merged into at most [`NUMERIC_BINS`] bins, cut where the old version's cumulative
/// share passes each decile (the new version's when the old has no values). A bucket is never
/// split, so a value that a quarter of the rows share stays one bin.
fn decile_bins(buckets: &[Bucket]) -> Vec<(String, u64, u64)> {
    let old_total: u64 = buckets.iter().map(|b| b.old).sum();
    let weight = |b: &Bucket| if old_total > 0 { b.old } else { b.new };
    let total: u64 = buckets.iter().map(weight).sum();
    let mut bins = Vec::new();
    let (mut cum, mut next_cut) = (0u64, 1usize);
    let mut start: Option<usize> = None;
    for (i, b) in buckets.iter().enumerate() {
        start.get_or_insert(i);
        cum += weight(b);
        // Cut after this bucket when it reaches the next decile (and it is not the last).
        let reached = (cum as f64) >= (next_cut as f64) * (total as f64) / NUMERIC_BINS as f64;
        // The last bin takes everything after the ninth decile.
        if (reached && next_cut < NUMERIC_BINS && i + 1 < buckets.len()) || i + 1 == buckets.len() {
            let first = start.take().unwrap_or(i);
            let span = &buckets[first..=i];
            bins.push((
                range_label(span[0].lo, span[span.len() - 1].hi),
                span.iter().map(|b| b.old).sum(),
                span.iter().map(|b| b.new).sum(),
            ));
            while next_cut < NUMERIC_BINS
                && (cum as f64) >= (next_cut as f64) * (total as f64) / NUMERIC_BINS as f64
            {
                next_cut += 1;
            }
        }
    }
    bins
}

/// `12.5–20` or `3` for a single value, with at most 4 significant digits.
fn range_label(lo: f64, hi: f64) -> String {
    if lo == hi {
        short(lo)
    } else {
        format!("{}–{}", short(lo), short(hi))
    }
}

/// A number in at most 4 significant digits, without trailing zeros.
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-4..=9).contains(&mag) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Count, extremes, quantiles (within the sketch's accuracy), mean and standard deviation of
/// one version. `side` picks (count, sum, range) from a bucket.
fn side_stats(
    buckets: &[Bucket],
    side: impl Fn(&Bucket) -> (u64, f64, Option<(f64, f64)>),
) -> NumStats {
    let n: u64 = buckets.iter().map(|b| side(b).0).sum();
    if n == 0 {
        return NumStats::default();
    }
    let min = buckets.iter().find_map(|b| side(b).2.map(|r| r.0));
    let max = buckets.iter().rev().find_map(|b| side(b).2.map(|r| r.1));
    let mean = buckets.iter().map(|b| side(b).1).sum::<f64>() / n as f64;
    // Between-bucket variance with each bucket at its own mean: within a bucket values differ
    // by at most the sketch's relative accuracy.
    let var = buckets
        .iter()
        .filter(|b| side(b).0 > 0)
        .map(|b| {
            let (c, sum, _) = side(b);
            let m = sum / c as f64;
            c as f64 * (m - mean).powi(2)
        })
        .sum::<f64>()
        / n as f64;
    let quantile = |q: f64| {
        let want = (q * n as f64).ceil().max(1.0) as u64;
        let mut cum = 0;
        for b in buckets {
            let (c, sum, range) = side(b);
            cum += c;
            if c > 0 && cum >= want {
                // The bucket's own mean, inside its range: exact for a single value.
                let m = sum / c as f64;
                return Some(range.map_or(m, |(lo, hi)| m.clamp(lo, hi)));
            }
        }
        max
    };
    NumStats {
        count: n,
        min,
        p05: quantile(0.05),
        median: quantile(0.5),
        p95: quantile(0.95),
        max,
        mean: Some(mean),
        std: Some(var.sqrt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(v: f64, old: u64, new: u64) -> Bucket {
        Bucket {
            lo: v,
            hi: v,
            old,
            new,
            old_sum: v * old as f64,
            new_sum: v * new as f64,
            old_range: (old > 0).then_some((v, v)),
            new_range: (new > 0).then_some((v, v)),
        }
    }

    fn names() -> OldNew<String> {
        OldNew {
            old: "p".into(),
            new: "p".into(),
        }
    }

    #[test]
    fn a_shift_by_one_is_measured_exactly() {
        // Old: 1..=10 once each; new: 2..=11 once each.
        let buckets: Vec<Bucket> = (1..=11)
            .map(|v| bucket(v as f64, (v <= 10) as u64, (v >= 2) as u64))
            .collect();
        let s = Sketch {
            buckets,
            null: OldNew::default(),
        };
        let rows = OldNew { old: 10, new: 10 };
        let c = numeric("price", names(), Measure::Values, &s, rows);
        assert!((c.wasserstein.unwrap() - 1.0).abs() < 1e-12, "{c:?}");
        assert!((c.ks.unwrap() - 0.1).abs() < 1e-12);
        let st = c.stats.unwrap();
        assert_eq!(st.old.min, Some(1.0));
        assert_eq!(st.new.max, Some(11.0));
        assert_eq!(st.old.median, Some(5.0));
        assert_eq!(st.old.mean, Some(5.5));
        // Population std of 1..=10 is sqrt(8.25).
        assert!((st.old.std.unwrap() - 8.25f64.sqrt()).abs() < 1e-12);
        // Ten deciles of the old side, the new side's 11 in the last one.
        assert_eq!(c.bins.len(), 10);
        assert_eq!(c.bins[9].label, "10–11");
        assert!((c.bins[9].new - 0.2).abs() < 1e-12);
    }

    #[test]
    fn a_point_mass_stays_one_bin() {
        // 60 % of the old rows hold 1: the bin of 1 takes six deciles at once.
        let s = Sketch {
            buckets: vec![
                bucket(1.0, 60, 60),
                bucket(2.0, 20, 20),
                bucket(3.0, 20, 20),
            ],
            null: OldNew { old: 0, new: 25 },
        };
        let rows = OldNew { old: 100, new: 125 };
        let c = numeric("quantity", names(), Measure::Values, &s, rows);
        let labels: Vec<&str> = c.bins.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["1", "2", "3", NULL]);
        // Values unchanged, 20 % of the new rows null: only the null bin moves.
        assert_eq!(c.ks, Some(0.0));
        assert!((c.null_rate.new - 0.2).abs() < 1e-12);
        // PSI = 3 · (0.16·… ) by hand: old shares (.6, .2, .2, 0), new (.48, .16, .16, .2).
        let want = (0.48 - 0.6) * (0.48f64 / 0.6).ln()
            + 2.0 * (0.16 - 0.2) * (0.16f64 / 0.2).ln()
            + (0.2 - 1e-4) * (0.2f64 / 1e-4).ln();
        assert!((c.psi - want).abs() < 1e-12, "{} vs {want}", c.psi);
        assert_eq!(c.drift, Drift::Major);
    }

    #[test]
    fn small_tables_are_not_called_drift_on_noise() {
        // PSI 0.27 with 4 bins and 20 rows a side: noise ≈ 3 · 0.1 = 0.3.
        let (d, why) = judge(0.27, psi_noise(4, OldNew { old: 20, new: 20 }));
        assert_eq!(d, Drift::None, "{why}");
        let (d, _) = judge(
            0.27,
            psi_noise(
                4,
                OldNew {
                    old: 20_000,
                    new: 20_000,
                },
            ),
        );
        assert_eq!(d, Drift::Major);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(12.5), "12.5");
        assert_eq!(short(1234.5678), "1235");
        assert_eq!(short(0.012345), "0.01235");
        assert_eq!(short(3.0), "3");
        assert_eq!(short(-2.5), "-2.5");
    }
}
