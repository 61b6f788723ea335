//! The check contract: a check **measures** by planning probes (SQL over a table's role view),
//! and the runner **judges** each probe's result into findings. Checks never execute anything
//! themselves, so the same plans run on one machine or on a Ballista cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use serde_json::{Map, Value};
use shelf_core::{DuplicatePair, ShelfResult};

use shelf_core::{Role, RoleType, Severity, TableKind};
use shelf_io::presets::LabelScale;

/// One table as the checks see it.
///
/// SQL names: `<kind>` is the **role view** — `row_id`, then one column per bound role named
/// after the role. Text-like roles are text; money and number roles are `DOUBLE` (parsed, price
/// scale applied) with the original text in `<role>_raw`; time roles are microsecond timestamps
/// with the original in `<role>_raw`; `label` is a number (ESCI letters mapped E3 S2 C1 I0).
/// `<kind>_raw` is the staged input: `__row_id` and the user's columns as read.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub kind: TableKind,
    pub rows: u64,
    /// The user's columns, in file order.
    pub columns: Vec<String>,
    /// role → the user's column(s); several columns form a category path.
    pub roles: BTreeMap<Role, Vec<String>>,
    /// Extra "no value" tokens of this table's format (e.g. `NA`).
    pub null_tokens: Vec<String>,
    pub label_scale: Option<LabelScale>,
}

impl TableInfo {
    pub fn view(&self) -> &'static str {
        self.kind.as_str()
    }

    pub fn raw(&self) -> String {
        format!("{}_raw", self.kind.as_str())
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains_key(&role)
    }

    /// The user's column name(s) behind a role, as shown in findings (`a > b` for a path).
    pub fn column(&self, role: Role) -> Option<String> {
        self.roles.get(&role).map(|c| c.join(" > "))
    }

    /// Bound roles of the given types, in role order.
    pub fn roles_of(&self, types: &[RoleType]) -> Vec<Role> {
        self.roles
            .keys()
            .copied()
            .filter(|r| types.contains(&r.role_type()))
            .collect()
    }

    /// SQL for a role's original text: `<role>_raw` for parsed roles, else `<role>`.
    pub fn raw_text(&self, role: Role) -> String {
        if is_parsed(role) {
            format!("{}_raw", role.as_str())
        } else {
            role.as_str().to_string()
        }
    }
}

/// Roles whose view column holds a parsed value (with the original in `<role>_raw`).
pub fn is_parsed(role: Role) -> bool {
    matches!(
        role.role_type(),
        RoleType::Money | RoleType::Number | RoleType::Time
    ) || role == Role::Label
}

/// Per-check settings from `shelf.toml` (`[checks.CODE]` or `[checks.name]`).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub by_check: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl Params {
    fn get(&self, code: &str, name: &str, key: &str) -> Option<&serde_json::Value> {
        self.by_check
            .get(code)
            .and_then(|m| m.get(key))
            .or_else(|| self.by_check.get(name).and_then(|m| m.get(key)))
    }

    pub fn f64(&self, code: &str, name: &str, key: &str, default: f64) -> f64 {
        self.get(code, name, key)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(default)
    }

    pub fn enabled(&self, code: &str, name: &str) -> bool {
        self.get(code, name, "enabled")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true)
    }

    pub fn severity(&self, code: &str, name: &str) -> Option<Severity> {
        self.get(code, name, "severity")
            .and_then(|v| v.as_str())
            .and_then(Severity::parse)
    }

    /// `mostly`: the share of rows that must pass; fewer failures than `1 - mostly` is no finding.
    pub fn mostly(&self, code: &str, name: &str) -> Option<f64> {
        self.get(code, name, "mostly")
            .and_then(serde_json::Value::as_f64)
    }
}

/// What checks can see when they plan.
pub struct Ctx<'a> {
    pub tables: &'a [TableInfo],
    pub params: &'a Params,
    /// "Now" for future-time checks, in microseconds since the epoch (a parameter, so runs are
    /// reproducible).
    pub now_micros: i64,
    /// The run's embedder, when one is configured (`[lm] embedder`); checks that need one plan
    /// nothing without it.
    pub embedder: Option<std::sync::Arc<dyn shelf_core::lm::Embedder>>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("tables", &self.tables)
            .field("params", &self.params)
            .field("now_micros", &self.now_micros)
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.id().to_string()),
            )
            .finish()
    }
}

impl Ctx<'_> {
    pub fn table(&self, kind: TableKind) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.kind == kind)
    }
}

/// How a probe measures.
#[derive(Debug, Clone)]
pub enum Probe {
    /// A boolean SQL expression over the table's role view, true for affected rows. All row
    /// probes of a table run in one scan.
    Rows {
        predicate: String,
        /// View columns shown in the examples.
        show: Vec<String>,
        /// A text expression splitting affected rows into one finding per distinct value
        /// (e.g. the placeholder token); `{key}` in the message names it.
        key: Option<String>,
    },
    /// A query returning one row per affected row: a `row_id` column (distinct per finding
    /// key), optionally a `finding` text column that splits results into separate findings
    /// (keys described in [`ProbeSpec::variants`]), and any other columns as example values.
    Query { sql: String },
    /// Non-relational measurement (LSH blocking, pair scoring, clustering): the runner executes
    /// `sql` and hands its whole result to the analyzer. Probes whose analyzer has the same
    /// [`Analyzer::key`] and the same `sql` are computed once and share the [`Analysis`].
    Analyze {
        sql: String,
        analyzer: Arc<dyn Analyzer>,
    },
}

/// Measures what SQL cannot, on the result of one query. Contract: pure — the same batches give
/// the same [`Analysis`] — and memory proportional to the query's result, which the planning
/// check keeps to the columns it needs.
pub trait Analyzer: Send + Sync + std::fmt::Debug {
    /// Identifies the computation and its settings; equal keys over equal SQL are run once.
    fn key(&self) -> String;
    fn analyze(&self, batches: &[RecordBatch]) -> ShelfResult<Analysis>;
}

/// What an analyzer found.
#[derive(Debug, Default, Clone)]
pub struct Analysis {
    pub outcomes: Vec<Outcome>,
    /// Catalog item pairs judged to be the same product (for `duplicates.csv`); `None` when
    /// the analyzer does not match products.
    pub duplicate_pairs: Option<Vec<DuplicatePair>>,
}

/// One finding's worth of an analysis, for the check whose code it names.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub code: &'static str,
    /// Splits a check's outcomes into findings (empty: one finding).
    pub key: String,
    /// Affected row ids, ascending, all of them (empty when `rows_sql` names them).
    pub row_ids: Vec<u64>,
    /// For an analyzer that saw aggregates, not rows (one row per user): a query whose
    /// `row_id` column lists the affected rows. The runner streams it like a query probe, so
    /// the rows are counted without ever being held.
    pub rows_sql: Option<String>,
    /// Example rows (each with its `row_id`), at most a handful.
    pub examples: Vec<Map<String, Value>>,
    pub evidence: Map<String, Value>,
    /// Message template (`{n}`, `{total}`, `{pct}` filled in); the probe's when `None`.
    pub message: Option<String>,
}

/// How a probe's count becomes findings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Judge {
    /// Any affected row is a finding.
    Any,
    /// When more than `share` of the table is affected, the pattern is the column's house
    /// style, not a defect: one `info` finding instead.
    HouseStyle { share: f64 },
    /// Only a minority pattern is a defect: above `share`, no finding (e.g. text in a column
    /// that is mostly numbers is a defect; a text column is not).
    MinorityOnly { share: f64 },
}

/// A planned measurement: which table and column, how to measure, how to judge and word it.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub table: TableKind,
    pub role: Option<Role>,
    pub column: Option<String>,
    pub probe: Probe,
    /// Message template: `{n}` affected rows, `{total}` table rows, `{pct}` percent.
    pub message: String,
    pub severity: Severity,
    pub judge: Judge,
    /// Extra evidence fields.
    pub evidence: serde_json::Map<String, serde_json::Value>,
    /// For `Query` probes with a `finding` column: key → (severity, message template).
    pub variants: Vec<(String, Severity, String)>,
}

impl ProbeSpec {
    /// A row probe on one role with the check's default severity.
    pub fn rows(
        table: &TableInfo,
        role: Option<Role>,
        predicate: String,
        show: Vec<String>,
        message: impl Into<String>,
        severity: Severity,
    ) -> Self {
        Self {
            table: table.kind,
            role,
            column: role.and_then(|r| table.column(r)),
            probe: Probe::Rows {
                predicate,
                show,
                key: None,
            },
            message: message.into(),
            severity,
            judge: Judge::Any,
            evidence: serde_json::Map::new(),
            variants: Vec::new(),
        }
    }

    /// An analyzer probe over the result of `sql`.
    pub fn analyze(
        table: &TableInfo,
        role: Option<Role>,
        sql: String,
        analyzer: Arc<dyn Analyzer>,
        message: impl Into<String>,
        severity: Severity,
    ) -> Self {
        Self {
            probe: Probe::Analyze { sql, analyzer },
            ..Self::query(table, role, String::new(), message, severity)
        }
    }

    /// A query probe.
    pub fn query(
        table: &TableInfo,
        role: Option<Role>,
        sql: String,
        message: impl Into<String>,
        severity: Severity,
    ) -> Self {
        Self {
            table: table.kind,
            role,
            column: role.and_then(|r| table.column(r)),
            probe: Probe::Query { sql },
            message: message.into(),
            severity,
            judge: Judge::Any,
            evidence: serde_json::Map::new(),
            variants: Vec::new(),
        }
    }

    /// Splits a row probe's findings by the value of `key` (a SQL text expression).
    pub fn keyed(mut self, key: String) -> Self {
        if let Probe::Rows { key: k, .. } = &mut self.probe {
            *k = Some(key);
        }
        self
    }

    pub fn judge(mut self, judge: Judge) -> Self {
        self.judge = judge;
        self
    }

    pub fn evidence(mut self, key: &str, value: serde_json::Value) -> Self {
        self.evidence.insert(key.to_string(), value);
        self
    }

    pub fn variant(mut self, key: &str, severity: Severity, message: &str) -> Self {
        self.variants
            .push((key.to_string(), severity, message.to_string()));
        self
    }
}

/// A check: a stable code, a name, a doc, and a plan. Implementors must be pure planners — no
/// I/O, no engine calls — and must word messages for a data engineer who has not read the code.
pub trait Check: Send + Sync {
    /// Stable code (`MV001`); never reused once published.
    fn code(&self) -> &'static str;
    /// Kebab-case name naming the problem (`missing-value`).
    fn name(&self) -> &'static str;
    /// The doc `shelf explain CODE` prints: what it does, why it matters, example, fix.
    fn doc(&self) -> &'static str;
    /// Severity of its findings unless a probe or the user says otherwise.
    fn severity(&self) -> Severity;
    /// The repair operator that fixes it, if any.
    fn fix(&self) -> Option<&'static str> {
        None
    }
    /// Plans probes for every table the check applies to; an empty plan means "not applicable".
    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec>;
}

/// Quotes a SQL string literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
