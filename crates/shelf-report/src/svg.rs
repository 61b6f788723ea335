//! Charts as hand-written inline SVG: axes, ticks, labels, a title, native tooltips (`<title>`).
//!
//! No plotting crate: the four chart kinds are simple, and writing the SVG here keeps the page
//! self-contained and the output deterministic. Every piece of text from the data is escaped.

use crate::escape::{push_escaped, truncate_chars, w};
use crate::{Chart, ChartKind, Series};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const MARGIN_LEFT: f64 = 64.0;
const MARGIN_RIGHT: f64 = 20.0;
const MARGIN_TOP: f64 = 40.0;
/// Below the plot: level tick labels and the axis label…
const MARGIN_BOTTOM: f64 = 48.0;
/// …or rotated tick labels (cut to [`MAX_ROTATED_LABEL_WIDTH`]) and the axis label.
const MARGIN_BOTTOM_ROTATED: f64 = 80.0;
const MAX_ROTATED_LABEL_WIDTH: f64 = 66.0;
const LEGEND_HEIGHT: f64 = 20.0;
const FONT: f64 = 11.0;
/// Axis tick labels longer than this are cut (the full label is in the tooltip).
const MAX_TICK_LABEL_CHARS: usize = 16;
/// Colour-blind-friendly palette (Okabe–Ito, darkened a little for white backgrounds).
pub(crate) const PALETTE: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#8a7d00", "#666666",
];

/// One chart as a standalone `<svg>` element (no `xmlns` needed inline in HTML; no external
/// references). Scales to its container's width.
pub fn chart_svg(c: &Chart) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let legend = c.kind != ChartKind::Quantiles && c.series.len() > 1;
    // The legend goes on the title's line when both fit, else on a line of its own.
    let legend_w = legend_width(&c.series);
    let legend_inline =
        12.0 + text_width(&c.title, 14.0) * 1.05 + 24.0 + legend_w <= WIDTH - MARGIN_RIGHT;
    let x_labels = match c.kind {
        ChartKind::Quantiles => boxes(c).iter().map(|(s, _)| s.name.clone()).collect(),
        _ => union_labels(&c.series),
    };
    // Ordered axes (buckets, time) can skip labels; categories would rather turn them.
    let ordered = matches!(c.kind, ChartKind::Histogram | ChartKind::Line);
    let ticks = XTicks::new(x_labels, WIDTH - MARGIN_LEFT - MARGIN_RIGHT, ordered);
    let frame = Frame {
        x0: MARGIN_LEFT,
        x1: WIDTH - MARGIN_RIGHT,
        y0: MARGIN_TOP
            + if legend && !legend_inline {
                LEGEND_HEIGHT
            } else {
                0.0
            },
        y1: HEIGHT
            - if ticks.rotate {
                MARGIN_BOTTOM_ROTATED
            } else {
                MARGIN_BOTTOM
            },
    };
    out.push_str(r#"<svg class="chart" viewBox="0 0 640 320" role="img" aria-label=""#);
    push_escaped(&mut out, &c.title);
    out.push_str(r#"" preserveAspectRatio="xMidYMid meet">"#);
    out.push_str("<title>");
    push_escaped(&mut out, &c.title);
    out.push_str("</title>");
    text(&mut out, 12.0, 22.0, "start", "chart-title", &c.title);
    if legend && legend_inline {
        draw_legend(&mut out, &c.series, WIDTH - MARGIN_RIGHT - legend_w, 22.0);
    } else if legend {
        draw_legend(&mut out, &c.series, frame.x0, MARGIN_TOP - 2.0);
    }

    let drawn = match c.kind {
        ChartKind::Bar => bars(&mut out, c, &frame, &ticks, false),
        ChartKind::Histogram => bars(&mut out, c, &frame, &ticks, true),
        ChartKind::Quantiles => quantiles(&mut out, c, &frame, &ticks),
        ChartKind::Line => line(&mut out, c, &frame, &ticks),
    };
    if !drawn {
        text(
            &mut out,
            WIDTH / 2.0,
            HEIGHT / 2.0,
            "middle",
            "no-data",
            "no data to plot",
        );
    }
    out.push_str("</svg>");
    out
}

/// The plot area, in SVG units: x grows right, y grows down.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn width(&self) -> f64 {
        self.x1 - self.x0
    }
}

/// A linear value axis with "nice" round ticks.
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
}

impl Scale {
    /// Round bounds covering `[min, max]` with about `target` ticks.
    fn nice(min: f64, max: f64, target: usize) -> Scale {
        if !(min.is_finite() && max.is_finite()) || min > max {
            return Scale {
                lo: 0.0,
                hi: 1.0,
                step: 0.2,
            };
        }
        let (mut min, mut max) = (min, max);
        if max - min <= f64::EPSILON * max.abs().max(1.0) {
            let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
            if min >= 0.0 && min - pad < 0.0 {
                min = 0.0;
            } else {
                min -= pad;
            }
            max += pad;
        }
        let raw = (max - min) / target.max(1) as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let norm = raw / mag;
        let nice = if norm <= 1.0 {
            1.0
        } else if norm <= 2.0 {
            2.0
        } else if norm <= 2.5 {
            2.5
        } else if norm <= 5.0 {
            5.0
        } else {
            10.0
        };
        let step = nice * mag;
        Scale {
            lo: (min / step).floor() * step,
            hi: (max / step).ceil() * step,
            step,
        }
    }

    fn ticks(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as usize;
        (0..=n).map(|i| self.lo + i as f64 * self.step).collect()
    }

    /// Value → y in the frame.
    fn y(&self, f: &Frame, v: f64) -> f64 {
        let t = (v - self.lo) / (self.hi - self.lo);
        f.y1 - t * (f.y1 - f.y0)
    }

    /// A tick label: compact for large values (`12k`, `1.5M`), with only the decimals the
    /// step needs.
    fn label(&self, v: f64) -> String {
        let top = self.lo.abs().max(self.hi.abs());
        let (div, suffix) = if top >= 1e9 {
            (1e9, "B")
        } else if top >= 1e6 {
            (1e6, "M")
        } else if top >= 1e4 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let step = self.step / div;
        let decimals = (0..=6)
            .find(|&d| {
                let s = step * 10f64.powi(d);
                (s - s.round()).abs() < 1e-6 * s.abs().max(1.0)
            })
            .unwrap_or(6) as usize;
        let x = v / div;
        if x.abs() < step * 1e-9 {
            return "0".to_string();
        }
        format!("{x:.decimals$}{suffix}")
    }
}

/// A value for a tooltip: integers in full, others with up to 4 significant decimals.
fn value_label(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let decimals = if v.abs() >= 100.0 {
        2
    } else if v.abs() >= 1.0 {
        3
    } else {
        let lead = -v.abs().log10().floor() as usize;
        (lead + 3).min(12)
    };
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Approximate rendered width of `s` at font size `size` (CJK glyphs are about twice as wide).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.05 })
        .sum::<f64>()
        * size
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
    w(
        out,
        format_args!(r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" class="{class}">"#),
    );
    push_escaped(out, s);
    out.push_str("</text>");
}

/// Width of one legend entry: swatch, gap, name, spacing.
fn legend_item_width(name: &str) -> f64 {
    14.0 + text_width(name, FONT) + 14.0
}

fn legend_width(series: &[Series]) -> f64 {
    series
        .iter()
        .map(|s| legend_item_width(&truncate_chars(&s.name, 24)))
        .sum::<f64>()
        - 14.0
}

fn draw_legend(out: &mut String, series: &[Series], x0: f64, y: f64) {
    let mut x = x0;
    for (i, s) in series.iter().enumerate() {
        let name = truncate_chars(&s.name, 24);
        let item = legend_item_width(&name);
        // The last entry needs no spacing after it.
        if x + item - 14.0 > WIDTH - MARGIN_RIGHT + 0.5 && i > 0 {
            text(out, x, y, "start", "legend", "…");
            break;
        }
        w(
            out,
            format_args!(
                r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" rx="2" fill="{}"/>"#,
                y - 9.0,
                PALETTE[i % PALETTE.len()]
            ),
        );
        text(out, x + 14.0, y, "start", "legend", &name);
        x += item;
    }
}

/// Y axis: grid lines, tick labels and the rotated axis label.
fn y_axis(out: &mut String, f: &Frame, s: &Scale, label: &str) {
    for t in s.ticks() {
        let y = s.y(f, t);
        w(
            out,
            format_args!(
                r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" class="grid"/>"#,
                f.x0, f.x1
            ),
        );
        text(out, f.x0 - 6.0, y + 3.5, "end", "tick", &s.label(t));
    }
    let cy = (f.y0 + f.y1) / 2.0;
    w(
        out,
        format_args!(
            r#"<text transform="translate(14 {cy:.1}) rotate(-90)" text-anchor="middle" class="axis-label">"#
        ),
    );
    push_escaped(out, label);
    out.push_str("</text>");
    w(
        out,
        format_args!(
            r#"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" class="axis"/>"#,
            f.x0, f.y0, f.y1
        ),
    );
}

/// How the x tick labels are laid out: level and thinned, or rotated.
struct XTicks {
    /// The full labels, one per x position.
    labels: Vec<String>,
    /// What is drawn (cut to fit).
    shown: Vec<String>,
    rotate: bool,
    /// Draw every `every`-th label.
    every: usize,
}

impl XTicks {
    fn new(labels: Vec<String>, width: f64, ordered: bool) -> XTicks {
        let n = labels.len().max(1);
        let slot = width / n as f64;
        let level: Vec<String> = labels
            .iter()
            .map(|l| truncate_chars(l, MAX_TICK_LABEL_CHARS))
            .collect();
        let widest = level
            .iter()
            .map(|l| text_width(l, FONT))
            .fold(0.0, f64::max);
        let level_every = (((widest + 10.0) / slot).ceil() as usize).max(1);
        // Level labels when they fit; on an ordered axis also when thinning them still
        // leaves a handful. Otherwise turn them.
        let rotate = level_every > 1 && !(ordered && n.div_ceil(level_every) >= 4);
        if !rotate {
            return XTicks {
                labels,
                shown: level,
                rotate,
                every: level_every,
            };
        }
        let shown = labels
            .iter()
            .map(|l| truncate_width(l, MAX_ROTATED_LABEL_WIDTH, FONT))
            .collect();
        XTicks {
            labels,
            shown,
            rotate,
            every: (((FONT * 1.5) / slot).ceil() as usize).max(1),
        }
    }
}

/// `s` cut (with `…`) to about `max` units wide at font size `size`.
fn truncate_width(s: &str, max: f64, size: f64) -> String {
    if text_width(s, size) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = text_width("…", size);
    for c in s.chars() {
        let cw = text_width(c.encode_utf8(&mut [0; 4]), size);
        if used + cw > max {
            break;
        }
        used += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// X axis: the baseline, tick marks and labels (a cut label keeps its full text as a
/// tooltip), and the axis label. `at(i)` is the x of label `i`.
fn x_axis(out: &mut String, f: &Frame, ticks: &XTicks, at: impl Fn(usize) -> f64, label: &str) {
    w(
        out,
        format_args!(
            r#"<line x1="{0:.1}" y1="{1:.1}" x2="{2:.1}" y2="{1:.1}" class="axis"/>"#,
            f.x0, f.y1, f.x1
        ),
    );
    for (i, (full, shown)) in ticks.labels.iter().zip(&ticks.shown).enumerate() {
        if i % ticks.every != 0 {
            continue;
        }
        let x = at(i);
        let y = f.y1 + 15.0;
        w(
            out,
            format_args!(
                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" class="axis"/>"#,
                f.y1,
                f.y1 + 4.0
            ),
        );
        if ticks.rotate {
            w(
                out,
                format_args!(
                    r#"<text transform="translate({:.1} {:.1}) rotate(-35)" text-anchor="end" class="tick">"#,
                    x + 3.0,
                    y - 3.0
                ),
            );
        } else {
            w(
                out,
                format_args!(r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" class="tick">"#),
            );
        }
        if full != shown {
            out.push_str("<title>");
            push_escaped(out, full);
            out.push_str("</title>");
        }
        push_escaped(out, shown);
        out.push_str("</text>");
    }
    text(
        out,
        (f.x0 + f.x1) / 2.0,
        HEIGHT - 8.0,
        "middle",
        "axis-label",
        label,
    );
}

/// Labels in order of first appearance across all series (series may cover different x's).
fn union_labels(series: &[Series]) -> Vec<String> {
    let mut seen = std::collections::HashMap::new();
    let mut labels = Vec::new();
    for s in series {
        for l in &s.labels {
            if !seen.contains_key(l.as_str()) {
                seen.insert(l.as_str(), labels.len());
                labels.push(l.clone());
            }
        }
    }
    labels
}

fn finite_range<'a>(values: impl Iterator<Item = &'a f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Bar chart (grouped bars per label) or histogram (contiguous bars, labels at left edges,
/// several series overlaid translucently).
fn bars(out: &mut String, c: &Chart, f: &Frame, ticks: &XTicks, histogram: bool) -> bool {
    let labels = &ticks.labels;
    let Some((min, max)) = finite_range(c.series.iter().flat_map(|s| s.values.iter())) else {
        return false;
    };
    if labels.is_empty() {
        return false;
    }
    let scale = Scale::nice(min.min(0.0), max.max(0.0), 5);
    y_axis(out, f, &scale, &c.y_label);
    let index: std::collections::HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let n = labels.len();
    let band = f.width() / n as f64;
    let zero = scale.y(f, 0.0);
    let groups = if histogram { 1 } else { c.series.len().max(1) };
    let pad = if histogram { 0.0 } else { band * 0.15 };
    let bar_w = ((band - 2.0 * pad) / groups as f64).max(0.5);
    for (si, s) in c.series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let opacity = if histogram && c.series.len() > 1 {
            0.55
        } else {
            0.9
        };
        for (l, &v) in s.labels.iter().zip(&s.values) {
            if !v.is_finite() {
                continue;
            }
            let i = index[l.as_str()];
            let x = f.x0 + i as f64 * band + pad + if histogram { 0.0 } else { si as f64 * bar_w };
            let y = scale.y(f, v);
            let (top, h) = if y < zero {
                (y, zero - y)
            } else {
                (zero, y - zero)
            };
            // Histogram bars touch; a hairline gap keeps them countable.
            let gap = if histogram && band > 3.0 { 1.0 } else { 0.0 };
            w(
                out,
                format_args!(
                    r#"<rect x="{x:.2}" y="{top:.2}" width="{:.2}" height="{:.2}" fill="{colour}" fill-opacity="{opacity}"><title>"#,
                    (bar_w - gap).max(0.5),
                    h.max(0.0)
                ),
            );
            if c.series.len() > 1 {
                push_escaped(out, &s.name);
                out.push_str(" · ");
            }
            push_escaped(out, l);
            out.push_str(": ");
            out.push_str(&value_label(v));
            out.push_str("</title></rect>");
        }
    }
    if histogram {
        x_axis(out, f, ticks, |i| f.x0 + i as f64 * band, &c.x_label);
    } else {
        x_axis(
            out,
            f,
            ticks,
            |i| f.x0 + (i as f64 + 0.5) * band,
            &c.x_label,
        );
    }
    true
}

/// The series a box plot can draw: exactly five finite values, in order.
fn boxes(c: &Chart) -> Vec<(&Series, [f64; 5])> {
    c.series
        .iter()
        .filter_map(|s| {
            let v: [f64; 5] = s.values.as_slice().try_into().ok()?;
            v.iter().all(|x| x.is_finite()).then_some((s, v))
        })
        .collect()
}

/// One box per series: whiskers min–max, box p25–p75, a line at the median.
fn quantiles(out: &mut String, c: &Chart, f: &Frame, ticks: &XTicks) -> bool {
    let boxes = boxes(c);
    let Some((min, max)) = finite_range(boxes.iter().flat_map(|(_, v)| v.iter())) else {
        return false;
    };
    let scale = Scale::nice(min, max, 5);
    y_axis(out, f, &scale, &c.y_label);
    let n = boxes.len();
    let band = f.width() / n as f64;
    let box_w = (band * 0.5).min(56.0);
    for (i, (s, [lo, q1, med, q3, hi])) in boxes.iter().enumerate() {
        let cx = f.x0 + (i as f64 + 0.5) * band;
        let colour = PALETTE[i % PALETTE.len()];
        let (ylo, yq1, ymed, yq3, yhi) = (
            scale.y(f, *lo),
            scale.y(f, *q1),
            scale.y(f, *med),
            scale.y(f, *q3),
            scale.y(f, *hi),
        );
        out.push_str(r#"<g class="box"><title>"#);
        push_escaped(out, &s.name);
        w(
            out,
            format_args!(
                ": min {}, p25 {}, median {}, p75 {}, max {}</title>",
                value_label(*lo),
                value_label(*q1),
                value_label(*med),
                value_label(*q3),
                value_label(*hi)
            ),
        );
        w(
            out,
            format_args!(
                r#"<line x1="{cx:.1}" y1="{yhi:.1}" x2="{cx:.1}" y2="{yq3:.1}" class="whisker"/><line x1="{cx:.1}" y1="{yq1:.1}" x2="{cx:.1}" y2="{ylo:.1}" class="whisker"/><line x1="{:.1}" y1="{yhi:.1}" x2="{:.1}" y2="{yhi:.1}" class="whisker"/><line x1="{:.1}" y1="{ylo:.1}" x2="{:.1}" y2="{ylo:.1}" class="whisker"/><rect x="{:.1}" y="{yq3:.1}" width="{box_w:.1}" height="{:.1}" fill="{colour}" fill-opacity="0.35" stroke="{colour}" stroke-width="1.5"/><line x1="{:.1}" y1="{ymed:.1}" x2="{:.1}" y2="{ymed:.1}" stroke="{colour}" stroke-width="3"/></g>"#,
                cx - box_w / 4.0,
                cx + box_w / 4.0,
                cx - box_w / 4.0,
                cx + box_w / 4.0,
                cx - box_w / 2.0,
                (yq1 - yq3).max(1.0),
                cx - box_w / 2.0,
                cx + box_w / 2.0,
            ),
        );
    }
    x_axis(
        out,
        f,
        ticks,
        |i| f.x0 + (i as f64 + 0.5) * band,
        &c.x_label,
    );
    true
}

/// One polyline per series over the shared, ordered x labels; dots when there are few points.
fn line(out: &mut String, c: &Chart, f: &Frame, ticks: &XTicks) -> bool {
    let labels = &ticks.labels;
    let Some((min, max)) = finite_range(c.series.iter().flat_map(|s| s.values.iter())) else {
        return false;
    };
    let lo = if min >= 0.0 && min <= max * 0.5 {
        0.0
    } else {
        min
    };
    let scale = Scale::nice(lo, max, 5);
    y_axis(out, f, &scale, &c.y_label);
    let index: std::collections::HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let n = labels.len();
    let at = |i: usize| {
        if n <= 1 {
            (f.x0 + f.x1) / 2.0
        } else {
            f.x0 + 8.0 + i as f64 * (f.width() - 16.0) / (n - 1) as f64
        }
    };
    for (si, s) in c.series.iter().enumerate() {
        let colour = PALETTE[si % PALETTE.len()];
        let pts: Vec<(f64, f64, &str, f64)> = s
            .labels
            .iter()
            .zip(&s.values)
            .filter(|(_, v)| v.is_finite())
            .map(|(l, &v)| (at(index[l.as_str()]), scale.y(f, v), l.as_str(), v))
            .collect();
        out.push_str(r#"<polyline fill="none" stroke-width="2" stroke-linejoin="round" stroke=""#);
        out.push_str(colour);
        out.push_str(r#"" points=""#);
        for (x, y, _, _) in &pts {
            w(out, format_args!("{x:.1},{y:.1} "));
        }
        out.push_str(r#""/>"#);
        if pts.len() <= 60 {
            for (x, y, l, v) in &pts {
                w(
                    out,
                    format_args!(
                        r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"><title>"#
                    ),
                );
                if c.series.len() > 1 {
                    push_escaped(out, &s.name);
                    out.push_str(" · ");
                }
                push_escaped(out, l);
                out.push_str(": ");
                out.push_str(&value_label(*v));
                out.push_str("</title></circle>");
            }
        }
    }
    x_axis(out, f, ticks, at, &c.x_label);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_scale_covers_range_with_round_steps() {
        let s = Scale::nice(0.0, 9.3, 5);
        assert_eq!((s.lo, s.hi, s.step), (0.0, 10.0, 2.0));
        let s = Scale::nice(3.0, 3.0, 5);
        assert!(s.lo <= 3.0 && s.hi >= 3.0 && s.hi > s.lo);
        assert_eq!(Scale::nice(0.0, 48_000.0, 5).label(20_000.0), "20k");
        assert_eq!(Scale::nice(0.0, 1.0, 4).label(0.25), "0.25");
    }

    #[test]
    fn value_labels_are_short() {
        assert_eq!(value_label(1200.0), "1200");
        assert_eq!(value_label(12.34567), "12.346");
        assert_eq!(value_label(0.000123456), "0.0001235");
    }
}
