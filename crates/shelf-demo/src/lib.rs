//! shelf-demo: a built-in example store to audit — seeded, bilingual, with known defects.
//!
//! [`generate`] writes a realistic small shop (half Chinese, half English products) as
//! `catalog.csv`, `events.csv`, `queries.csv` and `judgments.csv`, with defects of every check
//! code injected at 1–3 % of rows, and `ground_truth.json` listing the rows that carry each
//! code, so tests can measure each audit check's recall. `shelf generate` and `make demo` use it.
//!
//! Key decisions:
//! - **Deterministic by construction.** A hand-written splitmix64 PRNG, one stream per table,
//!   no hash-ordered iteration reaches the output: the same seed gives byte-identical files.
//! - **Ground truth is detected, not remembered.** Each code's definition is written as a
//!   detector (`oracle`), and the truth is what the detectors find in the rows as written, so
//!   natural defects (items nobody viewed) and side effects are listed exactly. Injection only
//!   guarantees at least five instances of each code. NU006, DU004, DU005 and BT001 come from the
//!   generator instead, because only it knows a category's typical price, which rows list one
//!   product, which products are sizes of one line (`catalog::tag_listings`) and which users
//!   are scripts (`events::bots`).
//! - **Products are identifiable.** Durable goods carry a model code, apparel a style number
//!   (货号 / Style #), consumables a line name and net content — unique per product, so that
//!   only the injected re-listings read as duplicates and only the injected sizes as variants.
//! - Clean rows are kept clean on purpose: titles 5–200 characters, never all caps or stuffed,
//!   prices within a third and three times their category's typical price, distinct
//!   normalized queries, at least two distinct labels per judged query.

mod catalog;
mod csv;
mod events;
mod judgments;
mod oracle;
mod queries;
mod rng;
mod time;
mod vocab;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// What to generate. `Default` is seed 42, 2000 items, 600 users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    pub seed: u64,
    /// Distinct products (the catalog gets a few more rows: duplicates). At least 400 are
    /// generated, so every category has products.
    pub items: usize,
    /// Shoppers in the events table. At least 100 are generated, so that there are enough
    /// purchases to inject purchase defects into.
    pub users: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            items: 2000,
            users: 600,
        }
    }
}

/// The fewest products generated, whatever [`DemoOptions::items`] says.
pub const MIN_ITEMS: usize = 400;
/// The fewest users generated, whatever [`DemoOptions::users`] says.
pub const MIN_USERS: usize = 100;

/// Every code the demo store carries, with the table(s) it is recorded under.
pub const CODES: &[(&str, &[&str])] = &[
    ("BT001", &["events"]),
    ("DU001", &["catalog", "events"]),
    ("DU002", &["catalog"]),
    ("DU003", &["events"]),
    ("DU004", &["catalog"]),
    ("DU005", &["catalog"]),
    ("JU001", &["judgments"]),
    ("JU002", &["judgments"]),
    ("JU003", &["judgments"]),
    ("MV001", &["catalog"]),
    ("MV002", &["catalog"]),
    ("MV003", &["catalog"]),
    ("NU001", &["catalog"]),
    ("NU002", &["catalog"]),
    ("NU003", &["catalog"]),
    ("NU004", &["events"]),
    ("NU006", &["catalog"]),
    ("NU007", &["events"]),
    ("QU001", &["queries"]),
    ("QU002", &["queries"]),
    ("QU003", &["queries"]),
    ("RI001", &["events", "judgments"]),
    ("RI002", &["catalog"]),
    ("SC001", &["catalog", "events"]),
    ("TI001", &["events"]),
    ("TI002", &["events"]),
    ("TI003", &["events"]),
    ("TX001", &["catalog"]),
    ("TX002", &["catalog"]),
    ("TX003", &["catalog"]),
    ("TX004", &["catalog"]),
    ("TX005", &["catalog"]),
    ("TX006", &["catalog"]),
    ("TX007", &["catalog"]),
    ("TX008", &["catalog"]),
];

/// One row that carries one defect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Defect {
    pub code: String,
    /// `catalog`, `events`, `queries` or `judgments`.
    pub table: String,
    /// 0-based data row in the written file (the header is not a row).
    pub row_id: u64,
    /// The column the defect is in, or `None` for whole-row defects (duplicates).
    pub column: Option<String>,
    /// What was injected, or why the row matches when the defect arose on its own.
    pub note: String,
}

/// `ground_truth.json`: every row that matches each code's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    /// Table name to file name, relative to the output directory.
    pub files: BTreeMap<String, String>,
    /// The judgment label scale, inclusive.
    pub label_scale: [i64; 2],
    /// Sorted by (table, code, row_id, column).
    pub defects: Vec<Defect>,
}

impl GroundTruth {
    /// The row ids that carry `code` in `table`.
    pub fn rows(&self, code: &str, table: &str) -> BTreeSet<u64> {
        self.defects
            .iter()
            .filter(|d| d.code == code && d.table == table)
            .map(|d| d.row_id)
            .collect()
    }
}

/// Write the demo store into `dir` (created if missing) and return its ground truth.
///
/// Each file is written to `name.tmp` and renamed into place.
pub fn generate(dir: &Path, opts: &DemoOptions) -> io::Result<GroundTruth> {
    let tables = build(opts);
    let truth = ground_truth(&tables, opts.seed);
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    for (name, header, rows) in [
        ("catalog.csv", &catalog::HEADER[..], &tables.catalog),
        ("events.csv", &events::HEADER[..], &tables.events),
        ("queries.csv", &queries::HEADER[..], &tables.queries),
        ("judgments.csv", &judgments::HEADER[..], &tables.judgments),
    ] {
        let text = csv::render(header, rows.iter().map(|r| r.cells.as_slice()));
        csv::write_atomic(dir, name, text.as_bytes())?;
    }
    let mut json = serde_json::to_string_pretty(&truth).map_err(io::Error::other)?;
    json.push('\n');
    csv::write_atomic(dir, "ground_truth.json", json.as_bytes())?;
    Ok(truth)
}

/// A generated row: its cells plus what the generator did to it.
pub(crate) struct Row {
    pub cells: Vec<String>,
    /// Defects injected into this row.
    pub tags: Vec<Tag>,
    /// Clean, but other rows depend on it staying as it is (a duplicate's original).
    pub reserved: bool,
    /// Product type (catalog, queries, judgments); unused in events.
    pub ty: usize,
    /// The clean numeric price (catalog).
    pub num: f64,
    /// The product the row lists and how its title is written (catalog).
    pub listing: Option<catalog::Listing>,
}

pub(crate) struct Tag {
    pub code: &'static str,
    pub note: String,
}

impl Row {
    pub(crate) fn new(cells: Vec<String>, ty: usize) -> Row {
        Row {
            cells,
            tags: Vec::new(),
            reserved: false,
            ty,
            num: 0.0,
            listing: None,
        }
    }

    pub(crate) fn tag(&mut self, code: &'static str, note: String) {
        self.tags.push(Tag { code, note });
    }

    /// Untouched and not depended on: free to receive a defect.
    pub(crate) fn is_clean(&self) -> bool {
        self.tags.is_empty() && !self.reserved
    }
}

/// How many rows get one defect kind: `rate` of the table, at least five.
pub(crate) fn count(rows: usize, rate: f64) -> usize {
    ((rows as f64 * rate).round() as usize).max(5)
}

/// `k` distinct clean rows that pass `keep`.
pub(crate) fn choose(
    rng: &mut Rng,
    rows: &[Row],
    k: usize,
    keep: impl Fn(&Row) -> bool,
) -> Vec<usize> {
    let cands: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].is_clean() && keep(&rows[i]))
        .collect();
    rng.sample(&cands, k)
}

pub(crate) struct Tables {
    pub catalog: Vec<Row>,
    pub events: Vec<Row>,
    pub queries: Vec<Row>,
    pub judgments: Vec<Row>,
}

fn build(opts: &DemoOptions) -> Tables {
    let items = opts.items.max(MIN_ITEMS);
    let users = opts.users.max(MIN_USERS);
    let mut skus = catalog::SkuPool::default();
    let cat = catalog::build(&mut Rng::new(opts.seed, 1), items, &mut skus);
    let (queries, clean_queries) = queries::build(&mut Rng::new(opts.seed, 2), (items / 5).max(60));
    let events = events::build(
        &mut Rng::new(opts.seed, 3),
        users,
        &cat,
        &clean_queries,
        &mut skus,
    );
    let judgments = judgments::build(&mut Rng::new(opts.seed, 4), &clean_queries, &cat, &mut skus);
    Tables {
        catalog: cat.rows,
        events,
        queries,
        judgments,
    }
}

fn ground_truth(t: &Tables, seed: u64) -> GroundTruth {
    let cells = |rows: &[Row]| rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>();
    let (cat, ev, qu, ju) = (
        cells(&t.catalog),
        cells(&t.events),
        cells(&t.queries),
        cells(&t.judgments),
    );
    // Each sku's first parseable catalog price (None: in the catalog, but without one).
    let mut prices: BTreeMap<&str, Option<f64>> = BTreeMap::new();
    for r in &cat {
        let p = oracle::parse_price(&r[catalog::col::PRICE]);
        let e = prices.entry(&r[catalog::col::SKU]).or_insert(p);
        if e.is_none() {
            *e = p;
        }
    }
    let in_events: BTreeSet<&str> = ev
        .iter()
        .map(|r| r[events::col::ITEM_ID].as_str())
        .collect();

    let mut injected: BTreeMap<(&str, &str, usize), &str> = BTreeMap::new();
    let mut defects = Vec::new();
    for (table, rows) in [
        ("catalog", &t.catalog),
        ("events", &t.events),
        ("queries", &t.queries),
        ("judgments", &t.judgments),
    ] {
        for (i, r) in rows.iter().enumerate() {
            for tag in &r.tags {
                injected.insert((table, tag.code, i), &tag.note);
                // Only the generator knows these: a category's typical price (NU006), which
                // rows list one product and which products form one line (DU004, DU005), which
                // users are scripts (BT001).
                match tag.code {
                    "NU006" => defects.push(defect("NU006", table, i, Some("price"), &tag.note)),
                    "DU004" | "DU005" => defects.push(defect(tag.code, table, i, None, &tag.note)),
                    "BT001" => defects.push(defect("BT001", table, i, Some("user_id"), &tag.note)),
                    _ => {}
                }
            }
        }
    }
    for (table, found) in [
        ("catalog", oracle::catalog(&cat, &in_events)),
        ("events", oracle::events(&ev, &prices)),
        ("queries", oracle::queries(&qu)),
        ("judgments", oracle::judgments(&ju, &prices)),
    ] {
        for f in found {
            let note = injected
                .get(&(table, f.code, f.row))
                .copied()
                .unwrap_or(&f.note);
            defects.push(defect(f.code, table, f.row, f.column, note));
        }
    }
    defects.sort_by(|a, b| {
        (&a.table, &a.code, a.row_id, &a.column).cmp(&(&b.table, &b.code, b.row_id, &b.column))
    });
    defects.dedup_by(|a, b| {
        (&a.table, &a.code, a.row_id, &a.column) == (&b.table, &b.code, b.row_id, &b.column)
    });
    let files = [
        ("catalog", "catalog.csv"),
        ("events", "events.csv"),
        ("queries", "queries.csv"),
        ("judgments", "judgments.csv"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    GroundTruth {
        seed,
        files,
        label_scale: [0, 3],
        defects,
    }
}

fn defect(code: &str, table: &str, row: usize, column: Option<&str>, note: &str) -> Defect {
    Defect {
        code: code.to_string(),
        table: table.to_string(),
        row_id: row as u64,
        column: column.map(str::to_string),
        note: note.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Injection and definitions agree: every injected defect is detected, and apart from
    /// RI002 (which arises on its own) nothing is detected that was not injected — so clean
    /// rows really are clean. Every code has at least five rows in each of its tables.
    fn check(opts: &DemoOptions) {
        let t = build(opts);
        let truth = ground_truth(&t, opts.seed);
        let detected: BTreeSet<(String, String, u64)> = truth
            .defects
            .iter()
            .filter(|d| d.code != "RI002")
            .map(|d| (d.table.clone(), d.code.clone(), d.row_id))
            .collect();
        let mut injected = BTreeSet::new();
        for (table, rows) in [
            ("catalog", &t.catalog),
            ("events", &t.events),
            ("queries", &t.queries),
            ("judgments", &t.judgments),
        ] {
            for (i, r) in rows.iter().enumerate() {
                for tag in &r.tags {
                    injected.insert((table.to_string(), tag.code.to_string(), i as u64));
                }
            }
        }
        let missed: Vec<_> = injected.difference(&detected).collect();
        let extra: Vec<_> = detected.difference(&injected).collect();
        assert!(
            missed.is_empty(),
            "{opts:?}: injected, not detected: {missed:?}"
        );
        assert!(
            extra.is_empty(),
            "{opts:?}: detected, not injected: {extra:?}"
        );
        for (code, tables) in CODES {
            for table in *tables {
                let n = truth.rows(code, table).len();
                assert!(n >= 5, "{opts:?}: {code} in {table} has {n} rows");
            }
        }
    }

    #[test]
    fn detected_equals_injected() {
        for seed in [1, 42, 2025] {
            check(&DemoOptions {
                seed,
                ..DemoOptions::default()
            });
        }
        check(&DemoOptions {
            seed: 3,
            items: 0,
            users: 0,
        });
    }

    /// The same over many seeds and sizes: `cargo test -p shelf-demo -- --ignored`.
    #[test]
    #[ignore = "slow sweep"]
    fn detected_equals_injected_sweep() {
        for seed in 0..40 {
            let (items, users) =
                [(2000, 600), (400, 100), (800, 3000), (5000, 150)][seed as usize % 4];
            check(&DemoOptions { seed, items, users });
        }
    }

    /// Clean prices sit within [typical/3, typical*3] of their category; NU006 rows are two
    /// orders of magnitude off and below NU003's threshold.
    #[test]
    fn prices_follow_their_category() {
        let t = build(&DemoOptions::default());
        for r in &t.catalog {
            let p = oracle::parse_price(&r.cells[catalog::col::PRICE]);
            let m = catalog::typical_price(r.ty, &r.cells[catalog::col::CURRENCY]);
            let nu006 = r.tags.iter().any(|t| t.code == "NU006");
            if r.tags
                .iter()
                .all(|t| ["DU001", "DU002", "DU004", "DU005"].contains(&t.code))
            {
                let p = p.expect("clean price parses");
                assert!(
                    p >= m / 3.0 && p <= m * 3.0,
                    "{p} vs typical {m}: {:?}",
                    r.cells
                );
            } else if nu006 {
                let p = p.expect("NU006 price parses");
                assert!(
                    (p > m * 50.0 || p < m / 50.0) && p < 1e7 && p > 0.0,
                    "{p} vs {m}"
                );
            }
        }
    }
}
