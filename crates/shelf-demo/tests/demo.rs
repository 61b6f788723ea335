//! What a user of `shelf generate` sees: the files on disk and their ground truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use shelf_demo::{CODES, DemoOptions, GroundTruth, generate};

const FILES: [&str; 5] = [
    "catalog.csv",
    "events.csv",
    "queries.csv",
    "judgments.csv",
    "ground_truth.json",
];

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("shelf-demo")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn opts(seed: u64) -> DemoOptions {
    DemoOptions {
        seed,
        ..DemoOptions::default()
    }
}

/// A minimal RFC 4180 reader: the oracle for the crate's quoting.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '"' => panic!("stray quote in unquoted field {field:?}"),
            ',' => {
                row.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            '\r' => panic!("CR outside quotes"),
            _ => {
                field.push(c);
                at_start = false;
            }
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && row.is_empty(),
        "file does not end with a newline"
    );
    rows
}

struct Store {
    truth: GroundTruth,
    tables: BTreeMap<&'static str, (Vec<String>, Vec<Vec<String>>)>,
}

impl Store {
    fn rows(&self, table: &str) -> &[Vec<String>] {
        &self.tables[table].1
    }

    fn col(&self, table: &str, name: &str) -> usize {
        self.tables[table]
            .0
            .iter()
            .position(|h| h == name)
            .expect(name)
    }
}

fn load(dir: &Path, truth: GroundTruth) -> Store {
    let mut tables = BTreeMap::new();
    for table in ["catalog", "events", "queries", "judgments"] {
        let text = std::fs::read_to_string(dir.join(&truth.files[table])).expect("UTF-8 file");
        let mut rows = parse_csv(&text);
        let header = rows.remove(0);
        tables.insert(table, (header, rows));
    }
    Store { truth, tables }
}

fn demo() -> &'static Store {
    static STORE: std::sync::OnceLock<Store> = std::sync::OnceLock::new();
    STORE.get_or_init(|| {
        let dir = out_dir("default");
        let truth = generate(&dir, &DemoOptions::default()).expect("generate");
        load(&dir, truth)
    })
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (out_dir("seed7-a"), out_dir("seed7-b"), out_dir("seed8"));
    generate(&a, &opts(7)).unwrap();
    generate(&b, &opts(7)).unwrap();
    generate(&c, &opts(8)).unwrap();
    for f in FILES {
        let (fa, fb, fc) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            std::fs::read(c.join(f)).unwrap(),
        );
        assert!(fa == fb, "{f} differs between two runs of seed 7");
        assert!(fa != fc, "{f} is the same for seeds 7 and 8");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn headers_and_column_counts() {
    let s = demo();
    let expected = [
        (
            "catalog",
            "sku,title,description,brand,category,price,currency,created_at,stock",
        ),
        (
            "events",
            "user_id,session_id,item_id,event,timestamp,query,position,quantity,price,order_id",
        ),
        ("queries", "query_id,query,timestamp"),
        ("judgments", "query_id,query,item_id,label,annotator"),
    ];
    for (table, header) in expected {
        let (h, rows) = &s.tables[table];
        assert_eq!(h.join(","), header);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.len(), h.len(), "{table} row {i}: {r:?}");
        }
    }
    // The quoting was exercised: fields with commas, quotes and line breaks came back whole.
    let desc = s.col("catalog", "description");
    let title = s.col("catalog", "title");
    assert!(s.rows("catalog").iter().any(|r| r[desc].contains('\n')));
    assert!(s.rows("catalog").iter().any(|r| r[desc].contains('"')));
    assert!(s.rows("catalog").iter().any(|r| r[title].contains(',')));
}

#[test]
fn every_code_has_at_least_five_rows_per_table() {
    let s = demo();
    for (code, tables) in CODES {
        for table in *tables {
            let n = s.truth.rows(code, table).len();
            assert!(n >= 5, "{code} in {table}: only {n} rows");
        }
    }
    let known: BTreeSet<(&str, &str)> = CODES
        .iter()
        .flat_map(|(c, ts)| ts.iter().map(move |t| (*c, *t)))
        .collect();
    for d in &s.truth.defects {
        assert!(
            known.contains(&(d.code.as_str(), d.table.as_str())),
            "{d:?}"
        );
    }
}

#[test]
fn ground_truth_is_in_range_sorted_and_on_disk() {
    let s = demo();
    for d in &s.truth.defects {
        let n = s.rows(&d.table).len() as u64;
        assert!(d.row_id < n, "{d:?} is past the {n} rows of {}", d.table);
        if let Some(c) = &d.column {
            s.col(&d.table, c);
        }
    }
    let keys: Vec<_> = s
        .truth
        .defects
        .iter()
        .map(|d| (&d.table, &d.code, d.row_id))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "defects are not sorted"
    );
    assert_eq!(s.truth.label_scale, [0, 3]);
    assert_eq!(s.truth.seed, 42);
    let text =
        std::fs::read_to_string(out_dir_existing("default").join("ground_truth.json")).unwrap();
    let on_disk: GroundTruth = serde_json::from_str(&text).unwrap();
    assert_eq!(on_disk, s.truth);
}

fn out_dir_existing(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("shelf-demo")
        .join(name)
}

/// Naive re-implementations of the structural codes over the parsed files.
#[test]
fn structural_codes_match_naive_oracles() {
    let s = demo();
    let ids = |v: Vec<usize>| v.into_iter().map(|i| i as u64).collect::<BTreeSet<u64>>();

    let ev = s.rows("events");
    let (sess, ts, item) = (
        s.col("events", "session_id"),
        s.col("events", "timestamp"),
        s.col("events", "item_id"),
    );
    // Sessions are contiguous.
    let mut finished = BTreeSet::new();
    for w in ev.windows(2) {
        if w[0][sess] != w[1][sess] {
            assert!(
                finished.insert(w[0][sess].clone()),
                "session {} is split",
                w[0][sess]
            );
            assert!(
                !finished.contains(&w[1][sess]),
                "session {} is split",
                w[1][sess]
            );
        }
    }
    // TI003: ISO timestamps of equal length compare as strings.
    let iso = |t: &str| t.len() == 19 && t.as_bytes()[10] == b'T' && t.starts_with("20");
    let ti003: Vec<usize> = (1..ev.len())
        .filter(|&i| {
            ev[i][sess] == ev[i - 1][sess]
                && iso(&ev[i][ts])
                && iso(&ev[i - 1][ts])
                && ev[i][ts] < ev[i - 1][ts]
        })
        .collect();
    assert_eq!(s.truth.rows("TI003", "events"), ids(ti003));
    let ti001: Vec<usize> = (0..ev.len())
        .filter(|&i| ev[i][ts].starts_with("2031"))
        .collect();
    assert_eq!(s.truth.rows("TI001", "events"), ids(ti001));

    // DU001 in events: a later exact copy.
    let mut seen = HashMap::new();
    let du001: Vec<usize> = (0..ev.len())
        .filter(|&i| seen.insert(&ev[i], i).is_some())
        .collect();
    assert_eq!(s.truth.rows("DU001", "events"), ids(du001));

    // RI001 / RI002.
    let cat = s.rows("catalog");
    let sku = s.col("catalog", "sku");
    let skus: BTreeSet<&str> = cat.iter().map(|r| r[sku].as_str()).collect();
    let used: BTreeSet<&str> = ev.iter().map(|r| r[item].as_str()).collect();
    let ri001: Vec<usize> = (0..ev.len())
        .filter(|&i| !skus.contains(ev[i][item].as_str()))
        .collect();
    assert_eq!(s.truth.rows("RI001", "events"), ids(ri001));
    let ri002: Vec<usize> = (0..cat.len())
        .filter(|&i| !used.contains(cat[i][sku].as_str()))
        .collect();
    assert_eq!(s.truth.rows("RI002", "catalog"), ids(ri002));

    // Funnel: many views, fewer clicks, fewer carts, fewer purchases.
    let event = s.col("events", "event");
    let n = |e: &str| ev.iter().filter(|r| r[event] == e).count();
    assert!(
        n("view") > n("click")
            && n("click") > n("cart")
            && n("cart") > n("purchase")
            && n("purchase") > 0
    );

    // Queries.
    let qu = s.rows("queries");
    let q = s.col("queries", "query");
    let qu001: Vec<usize> = (0..qu.len())
        .filter(|&i| qu[i][q].trim().is_empty())
        .collect();
    assert_eq!(s.truth.rows("QU001", "queries"), ids(qu001));
    let qu003: Vec<usize> = (0..qu.len())
        .filter(|&i| qu[i][q].chars().count() > 100)
        .collect();
    assert_eq!(s.truth.rows("QU003", "queries"), ids(qu003));

    // Judgments.
    let ju = s.rows("judgments");
    let label = s.col("judgments", "label");
    let ju003: Vec<usize> = (0..ju.len())
        .filter(|&i| !["0", "1", "2", "3"].contains(&ju[i][label].as_str()))
        .collect();
    assert_eq!(s.truth.rows("JU003", "judgments"), ids(ju003));
    let qid = s.col("judgments", "query_id");
    let mut by_query: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in ju.iter().enumerate() {
        by_query.entry(&r[qid]).or_default().push(i);
    }
    let ju002: Vec<usize> = by_query
        .values()
        .filter(|rows| rows.len() >= 3 && rows.iter().all(|&i| ju[i][label] == ju[rows[0]][label]))
        .flatten()
        .copied()
        .collect();
    assert_eq!(s.truth.rows("JU002", "judgments"), ids(ju002));
}

/// Text codes: a row listed is visibly defective, and clean titles are visibly clean.
#[test]
fn text_codes_look_right() {
    let s = demo();
    let cat = s.rows("catalog");
    let title = s.col("catalog", "title");
    let flagged: BTreeSet<u64> = s
        .truth
        .defects
        .iter()
        .filter(|d| d.table == "catalog" && d.code != "RI002" && d.code != "DU001")
        .map(|d| d.row_id)
        .collect();
    for (i, r) in cat.iter().enumerate() {
        let t = &r[title];
        if flagged.contains(&(i as u64)) {
            continue;
        }
        let n = t.chars().count();
        assert!(
            (5..=200).contains(&n),
            "clean title {t:?} has {n} characters"
        );
        // Not shouting: lower case, fewer than 8 capitals, or mostly uncased script (a
        // Chinese title with a brand and model code in capitals).
        let upper = t.chars().filter(|c| c.is_uppercase()).count();
        let uncased = t
            .chars()
            .filter(|c| c.is_alphabetic() && !c.is_uppercase() && !c.is_lowercase())
            .count();
        assert!(
            t.chars().any(char::is_lowercase) || upper < 8 || uncased * 2 > upper,
            "{t:?}"
        );
        assert!(!t.chars().any(char::is_control), "{t:?}");
    }
    for i in s.truth.rows("TX006", "catalog") {
        let t = &cat[i as usize][title];
        assert_eq!(*t, t.to_uppercase());
    }
    for i in s.truth.rows("TX005", "catalog") {
        assert!(cat[i as usize][title].chars().count() > 300);
    }
    for i in s.truth.rows("TX003", "catalog") {
        assert!(
            cat[i as usize][title]
                .chars()
                .any(|c| matches!(c, '\u{0}' | '\u{7}' | '\u{1b}'))
        );
    }
    // Half the products are Chinese.
    let zh = cat
        .iter()
        .filter(|r| r[s.col("catalog", "currency")] == "CNY")
        .count();
    assert!(
        zh * 10 > cat.len() * 4 && zh * 10 < cat.len() * 6,
        "{zh} of {}",
        cat.len()
    );
}
