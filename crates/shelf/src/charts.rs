//! Charts for the report, computed with the same engine as the checks.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use shelf_checks::{DayCount, TableInfo};
use shelf_core::{Role, ShelfError, ShelfResult, TableKind};
use shelf_report::{Chart, ChartKind, Series};

async fn query(ctx: &SessionContext, sql: &str) -> ShelfResult<Vec<RecordBatch>> {
    let df = ctx
        .sql(sql)
        .await
        .map_err(|e| ShelfError::internal(format!("chart query {sql}: {e}")))?;
    df.collect()
        .await
        .map_err(|e| ShelfError::internal(format!("chart query {sql}: {e}")))
}

fn strings(batches: &[RecordBatch], col: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(col);
            (0..a.len()).map(move |i| {
                if a.is_null(i) {
                    "(none)".to_string()
                } else {
                    arrow::util::display::array_value_to_string(a, i).unwrap_or_default()
                }
            })
        })
        .collect()
}

fn floats(batches: &[RecordBatch], col: usize) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = cast(b.column(col), &DataType::Float64).expect("numeric chart column");
            let p = a.as_primitive::<Float64Type>().clone();
            (0..p.len())
                .map(move |i| if p.is_null(i) { 0.0 } else { p.value(i) })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// All charts that the given tables support.
pub async fn charts(
    ctx: &SessionContext,
    tables: &[TableInfo],
    rows_by_day: &BTreeMap<TableKind, BTreeMap<i64, DayCount>>,
) -> ShelfResult<Vec<Chart>> {
    let mut out = Vec::new();
    for t in tables {
        let v = t.view();
        if t.has(Role::Price) && t.has(Role::Category) {
            let b = query(ctx, &format!(
                "SELECT category, approx_percentile_cont(0.05) WITHIN GROUP (ORDER BY price), approx_percentile_cont(0.25) WITHIN GROUP (ORDER BY price), \
                 median(price), approx_percentile_cont(0.75) WITHIN GROUP (ORDER BY price), approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY price) \
                 FROM \"{v}\" WHERE price > 0 GROUP BY category ORDER BY count(*) DESC, category LIMIT 8"
            )).await?;
            let names = strings(&b, 0);
            let cols: Vec<Vec<f64>> = (1..6).map(|c| floats(&b, c)).collect();
            let series = names
                .iter()
                .enumerate()
                .map(|(i, n)| Series {
                    name: n.clone(),
                    labels: ["p5", "p25", "median", "p75", "p95"]
                        .map(String::from)
                        .to_vec(),
                    values: cols.iter().map(|c| c[i]).collect(),
                })
                .collect::<Vec<_>>();
            if !series.is_empty() {
                out.push(Chart {
                    id: format!("{v}-price-by-category"),
                    title: format!("{v}: price by category (8 largest)"),
                    x_label: "category".into(),
                    y_label: "price".into(),
                    kind: ChartKind::Quantiles,
                    series,
                });
            }
        } else if t.has(Role::Price) {
            let b = query(ctx, &format!("SELECT CAST(floor(log10(price) * 4) AS BIGINT) AS b, count(*) FROM \"{v}\" WHERE price > 0 GROUP BY b ORDER BY b")).await?;
            let buckets = floats(&b, 0);
            if !buckets.is_empty() {
                out.push(Chart {
                    id: format!("{v}-price"),
                    title: format!("{v}: price distribution (log scale)"),
                    x_label: "price from".into(),
                    y_label: "rows".into(),
                    kind: ChartKind::Histogram,
                    series: vec![Series {
                        name: "rows".into(),
                        labels: buckets
                            .iter()
                            .map(|x| fmt_num(10f64.powf(x / 4.0)))
                            .collect(),
                        values: floats(&b, 1),
                    }],
                });
            }
        }
        if t.kind == TableKind::Events && t.has(Role::UserId) {
            let b = query(ctx, &format!(
                "SELECT CAST(floor(log2(n)) AS BIGINT) AS b, count(*) FROM (SELECT user_id, count(*) AS n FROM \"{v}\" WHERE user_id IS NOT NULL GROUP BY user_id) GROUP BY b ORDER BY b"
            )).await?;
            let buckets = floats(&b, 0);
            out.push(Chart {
                id: "events-per-user".into(),
                title: "events per user".into(),
                x_label: "events per user".into(),
                y_label: "users".into(),
                kind: ChartKind::Bar,
                series: vec![Series {
                    name: "users".into(),
                    labels: buckets
                        .iter()
                        .map(|x| {
                            let lo = 2f64.powf(*x) as u64;
                            let hi = 2 * lo - 1;
                            if lo == hi {
                                lo.to_string()
                            } else {
                                format!("{lo}–{hi}")
                            }
                        })
                        .collect(),
                    values: floats(&b, 1),
                }],
            });
        }
        for role in [Role::Title, Role::Query, Role::Text] {
            if !t.has(role) {
                continue;
            }
            let r = role.as_str();
            let b = query(ctx, &format!(
                "SELECT least(CAST(character_length({r}) / 10 AS BIGINT), 30) AS b, count(*) FROM \"{v}\" WHERE {r} IS NOT NULL GROUP BY b ORDER BY b"
            )).await?;
            let buckets = floats(&b, 0);
            out.push(Chart {
                id: format!("{v}-{r}-length"),
                title: format!("{v}: {r} length in characters"),
                x_label: "characters".into(),
                y_label: "rows".into(),
                kind: ChartKind::Histogram,
                series: vec![Series {
                    name: "rows".into(),
                    labels: buckets
                        .iter()
                        .map(|x| {
                            if *x >= 30.0 {
                                "300+".into()
                            } else {
                                format!("{}", (*x as i64) * 10)
                            }
                        })
                        .collect(),
                    values: floats(&b, 1),
                }],
            });
        }
        if t.kind == TableKind::Events
            && let Some(days) = rows_by_day.get(&t.kind)
            && let Some(chart) = over_time(days)
        {
            out.push(chart);
        }
    }
    Ok(out)
}

/// Events per day (per month when the data spans more than 120 days) and how many carry a
/// row-level finding, from the counts the check scan already took.
fn over_time(days: &BTreeMap<i64, DayCount>) -> Option<Chart> {
    let (first, last) = (*days.keys().next()?, *days.keys().next_back()?);
    let monthly = last - first > 120;
    let mut buckets: BTreeMap<String, DayCount> = BTreeMap::new();
    for (day, count) in days {
        let date = chrono::DateTime::from_timestamp(day * 86_400, 0)?.date_naive();
        let label = if monthly {
            date.format("%Y-%m-01")
        } else {
            date.format("%Y-%m-%d")
        };
        let b = buckets.entry(label.to_string()).or_default();
        b.rows += count.rows;
        b.flagged += count.flagged;
    }
    if buckets.len() < 2 || buckets.len() > 400 {
        return None;
    }
    let unit = if monthly { "month" } else { "day" };
    let labels: Vec<String> = buckets.keys().cloned().collect();
    Some(Chart {
        id: "events-over-time".into(),
        title: format!("events per {unit}, and rows with row-level findings"),
        x_label: unit.into(),
        y_label: "rows".into(),
        kind: ChartKind::Line,
        series: vec![
            Series {
                name: "events".into(),
                labels: labels.clone(),
                values: buckets.values().map(|b| b.rows as f64).collect(),
            },
            Series {
                name: "with findings".into(),
                labels,
                values: buckets.values().map(|b| b.flagged as f64).collect(),
            },
        ],
    })
}

fn fmt_num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}
