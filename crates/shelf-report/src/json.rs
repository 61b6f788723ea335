//! `summary.json` and `findings.jsonl`: the machine-readable outputs (CONTRACT.md).

use serde_json::{Map, Value, json};

use crate::AuditReport;

/// `summary.json` as CONTRACT.md lists it: `tables` (keyed by table kind: `path`, `rows`,
/// `columns`, `roles`, `encoding`, plus `format`, `role_sources` and `preset` when one was
/// used), `checks` (one entry per check run), `counts` by severity, `shelf_version` and
/// `notes`, and `findings`: one compact entry per finding (code, severity, table, column,
/// rows_affected, message).
pub fn summary_json(r: &AuditReport) -> Value {
    let mut tables = Map::new();
    for t in &r.tables {
        let mut v = serde_json::to_value(t).expect("a TableSummary always serializes");
        if let Value::Object(o) = &mut v {
            // The kind is the key; repeating it inside would be noise.
            o.remove("kind");
        }
        tables.insert(t.kind.as_str().to_string(), v);
    }
    json!({
        "shelf_version": r.shelf_version,
        "tables": tables,
        "checks": r.checks,
        "counts": r.counts,
        // A compact line per finding (the full ones are in findings.jsonl), so a script can
        // read e.g. how many rows hold "nan" without parsing the larger file.
        "findings": r.findings.iter().map(|f| json!({
            "code": f.code,
            "name": f.name,
            "severity": f.severity,
            "table": f.table,
            "column": f.column,
            "rows_affected": f.rows_affected,
            "message": f.message,
        })).collect::<Vec<_>>(),
        "notes": r.notes,
    })
}

/// `findings.jsonl`: one finding per line, in the report's order; ends with a newline unless
/// there are no findings. `Finding`'s serde shape is the contract's.
pub fn findings_jsonl(r: &AuditReport) -> String {
    let mut out = String::new();
    for f in &r.findings {
        out.push_str(&serde_json::to_string(f).expect("a Finding always serializes"));
        out.push('\n');
    }
    out
}
