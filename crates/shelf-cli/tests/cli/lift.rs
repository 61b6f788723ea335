//! `shelf lift search`: what it writes (CONTRACT.md: metrics.json, queries.tsv, TREC runs),
//! its exit codes, and its errors on bad input.

use serde_json::Value;

use crate::support::{Work, leftovers, shelf};

const CATALOG: &str = "\
item_id,title,brand
P1,Cordless drill 18V with two batteries,Makita
P2,Drill bit set titanium 29 pieces,Bosch
P3,Garden hose 50 ft kink free,Flexzilla
P4,Hose reel cart with wheels,Suncast
P5,无线蓝牙耳机 降噪,华为
P6,机械键盘 青轴,罗技
P7,LED light bulb 60W equivalent,Philips
P8,Smart light switch wifi,Lutron
";

const JUDGMENTS: &str = "\
query_id,query,item_id,label
q1,cordless drill,P1,3
q1,cordless drill,P2,1
q2,garden hose,P3,3
q2,garden hose,P4,2
q3,蓝牙耳机,P5,3
q4,light bulb,P7,3
q4,light bulb,P8,0
q5,snow blower,P1,0
";

/// Titles lose the words the queries use.
fn worse_catalog() -> String {
    CATALOG
        .replace("Cordless drill", "Tool")
        .replace("Garden hose", "Thing")
        .replace("无线蓝牙耳机", "产品")
}

fn run_lift(w: &Work, extra: &[&str]) -> crate::support::Run {
    let catalog = w.write("catalog.csv", CATALOG);
    let judgments = w.write("judgments.csv", JUDGMENTS);
    let worse = w.write("worse.csv", worse_catalog());
    let mut cmd = shelf(&["lift", "search"])
        .opt("--catalog", &catalog)
        .opt("--judgments", &judgments)
        .opt("--variant", format!("worse={}", worse.display()))
        .opt("--out", w.path("out"));
    for a in extra {
        cmd = cmd.arg(a);
    }
    cmd.run()
}

#[test]
fn writes_metrics_queries_and_trec_runs() {
    let w = Work::new();
    let run = run_lift(&w, &[]);
    run.expect_no_panic().expect_code(0);
    let out = w.path("out");
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap())
            .expect("metrics.json is JSON");
    for v in ["base", "worse"] {
        let s = &m["variants"][v]["bm25"];
        for key in ["ndcg@10", "recall@100", "mrr"] {
            let x = s[key].as_f64().unwrap_or_else(|| panic!("{v}.{key}: {s}"));
            assert!((0.0..=1.0).contains(&x), "{v}.{key} = {x}");
        }
        // q5 has no relevant item: it is not scored.
        assert_eq!(s["queries"], 4, "{s}");
    }
    // The base finds every relevant item at rank 1 except the hose reel (2nd).
    assert_eq!(m["variants"]["base"]["bm25"]["mrr"], 1.0);
    let d = &m["deltas"]["worse"]["bm25"]["ndcg@10"];
    let (delta, ci) = (d["delta"].as_f64().unwrap(), d["ci95"].as_array().unwrap());
    assert!(delta < 0.0, "{d}");
    assert_eq!(ci.len(), 2);
    assert!(ci[0].as_f64().unwrap() <= delta && delta <= ci[1].as_f64().unwrap());
    assert!(m["deltas"].get("base").is_none());

    let queries = std::fs::read_to_string(out.join("queries.tsv")).unwrap();
    assert_eq!(
        queries,
        "q1\tcordless drill\nq2\tgarden hose\nq3\t蓝牙耳机\nq4\tlight bulb\nq5\tsnow blower\n"
    );
    for run in ["base.bm25", "worse.bm25"] {
        let trec = std::fs::read_to_string(out.join("runs").join(format!("{run}.trec"))).unwrap();
        let mut qids: Vec<&str> = Vec::new();
        for line in trec.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 6, "{line}");
            assert_eq!((f[1], f[5]), ("Q0", run), "{line}");
            assert!(
                f[3].parse::<u32>().unwrap() >= 1 && f[4].parse::<f64>().is_ok(),
                "{line}"
            );
            if qids.last() != Some(&f[0]) {
                qids.push(f[0]);
            }
        }
        // Every judged query is present, in order, even q5, which matches nothing.
        assert_eq!(qids, ["q1", "q2", "q3", "q4", "q5"], "{trec}");
        assert!(trec.contains("q5 Q0 - 1 0 "), "{trec}");
    }
    let base = std::fs::read_to_string(out.join("runs/base.bm25.trec")).unwrap();
    assert!(base.starts_with("q1 Q0 P1 1 "), "{base}");
    assert!(
        base.contains("q3 Q0 P5 1 "),
        "Chinese query finds the Chinese title: {base}"
    );

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(leftovers(w.root()).is_empty());
    assert!(run.stderr.contains("ndcg@10"), "{}", run.stderr);
}

#[test]
fn a_significant_regression_fails_only_when_asked() {
    let w = Work::new();
    run_lift(&w, &["--fail-on-regression"])
        .expect_no_panic()
        .expect_code(1);
    run_lift(&w, &[]).expect_no_panic().expect_code(0);
}

#[test]
fn bad_variants_and_tables_are_clear_errors() {
    let w = Work::new();
    let judgments = w.write("judgments.csv", JUDGMENTS);
    let catalog = w.write("catalog.csv", CATALOG);
    let lift = |extra: &[&str]| {
        let mut c = shelf(&["lift", "search"])
            .opt("--catalog", &catalog)
            .opt("--out", w.path("out"));
        for a in extra {
            c = c.arg(a);
        }
        c.run()
    };
    let j = judgments.display().to_string();
    for (args, needle) in [
        (
            vec!["--judgments", &j, "--variant", "nameonly"],
            "NAME=PATH",
        ),
        (
            vec!["--judgments", &j, "--variant", "base=x.csv"],
            "not \"base\"",
        ),
        (
            vec!["--judgments", &j, "--variant", "a/b=x.csv"],
            "letters, digits",
        ),
        (
            vec![
                "--judgments",
                &j,
                "--variant",
                "v=nope.csv",
                "--variant",
                "v=nope.csv",
            ],
            "twice",
        ),
        (
            vec!["--judgments", &j, "--variant", "v=missing.csv"],
            "missing.csv",
        ),
        (vec![], "--judgments"),
    ] {
        let run = lift(&args);
        run.expect_no_panic().expect_code(2);
        assert!(run.stderr.contains(needle), "{needle}: {run}");
    }
    // Judgments without a label column: the error names the file, the role and how to map it.
    let nolabel = w.write("nolabel.csv", "query,item_id\ndrill,P1\n");
    let run = lift(&["--judgments", &nolabel.display().to_string()]);
    run.expect_no_panic().expect_code(2);
    assert!(
        run.stderr.contains("nolabel.csv") && run.stderr.contains("label"),
        "{run}"
    );
    assert!(run.stderr.contains("[tables.judgments.roles]"), "{run}");
    assert!(!w.path("out").exists(), "nothing is written on error");
}

/// Six shoppers, each with a history of four to six items.
fn events() -> String {
    let mut s = String::from("user_id,item_id,event,timestamp\n");
    let items = ["A", "B", "C", "D", "E", "F", "G", "H"];
    for u in 0..6 {
        for k in 0..(4 + u % 3) {
            let item = items[(u + k * 3) % items.len()];
            let event = if k % 3 == 2 { "purchase" } else { "view" };
            s.push_str(&format!(
                "u{u},{item},{event},2024-03-0{}T10:0{k}:00Z\n",
                1 + k
            ));
        }
    }
    s.push_str("u0,A,impression,2024-03-09T10:00:00Z\n,B,view,2024-03-09T10:00:00Z\n");
    s
}

#[test]
fn lift_recs_writes_metrics_for_every_model() {
    let w = Work::new();
    let log = w.write("events.csv", events());
    let run = shelf(&["lift", "recs"])
        .opt("--events", &log)
        .opt("--variant", format!("same={}", log.display()))
        .opt("--out", w.path("out"))
        .run();
    run.expect_no_panic().expect_code(0);
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/metrics.json")).unwrap())
            .unwrap();
    for model in ["popularity", "item-knn", "als"] {
        let s = &m["variants"]["base"][model];
        assert_eq!(s["users"], 6, "{model}: {s}");
        for key in ["recall@20", "ndcg@20", "coverage@20"] {
            assert!(
                s[key].as_f64().is_some_and(|x| (0.0..=1.0).contains(&x)),
                "{model}.{key}: {s}"
            );
        }
        assert_eq!(m["deltas"]["same"][model]["recall@20"]["delta"], 0.0);
    }
    // The impression and the row without a user are counted, not silently dropped.
    let skipped = &m["data"]["logs"]["base"]["skipped_rows"];
    assert_eq!(
        skipped["impression or return (not an interaction)"], 1,
        "{skipped}"
    );
    assert_eq!(skipped["no user or session id"], 1, "{skipped}");
    assert!(w.path("out/report.html").exists());
}

#[test]
fn lift_recs_and_ctr_name_the_missing_role() {
    let w = Work::new();
    let log = w.write("items_only.csv", "item_id,price\nA,1\nB,2\n");
    for (cmd, role) in [("recs", "user_id"), ("ctr", "click")] {
        let run = shelf(&["lift", cmd])
            .opt("--events", &log)
            .opt("--out", w.path("out"))
            .run();
        run.expect_no_panic().expect_code(2);
        assert!(
            run.stderr.contains("items_only.csv") && run.stderr.contains(role),
            "{run}"
        );
    }
    let run = shelf(&["lift", "ctr", "--test-share", "0.95"])
        .opt("--events", &log)
        .opt("--out", w.path("out"))
        .run();
    run.expect_no_panic().expect_code(2);
    assert!(run.stderr.contains("--test-share"), "{run}");
    assert!(!w.path("out").exists());
}
