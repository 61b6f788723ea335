//! Runs planned probes on a DataFusion session and judges their results into findings.
//!
//! All row probes of one table share a single scan; query probes run one by one. Memory stays
//! bounded: per probe the runner keeps a count, the 1000 smallest row ids and 5 examples; per
//! table with a timestamp, rows and flagged rows per day.

use std::collections::{BTreeMap, BinaryHeap, HashMap};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{cast, prep_null_mask_filter};
use arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::{Map, Value, json};
use shelf_core::{
    CheckRun, DuplicatePair, Finding, MAX_LISTED_ROW_IDS, Role, Severity, ShelfError, ShelfResult,
    TableKind, group_digits,
};

use crate::plan::{Analysis, Check, Ctx, Judge, Probe, ProbeSpec};

const EXAMPLES: usize = 5;

/// What a run of the checks produced.
#[derive(Debug, Default)]
pub struct ChecksOutput {
    pub checks: Vec<CheckRun>,
    pub findings: Vec<Finding>,
    /// Per table with a timestamp role: rows per UTC day (days since the epoch), measured in
    /// the same scan as the row checks, so charts of findings over time cost no second scan.
    /// Rows after "now" plus one day (future-timestamp's limit) are left out.
    pub rows_by_day: BTreeMap<TableKind, BTreeMap<i64, DayCount>>,
    /// Catalog item pairs judged to be the same product, when product matching ran.
    pub duplicate_pairs: Option<Vec<DuplicatePair>>,
}

/// Rows of one day, and how many of them at least one row probe flagged.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub rows: u64,
    pub flagged: u64,
}

const DAY_MICROS: i64 = 86_400_000_000;

/// Accumulates one finding's rows.
#[derive(Debug, Default)]
struct Acc {
    count: u64,
    smallest: BinaryHeap<u64>,
    examples: BTreeMap<u64, Map<String, Value>>,
    /// From an analyzer: evidence beyond the counts, and its own message.
    evidence: Map<String, Value>,
    message: Option<String>,
}

impl Acc {
    fn add(&mut self, id: u64, example: impl FnOnce() -> Map<String, Value>) {
        self.count += 1;
        if self.smallest.len() < MAX_LISTED_ROW_IDS {
            self.smallest.push(id);
        } else if self.smallest.peek().is_some_and(|&m| id < m) {
            self.smallest.pop();
            self.smallest.push(id);
        }
        if self.examples.len() < EXAMPLES
            || self.examples.last_key_value().is_some_and(|(&k, _)| id < k)
        {
            self.examples.insert(id, example());
            if self.examples.len() > EXAMPLES {
                self.examples.pop_last();
            }
        }
    }
}

fn df_err(what: &str, e: impl std::fmt::Display) -> ShelfError {
    ShelfError::engine(what, e)
}

/// Plans every enabled check, runs the probes and judges the results.
pub async fn run_checks(
    session: &SessionContext,
    checks: &[&dyn Check],
    ctx: &Ctx<'_>,
    progress: &(dyn Fn(&str) + Sync),
) -> ShelfResult<ChecksOutput> {
    let mut specs: Vec<(usize, ProbeSpec)> = Vec::new();
    for (i, check) in checks.iter().enumerate() {
        if !ctx.params.enabled(check.code(), check.name()) {
            continue;
        }
        for spec in check.plan(ctx) {
            specs.push((i, spec));
        }
    }
    let mut accs: Vec<BTreeMap<String, Acc>> = (0..specs.len()).map(|_| BTreeMap::new()).collect();
    let mut out = ChecksOutput::default();

    // One scan per table for all row probes.
    for table in ctx.tables {
        let idx: Vec<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, (_, s))| s.table == table.kind && matches!(s.probe, Probe::Rows { .. }))
            .map(|(i, _)| i)
            .collect();
        if idx.is_empty() {
            continue;
        }
        progress(&format!("checking {} rows of {}", table.rows, table.kind));
        let mut show: Vec<String> = Vec::new();
        let mut preds = Vec::new();
        for (k, &i) in idx.iter().enumerate() {
            if let Probe::Rows {
                predicate,
                show: s,
                key,
            } = &specs[i].1.probe
            {
                preds.push(format!("coalesce(({predicate}), false) AS __p{k}"));
                if let Some(key) = key {
                    preds.push(format!(
                        "CASE WHEN ({predicate}) THEN CAST(({key}) AS VARCHAR) END AS __k{k}"
                    ));
                }
                for c in s {
                    if !show.contains(c) {
                        show.push(c.clone());
                    }
                }
            }
        }
        let show_sql: String = show.iter().map(|c| format!(", \"{c}\"")).collect();
        let timed = table.has(Role::Timestamp);
        if timed {
            preds.push("CAST(timestamp AS BIGINT) AS __t".into());
        }
        let time_limit = ctx.now_micros + DAY_MICROS;
        let sql = format!(
            "SELECT row_id{show_sql}, {} FROM \"{}\"",
            preds.join(", "),
            table.view()
        );
        let df = session
            .sql(&sql)
            .await
            .map_err(|e| df_err(&format!("planning row checks on {}", table.kind), e))?;
        explain_if_asked("rows", &df).await;
        let mut stream = df
            .execute_stream()
            .await
            .map_err(|e| df_err("row checks", e))?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| df_err(&format!("row checks on {}", table.kind), e))?;
            let ids = row_ids(&batch)?;
            let mut flagged = vec![false; batch.num_rows()];
            for (k, &i) in idx.iter().enumerate() {
                let col = batch
                    .column_by_name(&format!("__p{k}"))
                    .ok_or_else(|| df_err("row checks", "missing predicate column"))?;
                let mask = set_rows(col.as_boolean());
                if mask.true_count() == 0 {
                    continue;
                }
                let Probe::Rows { show: s, .. } = &specs[i].1.probe else {
                    continue;
                };
                let keys = finding_keys(&batch, &format!("__k{k}"))?;
                // A check can flag nearly every row (ALL CAPS titles in Online Retail): look the
                // finding up once per run of rows with the same key, not once per row.
                let mut rows = mask.values().set_indices().peekable();
                while let Some(first) = rows.next() {
                    let key = key_at(keys.as_ref(), first);
                    let acc = accs[i].entry(key).or_default();
                    flagged[first] = true;
                    acc.add(ids[first], || example(&batch, first, s));
                    while let Some(r) = rows.next_if(|&r| same_key(keys.as_ref(), r, first)) {
                        flagged[r] = true;
                        acc.add(ids[r], || example(&batch, r, s));
                    }
                }
            }
            if timed && let Some(t) = batch.column_by_name("__t") {
                let t = t.as_primitive::<arrow::datatypes::Int64Type>();
                let days = out.rows_by_day.entry(table.kind).or_default();
                for (r, is_flagged) in flagged.iter().enumerate() {
                    if t.is_valid(r) && t.value(r) <= time_limit {
                        let day = days.entry(t.value(r).div_euclid(DAY_MICROS)).or_default();
                        day.rows += 1;
                        day.flagged += u64::from(*is_flagged);
                    }
                }
            }
        }
    }

    // Query probes.
    for (i, (ci, spec)) in specs.iter().enumerate() {
        let Probe::Query { sql } = &spec.probe else {
            continue;
        };
        progress(&format!("{} on {}", checks[*ci].code(), spec.table));
        let df = session
            .sql(sql)
            .await
            .map_err(|e| df_err(&format!("planning {sql}"), e))?;
        explain_if_asked(checks[*ci].code(), &df).await;
        // Execution errors name the check (SHELF_EXPLAIN=CODE prints its plan), not its SQL.
        let running = format!("{} on {}", checks[*ci].code(), spec.table);
        let mut stream = df.execute_stream().await.map_err(|e| df_err(&running, e))?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| df_err(&running, e))?;
            let ids = row_ids(&batch)?;
            let keys = finding_keys(&batch, "finding")?;
            let extra: Vec<String> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|n| n != "row_id" && n != "finding")
                .collect();
            for (r, &id) in ids.iter().enumerate() {
                accs[i]
                    .entry(key_at(keys.as_ref(), r))
                    .or_default()
                    .add(id, || example(&batch, r, &extra));
            }
        }
    }

    // Analyzer probes, each distinct (analyzer, sql) once.
    let mut analyses: HashMap<(String, String), Analysis> = HashMap::new();
    for (i, (ci, spec)) in specs.iter().enumerate() {
        let Probe::Analyze { sql, analyzer } = &spec.probe else {
            continue;
        };
        let memo = (analyzer.key(), sql.clone());
        if !analyses.contains_key(&memo) {
            progress(&format!("analyzing {}", spec.table));
            let df = session
                .sql(sql)
                .await
                .map_err(|e| df_err(&format!("planning {sql}"), e))?;
            let batches = df
                .collect()
                .await
                .map_err(|e| df_err(&format!("{} on {}", checks[*ci].code(), spec.table), e))?;
            let analysis = analyzer.analyze(&batches)?;
            if let Some(pairs) = &analysis.duplicate_pairs {
                out.duplicate_pairs
                    .get_or_insert_with(Vec::new)
                    .extend(pairs.iter().cloned());
            }
            analyses.insert(memo.clone(), analysis);
        }
        for o in analyses[&memo]
            .outcomes
            .iter()
            .filter(|o| o.code == checks[*ci].code())
        {
            let acc = accs[i].entry(o.key.clone()).or_default();
            acc.count += o.row_ids.len() as u64;
            acc.smallest
                .extend(o.row_ids.iter().take(MAX_LISTED_ROW_IDS).copied());
            if let Some(sql) = &o.rows_sql {
                let running = format!("{} on {}", checks[*ci].code(), spec.table);
                let df = session
                    .sql(sql)
                    .await
                    .map_err(|e| df_err(&format!("planning {sql}"), e))?;
                let mut stream = df.execute_stream().await.map_err(|e| df_err(&running, e))?;
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(|e| df_err(&running, e))?;
                    for id in row_ids(&batch)? {
                        acc.add(id, Map::new);
                    }
                }
            }
            acc.examples = o
                .examples
                .iter()
                .map(|m| {
                    (
                        m.get("row_id").and_then(Value::as_u64).unwrap_or(0),
                        m.clone(),
                    )
                })
                .collect();
            acc.evidence = o.evidence.clone();
            acc.message = o.message.clone();
        }
    }

    // Judge.
    let mut runs: BTreeMap<(String, String, Option<String>), CheckRun> = BTreeMap::new();
    for (i, (ci, spec)) in specs.iter().enumerate() {
        let check = checks[*ci];
        let total = ctx.table(spec.table).map_or(0, |t| t.rows);
        let severity_override = ctx.params.severity(check.code(), check.name());
        let run = runs
            .entry((
                check.code().to_string(),
                spec.table.as_str().to_string(),
                spec.column.clone(),
            ))
            .or_insert_with(|| CheckRun {
                code: check.code().into(),
                name: check.name().into(),
                table: spec.table.as_str().into(),
                role: spec.role.map(|r| r.as_str().into()),
                column: spec.column.clone(),
                severity: severity_override.unwrap_or(spec.severity),
                rows_affected: 0,
                findings: 0,
            });
        for (key, acc) in std::mem::take(&mut accs[i]) {
            if acc.count == 0 {
                continue;
            }
            let share = acc.count as f64 / total.max(1) as f64;
            let (mut severity, template) = match spec.variants.iter().find(|(k, _, _)| *k == key) {
                Some((_, s, m)) => (*s, m.clone()),
                None => (spec.severity, spec.message.clone()),
            };
            let template = acc.message.clone().unwrap_or(template);
            let mut message = fill(&template, acc.count, total).replace("{key}", &key);
            if let Some(mostly) = ctx.params.mostly(check.code(), check.name())
                && share <= 1.0 - mostly
            {
                continue;
            }
            match spec.judge {
                Judge::Any => {}
                Judge::MinorityOnly { share: limit } if share > limit => continue,
                Judge::MinorityOnly { .. } => {}
                Judge::HouseStyle { share: limit } if share > limit => {
                    severity = Severity::Info;
                    message = format!(
                        "{message} — {:.0}% of the column is like this, so it looks like the column's convention rather than a defect",
                        share * 100.0
                    );
                }
                Judge::HouseStyle { .. } => {}
            }
            if let Some(s) = severity_override {
                severity = s;
            }
            let mut row_ids = acc.smallest.into_sorted_vec();
            row_ids.truncate(MAX_LISTED_ROW_IDS);
            let mut evidence = Map::new();
            evidence.insert("rows".into(), json!(acc.count));
            evidence.insert("table_rows".into(), json!(total));
            evidence.insert("share".into(), json!((share * 1e6).round() / 1e6));
            if !key.is_empty() {
                evidence.insert("value".into(), json!(key));
            }
            for (k, v) in spec.evidence.iter().chain(&acc.evidence) {
                evidence.insert(k.clone(), v.clone());
            }
            evidence.insert(
                "examples".into(),
                Value::Array(
                    acc.examples
                        .into_iter()
                        .map(|(id, mut m)| {
                            m.insert("row_id".into(), json!(id));
                            Value::Object(m)
                        })
                        .collect(),
                ),
            );
            run.rows_affected += acc.count;
            run.findings += 1;
            if run.findings == 1 || severity > run.severity {
                run.severity = severity;
            }
            out.findings.push(Finding {
                code: check.code().into(),
                name: check.name().into(),
                severity,
                table: spec.table.as_str().into(),
                role: spec.role.map(|r| r.as_str().into()),
                column: spec.column.clone(),
                rows_affected: acc.count,
                row_ids_truncated: acc.count > MAX_LISTED_ROW_IDS as u64,
                row_ids,
                message,
                evidence: Value::Object(evidence),
                fix: check.fix().map(str::to_string),
            });
        }
    }
    out.checks = runs.into_values().collect();
    out.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.table.cmp(&b.table))
            .then_with(|| a.column.cmp(&b.column))
            .then_with(|| a.message.cmp(&b.message))
    });
    Ok(out)
}

/// A developer's view of a query check's physical plan: `SHELF_EXPLAIN=DU003` (or `rows` for
/// the merged row scan, or `all`) prints it to stderr before the check runs.
async fn explain_if_asked(code: &str, df: &datafusion::dataframe::DataFrame) {
    let Ok(want) = std::env::var("SHELF_EXPLAIN") else {
        return;
    };
    if !(want.eq_ignore_ascii_case("all") || want.split(',').any(|w| w.trim() == code)) {
        return;
    }
    match df.clone().create_physical_plan().await {
        Ok(plan) => eprintln!(
            "{code} plan:\n{}",
            datafusion::physical_plan::displayable(plan.as_ref()).indent(true)
        ),
        Err(e) => eprintln!("{code} plan: {e}"),
    }
}

fn fill(template: &str, n: u64, total: u64) -> String {
    let pct = if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    };
    let pct = if pct >= 1.0 {
        format!("{pct:.1}")
    } else {
        format!("{pct:.2}")
    };
    choose_number(template, n)
        .replace("{n}", &group_digits(n))
        .replace("{total}", &group_digits(total))
        .replace("{pct}", &pct)
}

/// Resolves every `{one|many}` in a message template by `n`: "{n} {row has|rows have} a
/// price of 0" reads "1 row has…" and "3 rows have…". Other braces are left alone.
fn choose_number(template: &str, n: u64) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open + 1..];
        let choice = tail.find('}').and_then(|close| {
            let inner = &tail[..close];
            let (one, many) = inner.split_once('|')?;
            (!inner.contains('{')).then_some((if n == 1 { one } else { many }, close))
        });
        match choice {
            Some((word, close)) => {
                out.push_str(word);
                rest = &tail[close + 1..];
            }
            None => {
                out.push('{');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text column that splits a probe's rows into findings, if the batch has one.
fn finding_keys(batch: &RecordBatch, name: &str) -> ShelfResult<Option<StringArray>> {
    batch
        .column_by_name(name)
        .map(|c| cast(c, &DataType::Utf8).map(|a| a.as_string::<i32>().clone()))
        .transpose()
        .map_err(|e| df_err("finding key", e))
}

/// Row `r`'s finding key; the empty key when there is no key column or the value is null.
/// Rows `a` and `b` carry the same finding key (see [`key_at`]).
fn same_key(keys: Option<&StringArray>, a: usize, b: usize) -> bool {
    keys.is_none_or(|k| {
        let at = |r: usize| if k.is_valid(r) { k.value(r) } else { "" };
        at(a) == at(b)
    })
}

fn key_at(keys: Option<&StringArray>, r: usize) -> String {
    keys.filter(|k| k.is_valid(r))
        .map(|k| k.value(r).to_string())
        .unwrap_or_default()
}

fn set_rows(b: &BooleanArray) -> BooleanArray {
    if b.null_count() > 0 {
        prep_null_mask_filter(b)
    } else {
        b.clone()
    }
}

fn row_ids(batch: &RecordBatch) -> ShelfResult<Vec<u64>> {
    let col = batch
        .column_by_name("row_id")
        .ok_or_else(|| df_err("check query", "result has no row_id column"))?;
    let c = cast(col, &DataType::UInt64).map_err(|e| df_err("row_id", e))?;
    let p = c.as_primitive::<arrow::datatypes::UInt64Type>();
    Ok(p.iter().map(|v| v.unwrap_or(u64::MAX)).collect())
}

fn example(batch: &RecordBatch, row: usize, cols: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    for c in cols {
        if let Some(a) = batch.column_by_name(c) {
            m.insert(c.clone(), value_at(a, row));
        }
    }
    m
}

fn value_at(a: &ArrayRef, row: usize) -> Value {
    if a.is_null(row) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Float64 => json!(a.as_primitive::<arrow::datatypes::Float64Type>().value(row)),
        DataType::Int64 => json!(a.as_primitive::<arrow::datatypes::Int64Type>().value(row)),
        DataType::UInt64 => json!(a.as_primitive::<arrow::datatypes::UInt64Type>().value(row)),
        DataType::Boolean => json!(a.as_boolean().value(row)),
        _ => {
            let s = arrow::util::display::array_value_to_string(a, row).unwrap_or_default();
            // Keep examples readable: cut very long text.
            if s.chars().count() > 300 {
                json!(format!("{}…", s.chars().take(300).collect::<String>()))
            } else {
                json!(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_agree_with_their_count() {
        let t = "{n} of {total} rows ({pct}%) {has|have} a {row has|rows have} x";
        assert_eq!(fill(t, 1, 8), "1 of 8 rows (12.5%) has a row has x");
        assert_eq!(fill(t, 2, 8), "2 of 8 rows (25.0%) have a rows have x");
        assert_eq!(
            fill(t, 1_234, 5_000_000),
            "1,234 of 5,000,000 rows (0.02%) have a rows have x"
        );
    }

    #[test]
    fn braces_that_are_not_a_choice_stay() {
        assert_eq!(choose_number("{a} {b|c} {x|y{z}} {", 1), "{a} b {x|y{z}} {");
        assert_eq!(choose_number("}{|}{", 2), "}{");
        assert_eq!(choose_number("列 {价格|价格们}", 1), "列 价格");
    }
}
