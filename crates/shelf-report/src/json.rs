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

/// `duplicates.csv`: header `item_id_a,item_id_b,score,method`, one judged pair per line;
/// `None` when product matching did not run (no catalog titles).
pub fn duplicates_csv(r: &AuditReport) -> Option<String> {
    let pairs = r.duplicate_pairs.as_ref()?;
    let mut out = String::from("item_id_a,item_id_b,score,method\n");
    for p in pairs {
        out.push_str(&csv_field(&p.item_a));
        out.push(',');
        out.push_str(&csv_field(&p.item_b));
        out.push_str(&format!(",{},{}\n", p.score, p.method));
    }
    Some(out)
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
