//! The result of `shelf lift`: reference models scored on a base data version and on each
//! variant, with paired deltas. `metrics.json` is its serialization (CONTRACT.md fixes
//! `variants.<v>.<model>.<metric>`, `variants.<v>.<model>.queries` and
//! `deltas.<v>.<model>.<metric>.{delta, ci95}`; everything else is added freely).

mod html;

use std::collections::BTreeMap;

use serde::Serialize;

pub use html::lift_html;

/// One model's scores on one data version.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelScores {
    /// Metric key (`ndcg@10`) → mean over the evaluation units.
    #[serde(flatten)]
    pub metrics: BTreeMap<String, f64>,
    /// Unit name (`queries`, `users`) → how many were scored.
    #[serde(flatten)]
    pub units: BTreeMap<String, usize>,
    /// Metric key → 95 % bootstrap interval of the mean.
    pub ci95: BTreeMap<String, [f64; 2]>,
}

/// A variant's difference from the base on one metric, over the same units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricDelta {
    pub delta: f64,
    pub ci95: [f64; 2],
}

impl MetricDelta {
    /// The interval excludes zero.
    pub fn significant(&self) -> bool {
        self.ci95[0] > 0.0 || self.ci95[1] < 0.0
    }
}

/// metric → delta.
pub type MetricDeltas = BTreeMap<String, MetricDelta>;

/// variant → model → metric → delta.
pub type Deltas = BTreeMap<String, BTreeMap<String, MetricDeltas>>;

/// The same figures per segment of the evaluation units.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Segments {
    /// How units are assigned to segments, in words.
    pub by: String,
    /// Segment names in display order.
    pub names: Vec<String>,
    /// variant → model → segment → scores.
    pub variants: BTreeMap<String, BTreeMap<String, BTreeMap<String, ModelScores>>>,
    /// variant → model → segment → metric → delta.
    pub deltas: BTreeMap<String, BTreeMap<String, BTreeMap<String, MetricDeltas>>>,
}

/// Display order of variants (base first), models and metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Order {
    pub variants: Vec<String>,
    pub models: Vec<String>,
    pub metrics: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiftReport {
    /// `search`, `recs` or `ctr`.
    pub task: String,
    pub shelf_version: String,
    /// variant (`base` first) → model → scores.
    pub variants: BTreeMap<String, BTreeMap<String, ModelScores>>,
    /// variant (not `base`) → model → metric → delta from base.
    pub deltas: Deltas,
    pub segments: Segments,
    pub order: Order,
    /// Where the data came from and what was used of it (paths, rows, skipped rows and why).
    pub data: serde_json::Value,
    /// Every setting that changes a figure (depth, seeds, resamples, tokenizer, embedder).
    pub settings: serde_json::Value,
}

impl LiftReport {
    /// Some variant is worse than the base with 95 % confidence on some metric (every metric
    /// here is better when higher, except log loss).
    pub fn regressed(&self) -> bool {
        self.deltas
            .values()
            .flat_map(|m| m.values())
            .any(|metrics| {
                metrics.iter().any(|(key, d)| {
                    if key.starts_with("logloss") {
                        d.ci95[0] > 0.0
                    } else {
                        d.ci95[1] < 0.0
                    }
                })
            })
    }
}

/// `metrics.json`: pretty-printed, ending in a newline.
pub fn lift_json(r: &LiftReport) -> String {
    let mut s =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// A few lines for the terminal: each variant's delta per model and metric, with its interval.
pub fn lift_text(r: &LiftReport) -> String {
    let mut out = String::new();
    let base = r.variants.get("base");
    for model in &r.order.models {
        let Some(b) = base.and_then(|v| v.get(model)) else {
            continue;
        };
        let line: Vec<String> = r
            .order
            .metrics
            .iter()
            .filter_map(|m| b.metrics.get(m).map(|v| format!("{m} {v:.4}")))
            .collect();
        out.push_str(&format!("{model:<7} base     {}\n", line.join("  ")));
        for v in r.order.variants.iter().filter(|v| *v != "base") {
            let Some(d) = r.deltas.get(v).and_then(|d| d.get(model)) else {
                continue;
            };
            let line: Vec<String> = r
                .order
                .metrics
                .iter()
                .filter_map(|m| {
                    d.get(m).map(|x| {
                        format!(
                            "{m} {:+.4} [{:+.4}, {:+.4}]{}",
                            x.delta,
                            x.ci95[0],
                            x.ci95[1],
                            if x.significant() { " *" } else { "" }
                        )
                    })
                })
                .collect();
            out.push_str(&format!("{:<7} {v:<8} {}\n", "", line.join("  ")));
        }
    }
    out
}
