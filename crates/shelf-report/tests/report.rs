//! What users see: the contract files (`summary.json`, `findings.jsonl`), the HTML page and
//! the terminal summary, rendered from a hand-built report (`support/sample.rs`).

#[path = "support/sample.rs"]
mod sample;

use serde_json::Value;
use shelf_report::{
    MAX_FINDINGS_RENDERED, duplicates_csv, findings_jsonl, html, summary_json, text_summary,
};

#[test]
fn summary_json_has_the_contract_keys_and_values() {
    let r = sample::sample_report();
    let s = summary_json(&r);

    assert_eq!(s["shelf_version"], "0.1.0");
    assert_eq!(
        s["counts"],
        serde_json::json!({"error": 2, "warning": 2, "info": 2})
    );
    assert_eq!(s["notes"].as_array().unwrap().len(), 2);

    let tables = s["tables"].as_object().unwrap();
    assert_eq!(
        tables.keys().collect::<Vec<_>>(),
        ["catalog", "events"],
        "tables are keyed by kind"
    );
    let cat = &tables["catalog"];
    for key in ["path", "rows", "columns", "roles", "encoding"] {
        assert!(
            cat.get(key).is_some(),
            "tables.catalog.{key} missing: {cat}"
        );
    }
    assert_eq!(cat["path"], "data/products.csv");
    assert_eq!(cat["rows"], 1250);
    assert_eq!(cat["columns"].as_array().unwrap().len(), 7);
    assert_eq!(cat["roles"]["title"], "name");
    assert_eq!(cat["role_sources"]["title"], "inferred");
    assert_eq!(cat["encoding"], "utf-8");
    assert_eq!(cat["format"], "csv");
    assert!(cat.get("preset").is_none(), "no preset, no key");
    assert!(cat.get("kind").is_none(), "the kind is the key");
    assert_eq!(tables["events"]["preset"], "retailrocket");
    assert_eq!(tables["events"]["roles"]["user_id"], "visitorid");

    let checks = s["checks"].as_array().unwrap();
    assert_eq!(checks.len(), r.checks.len());
    for c in checks {
        for key in [
            "code",
            "name",
            "table",
            "severity",
            "rows_affected",
            "findings",
        ] {
            assert!(c.get(key).is_some(), "checks[].{key} missing: {c}");
        }
    }
    assert_eq!(checks[0]["code"], "MV001");
    assert_eq!(checks[0]["severity"], "error");
    assert_eq!(checks[0]["rows_affected"], 1200);
    assert_eq!(checks[0]["findings"], 1);
}

#[test]
fn duplicates_csv_has_the_contract_header_and_quotes_ids() {
    let mut r = sample::sample_report();
    assert_eq!(
        duplicates_csv(&r).unwrap(),
        "item_id_a,item_id_b,score,method\n\
         A-1,\"B,2\",0.9731,model-code\n\
         \"苹果 \"\"15\"\"\",A-1,0.5,minhash-lsh\n"
    );
    r.duplicate_pairs = Some(vec![]);
    assert_eq!(
        duplicates_csv(&r).unwrap(),
        "item_id_a,item_id_b,score,method\n"
    );
    r.duplicate_pairs = None;
    assert_eq!(duplicates_csv(&r), None);
}

#[test]
fn findings_jsonl_has_one_contract_object_per_line() {
    let r = sample::sample_report();
    let out = findings_jsonl(&r);
    assert!(out.ends_with('\n'));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), r.findings.len());
    for f in &lines {
        for key in [
            "code",
            "name",
            "severity",
            "table",
            "role",
            "column",
            "rows_affected",
            "row_ids",
            "message",
            "evidence",
            "fix",
        ] {
            assert!(f.get(key).is_some(), "finding.{key} missing: {f}");
        }
        assert!(f["evidence"].is_object());
    }
    let first = &lines[0];
    assert_eq!(first["rows_affected"], 1200);
    assert_eq!(first["row_ids"].as_array().unwrap().len(), 1000);
    assert_eq!(first["row_ids_truncated"], true);
    assert_eq!(first["fix"], "FillMissingTitle");
    // Only present when true.
    assert!(lines[1].get("row_ids_truncated").is_none());
    assert_eq!(lines[5]["fix"], Value::Null);
    // Unicode survives as is.
    assert!(out.contains("冰淇淋"));

    let mut empty = r.clone();
    empty.findings.clear();
    assert_eq!(findings_jsonl(&empty), "");
}

/// Every `src=`/`href=` in the page must stay inside it.
fn outside_references(page: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for attr in ["src=", "href=", "action=", "srcset=", "xlink:href="] {
        for (i, _) in page.match_indices(attr) {
            let value = &page[i + attr.len()..];
            let value = value.trim_start_matches(['"', '\'']);
            if attr != "href=" || !value.starts_with('#') {
                bad.push(page[i..(i + 60).min(page.len())].to_string());
            }
        }
    }
    for needle in [
        "http://", "https://", "url(", "@import", "//cdn", "<link", "<iframe",
    ] {
        if page.contains(needle) {
            bad.push(needle.to_string());
        }
    }
    bad
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn html_is_one_self_contained_escaped_page() {
    let r = sample::sample_report();
    let page = html(&r);

    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(r#"<meta charset="utf-8">"#));
    assert!(page.trim_end().ends_with("</html>"));
    assert_eq!(outside_references(&page), Vec::<String>::new());

    // Data is escaped: the only <script> is the page's own.
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(count(&page, "<script"), 1);
    assert!(!page.contains("<b>beverages</b>"));
    assert!(page.contains("&lt;b&gt;beverages&lt;/b&gt;"));
    assert!(page.contains("Price by category &lt;top 4&gt;"));
    assert!(page.contains("蒙牛 纯牛奶 250ml×16"));
    assert!(page.contains("冷冻食品 &gt; 冰淇淋"));

    // One inline SVG per chart.
    assert_eq!(count(&page, "<svg"), r.charts.len());
    assert_eq!(count(&page, "</svg>"), r.charts.len());
    // Balanced where it matters.
    for tag in ["article", "details", "table", "section", "figure", "dl"] {
        assert_eq!(
            count(&page, &format!("<{tag}")),
            count(&page, &format!("</{tag}>")),
            "<{tag}> unbalanced"
        );
    }

    // Header counts, matrix, tables with their mapping, checks, findings.
    assert!(page.contains(r#"<b>2</b>errors"#));
    assert!(page.contains(r#"data-sev="warning" data-table="catalog""#));
    assert!(page.contains(r#"<span class="src inferred">inferred</span>"#));
    assert!(page.contains(r#"<span class="src preset">preset</span>"#));
    assert!(page.contains("[tables.catalog.roles]"));
    assert!(page.contains("title = &quot;name&quot;"));
    assert_eq!(count(&page, "<article"), r.findings.len());
    for c in &r.checks {
        assert!(page.contains(&format!(r#"<code class="code">{}</code>"#, c.code)));
    }
    assert!(
        page.contains("TS001"),
        "a check without findings is listed too"
    );
    assert!(page.contains("<code>FillMissingTitle</code>"));
    // 1,200 rows affected, 50 ids shown.
    assert!(page.contains("and 1,150 more"));
    assert!(page.contains("lists the first 1,000"));
    // 25 example rows, 20 shown.
    assert!(page.contains("(25, first 20 shown)"));
    // An empty title is made visible.
    assert!(page.contains(r#"<span class="nil">""</span>"#));
}

#[test]
fn html_caps_a_big_audit() {
    let r = sample::big_report(2_000);
    let page = html(&r);
    assert_eq!(count(&page, "<article"), MAX_FINDINGS_RENDERED);
    assert!(page.contains("1,500 more findings are not shown"));
    assert!(page.contains("(200, first 20 shown)"));
    // 500 findings × (20 example rows + 50 ids) stays a page, not a data dump.
    assert!(page.len() < 4_000_000, "page is {} bytes", page.len());
    assert!(
        !page.contains("item 20 &lt;i&gt;"),
        "example rows past 20 are not rendered"
    );
}

#[test]
fn html_without_findings_or_charts() {
    let mut r = sample::sample_report();
    r.findings.clear();
    r.charts.clear();
    r.counts = Default::default();
    let page = html(&r);
    assert!(page.contains("No findings"));
    assert_eq!(count(&page, "<svg"), 0);
    assert_eq!(outside_references(&page), Vec::<String>::new());
}

#[test]
fn charts_without_data_say_so() {
    let mut r = sample::sample_report();
    for c in &mut r.charts {
        for s in &mut c.series {
            s.values.clear();
            s.labels.clear();
        }
    }
    let page = html(&r);
    assert_eq!(count(&page, "no data to plot"), r.charts.len());
}

#[test]
fn text_summary_snapshot() {
    let r = sample::sample_report();
    let text = text_summary(&r);
    assert!(text.contains("2 errors, 2 warnings, 2 info"));
    insta::assert_snapshot!(text);
}

#[test]
fn text_summary_stays_short_on_a_big_audit() {
    let text = text_summary(&sample::big_report(2_000));
    assert!(text.lines().count() <= 20, "{text}");
    assert!(text.contains("… and 1,988 more"), "{text}");
}
