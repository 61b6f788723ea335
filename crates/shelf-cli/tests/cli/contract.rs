//! The shape of what `shelf audit` writes (CONTRACT.md), inputs left untouched, outputs
//! replaced whole, and streams closed early by a pipe.

use std::process::Stdio;

use serde_json::Value;

use crate::support::{
    CLEAN_CATALOG, Work, counts, findings, leftovers, row_ids, shelf, snapshot, summary,
};

const SEVERITIES: [&str; 3] = ["info", "warning", "error"];

/// A catalog with one error (a negative price), one warning (a missing title) and an events
/// table, so both tables and every output section have something in them.
fn audit_with_findings(w: &Work) -> (std::path::PathBuf, std::path::PathBuf) {
    let catalog = w.write(
        "catalog.csv",
        CLEAN_CATALOG
            .replace(
                "A003,Sourdough bread loaf 800g,2.75",
                "A003,Sourdough bread loaf 800g,-2.75",
            )
            .replace("A006,Baby spinach leaves 200g,1.80", "A006,,1.80"),
    );
    let events = w.write(
        "events.csv",
        "user_id,item_id,event,timestamp\n\
         u1,A001,view,2024-03-01T10:00:00Z\n\
         u1,A002,view,2024-03-01T10:01:00Z\n\
         u2,A001,purchase,2024-03-02T09:00:00Z\n\
         u2,A999,view,2024-03-02T09:05:00Z\n",
    );
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &catalog)
        .opt("--events", &events)
        .run();
    run.expect_no_panic().expect_code(1);
    (catalog, out)
}

fn is_u64(v: &Value) -> bool {
    v.as_u64().is_some()
}

#[test]
fn summary_json_has_the_contract_fields() {
    let w = Work::new();
    let (catalog, out) = audit_with_findings(&w);
    let s = summary(&out);

    let tables = s["tables"].as_object().expect("tables is an object");
    assert!(
        tables.contains_key("catalog") && tables.contains_key("events"),
        "{s}"
    );
    let cat = &s["tables"]["catalog"];
    assert_eq!(cat["path"], catalog.display().to_string());
    assert_eq!(cat["rows"], 10);
    assert_eq!(
        cat["columns"],
        serde_json::json!(["item_id", "title", "price"])
    );
    assert_eq!(cat["roles"]["item_id"], "item_id");
    assert_eq!(cat["roles"]["price"], "price");
    assert_eq!(cat["roles"]["title"], "title");
    assert_eq!(cat["encoding"], "UTF-8");
    for (kind, t) in tables {
        for key in ["path", "rows", "columns", "roles", "encoding"] {
            assert!(t.get(key).is_some(), "tables.{kind} lacks {key}: {t}");
        }
        assert!(is_u64(&t["rows"]), "tables.{kind}.rows");
        assert!(
            t["columns"]
                .as_array()
                .is_some_and(|c| c.iter().all(Value::is_string))
        );
        assert!(
            t["roles"]
                .as_object()
                .is_some_and(|r| r.values().all(Value::is_string))
        );
        assert!(t["encoding"].is_string());
    }
    assert_eq!(s["tables"]["events"]["rows"], 4);

    let checks = s["checks"].as_array().expect("checks is an array");
    assert!(!checks.is_empty());
    for c in checks {
        for key in ["code", "name", "table"] {
            assert!(c[key].is_string(), "check lacks {key}: {c}");
        }
        assert!(
            SEVERITIES.contains(&c["severity"].as_str().unwrap_or("")),
            "check severity: {c}"
        );
        assert!(is_u64(&c["rows_affected"]) && is_u64(&c["findings"]), "{c}");
        assert!(tables.contains_key(c["table"].as_str().unwrap()), "{c}");
    }
    assert!(
        checks
            .iter()
            .any(|c| c["code"] == "NU002" && c["findings"] == 1 && c["rows_affected"] == 1),
        "NU002 should be listed with one finding on one row"
    );

    let (e, wn, i) = counts(&s);
    let f = findings(&out);
    let tally = |sev: &str| f.iter().filter(|f| f["severity"] == sev).count() as u64;
    assert_eq!(
        (e, wn, i),
        (tally("error"), tally("warning"), tally("info"))
    );
    assert!(
        e >= 1 && wn >= 1,
        "expected an error and a warning: {}",
        s["counts"]
    );
    let listed: u64 = checks.iter().map(|c| c["findings"].as_u64().unwrap()).sum();
    assert_eq!(
        listed,
        f.len() as u64,
        "checks[].findings should add up to findings.jsonl"
    );
}

#[test]
fn findings_jsonl_lines_have_the_contract_fields() {
    let w = Work::new();
    let (_, out) = audit_with_findings(&w);
    let text = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    assert!(
        text.ends_with('\n'),
        "findings.jsonl should end with a newline"
    );
    let f = findings(&out);
    assert!(f.len() >= 2);
    for x in &f {
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
            assert!(x.get(key).is_some(), "finding lacks {key}: {x}");
        }
        for key in ["code", "name", "table", "message"] {
            assert!(x[key].is_string(), "{key}: {x}");
        }
        assert!(
            SEVERITIES.contains(&x["severity"].as_str().unwrap_or("")),
            "{x}"
        );
        for key in ["role", "column", "fix"] {
            assert!(x[key].is_string() || x[key].is_null(), "{key}: {x}");
        }
        assert!(x["evidence"].is_object(), "evidence: {x}");
        let ids = row_ids(x);
        let n = x["rows_affected"].as_u64().expect("rows_affected");
        if x.get("row_ids_truncated") == Some(&Value::Bool(true)) {
            assert_eq!(ids.len(), 1000, "{x}");
        } else {
            assert_eq!(
                ids.len() as u64,
                n,
                "row_ids should list every affected row: {x}"
            );
        }
        assert!(
            ids.windows(2).all(|p| p[0] < p[1]),
            "row_ids ascending, distinct: {x}"
        );
    }
    let neg: Vec<&Value> = f.iter().filter(|x| x["code"] == "NU002").collect();
    assert_eq!(neg.len(), 1);
    assert_eq!(neg[0]["table"], "catalog");
    assert_eq!(neg[0]["severity"], "error");
    assert_eq!(neg[0]["role"], "price");
    assert_eq!(neg[0]["column"], "price");
    assert_eq!(row_ids(neg[0]), vec![2]);
    let missing_title = f
        .iter()
        .find(|x| x["code"] == "MV001" && x["column"] == "title")
        .expect("MV001 on title");
    assert_eq!(row_ids(missing_title), vec![5]);
}

#[test]
fn report_html_is_self_contained() {
    let w = Work::new();
    let (_, out) = audit_with_findings(&w);
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    let lower = html.to_lowercase();
    assert!(lower.contains("<html"), "not an HTML document");
    assert!(
        html.contains("NU002"),
        "the report should show its findings"
    );
    for bad in [
        "src=\"http://",
        "src=\"https://",
        "src='http",
        "src=http",
        "src=\"//",
        "href=\"http://",
        "href=\"https://",
        "href='http",
        "href=http",
        "href=\"//",
        "url(http",
        "url(\"http",
        "url('http",
        "url(//",
        "@import",
    ] {
        assert!(
            !lower.contains(bad),
            "report.html loads from the network: {bad:?}"
        );
    }
}

#[test]
fn outputs_are_exactly_the_three_files_and_nothing_is_left_behind() {
    let w = Work::new();
    let (_, out) = audit_with_findings(&w);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in ["findings.jsonl", "report.html", "summary.json"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(leftovers(w.root()).is_empty(), "{:?}", leftovers(w.root()));
}

#[test]
fn a_second_audit_replaces_the_output_whole() {
    let w = Work::new();
    let (_, out) = audit_with_findings(&w);
    std::fs::write(out.join("stale.txt"), "from before").unwrap();
    let clean = w.write("clean.csv", CLEAN_CATALOG);
    let run = w.audit(&out).opt("--catalog", &clean).run();
    run.expect_no_panic().expect_code(0);
    let s = summary(&out);
    assert_eq!(s["tables"]["catalog"]["path"], clean.display().to_string());
    assert!(
        s["tables"].get("events").is_none(),
        "the old events table survived"
    );
    assert!(
        !out.join("stale.txt").exists(),
        "the old output directory was merged, not replaced"
    );
    assert!(leftovers(w.root()).is_empty(), "{:?}", leftovers(w.root()));
}

#[test]
fn inputs_are_never_modified() {
    let w = Work::new();
    let inputs = w.path("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let put = |rel: &str| {
        let src = crate::support::corpus(rel);
        let dst = inputs.join(src.file_name().unwrap());
        std::fs::copy(&src, &dst).unwrap();
        dst
    };
    let csv = put("good/catalog_fr.latin1.csv");
    let gz = put("good/catalog.csv.gz");
    let zip = put("good/two_parts.zip");
    let ragged = put("bad/ragged_row.csv");
    let config = inputs.join("shelf.toml");
    std::fs::write(
        &config,
        "[[rule]]\nname = \"cheap\"\ntable = \"catalog\"\nexpect = \"price < 5\"\n",
    )
    .unwrap();
    let events = inputs.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"user_id\": \"u1\", \"item_id\": \"A001\", \"event\": \"view\"}\n",
    )
    .unwrap();
    let before = snapshot(&inputs);
    assert_eq!(before.len(), 6);

    let outs = w.path("outs");
    let runs = [
        w.audit(&outs.join("a"))
            .opt("--catalog", &csv)
            .opt("--events", &events)
            .opt("--config", &config)
            .run(),
        w.audit(&outs.join("b")).opt("--catalog", &gz).run(),
        w.audit(&outs.join("c")).opt("--catalog", &zip).run(),
        w.audit(&outs.join("d"))
            .opt("--catalog", &csv)
            .opt("--encoding", "latin-1")
            .run(),
        w.audit(&outs.join("e")).opt("--catalog", &ragged).run(),
    ];
    for r in &runs {
        r.expect_no_panic();
    }
    assert_eq!(runs[4].code, Some(2), "{}", runs[4]);
    assert_eq!(
        snapshot(&inputs),
        before,
        "an audit modified or added files next to its inputs"
    );
}

#[test]
fn closed_stdout_does_not_panic() {
    // `shelf checks | head -1`: the reader goes away before shelf writes.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = shelf(&["checks"])
        .command()
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run shelf checks");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && out.status.code() != Some(101),
        "`shelf checks` with a closed stdout crashed ({:?}):\n{stderr}",
        out.status
    );
}

#[test]
fn closed_stderr_keeps_the_audit_exit_code() {
    // `shelf audit … 2>&1 | head -1` in CI: the talk on stderr may go nowhere, but the exit
    // code is what the pipeline acts on.
    let w = Work::new();
    let input = w.write("catalog.csv", CLEAN_CATALOG);
    let out = w.path("out");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let status = w
        .audit(&out)
        .opt("--catalog", &input)
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::from(writer))
        .status()
        .expect("run shelf audit");
    assert_eq!(
        status.code(),
        Some(0),
        "a closed stderr changed the exit code"
    );
    assert!(out.join("summary.json").exists());
}

#[test]
fn duplicates_csv_lists_judged_pairs_with_the_catalogs_ids() {
    let w = Work::new();
    let catalog = w.write(
        "catalog.csv",
        "sku,title,brand,price\n\
         S-1,Sony Turntable - PSLX350H,Sony,99.00\n\
         S-2,\"Sony PS-LX350H Belt-Drive Turntable, Black\",Sony,109.00\n\
         S-3,Bose Acoustimass 5 Speaker System - AM53BK,Bose,399.00\n\
         S-4,Apple iPhone 15 Pro 128GB Black,Apple,999.00\n\
         S-5,Apple iPhone 15 Pro 256GB Black,Apple,1099.00\n",
    );
    let out = w.path("out");
    w.audit(&out)
        .opt("--catalog", &catalog)
        .run()
        .expect_no_panic()
        .expect_code(0);
    let csv = std::fs::read_to_string(out.join("duplicates.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("item_id_a,item_id_b,score,method"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(&rows[0][..2], ["S-1", "S-2"]);
    let score: f64 = rows[0][2].parse().unwrap();
    assert!((0.5..=1.0).contains(&score), "{score}");
    // The iPhones differ in capacity: variants, not duplicates.
    let f = findings(&out);
    let variants = f
        .iter()
        .find(|f| f["code"] == "DU005")
        .expect("a variant finding");
    assert_eq!(variants["row_ids"], serde_json::json!([3, 4]));
    let dups = f
        .iter()
        .find(|f| f["code"] == "DU004")
        .expect("a duplicate finding");
    assert_eq!(dups["rows_affected"], 1);
}
