//! A hand-built audit report shared by the integration tests and `examples/sample_report.rs`:
//! two tables, English and Chinese text, markup in the data, four chart kinds, a finding with
//! 1,200 rows (row ids truncated at 1,000).
#![allow(dead_code)] // each user takes what it needs

use std::collections::BTreeMap;

use serde_json::json;
use shelf_core::{
    CheckRun, DuplicatePair, Finding, MAX_LISTED_ROW_IDS, MappingSource, Severity, SeverityCounts,
    TableKind, TableSummary,
};
use shelf_report::{AuditReport, Chart, ChartKind, Series};

fn map<V: Clone>(pairs: &[(&str, V)]) -> BTreeMap<String, V> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn finding(
    code: &str,
    name: &str,
    severity: Severity,
    table: &str,
    column: Option<&str>,
    role: Option<&str>,
) -> Finding {
    Finding {
        code: code.into(),
        name: name.into(),
        severity,
        table: table.into(),
        role: role.map(Into::into),
        column: column.map(Into::into),
        rows_affected: 0,
        row_ids: vec![],
        row_ids_truncated: false,
        message: String::new(),
        evidence: json!({}),
        fix: None,
    }
}

fn check(f: &Finding) -> CheckRun {
    CheckRun {
        code: f.code.clone(),
        name: f.name.clone(),
        table: f.table.clone(),
        role: f.role.clone(),
        column: f.column.clone(),
        severity: f.severity,
        rows_affected: f.rows_affected,
        findings: 1,
    }
}

fn passed(code: &str, name: &str, table: &str, column: Option<&str>, sev: Severity) -> CheckRun {
    CheckRun {
        code: code.into(),
        name: name.into(),
        table: table.into(),
        role: None,
        column: column.map(Into::into),
        severity: sev,
        rows_affected: 0,
        findings: 0,
    }
}

pub fn tables() -> Vec<TableSummary> {
    use MappingSource::*;
    vec![
        TableSummary {
            kind: TableKind::Catalog,
            path: "data/products.csv".into(),
            rows: 1250,
            columns: strings(&[
                "product_id",
                "name",
                "brand",
                "category_path",
                "price",
                "currency",
                "notes",
            ]),
            roles: map(&[
                ("item_id", "product_id".to_string()),
                ("title", "name".to_string()),
                ("brand", "brand".to_string()),
                ("category", "category_path".to_string()),
                ("price", "price".to_string()),
                ("currency", "currency".to_string()),
            ]),
            role_sources: map(&[
                ("item_id", Config),
                ("title", Inferred),
                ("brand", Inferred),
                ("category", Config),
                ("price", Inferred),
                ("currency", Config),
            ]),
            encoding: "utf-8".into(),
            format: "csv".into(),
            preset: None,
        },
        TableSummary {
            kind: TableKind::Events,
            path: "data/events.jsonl.gz".into(),
            rows: 48_211,
            columns: strings(&["visitorid", "session", "itemid", "event", "timestamp"]),
            roles: map(&[
                ("user_id", "visitorid".to_string()),
                ("session_id", "session".to_string()),
                ("item_id", "itemid".to_string()),
                ("event", "event".to_string()),
                ("timestamp", "timestamp".to_string()),
            ]),
            role_sources: map(&[
                ("user_id", Preset),
                ("session_id", Preset),
                ("item_id", Preset),
                ("event", Preset),
                ("timestamp", Preset),
            ]),
            encoding: "utf-8".into(),
            format: "jsonl".into(),
            preset: Some("retailrocket".into()),
        },
    ]
}

pub fn findings() -> Vec<Finding> {
    // 1,200 of the 1,250 catalog rows have an empty title: listed ids stop at 1,000.
    let missing: Vec<u64> = (0..1250u64).filter(|i| i % 25 != 3).collect();
    assert_eq!(missing.len(), 1200);
    let mut f1 = finding(
        "MV001",
        "missing-value",
        Severity::Error,
        "catalog",
        Some("name"),
        Some("title"),
    );
    f1.rows_affected = missing.len() as u64;
    f1.row_ids = missing[..MAX_LISTED_ROW_IDS].to_vec();
    f1.row_ids_truncated = true;
    f1.message = "Title is empty in 1,200 of 1,250 items (96.0%).".into();
    f1.evidence = json!({
        "missing": 1200, "total": 1250, "share": 0.96,
        "examples": [
            {"row_id": 0, "values": {"product_id": "P0001", "name": "", "brand": "Acme"}},
            {"row_id": 1, "values": {"product_id": "P0002", "name": "   ", "brand": null}},
            {"row_id": 2, "values": {"product_id": "P0003", "name": "", "brand": "蒙牛"}},
        ]
    });
    f1.fix = Some("FillMissingTitle".into());

    let mut f2 = finding(
        "RI001",
        "unknown-item",
        Severity::Error,
        "events",
        Some("itemid"),
        Some("item_id"),
    );
    f2.rows_affected = 37;
    f2.row_ids = (0..37).map(|i| 100 + i * 13).collect();
    f2.message = "37 events point at 12 item ids that are not in the catalog.".into();
    f2.evidence = json!({
        "unknown_items": 12,
        "examples": (0..25).map(|i| json!({
            "row_id": 100 + i * 13,
            "values": {"itemid": format!("X-{}", 990 + i % 12), "event": if i % 3 == 0 { "transaction" } else { "view" }}
        })).collect::<Vec<_>>()
    });
    f2.fix = Some("DropOrphanEvents".into());

    let mut f3 = finding(
        "DU001",
        "near-duplicate-products",
        Severity::Warning,
        "catalog",
        Some("name"),
        Some("title"),
    );
    f3.rows_affected = 4;
    f3.row_ids = vec![5, 9, 311, 312];
    f3.message = "2 pairs of items look like the same product (蒙牛 纯牛奶 and others).".into();
    f3.evidence = json!({
        "pairs": 2, "method": "minhash", "threshold": 0.85,
        "examples": [
            {"row_id": 5, "values": {"product_id": "P0006", "name": "蒙牛 纯牛奶 250ml×16"}, "pair": 1},
            {"row_id": 9, "values": {"product_id": "P0010", "name": "蒙牛纯牛奶 250ml x16盒"}, "pair": 1},
            {"row_id": 311, "values": {"product_id": "P0312", "name": "Ben & Jerry's Cookie Dough 465ml"}, "pair": 2},
            {"row_id": 312, "values": {"product_id": "P0313", "name": "Ben&Jerrys cookie dough ice cream 465 ml"}, "pair": 2},
        ]
    });
    f3.fix = Some("MergeDuplicates".into());

    let mut f4 = finding(
        "EN002",
        "mojibake",
        Severity::Warning,
        "catalog",
        Some("name"),
        Some("title"),
    );
    f4.rows_affected = 2;
    f4.row_ids = vec![17, 42];
    f4.message =
        "2 titles look like UTF-8 text decoded as Latin-1, e.g. \"å†°æ·‡æ·‹\" for \"冰淇淋\"."
            .into();
    f4.evidence = json!({
        "detected": "latin-1",
        "examples": [
            {"row_id": 17, "values": {"name": "<script>alert(1)</script>"}},
            {"row_id": 42, "values": {"name": "å†°æ·‡æ·‹ 500g"}},
        ],
        "suggestions": [
            {"row_id": 17, "value": "<script>alert(1)</script>", "score": 0.2},
            {"row_id": 42, "value": "冰淇淋 500g", "score": 0.97},
        ]
    });
    f4.fix = Some("RepairEncoding".into());

    let mut f5 = finding(
        "PR003",
        "price-outlier",
        Severity::Info,
        "catalog",
        Some("price"),
        Some("price"),
    );
    f5.rows_affected = 2;
    f5.row_ids = vec![77, 1049];
    f5.message =
        "2 prices are far above their category's median (a missing decimal point?).".into();
    f5.evidence = json!({
        "median": 12.5, "threshold": 850.0, "max": 129999.0, "method": "log-MAD",
        "examples": [
            {"row_id": 77, "values": {"name": "Vanilla ice cream 1L", "price": "129999", "category_path": "frozen > ice cream"}},
            {"row_id": 1049, "values": {"name": "冰淇淋 香草味", "price": "8900", "category_path": "冷冻食品 > 冰淇淋"}},
        ]
    });

    let mut f6 = finding(
        "EV004",
        "event-mix",
        Severity::Info,
        "events",
        Some("event"),
        Some("event"),
    );
    f6.message = "No purchase events: recommendation lift can only be measured on views.".into();
    f6.evidence = json!({
        "counts": {"view": 45_120, "addtocart": 3_091, "transaction": 0},
        "expected": ["view", "addtocart", "transaction"]
    });

    vec![f1, f2, f3, f4, f5, f6]
}

pub fn charts() -> Vec<Chart> {
    let series = |name: &str, labels: &[&str], values: &[f64]| Series {
        name: name.into(),
        labels: strings(labels),
        values: values.to_vec(),
    };
    let edges: Vec<String> = (0..24).map(|i| format!("{:.1}", i as f64 * 0.2)).collect();
    let counts: Vec<f64> = (0..24)
        .map(|i| {
            let x = (i as f64 - 9.0) / 3.5;
            (210.0 * (-x * x / 2.0).exp()).round()
        })
        .collect();
    let days: Vec<String> = (1..=30).map(|d| format!("2015-06-{d:02}")).collect();
    let views: Vec<f64> = (0..30)
        .map(|d| 1400.0 + 300.0 * ((d as f64) / 3.0).sin() + if d % 7 == 5 { 350.0 } else { 0.0 })
        .collect();
    let carts: Vec<f64> = views.iter().map(|v| (v * 0.07).round()).collect();
    vec![
        Chart {
            id: "events-by-type".into(),
            title: "Events by type".into(),
            x_label: "event".into(),
            y_label: "events".into(),
            kind: ChartKind::Bar,
            series: vec![
                series(
                    "May",
                    &["view", "addtocart", "transaction", "搜索"],
                    &[21_800.0, 1_500.0, 0.0, 3_200.0],
                ),
                series(
                    "June",
                    &["view", "addtocart", "transaction", "搜索"],
                    &[23_320.0, 1_591.0, 0.0, 2_900.0],
                ),
            ],
        },
        Chart {
            id: "price-histogram".into(),
            title: "Price distribution".into(),
            x_label: "log10(price)".into(),
            y_label: "items".into(),
            kind: ChartKind::Histogram,
            series: vec![Series {
                name: "catalog".into(),
                labels: edges,
                values: counts,
            }],
        },
        Chart {
            id: "price-by-category".into(),
            title: "Price by category <top 4>".into(),
            x_label: "category".into(),
            y_label: "price (USD)".into(),
            kind: ChartKind::Quantiles,
            series: vec![
                series("冷冻食品 > 冰淇淋", &[], &[2.5, 4.0, 6.5, 9.0, 21.0]),
                series("dairy", &[], &[0.9, 1.8, 2.4, 3.9, 12.0]),
                series("snacks & sweets", &[], &[0.5, 1.2, 2.0, 3.1, 8.5]),
                series("<b>beverages</b>", &[], &[0.4, 1.0, 1.6, 2.8, 15.0]),
            ],
        },
        Chart {
            id: "events-per-day".into(),
            title: "Events per day".into(),
            x_label: "day".into(),
            y_label: "events".into(),
            kind: ChartKind::Line,
            series: vec![
                Series {
                    name: "view".into(),
                    labels: days.clone(),
                    values: views,
                },
                Series {
                    name: "addtocart".into(),
                    labels: days,
                    values: carts,
                },
            ],
        },
    ]
}

/// The sample report: 2 tables, 6 findings, 9 checks, 4 charts.
pub fn sample_report() -> AuditReport {
    let findings = findings();
    let mut checks: Vec<CheckRun> = findings.iter().map(check).collect();
    checks.push(passed(
        "DU002",
        "duplicate-id",
        "catalog",
        Some("product_id"),
        Severity::Error,
    ));
    checks.push(passed(
        "MV001",
        "missing-value",
        "catalog",
        Some("brand"),
        Severity::Warning,
    ));
    checks.push(passed(
        "TS001",
        "timestamp-range",
        "events",
        Some("timestamp"),
        Severity::Warning,
    ));
    AuditReport {
        shelf_version: "0.1.0".into(),
        tables: tables(),
        checks,
        counts: SeverityCounts::of(&findings),
        findings,
        charts: charts(),
        notes: vec![
            "Roles inferred for catalog (title, brand, price); override them in shelf.toml under [tables.catalog.roles].".into(),
            "events read with preset retailrocket.".into(),
        ],
        duplicate_pairs: Some(vec![
            DuplicatePair {
                item_a: "A-1".into(),
                item_b: "B,2".into(),
                score: 0.9731,
                method: "model-code",
            },
            DuplicatePair {
                item_a: "苹果 \"15\"".into(),
                item_b: "A-1".into(),
                score: 0.5,
                method: "minhash-lsh",
            },
        ]),
    }
}

/// A large audit: `n` findings, each with 1,000 listed row ids and 200 example rows.
pub fn big_report(n: usize) -> AuditReport {
    let mut r = sample_report();
    let template = r.findings[0].clone();
    r.findings = (0..n)
        .map(|i| {
            let mut f = template.clone();
            f.code = format!("BG{:03}", i % 1000);
            f.rows_affected = 5_000;
            f.row_ids = (0..MAX_LISTED_ROW_IDS as u64).collect();
            f.row_ids_truncated = true;
            f.evidence = json!({
                "examples": (0..200).map(|j| json!({"row_id": j, "values": {"name": format!("item {j} <i>"), "price": j}})).collect::<Vec<_>>()
            });
            f
        })
        .collect();
    r.counts = SeverityCounts::of(&r.findings);
    r
}
