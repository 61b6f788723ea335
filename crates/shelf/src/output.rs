//! Writing the audit's files atomically: everything is written into a fresh sibling directory
//! which then replaces the output directory, so a reader never sees half a report.

use std::path::Path;

use shelf_core::{ShelfError, ShelfResult};
use shelf_report::{AuditReport, DiffReport};

/// A fresh temporary sibling of `dir`, where outputs are written before they move into place.
fn temp_sibling(dir: &Path) -> ShelfResult<tempfile::TempDir> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| ShelfError::io(&parent, "cannot create the output's parent directory", e))?;
    tempfile::Builder::new()
        .prefix(".shelf-out-")
        .tempdir_in(&parent)
        .map_err(|e| ShelfError::io(&parent, "cannot create a temporary output directory", e))
}

/// Writes `diff.json` and `diff.html` into `dir`, atomically like [`write_audit`].
pub fn write_diff(report: &DiffReport, dir: &Path) -> ShelfResult<()> {
    let tmp = temp_sibling(dir)?;
    for (name, body) in [
        ("diff.json", shelf_report::diff_json(report)),
        ("diff.html", shelf_report::diff_html(report)),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).map_err(|e| ShelfError::io(&p, "cannot write", e))?;
    }
    replace_dir(tmp, dir)
}

/// Writes `summary.json`, `findings.jsonl`, `report.html` and (when products were matched)
/// `duplicates.csv` into `dir`.
pub fn write_audit(report: &AuditReport, dir: &Path) -> ShelfResult<()> {
    let tmp = temp_sibling(dir)?;
    let write = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).map_err(|e| ShelfError::io(&p, "cannot write", e))
    };
    let summary = serde_json::to_string_pretty(&shelf_report::summary_json(report))
        .map_err(|e| ShelfError::internal(e.to_string()))?;
    write("summary.json", &(summary + "\n"))?;
    write("findings.jsonl", &shelf_report::findings_jsonl(report))?;
    write("report.html", &shelf_report::html(report))?;
    if let Some(csv) = shelf_report::duplicates_csv(report) {
        write("duplicates.csv", &csv)?;
    }
    replace_dir(tmp, dir)
}

/// Moves a finished temporary directory into place, replacing an existing output directory.
pub fn replace_dir(tmp: tempfile::TempDir, dir: &Path) -> ShelfResult<()> {
    let staged = tmp.keep();
    if dir.exists() {
        if !dir.is_dir() {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(ShelfError::user(format!(
                "--out {} exists and is not a directory",
                dir.display()
            )));
        }
        let old = dir.with_file_name(format!(
            ".{}.old-{}",
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        std::fs::rename(dir, &old)
            .map_err(|e| ShelfError::io(dir, "cannot move the previous output aside", e))?;
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::rename(&old, dir);
            return Err(ShelfError::io(
                dir,
                "cannot move the new output into place",
                e,
            ));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staged, dir)
            .map_err(|e| ShelfError::io(dir, "cannot move the new output into place", e))?;
    }
    Ok(())
}

/// Writes `metrics.json` and `report.html` into `dir`, atomically like [`write_audit`]
/// (`shelf lift recs` and `shelf lift ctr`).
pub fn write_lift(report: &shelf_report::LiftReport, dir: &Path) -> ShelfResult<()> {
    let tmp = temp_sibling(dir)?;
    for (name, body) in [
        ("metrics.json", shelf_report::lift_json(report)),
        ("report.html", shelf_report::lift_html(report)),
    ] {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).map_err(|e| ShelfError::io(&p, "cannot write", e))?;
    }
    replace_dir(tmp, dir)
}

/// The id a TREC run line uses for a query that retrieved nothing, so that every judged query
/// is present (evaluators then average over the same queries shelf does); it is never a judged
/// item, so it scores 0 as shelf scores that query.
pub const NO_RESULT: &str = "-";

/// Writes `metrics.json`, `report.html`, `queries.tsv` and `runs/<variant>.<model>.trec` into
/// `dir`, atomically like [`write_audit`].
pub fn write_search_lift(lift: &crate::lift::SearchLift, dir: &Path) -> ShelfResult<()> {
    use std::fmt::Write as _;
    let tmp = temp_sibling(dir)?;
    let write = |name: &str, body: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).map_err(|e| ShelfError::io(&p, "cannot write", e))
    };
    write("metrics.json", &shelf_report::lift_json(&lift.report))?;
    write("report.html", &shelf_report::lift_html(&lift.report))?;
    // TSV and TREC fields cannot hold tabs, newlines (or, in TREC, spaces): those become `_`
    // in ids and a space in query text.
    let flat = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let id = |s: &str| s.replace(char::is_whitespace, "_");
    let mut tsv = String::new();
    for (qid, text) in &lift.queries {
        let _ = writeln!(tsv, "{}\t{}", id(qid), flat(text));
    }
    write("queries.tsv", &tsv)?;
    let runs = tmp.path().join("runs");
    std::fs::create_dir(&runs).map_err(|e| ShelfError::io(&runs, "cannot create", e))?;
    for run in &lift.runs {
        let tag = format!("{}.{}", run.variant, run.model);
        let mut out = String::new();
        for ((qid, _), ranking) in lift.queries.iter().zip(&run.rankings) {
            let qid = id(qid);
            if ranking.is_empty() {
                let _ = writeln!(out, "{qid} Q0 {NO_RESULT} 1 0 {tag}");
            }
            for (rank, (item, score)) in ranking.iter().enumerate() {
                let _ = writeln!(out, "{qid} Q0 {} {} {score} {tag}", id(item), rank + 1);
            }
        }
        write(&format!("runs/{tag}.trec"), &out)?;
    }
    replace_dir(tmp, dir)
}
