//! One fixture per check: `tests/fixtures/<CODE>/` holds a `shelf.toml` that maps small input
//! files, and an `expect.toml` that lists, by row id, the rows the check must flag (positives)
//! and the rows that look close but must not be flagged (near-misses), each with the reason.
//! The test audits the fixture, compares the flagged rows with that list, and snapshots the
//! check's findings (message, evidence, examples) in `tests/fixtures/<CODE>/findings.snap`.
//!
//! `expect.toml`:
//!
//! ```toml
//! code = "DU001"            # the check under test
//! table = "catalog"         # the table the row ids below point into
//! [flagged]                 # row id (0-based, header excluded) = why it must be flagged
//! "2" = "an exact copy of row 0"
//! "5-9" = "rows 5 to 9, inclusive: one actor's events"
//! [near_misses]             # row id = why it must not be flagged
//! "1" = "row 0 with another price"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shelf::{AuditSpec, Config, audit};

use super::manifest_dir;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: String,
    table: String,
    flagged: BTreeMap<String, String>,
    near_misses: BTreeMap<String, String>,
}

fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

fn row_ids(dir: &Path, rows: &BTreeMap<String, String>, what: &str) -> BTreeSet<u64> {
    let id = |k: &str| -> u64 {
        k.parse().unwrap_or_else(|_| {
            panic!(
                "{}: {what} key {k:?} is not a row id or a range of them",
                dir.display()
            )
        })
    };
    rows.keys()
        .flat_map(|k| match k.split_once('-') {
            Some((a, b)) => id(a)..=id(b),
            None => id(k)..=id(k),
        })
        .collect()
}

/// Audits one fixture and checks it against its `expect.toml`; returns the check's code.
fn check_fixture(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("expect.toml"))
        .unwrap_or_else(|e| panic!("{}/expect.toml: {e}", dir.display()));
    let expect: Expect =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}/expect.toml: {e}", dir.display()));
    let flagged = row_ids(dir, &expect.flagged, "flagged");
    let near = row_ids(dir, &expect.near_misses, "near_misses");
    assert!(
        !flagged.is_empty(),
        "{}: list at least one positive",
        dir.display()
    );
    assert!(
        !near.is_empty(),
        "{}: list at least one near-miss",
        dir.display()
    );
    assert!(
        flagged.is_disjoint(&near),
        "{}: a row is both flagged and a near-miss",
        dir.display()
    );

    let config = Config::load(&dir.join("shelf.toml")).expect("fixture config loads");
    let spec = AuditSpec {
        tables: Vec::new(),
        preset: None,
        encoding: None,
        config,
    };
    let report = audit(&spec, &|_| {}).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == expect.code)
        .collect();
    let got: BTreeSet<u64> = findings
        .iter()
        .filter(|f| f.table == expect.table)
        .flat_map(|f| f.row_ids.iter().copied())
        .collect();
    let missed: Vec<_> = flagged.difference(&got).collect();
    let extra: Vec<_> = got.difference(&flagged).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{}: {} on {} should flag rows {flagged:?} but flagged {got:?} (missed {missed:?}, \
         unexpected {extra:?}; near-misses flagged: {:?})",
        dir.display(),
        expect.code,
        expect.table,
        near.intersection(&got).collect::<Vec<_>>()
    );

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_json_snapshot!("findings", findings);
    });
    expect.code
}

#[test]
fn every_check_flags_its_positives_and_spares_its_near_misses() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.toml").exists())
        .collect();
    dirs.sort();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        match std::panic::catch_unwind(|| check_fixture(dir)) {
            Ok(code) => {
                covered.insert(code);
            }
            Err(e) => failures.push(format!(
                "{}: {}",
                dir.file_name().unwrap().to_string_lossy(),
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures failed:\n{}",
        failures.join("\n")
    );
    let missing: Vec<&str> = shelf_checks::registry::CHECKS
        .iter()
        .map(|c| c.code())
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "checks without a fixture in tests/fixtures: {missing:?}"
    );
}
