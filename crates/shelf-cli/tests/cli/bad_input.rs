//! Inputs shelf cannot use. Each must end in exit 2 with a one-paragraph message on stderr that
//! names the file (and the line where there is one) and says what to do — never a panic, never
//! an `--out` directory, never a half-written one.

use crate::support::{CLEAN_CATALOG, Work, assert_refused};

/// Audits corpus file `rel` as the catalog and checks the refusal.
#[track_caller]
fn refuse_catalog(rel: &str, hints: &[&str]) {
    let w = Work::new();
    let input = w.copy(rel);
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    assert_refused(&run, &out, Some(&name), hints);
}

/// Audits a clean catalog with the config `write_config` puts in place (a path that may not
/// exist) and checks the refusal names `config_name` and every hint.
#[track_caller]
fn refuse_config(
    write_config: impl FnOnce(&Work) -> std::path::PathBuf,
    config_name: &str,
    hints: &[&str],
) {
    refuse_with_config(CLEAN_CATALOG, write_config, Some(config_name), hints);
}

/// Audits `catalog` with the config `write_config` puts in place, expects a refusal that names
/// `names` (when given) and every hint, and returns the run.
#[track_caller]
fn refuse_with_config(
    catalog: &str,
    write_config: impl FnOnce(&Work) -> std::path::PathBuf,
    names: Option<&str>,
    hints: &[&str],
) -> crate::support::Run {
    let w = Work::new();
    let input = w.write("catalog.csv", catalog);
    let config = write_config(&w);
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &input)
        .opt("--config", &config)
        .run();
    assert_refused(&run, &out, names, hints);
    run
}

#[test]
fn empty_file() {
    refuse_catalog("bad/empty.csv", &["empty"]);
}

#[test]
fn header_only_csv() {
    refuse_catalog("bad/header_only.csv", &["no data rows|no rows"]);
}

#[test]
fn csv_with_unclosed_quote() {
    // The quote opens on line 2 and swallows the rest of the file.
    refuse_catalog("bad/broken_quote.csv", &["line 2", "quot"]);
}

#[test]
fn csv_with_ragged_row() {
    // Line 4 has five fields under a three-column header.
    refuse_catalog("bad/ragged_row.csv", &["line 4", "field"]);
}

#[test]
fn truncated_parquet() {
    let w = Work::new();
    let real =
        std::path::Path::new("/work/shared/data/uci_online_retail/online_retail_raw.parquet");
    let head: Vec<u8> = match std::fs::read(real) {
        Ok(bytes) => bytes[..100].to_vec(),
        Err(_) => {
            // Without the shared data: a Parquet magic number and nothing valid after it.
            let mut b = b"PAR1".to_vec();
            b.extend((0u8..96).map(|i| i.wrapping_mul(37)));
            b
        }
    };
    let input = w.write("truncated.parquet", head);
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(
        &run,
        &out,
        Some("truncated.parquet"),
        &["parquet", "truncated|corrupt"],
    );
}

#[test]
fn text_file_named_parquet() {
    refuse_catalog("bad/not_parquet.parquet", &["parquet"]);
}

#[test]
fn corrupt_gzip() {
    refuse_catalog("bad/corrupt.csv.gz", &["corrupt|truncated"]);
}

#[test]
fn zip_with_no_files() {
    refuse_catalog("bad/empty.zip", &["no files|empty"]);
}

#[test]
fn csv_field_of_10_mb() {
    let w = Work::new();
    let mut text = String::from("item_id,title,price\nA001,Organic whole milk,1.49\nA002,\"");
    text.push_str(&"x".repeat(10 << 20));
    text.push_str("\",3.99\nA003,Sourdough bread,2.75\n");
    let input = w.write("huge_field.csv", text);
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(
        &run,
        &out,
        Some("huge_field.csv"),
        &["line 3", "max_field_bytes|limit"],
    );
}

#[test]
fn json_array_cut_short() {
    refuse_catalog(
        "bad/truncated_array.json",
        &["json", "truncated|not closed"],
    );
}

#[test]
fn jsonl_with_a_bad_line() {
    refuse_catalog("bad/bad_line.jsonl", &["line 3", "json"]);
}

#[test]
fn invalid_utf8_when_utf8_is_forced() {
    let w = Work::new();
    let input = w.copy("bad/invalid_utf8.csv");
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &input)
        .opt("--encoding", "utf-8")
        .run();
    assert_refused(
        &run,
        &out,
        Some("invalid_utf8.csv"),
        &["encoding", "line 3"],
    );
}

#[test]
fn unknown_preset() {
    let w = Work::new();
    let input = w.write("catalog.csv", CLEAN_CATALOG);
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &input)
        .opt("--preset", "no-such-preset")
        .run();
    // An option value, not a file, is at fault: the message names the value and the choices.
    assert_refused(
        &run,
        &out,
        Some("no-such-preset"),
        &["preset", "uci-online-retail|shelf presets"],
    );
}

#[test]
fn unknown_encoding() {
    let w = Work::new();
    let input = w.write("catalog.csv", CLEAN_CATALOG);
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &input)
        .opt("--encoding", "klingon-8")
        .run();
    assert_refused(&run, &out, Some("klingon-8"), &["encoding", "utf-8"]);
}

#[test]
fn catalog_without_an_item_id_column() {
    let w = Work::new();
    let input = w.copy("bad/no_item_id.csv");
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(
        &run,
        &out,
        Some("no_item_id.csv"),
        &["item_id", "foo", "bar", "shelf.toml"],
    );
}

#[test]
fn nonexistent_path() {
    let w = Work::new();
    let input = w.path("no_such_file.csv");
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(
        &run,
        &out,
        Some("no_such_file.csv"),
        &["not found|no such file"],
    );
}

#[test]
fn directory_as_input() {
    let w = Work::new();
    let input = w.path("a_folder");
    std::fs::create_dir(&input).unwrap();
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(&run, &out, Some("a_folder"), &["directory"]);
}

#[test]
fn json_array_of_numbers() {
    let w = Work::new();
    let input = w.write("numbers.json", "[1, 2, 3]\n");
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(&run, &out, Some("numbers.json"), &["object"]);
}

#[test]
fn no_table_at_all() {
    let w = Work::new();
    let out = w.path("out");
    let run = w.audit(&out).run();
    assert_refused(&run, &out, None, &["--catalog"]);
}

#[test]
fn unknown_fail_on_level() {
    let w = Work::new();
    let input = w.write("catalog.csv", CLEAN_CATALOG);
    let out = w.path("out");
    let run = w
        .audit(&out)
        .opt("--catalog", &input)
        .opt("--fail-on", "fatal")
        .run();
    run.expect_no_panic().expect_code(2);
    assert!(run.stderr.contains("fatal"), "{run}");
    assert!(!out.exists(), "{run}");
}

#[test]
fn config_with_an_unknown_key() {
    // `frobnicate = true` is on line 6.
    refuse_config(
        |w| w.copy("bad/unknown_key.toml"),
        "unknown_key.toml",
        &["frobnicate", "line 6"],
    );
}

#[test]
fn config_with_an_unknown_top_level_key_on_line_1() {
    refuse_config(
        |w| w.write("typo.toml", "tabels = 1\n"),
        "typo.toml",
        &["tabels", "line 1"],
    );
}

#[test]
fn config_that_does_not_exist() {
    refuse_config(|w| w.path("missing.toml"), "missing.toml", &["config"]);
}

#[test]
fn rule_with_invalid_sql() {
    refuse_config(
        |w| w.copy("bad/bad_rule.toml"),
        "bad_rule.toml",
        &["price-is-sane", "sql", "price"],
    );
}

#[test]
fn zip_whose_parts_disagree_on_columns() {
    let w = Work::new();
    let input = w.copy("bad/mismatched_parts.zip");
    let out = w.path("out");
    let run = w.audit(&out).opt("--catalog", &input).run();
    assert_refused(
        &run,
        &out,
        Some("mismatched_parts.zip"),
        &["b.csv", "columns"],
    );
}

#[test]
fn failed_audit_keeps_the_previous_output() {
    let w = Work::new();
    let good = w.write("catalog.csv", CLEAN_CATALOG);
    let bad = w.copy("bad/ragged_row.csv");
    let out = w.path("out");
    w.audit(&out).opt("--catalog", &good).run().expect_code(0);
    let before = crate::support::snapshot(&out);
    let run = w.audit(&out).opt("--catalog", &bad).run();
    run.expect_no_panic().expect_code(2);
    assert_eq!(
        crate::support::snapshot(&out),
        before,
        "a failed audit touched the previous output\n{run}"
    );
    assert!(crate::support::leftovers(w.root()).is_empty(), "{run}");
}

#[test]
fn out_is_an_existing_file() {
    let w = Work::new();
    let input = w.write("catalog.csv", CLEAN_CATALOG);
    let out = w.write("out", "not a directory\n");
    let run = w.audit(&out).opt("--catalog", &input).run();
    run.expect_no_panic().expect_code(2);
    assert!(run.stderr.contains(&out.display().to_string()), "{run}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "not a directory\n");
    assert!(crate::support::leftovers(w.root()).is_empty(), "{run}");
}

#[test]
fn too_small_a_memory_limit_names_the_setting() {
    let mut csv = String::from("sku,title,price\n");
    for i in 0..60_000 {
        csv.push_str(&format!(
            "S{},Item number {} blue,{}\n",
            i % 40_000,
            i % 30_000,
            i % 977
        ));
    }
    let run = refuse_with_config(
        &csv,
        |w| w.write("shelf.toml", "[run]\nmemory_limit_mb = 1\n"),
        None,
        &["memory_limit_mb", "on catalog"],
    );
    assert!(!run.stderr.contains("a bug in shelf"), "{run}");
}

#[test]
fn config_maps_a_single_column_role_to_several_columns() {
    refuse_with_config(
        CLEAN_CATALOG,
        |w| {
            w.write(
                "shelf.toml",
                "[tables.catalog.roles]\nprice = [\"price\", \"title\"]\n",
            )
        },
        None,
        &["tables.catalog.roles", "price", "2 columns"],
    );
}
