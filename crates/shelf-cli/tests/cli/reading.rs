//! What shelf reads: encodings (detected, and reported in summary.json), gz and zip, TSV and
//! `;`-separated files, quoted multi-line fields — and row ids that point at the right rows.

use serde_json::Value;

use crate::support::{Work, findings, row_ids, summary, with_code};

/// Everything about an audit that must not depend on how the bytes were stored: the table's
/// rows, columns and roles, every check that ran, and every finding's rows.
fn essence(out: &std::path::Path) -> Value {
    let s = summary(out);
    let t = &s["tables"]["catalog"];
    let f: Vec<Value> = findings(out)
        .into_iter()
        .map(|f| {
            serde_json::json!([
                f["code"],
                f["severity"],
                f["column"],
                f["rows_affected"],
                f["row_ids"]
            ])
        })
        .collect();
    serde_json::json!({
        "rows": t["rows"],
        "columns": t["columns"],
        "roles": t["roles"],
        "checks": s["checks"],
        "counts": s["counts"],
        "findings": f,
    })
}

/// Audits corpus catalog `rel` with a rule that flags exactly the rows whose title is
/// `marked`, so a decoding error (mojibake) shows as a missing or different finding.
/// Returns (essence, encoding reported in summary.json).
fn audit_marked(rel: &str, marked: &str) -> (Value, String) {
    let w = Work::new();
    let input = w.copy(rel);
    let config = w.write(
        "shelf.toml",
        format!(
            "[[rule]]\nname = \"marked-title\"\ntable = \"catalog\"\nexpect = \"title <> '{marked}'\"\nseverity = \"info\"\n"
        ),
    );
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &input)
        .opt("--config", &config)
        .run();
    run.expect_no_panic();
    assert!(matches!(run.code, Some(0 | 1)), "{run}");
    let s = summary(&out);
    let enc = s["tables"]["catalog"]["encoding"]
        .as_str()
        .unwrap_or_else(|| panic!("{rel}: tables.catalog.encoding is not a string"))
        .to_string();
    let f = findings(&out);
    let marked_rows: Vec<u64> = with_code(&f, "RU-marked-title")
        .iter()
        .flat_map(|f| row_ids(f))
        .collect();
    assert_eq!(
        marked_rows,
        vec![1],
        "{rel} (read as {enc}): the title of row 1 did not decode to {marked:?}\n{run}"
    );
    (essence(&out), enc)
}

const FR_TITLE: &str = "Pâté de campagne 180g";
const ZH_TITLE: &str = "散养鸡蛋十二枚装";

#[test]
fn french_catalog_in_four_encodings() {
    let (base, enc) = audit_marked("good/catalog_fr.utf8.csv", FR_TITLE);
    assert_eq!(enc, "UTF-8");
    assert_eq!(base["rows"], 6);
    for (rel, want) in [
        ("good/catalog_fr.utf8bom.csv", &["utf-8", "bom"][..]),
        ("good/catalog_fr.utf16le.csv", &["utf-16le"][..]),
        (
            "good/catalog_fr.latin1.csv",
            &["windows-1252|iso-8859-1|latin"][..],
        ),
    ] {
        let (got, enc) = audit_marked(rel, FR_TITLE);
        let lower = enc.to_lowercase();
        for w in want {
            assert!(
                w.split('|').any(|w| lower.contains(w)),
                "{rel}: encoding reported as {enc:?}, expected {w:?}"
            );
        }
        assert_eq!(got, base, "{rel} audits differently from the UTF-8 file");
    }
}

#[test]
fn chinese_catalog_in_gbk_and_utf16() {
    let (base, enc) = audit_marked("good/catalog_zh.utf8.csv", ZH_TITLE);
    assert_eq!(enc, "UTF-8");
    assert_eq!(base["rows"], 6);
    for (rel, want) in [
        ("good/catalog_zh.gbk.csv", "gb"),
        ("good/catalog_zh.utf16le.csv", "utf-16le"),
    ] {
        let (got, enc) = audit_marked(rel, ZH_TITLE);
        assert!(
            enc.to_lowercase().starts_with(want),
            "{rel}: encoding reported as {enc:?}, expected {want}…"
        );
        assert_eq!(got, base, "{rel} audits differently from the UTF-8 file");
    }
}

#[test]
fn gz_and_zip_read_like_the_plain_file() {
    let (base, _) = audit_marked("good/catalog_fr.utf8.csv", FR_TITLE);
    for rel in ["good/catalog.csv.gz", "good/catalog.zip"] {
        let (got, enc) = audit_marked(rel, FR_TITLE);
        assert_eq!(enc, "UTF-8", "{rel}");
        assert_eq!(got, base, "{rel} audits differently from the plain file");
    }
}

/// The six French products with `delim` between fields.
fn french_with(delim: &str) -> String {
    std::fs::read_to_string(crate::support::corpus("good/catalog_fr.utf8.csv"))
        .unwrap()
        .replace(',', delim)
}

#[test]
fn tsv_and_semicolon_delimiters_are_detected() {
    let (base, _) = audit_marked("good/catalog_fr.utf8.csv", FR_TITLE);
    let w = Work::new();
    for (name, delim) in [
        ("catalog.tsv", "\t"),
        ("catalog_tabs.csv", "\t"),
        ("catalog_semicolons.csv", ";"),
        ("catalog_pipes.txt", "|"),
    ] {
        let input = w.write(name, french_with(delim));
        let out = w.path(&format!("out-{name}"));
        let run = w.audit(&out).opt("--catalog", &input).run();
        run.expect_no_panic().expect_code(0);
        let s = summary(&out);
        let t = &s["tables"]["catalog"];
        assert_eq!(t["rows"], 6, "{name}\n{run}");
        assert_eq!(
            t["columns"], base["columns"],
            "{name}: delimiter not detected\n{run}"
        );
        assert_eq!(t["roles"], base["roles"], "{name}\n{run}");
    }
}

#[test]
fn quoted_multi_line_fields_are_one_row() {
    let w = Work::new();
    let input = w.write(
        "catalog.csv",
        "item_id,title,price\n\
         A001,\"Organic whole milk\n1 litre, semi-skimmed\",1.49\n\
         A002,\"Free range eggs \"\"large\"\"\r\nsecond line\n\nafter a blank line\",3.99\n\
         A003,Sourdough bread loaf 800g,2.75\n",
    );
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    run.expect_no_panic();
    assert_eq!(summary(&out)["tables"]["catalog"]["rows"], 3, "{run}");
}

/// A catalog of `n` products where the rows in `negative` (0-based) have a negative price.
fn catalog_with_negative_prices(n: u64, negative: &[u64]) -> String {
    let mut s = String::from("item_id,title,price\n");
    for i in 0..n {
        let sign = if negative.contains(&i) { "-" } else { "" };
        if i % 7 == 3 {
            // A quoted field spanning lines: row ids count rows, not lines.
            s.push_str(&format!(
                "P{i:03},\"Grocery item number {i}\nwith a second line\",{sign}{}.25\n",
                i + 1
            ));
        } else {
            s.push_str(&format!(
                "P{i:03},Grocery item number {i},{sign}{}.25\n",
                i + 1
            ));
        }
    }
    s
}

#[test]
fn row_ids_are_positions_in_the_csv() {
    let w = Work::new();
    let negative: [u64; 4] = [0, 10, 17, 29];
    let input = w.write("catalog.csv", catalog_with_negative_prices(30, &negative));
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    run.expect_no_panic().expect_code(1);
    let f = findings(&out);
    let neg = with_code(&f, "NU002");
    assert_eq!(neg.len(), 1, "{run}");
    assert_eq!(row_ids(neg[0]), negative.to_vec(), "NU002 row ids\n{run}");
    assert_eq!(neg[0]["rows_affected"], negative.len());
}

#[test]
fn row_ids_are_positions_in_jsonl() {
    let w = Work::new();
    let input = w.write(
        "catalog.jsonl",
        "{\"item_id\": \"A001\", \"title\": \"Organic whole milk\", \"price\": 1.49}\n\
         {\"item_id\": \"A002\", \"title\": \"Free range eggs\", \"price\": 3.99}\n\
         {\"item_id\": \"A003\", \"title\": \"Sourdough bread\", \"price\": -2.75}\n\
         {\"item_id\": \"A004\", \"title\": \"Greek yogurt\", \"price\": 2.10}\n",
    );
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    run.expect_no_panic().expect_code(1);
    let f = findings(&out);
    let neg = with_code(&f, "NU002");
    assert_eq!(neg.len(), 1, "{run}");
    assert_eq!(row_ids(neg[0]), vec![2], "{run}");
}

#[test]
fn row_ids_run_on_across_the_files_of_a_zip() {
    // part1.csv holds rows 0-2, part2.csv rows 3-4; part2's first row has a negative price.
    let w = Work::new();
    let input = w.copy("good/two_parts.zip");
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    run.expect_no_panic().expect_code(1);
    assert_eq!(summary(&out)["tables"]["catalog"]["rows"], 5, "{run}");
    let f = findings(&out);
    let neg = with_code(&f, "NU002");
    assert_eq!(neg.len(), 1, "{run}");
    assert_eq!(row_ids(neg[0]), vec![3], "{run}");
}

#[test]
fn a_header_that_repeats_a_name_is_still_a_header() {
    let w = Work::new();
    let input = w.write(
        "catalog.csv",
        "sku,title,price,price\nA1,Mug,4.50,4.90\nA2,Bottle,12.00,11.00\nA3,Jar,-1,2.00\n",
    );
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    run.expect_no_panic();
    let s = summary(&out);
    let t = &s["tables"]["catalog"];
    assert_eq!(t["rows"], 3, "the header line is not a row\n{run}");
    assert_eq!(
        t["columns"],
        serde_json::json!(["sku", "title", "price", "price_2"]),
        "{run}"
    );
}

#[test]
fn a_header_that_spells_a_headerless_presets_columns_is_a_header() {
    // Multi-CPR's queries file has no header and the columns (query_id, query); a comma-separated
    // file whose header is exactly that is an ordinary file, not Multi-CPR read wrongly.
    let w = Work::new();
    let input = w.write(
        "queries.csv",
        "query_id,query\n1,iphone 15 case\n2,蓝牙耳机\n3,\n",
    );
    let out = w.path("out");
    let run = w.audit(&out).opt("--queries", &input).run();
    run.expect_no_panic();
    assert!(matches!(run.code, Some(0 | 1)), "{run}");
    let s = summary(&out);
    let t = &s["tables"]["queries"];
    assert_eq!(t["rows"], 3, "{run}");
    assert!(t["preset"].is_null(), "{run}");
    let f = findings(&out);
    assert_eq!(row_ids(with_code(&f, "QU001")[0]), vec![2], "{run}");
}
