//! `shelf checks`, `shelf explain`, `shelf presets`, and what `--fail-on` does to the exit code.

use std::path::Path;

use crate::support::{CLEAN_CATALOG, Run, Work, counts, shelf, summary};

const SEVERITIES: [&str; 3] = ["info", "warning", "error"];

/// (code, name, severity) per line of `shelf checks`.
fn list_checks() -> Vec<(String, String, String)> {
    let run = shelf(&["checks"]).run();
    run.expect_no_panic().expect_code(0);
    run.stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                f.len(),
                3,
                "`shelf checks` line is not code<TAB>name<TAB>severity: {l:?}"
            );
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect()
}

#[test]
fn checks_lists_codes_names_and_severities() {
    let checks = list_checks();
    let codes: Vec<&str> = checks.iter().map(|c| c.0.as_str()).collect();
    for code in ["MV001", "DU001", "NU002", "TX002"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), codes.len(), "codes repeat: {codes:?}");
    for (code, name, sev) in &checks {
        assert!(
            code.len() == 5
                && code[..2].chars().all(|c| c.is_ascii_uppercase())
                && code[2..].chars().all(|c| c.is_ascii_digit()),
            "odd code {code:?}"
        );
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{code}: name {name:?} is not kebab-case"
        );
        assert!(
            SEVERITIES.contains(&sev.as_str()),
            "{code}: severity {sev:?}"
        );
    }
    let negative = checks.iter().find(|c| c.0 == "NU002").unwrap();
    assert_eq!(
        negative.2, "error",
        "NU002 negative-price should default to error"
    );
}

#[test]
fn explain_prints_what_why_example_fix() {
    let run = shelf(&["explain", "MV001"]).run();
    run.expect_no_panic().expect_code(0);
    for part in ["MV001", "What:", "Why:", "Example:", "Fix:"] {
        assert!(
            run.stdout.contains(part),
            "explain MV001 lacks {part:?}\n{run}"
        );
    }
}

#[test]
fn explain_documents_every_listed_check() {
    for (code, name, _) in list_checks() {
        for key in [code.as_str(), name.as_str(), &code.to_lowercase()] {
            let run = shelf(&["explain", key]).run();
            run.expect_no_panic().expect_code(0);
            for part in ["What:", "Why:", "Example:", "Fix:"] {
                assert!(
                    run.stdout.contains(part),
                    "explain {key} lacks {part:?}\n{run}"
                );
            }
            assert!(
                run.stdout.contains(&code),
                "explain {key} does not show {code}\n{run}"
            );
        }
    }
}

#[test]
fn explain_unknown_code_exits_2() {
    let run = shelf(&["explain", "NOPE"]).run();
    run.expect_no_panic().expect_code(2);
    assert!(run.stderr.contains("NOPE"), "{run}");
    assert!(
        run.stderr.contains("shelf checks"),
        "should point to `shelf checks`\n{run}"
    );
    assert!(run.stdout.trim().is_empty(), "{run}");
}

#[test]
fn presets_lists_names() {
    let run = shelf(&["presets"]).run();
    run.expect_no_panic().expect_code(0);
    let names: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    assert!(names.contains(&"uci-online-retail"), "{run}");
}

#[test]
fn unknown_subcommand_exits_2() {
    let run = shelf(&["frobnicate"]).run();
    run.expect_no_panic().expect_code(2);
}

#[test]
fn help_and_version_exit_0() {
    shelf(&["--help"]).run().expect_no_panic().expect_code(0);
    shelf(&["audit", "--help"])
        .run()
        .expect_no_panic()
        .expect_code(0);
    let v = shelf(&["--version"]).run();
    v.expect_no_panic().expect_code(0);
    assert!(v.stdout.contains(env!("CARGO_PKG_VERSION")), "{v}");
}

/// Audits `input` as `--<kind>` once per `--fail-on` level (plus once without it) and checks
/// the exit code against the counts in summary.json. Returns (error, warning, info).
#[track_caller]
fn exit_codes_follow_counts(w: &Work, kind: &str, input: &Path) -> (u64, u64, u64) {
    let out = w.path("out");
    let mut seen = None;
    for level in [None, Some("error"), Some("warning"), Some("info")] {
        let mut cmd = w.audit(&out).opt(&format!("--{kind}"), input);
        if let Some(l) = level {
            cmd = cmd.opt("--fail-on", l);
        }
        let run: Run = cmd.run();
        run.expect_no_panic();
        let (e, wn, i) = counts(&summary(&out));
        let at_or_above = match level.unwrap_or("error") {
            "error" => e,
            "warning" => e + wn,
            _ => e + wn + i,
        };
        run.expect_code(if at_or_above > 0 { 1 } else { 0 });
        assert!(
            seen.is_none_or(|s| s == (e, wn, i)),
            "counts changed between runs"
        );
        seen = Some((e, wn, i));
    }
    seen.unwrap()
}

#[test]
fn fail_on_clean_catalog_exits_0() {
    let w = Work::new();
    let input = w.write("catalog.csv", CLEAN_CATALOG);
    let (e, _, _) = exit_codes_follow_counts(&w, "catalog", &input);
    assert_eq!(e, 0, "the clean catalog has an error finding");
    let run = w
        .audit(&w.path("out"))
        .opt("--catalog", &input)
        .opt("--fail-on", "error")
        .run();
    run.expect_code(0);
}

#[test]
fn fail_on_error_with_a_negative_price_exits_1() {
    let w = Work::new();
    let text = CLEAN_CATALOG.replace(
        "A005,Cheddar cheese mature 400g,4.25",
        "A005,Cheddar cheese mature 400g,-4.25",
    );
    let input = w.write("catalog.csv", text);
    let (e, _, _) = exit_codes_follow_counts(&w, "catalog", &input);
    assert!(e >= 1);
    let out = w.path("out");
    w.audit(&out).opt("--catalog", &input).run().expect_code(1);
    let f = crate::support::findings(&out);
    let neg = crate::support::with_code(&f, "NU002");
    assert_eq!(neg.len(), 1, "{f:?}");
    assert_eq!(neg[0]["severity"], "error");
}

#[test]
fn fail_on_warning_with_only_warnings() {
    let w = Work::new();
    // A missing title is a warning (MV001), not an error.
    let text = CLEAN_CATALOG.replace("A004,Greek yogurt natural 500g,2.10", "A004,,2.10");
    let input = w.write("catalog.csv", text);
    let (e, wn, _) = exit_codes_follow_counts(&w, "catalog", &input);
    assert_eq!(e, 0, "precondition: no errors");
    assert!(wn >= 1, "precondition: a warning");
    let out = w.path("out");
    w.audit(&out).opt("--catalog", &input).run().expect_code(0);
    w.audit(&out)
        .opt("--catalog", &input)
        .opt("--fail-on", "warning")
        .run()
        .expect_code(1);
}

#[test]
fn fail_on_info_with_only_info_findings_exits_1() {
    let w = Work::new();
    // q1's three judgments all carry label 2: single-label-query (JU002), an info finding.
    let input = w.write(
        "judgments.csv",
        "query_id,query,item_id,label\n\
         q1,whole milk,A001,2\nq1,whole milk,A002,2\nq1,whole milk,A003,2\n\
         q2,sourdough bread,A003,2\nq2,sourdough bread,A004,0\nq2,sourdough bread,A005,1\n",
    );
    let (e, wn, i) = exit_codes_follow_counts(&w, "judgments", &input);
    assert_eq!((e, wn), (0, 0), "precondition: only info findings");
    assert!(i >= 1, "precondition: an info finding");
    let out = w.path("out");
    w.audit(&out)
        .opt("--judgments", &input)
        .opt("--fail-on", "info")
        .run()
        .expect_code(1);
    w.audit(&out)
        .opt("--judgments", &input)
        .opt("--fail-on", "warning")
        .run()
        .expect_code(0);
    w.audit(&out)
        .opt("--judgments", &input)
        .run()
        .expect_code(0);
}

/// `[lm] threads` with a local model: candle's own pool (big ops, GGUF decoding) follows
/// CANDLE_NUM_THREADS, not the setting, so the CLI says how to pin it, and stays quiet once it
/// is pinned. Runs all-minilm-l6-v2, which `make test` installs.
#[test]
fn lm_threads_say_how_to_pin_candles_own_pool() {
    let work = Work::new();
    work.write("catalog.csv", CLEAN_CATALOG);
    work.write(
        "shelf.toml",
        "[lm]\nembedder = \"all-minilm-l6-v2\"\nthreads = 1\ncache = false\n",
    );
    let audit = |candle: Option<&str>, out: &str| {
        let run = work
            .audit(&work.path(out))
            .opt("--catalog", "catalog.csv")
            .opt("--config", "shelf.toml")
            .env("CANDLE_NUM_THREADS", candle)
            .env("RAYON_NUM_THREADS", None)
            .run();
        run.expect_no_panic();
        assert!(matches!(run.code, Some(0 | 1)), "{run}");
        run
    };
    let unpinned = audit(None, "out-unpinned");
    assert!(
        unpinned.stderr.contains("set CANDLE_NUM_THREADS=1"),
        "{unpinned}"
    );
    let pinned = audit(Some("1"), "out-pinned");
    assert!(!pinned.stderr.contains("CANDLE_NUM_THREADS"), "{pinned}");
}
