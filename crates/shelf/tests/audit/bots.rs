//! Bot detection (BT001) measured on real logs with scripted bots injected.
//!
//! The injector copies a real log (Taobao, Diginetica, Online Retail) and appends the events of
//! four kinds of bots under new actor ids, each bot with its own seeded parameters:
//!
//! - crawler: 100–400 views of mostly different items, 0.5–5 s apart (random, not periodic);
//! - periodic clicker: 30–120 clicks on 1–3 items every 20–600 s (5–120 min in a log of whole
//!   minutes), each gap jittered by up to 2–20%;
//! - click farm: 4–8 accounts that each play the same 8–15-item script, at different times,
//!   with human-like gaps (exponential, mean 30 s), after and before 0–3 views of their own;
//! - cart stuffer: 20–80 carts of random items, 0–5 views, no purchase, exponential gaps
//!   (mean 20 s) — only where the log has event types (Taobao).
//!
//! Precision counts every flagged actor (real ones are false positives); recall is per kind.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow::compute::cast;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use shelf_core::TableKind;

use super::{data, run};

/// A tiny seeded generator (xorshift64*), so the injected bots are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.next() as usize % v.len()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Crawler,
    Periodic,
    Farm,
    CartStuffer,
}

/// One injected event: actor number (0-based among bots), item, funnel step, seconds.
struct Event {
    bot: u64,
    item: String,
    step: &'static str,
    t: f64,
}

/// What a log offers the injector: its items, its time window (seconds) and the resolution of
/// its times (a periodic clicker must click slower than the log can tell apart: every 20 s
/// in a log of seconds, every 5 min in one of whole minutes).
struct Pool {
    items: Vec<String>,
    start: f64,
    end: f64,
    resolution: f64,
}

/// Bots of each kind, `per_kind` of each (a farm counts each account), and their events.
fn bots(pool: &Pool, kinds: &[Kind], per_kind: u64, rng: &mut Rng) -> (Vec<Kind>, Vec<Event>) {
    let mut owner = Vec::new();
    let mut events = Vec::new();
    let new_bot = |kind: Kind, owner: &mut Vec<Kind>| {
        owner.push(kind);
        owner.len() as u64 - 1
    };
    // Bots run within the log's window, and a day at most.
    let start = |rng: &mut Rng| rng.range(pool.start, (pool.end - 86_400.0).max(pool.start));
    for &kind in kinds {
        let mut made = 0;
        while made < per_kind {
            match kind {
                Kind::Crawler => {
                    let b = new_bot(kind, &mut owner);
                    let mut t = start(rng);
                    for _ in 0..rng.int(100, 400) {
                        t += rng.range(0.5, 5.0);
                        let item = rng.pick(&pool.items).clone();
                        events.push(Event {
                            bot: b,
                            item,
                            step: "view",
                            t,
                        });
                    }
                    made += 1;
                }
                Kind::Periodic => {
                    let b = new_bot(kind, &mut owner);
                    let targets: Vec<String> = (0..rng.int(1, 3))
                        .map(|_| rng.pick(&pool.items).clone())
                        .collect();
                    let scale = (pool.resolution / 12.0).max(1.0);
                    let (period, jitter) = (rng.range(20.0, 600.0) * scale, rng.range(0.02, 0.2));
                    let n = rng.int(30, 120).min((86_400.0 / period) as u64);
                    let mut t = start(rng);
                    for _ in 0..n {
                        t += period * (1.0 + rng.range(-jitter, jitter));
                        let item = rng.pick(&targets).clone();
                        events.push(Event {
                            bot: b,
                            item,
                            step: "view",
                            t,
                        });
                    }
                    made += 1;
                }
                Kind::Farm => {
                    let script: Vec<String> = (0..rng.int(8, 15))
                        .map(|_| rng.pick(&pool.items).clone())
                        .collect();
                    let accounts = rng.int(4, 8);
                    for _ in 0..accounts {
                        let b = new_bot(kind, &mut owner);
                        let mut t = start(rng);
                        // Each account browses a little before and after the script.
                        let before: Vec<String> = (0..rng.int(0, 3))
                            .map(|_| rng.pick(&pool.items).clone())
                            .collect();
                        let after: Vec<String> = (0..rng.int(0, 3))
                            .map(|_| rng.pick(&pool.items).clone())
                            .collect();
                        for item in before.iter().chain(&script).chain(&after) {
                            t += 1.0 + rng.exp(30.0);
                            events.push(Event {
                                bot: b,
                                item: item.clone(),
                                step: "view",
                                t,
                            });
                        }
                    }
                    made += accounts;
                }
                Kind::CartStuffer => {
                    let b = new_bot(kind, &mut owner);
                    let mut t = start(rng);
                    let (carts, views) = (rng.int(20, 80), rng.int(0, 5));
                    for k in 0..carts + views {
                        t += 1.0 + rng.exp(20.0);
                        let step = if k < views { "view" } else { "cart" };
                        let item = rng.pick(&pool.items).clone();
                        events.push(Event {
                            bot: b,
                            item,
                            step,
                            t,
                        });
                    }
                    made += 1;
                }
            }
        }
    }
    (owner, events)
}

/// Per-kind and overall precision / recall of BT001 on a log with bots injected.
struct Score {
    flagged_real: Vec<String>,
    by_kind: BTreeMap<Kind, (u64, u64)>,
    flagged_bots: u64,
}

impl Score {
    fn precision(&self) -> f64 {
        self.flagged_bots as f64
            / (self.flagged_bots + self.flagged_real.len() as u64).max(1) as f64
    }
    fn recall(&self) -> f64 {
        let (hit, all) = self
            .by_kind
            .values()
            .fold((0, 0), |(h, a), (kh, ka)| (h + kh, a + ka));
        hit as f64 / all.max(1) as f64
    }
    fn print(&self, log: &str) {
        eprintln!(
            "{log}: precision {:.3}, recall {:.3}; false positives: {:?}",
            self.precision(),
            self.recall(),
            self.flagged_real
        );
        for (k, (hit, all)) in &self.by_kind {
            eprintln!("  {k:?}: {hit}/{all}");
        }
    }
}

/// Audits `path` as events and scores the flagged actors; `bot_of` maps an actor as BT001
/// names it to the injected bot's number.
fn score(path: PathBuf, owner: &[Kind], bot_of: impl Fn(&str) -> Option<u64>) -> Score {
    let r = run(vec![(TableKind::Events, path)], None);
    let f = r.findings.iter().find(|f| f.code == "BT001");
    let flagged: Vec<String> = f
        .map(|f| {
            assert!(
                f.evidence["actors_flagged"].as_u64() < Some(200),
                "more flagged actors than the evidence lists"
            );
            f.evidence["flagged"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["actor"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let hits: BTreeSet<u64> = flagged.iter().filter_map(|a| bot_of(a)).collect();
    let mut by_kind: BTreeMap<Kind, (u64, u64)> = BTreeMap::new();
    for (b, k) in owner.iter().enumerate() {
        let e = by_kind.entry(*k).or_default();
        e.1 += 1;
        e.0 += u64::from(hits.contains(&(b as u64)));
    }
    Score {
        flagged_real: flagged
            .iter()
            .filter(|a| bot_of(a).is_none())
            .cloned()
            .collect(),
        by_kind,
        flagged_bots: hits.len() as u64,
    }
}

const BOT_BASE: u64 = 900_000_000;

fn assert_goal(s: &Score, log: &str) {
    s.print(log);
    assert!(
        s.precision() >= 0.95,
        "{log}: precision {:.3}",
        s.precision()
    );
    assert!(s.recall() >= 0.90, "{log}: recall {:.3}", s.recall());
}

#[test]
fn bots_injected_into_taobao() {
    let Some(p) = data("taobao_userbehavior/UserBehavior_head.csv") else {
        return;
    };
    let mut text = fs::read_to_string(&p).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let times: Vec<f64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
    let pool = Pool {
        items: rows.iter().map(|r| r[1].to_string()).collect(),
        start: times.iter().copied().fold(f64::MAX, f64::min),
        end: times.iter().copied().fold(f64::MIN, f64::max),
        resolution: 1.0,
    };
    let category: BTreeMap<&str, &str> = rows.iter().map(|r| (r[1], r[2])).collect();
    let kinds = [Kind::Crawler, Kind::Periodic, Kind::Farm, Kind::CartStuffer];
    let (owner, events) = bots(&pool, &kinds, 10, &mut Rng(7));
    let mut out = text.clone();
    for e in &events {
        let behaviour = if e.step == "cart" { "cart" } else { "pv" };
        out.push_str(&format!(
            "{},{},{},{behaviour},{}\n",
            BOT_BASE + e.bot,
            e.item,
            category[e.item.as_str()],
            e.t as i64
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("UserBehavior_bots.csv");
    fs::write(&path, out).unwrap();
    let s = score(path, &owner, |a| {
        a.parse::<u64>().ok()?.checked_sub(BOT_BASE)
    });
    assert_goal(&s, "Taobao");
}

#[test]
fn bots_injected_into_diginetica() {
    let Some(p) = data("diginetica/sample_train-item-views.csv") else {
        return;
    };
    let mut text = fs::read_to_string(&p).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(';').collect())
        .collect();
    let day = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp() as f64
    };
    let days: Vec<f64> = rows.iter().map(|r| day(r[4])).collect();
    let pool = Pool {
        items: rows.iter().map(|r| r[2].to_string()).collect(),
        start: days.iter().copied().fold(f64::MAX, f64::min),
        end: days.iter().copied().fold(f64::MIN, f64::max) + 86_400.0,
        resolution: 0.001,
    };
    let kinds = [Kind::Crawler, Kind::Periodic, Kind::Farm];
    let (owner, events) = bots(&pool, &kinds, 10, &mut Rng(11));
    // A session's events are dated by the session's first day, timed from its first event.
    let mut first: BTreeMap<u64, f64> = BTreeMap::new();
    for e in &events {
        first.entry(e.bot).or_insert(e.t);
    }
    let mut out = text.clone();
    for e in &events {
        let d0 = (first[&e.bot] / 86_400.0).floor() * 86_400.0;
        let date = chrono::DateTime::from_timestamp(d0 as i64, 0)
            .unwrap()
            .format("%Y-%m-%d");
        out.push_str(&format!(
            "{};NA;{};{};{date}\n",
            BOT_BASE + e.bot,
            e.item,
            ((e.t - d0) * 1000.0) as i64
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-item-views.csv");
    fs::write(&path, out).unwrap();
    let s = score(path, &owner, |a| {
        a.strip_prefix("session ")?
            .parse::<u64>()
            .ok()?
            .checked_sub(BOT_BASE)
    });
    assert_goal(&s, "Diginetica");
}

/// Online Retail is an order log: each bot action is an invoice of one line, at the minute
/// resolution the log has.
#[test]
fn bots_injected_into_online_retail() {
    let Some(p) = data("uci_online_retail/online_retail_raw.parquet") else {
        return;
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&p).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let text_col = |b: &RecordBatch, name: &str| -> Vec<Option<String>> {
        let c = cast(
            b.column_by_name(name).unwrap(),
            &arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let c = c.as_any().downcast_ref::<StringArray>().unwrap();
        c.iter().map(|v| v.map(str::to_string)).collect()
    };
    // Items with their description and price, so the bots order what the shop sells.
    let mut catalogue: BTreeMap<String, (String, f64)> = BTreeMap::new();
    let (mut start, mut end) = (f64::MAX, f64::MIN);
    for b in &batches {
        let codes = text_col(b, "StockCode");
        let descs = text_col(b, "Description");
        let prices = cast(
            b.column_by_name("UnitPrice").unwrap(),
            &arrow::datatypes::DataType::Float64,
        )
        .unwrap();
        let prices = prices.as_any().downcast_ref::<Float64Array>().unwrap();
        let times = cast(
            b.column_by_name("InvoiceDate").unwrap(),
            &arrow::datatypes::DataType::Int64,
        )
        .unwrap();
        let times = times.as_any().downcast_ref::<Int64Array>().unwrap();
        for i in 0..b.num_rows() {
            let t = times.value(i) as f64 / 1e9;
            (start, end) = (start.min(t), end.max(t));
            if let (Some(c), Some(d)) = (&codes[i], &descs[i])
                && prices.value(i) > 0.0
            {
                catalogue
                    .entry(c.clone())
                    .or_insert((d.clone(), prices.value(i)));
            }
        }
    }
    let pool = Pool {
        items: catalogue.keys().cloned().collect(),
        start,
        end,
        resolution: 60.0,
    };
    let kinds = [Kind::Crawler, Kind::Periodic, Kind::Farm];
    let (owner, events) = bots(&pool, &kinds, 10, &mut Rng(13));
    let n = events.len();
    let column = |name: &str| -> ArrayRef {
        match name {
            "InvoiceNo" => Arc::new(StringArray::from_iter_values(
                (0..n).map(|k| format!("{}", 900_000 + k)),
            )),
            "StockCode" => Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.item.clone()),
            )),
            "Description" => Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| catalogue[&e.item].0.clone()),
            )),
            "Quantity" => Arc::new(Int64Array::from_iter_values(
                events.iter().map(|e| 1 + (e.t as i64) % 12),
            )),
            "InvoiceDate" => Arc::new(TimestampNanosecondArray::from_iter_values(
                events
                    .iter()
                    .map(|e| (e.t as i64 / 60) * 60 * 1_000_000_000),
            )),
            "UnitPrice" => Arc::new(Float64Array::from_iter_values(
                events.iter().map(|e| catalogue[&e.item].1),
            )),
            "CustomerID" => Arc::new(Float64Array::from_iter_values(
                events.iter().map(|e| (BOT_BASE + e.bot) as f64),
            )),
            "Country" => Arc::new(StringArray::from_iter_values(
                events.iter().map(|_| "United Kingdom"),
            )),
            other => panic!("Online Retail has an unexpected column {other}"),
        }
    };
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| cast(&column(f.name()), f.data_type()).unwrap())
        .collect();
    let injected = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("online_retail_bots.parquet");
    write_parquet(&path, &batches, &injected);
    let s = score(path, &owner, |a| {
        (a.parse::<f64>().ok()? as u64).checked_sub(BOT_BASE)
    });
    assert_goal(&s, "Online Retail");
}

fn write_parquet(path: &Path, batches: &[RecordBatch], extra: &RecordBatch) {
    let mut w =
        ArrowWriter::try_new(fs::File::create(path).unwrap(), extra.schema(), None).unwrap();
    for b in batches.iter().chain([extra]) {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}
