//! User sessions: browse or search, then a view → click → cart → purchase funnel.

use std::collections::BTreeSet;

use crate::catalog::{Catalog, SkuPool};
use crate::queries::Query;
use crate::rng::Rng;
use crate::vocab::{Lang, TYPES};
use crate::{Row, count, oracle, time};

pub(crate) const HEADER: [&str; 10] = [
    "user_id",
    "session_id",
    "item_id",
    "event",
    "timestamp",
    "query",
    "position",
    "quantity",
    "price",
    "order_id",
];

pub(crate) mod col {
    pub(crate) const USER_ID: usize = 0;
    pub(crate) const SESSION_ID: usize = 1;
    pub(crate) const ITEM_ID: usize = 2;
    pub(crate) const EVENT: usize = 3;
    pub(crate) const TIMESTAMP: usize = 4;
    pub(crate) const QUERY: usize = 5;
    pub(crate) const POSITION: usize = 6;
    pub(crate) const QUANTITY: usize = 7;
    pub(crate) const PRICE: usize = 8;
    pub(crate) const ORDER_ID: usize = 9;
}
use col::*;

/// Marks purchase rows until order ids are handed out in file order.
const ORDER_PENDING: &str = "\u{0}order";

struct Session {
    start: i64,
    user: usize,
    rows: Vec<Row>,
}

/// Per type: item indices in popularity order and their cumulative Zipf weights.
struct Popularity {
    items: Vec<Vec<usize>>,
    cumulative: Vec<Vec<f64>>,
}

impl Popularity {
    /// Items in `hidden` are never shown.
    fn new(rng: &mut Rng, cat: &Catalog, hidden: &BTreeSet<usize>) -> Self {
        let mut items: Vec<Vec<usize>> = cat
            .by_type
            .iter()
            .map(|l| l.iter().copied().filter(|i| !hidden.contains(i)).collect())
            .collect();
        let mut cumulative = Vec::new();
        for list in &mut items {
            rng.shuffle(list);
            let mut acc = 0.0;
            cumulative.push(
                (0..list.len())
                    .map(|r| {
                        acc += 1.0 / (r as f64 + 1.0);
                        acc
                    })
                    .collect(),
            );
        }
        Popularity { items, cumulative }
    }

    /// Up to `k` distinct items of a type, popular ones more likely.
    fn draw(&self, rng: &mut Rng, ty: usize, k: usize) -> Vec<usize> {
        let list = &self.items[ty];
        let k = k.min(list.len());
        let mut out: Vec<usize> = Vec::with_capacity(k);
        for _ in 0..k * 20 {
            if out.len() == k {
                break;
            }
            let i = list[rng.weighted(&self.cumulative[ty])];
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }
}

fn event_row(user: &str, item: &str, event: &str, t: i64) -> Row {
    let mut cells = vec![String::new(); HEADER.len()];
    cells[USER_ID] = user.to_string();
    cells[ITEM_ID] = item.to_string();
    cells[EVENT] = event.to_string();
    cells[TIMESTAMP] = time::format_ts(t);
    Row::new(cells, 0)
}

fn user_id(u: usize) -> String {
    format!("u{:05}", u + 1)
}

/// The bots' sessions, one per bot account, each row tagged BT001 with the kind: a crawler
/// (60 different items, 1–2 s apart), a clicker (one item every 60 s ± 2 s, 30 times), a click
/// farm (three accounts playing one 9-item script at different times) and a cart stuffer (25
/// carts after one view, no purchase). Their user ids follow the real users'.
fn bots(
    rng: &mut Rng,
    cat: &Catalog,
    shown: &[usize],
    sessions: &[Session],
    users: usize,
) -> Vec<Vec<Row>> {
    let mut out = Vec::new();
    // Bots start when real sessions do (not the broken clocks' sessions, which start at 0).
    let starts: Vec<i64> = sessions
        .iter()
        .map(|s| s.start)
        .filter(|&t| t > 0)
        .collect();
    let start = |rng: &mut Rng| *rng.pick(&starts) + rng.range(0, 3_600);
    let sku = |i: usize| cat.items[i].sku.as_str();
    let bot = |out: &mut Vec<Vec<Row>>, events: Vec<(usize, &str, i64)>, note: &str| {
        let id = user_id(users + out.len());
        out.push(
            events
                .into_iter()
                .map(|(item, event, t)| {
                    let mut row = event_row(&id, sku(item), event, t);
                    row.tag("BT001", note.to_string());
                    row
                })
                .collect(),
        );
    };
    let t0 = start(rng);
    let crawl: Vec<(usize, &str, i64)> = rng
        .sample(shown, 60)
        .into_iter()
        .enumerate()
        .map(|(k, i)| (i, "view", t0 + (k as i64) * 3 / 2))
        .collect();
    bot(&mut out, crawl, "crawler: 60 items viewed 1–2 s apart");
    let (t0, item) = (start(rng), *rng.pick(shown));
    let mut t = t0;
    let clicks = (0..30)
        .map(|_| {
            t += 60 + rng.range(0, 4) - 2;
            (item, "view", t)
        })
        .collect();
    bot(&mut out, clicks, "clicker: one item every 60 s ± 2 s");
    let script = rng.sample(shown, 9);
    for _ in 0..3 {
        let mut t = start(rng);
        let run = script
            .iter()
            .map(|&i| {
                t += rng.range(20, 60);
                (i, "view", t)
            })
            .collect();
        bot(
            &mut out,
            run,
            "click farm: one 9-item script played by three accounts",
        );
    }
    let mut t = start(rng);
    let mut stuff = vec![(*rng.pick(shown), "view", t)];
    for i in rng.sample(shown, 25) {
        t += rng.range(10, 40);
        stuff.push((i, "cart", t));
    }
    bot(
        &mut out,
        stuff,
        "cart stuffer: 25 carts after one view, no purchase",
    );
    out
}

#[allow(clippy::too_many_arguments)]
fn session_rows(
    rng: &mut Rng,
    cat: &Catalog,
    pop: &Popularity,
    queries: &[&Query],
    ty: usize,
    user: &str,
    start: i64,
) -> Vec<Row> {
    let mut t = start;
    let mut rows = Vec::new();
    let mut tick = |rng: &mut Rng, lo: i64, hi: i64| {
        t += rng.range(lo, hi);
        t
    };
    let search = (!queries.is_empty() && rng.chance(0.6)).then(|| *rng.pick(queries));
    let shown = match search {
        Some(q) => {
            let k = rng.range(6, 16) as usize;
            let mut shown = pop.draw(rng, ty, k);
            // The engine ranks the brand a query names first.
            if let Some(b) = q.brand {
                shown.sort_by_key(|&i| cat.items[i].brand != b);
            }
            shown
        }
        None => {
            let k = rng.range(3, 10) as usize;
            pop.draw(rng, ty, k)
        }
    };
    let mut clicked = Vec::new();
    for (p, &i) in shown.iter().enumerate() {
        let mut r = event_row(user, &cat.items[i].sku, "view", tick(rng, 1, 4));
        if let Some(q) = search {
            r.cells[QUERY] = q.text.clone();
            r.cells[POSITION] = (p + 1).to_string();
        }
        rows.push(r);
        let p_click = if search.is_some() {
            0.4 / (1.0 + 0.3 * p as f64)
        } else {
            0.25
        };
        if rng.chance(p_click) {
            clicked.push((p, i));
        }
    }
    let mut carted = Vec::new();
    for (p, i) in clicked {
        let mut r = event_row(user, &cat.items[i].sku, "click", tick(rng, 5, 90));
        if let Some(q) = search {
            r.cells[QUERY] = q.text.clone();
            r.cells[POSITION] = (p + 1).to_string();
        }
        rows.push(r);
        if cat.items[i].purchasable && rng.chance(0.3) {
            rows.push(event_row(
                user,
                &cat.items[i].sku,
                "cart",
                tick(rng, 10, 120),
            ));
            carted.push(i);
        }
    }
    for i in carted {
        if rng.chance(0.5) {
            let item = &cat.items[i];
            let mut r = event_row(user, &item.sku, "purchase", tick(rng, 30, 240));
            r.cells[QUANTITY] = (*rng.pick(&[1, 1, 1, 1, 1, 1, 1, 2, 2, 3])).to_string();
            let paid = if rng.chance(0.15) {
                item.price * 0.9
            } else {
                item.price
            };
            r.cells[PRICE] = format!("{paid:.2}");
            r.cells[ORDER_ID] = ORDER_PENDING.to_string();
            rows.push(r);
        }
    }
    rows
}

fn sessions(
    rng: &mut Rng,
    users: usize,
    cat: &Catalog,
    queries: &[Query],
    hidden: &BTreeSet<usize>,
) -> Vec<Session> {
    let pop = Popularity::new(rng, cat, hidden);
    let (w_start, w_end) = oracle::window();
    let mut out = Vec::new();
    for u in 0..users {
        let uid = user_id(u);
        let lang = if rng.chance(0.5) { Lang::Zh } else { Lang::En };
        let own: Vec<usize> = (0..TYPES.len())
            .filter(|&t| TYPES[t].lang == lang)
            .collect();
        let n_prefs = rng.range(2, 3) as usize;
        let mut prefs = rng.sample(&own, n_prefs);
        if rng.chance(0.1) {
            prefs.push(rng.below(TYPES.len()));
        }
        let n = 1 + (0..9).take_while(|_| rng.chance(0.6)).count();
        // Sessions of a user never overlap: starts are sorted and spaced past the last end,
        // and stay a day inside the window so that a back-dated event stays inside it too.
        let mut starts: Vec<i64> = (0..n)
            .map(|_| rng.range(w_start + 86_400, w_end - 86_400))
            .collect();
        starts.sort_unstable();
        let mut free_from = w_start;
        for s in starts {
            let start = s.max(free_from);
            if start > w_end - 86_400 {
                break;
            }
            let ty = *rng.pick(&prefs);
            let qs: Vec<&Query> = queries.iter().filter(|q| q.ty == ty).collect();
            let rows = session_rows(rng, cat, &pop, &qs, ty, &uid, start);
            let Some(last) = rows.last() else { continue };
            let end = time::parse_ts(&last.cells[TIMESTAMP]).unwrap_or(start);
            free_from = end + rng.range(1800, 4 * 3600);
            out.push(Session {
                start,
                user: u,
                rows,
            });
        }
    }
    out.sort_by_key(|s| (s.start, s.user));
    out
}

/// Indices (session, row) of clean rows that pass `keep`.
fn rows_where(
    sessions: &[Session],
    keep: impl Fn(&Row, usize, &[Row]) -> bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (s, sess) in sessions.iter().enumerate() {
        for (r, row) in sess.rows.iter().enumerate() {
            if row.is_clean() && keep(row, r, &sess.rows) {
                out.push((s, r));
            }
        }
    }
    out
}

pub(crate) fn build(
    rng: &mut Rng,
    users: usize,
    cat: &Catalog,
    queries: &[Query],
    skus: &mut SkuPool,
) -> Vec<Row> {
    // Some items are listed but never shown (RI002 then has instances however many users
    // there are); others simply find no shopper.
    let all: Vec<usize> = (0..cat.items.len()).collect();
    let hidden: BTreeSet<usize> = rng
        .sample(&all, count(all.len(), 0.01))
        .into_iter()
        .collect();
    let mut sessions = sessions(rng, users, cat, queries, &hidden);
    let total: usize = sessions.iter().map(|s| s.rows.len()).sum();
    let k = count(total, 0.01);
    let purchases = rows_where(&sessions, |r, _, _| r.cells[EVENT] == "purchase").len();
    let k_buy = count(purchases, 0.03);

    // In-place defects first; the originals of the extra rows below are picked among what is
    // still clean, so a copy never inherits another defect.
    for (s, r) in rng.sample(
        &rows_where(&sessions, |r, _, _| r.cells[EVENT] == "view"),
        k,
    ) {
        let sku = skus.fresh(rng);
        let row = &mut sessions[s].rows[r];
        row.cells[ITEM_ID] = sku.clone();
        row.tag(
            "RI001",
            format!("item_id set to {sku}, which is not in the catalog"),
        );
    }
    let buys = rng.sample(
        &rows_where(&sessions, |r, _, _| r.cells[EVENT] == "purchase"),
        2 * k_buy,
    );
    for (j, &(s, r)) in buys.iter().enumerate() {
        let row = &mut sessions[s].rows[r];
        if j % 2 == 0 {
            let q = ["0", "-1", "-2"][j / 2 % 3];
            row.cells[QUANTITY] = q.to_string();
            row.tag("NU004", format!("quantity set to {q}"));
        } else {
            let paid: f64 = row.cells[PRICE].parse().unwrap_or(0.0);
            let factor = if j / 2 % 2 == 0 { 3.0 } else { 0.2 };
            let v = format!("{:.2}", paid * factor);
            row.tag(
                "NU007",
                format!("price {} set to {v} (x{factor})", row.cells[PRICE]),
            );
            row.cells[PRICE] = v;
        }
    }
    // Candidates are drawn once, in random order, and re-checked when used: an earlier pick
    // may have made them unfit.
    let mut cands = rows_where(&sessions, |_, r, rows| r > 0 && rows[r - 1].is_clean());
    rng.shuffle(&mut cands);
    let mut left = k;
    for (s, r) in cands {
        let rows = &mut sessions[s].rows;
        if left == 0 {
            break;
        }
        if !rows[r].is_clean() || !rows[r - 1].is_clean() {
            continue;
        }
        left -= 1;
        let prev = time::parse_ts(&rows[r - 1].cells[TIMESTAMP]).unwrap_or(0);
        let back = prev - rng.range(60, 1800);
        // The previous row stays as it is, so this row keeps going back in time.
        rows[r - 1].reserved = true;
        rows[r].cells[TIMESTAMP] = time::format_ts(back);
        let note = "timestamp moved before the previous event of its session";
        rows[r].tag("TI003", note.into());
    }
    // Duplicates go right after their original, inserted last to first so indices hold.
    let mut extras: Vec<(usize, usize, Row)> = Vec::new();
    for code in ["DU001", "DU003"] {
        let mut cands = rows_where(&sessions, |row, _, _| match code {
            "DU001" => matches!(row.cells[EVENT].as_str(), "view" | "click"),
            _ => !row.cells[POSITION].is_empty(),
        });
        rng.shuffle(&mut cands);
        let mut taken = 0;
        for (s, r) in cands {
            if taken == k {
                break;
            }
            if !sessions[s].rows[r].is_clean() {
                continue;
            }
            taken += 1;
            let orig = &mut sessions[s].rows[r];
            orig.reserved = true;
            let mut extra = Row::new(orig.cells.clone(), 0);
            if code == "DU001" {
                extra.tag("DU001", "event logged twice".into());
            } else {
                let p: i64 = orig.cells[POSITION].parse().unwrap_or(1);
                extra.cells[POSITION] = (p + rng.range(1, 3)).to_string();
                let note = format!("event re-logged with position {}", extra.cells[POSITION]);
                extra.tag("DU003", note);
            }
            extras.push((s, r, extra));
        }
    }
    extras.sort_by_key(|&(s, r, _)| std::cmp::Reverse((s, r)));
    for (s, r, extra) in extras {
        sessions[s].rows.insert(r + 1, extra);
    }
    // Broken clocks get sessions of their own, so they do not also reorder a real session.
    let shown: Vec<usize> = all.into_iter().filter(|i| !hidden.contains(i)).collect();
    // Distinct (user, item) pairs: two `not a date` views of one item by one user would be
    // duplicates (DU003) as well.
    let mut lone_pairs = BTreeSet::new();
    for (code, n) in [("TI001", k), ("TI002", k), ("SC001", k)] {
        for j in 0..n {
            let (ts, note) = match code {
                "TI001" => {
                    let t = time::midnight(2031, 1, 1) + rng.range(0, 364 * 86_400);
                    (time::format_ts(t), "timestamp in 2031".to_string())
                }
                "TI002" => {
                    let y = if j % 2 == 0 { 1999 } else { 2003 };
                    let t = time::midnight(y, 1, 1) + rng.range(0, 364 * 86_400);
                    (time::format_ts(t), format!("timestamp in {y}"))
                }
                _ => {
                    let v = ["not a date", "tomorrow", "2025-06-31T25:61:00"][j % 3];
                    (v.to_string(), format!("timestamp {v:?}"))
                }
            };
            let (user, item) = loop {
                let pair = (rng.below(users), *rng.pick(&shown));
                if lone_pairs.insert(pair) {
                    break pair;
                }
            };
            let mut row = event_row(&user_id(user), &cat.items[item].sku, "view", 0);
            row.cells[TIMESTAMP] = ts;
            row.tag(code, note);
            let at = rng.below(sessions.len() + 1);
            sessions.insert(
                at,
                Session {
                    start: 0,
                    user,
                    rows: vec![row],
                },
            );
        }
    }

    // Bots, each a user of its own after the real ones, in sessions of their own.
    for (b, rows) in bots(rng, cat, &shown, &sessions, users)
        .into_iter()
        .enumerate()
    {
        let at = rng.below(sessions.len() + 1);
        sessions.insert(
            at,
            Session {
                start: 0,
                user: users + b,
                rows,
            },
        );
    }

    let mut out = Vec::with_capacity(total + 6 * k);
    let mut orders = 0;
    for (s, sess) in sessions.into_iter().enumerate() {
        let sid = format!("s{:06}", s + 1);
        let mut order = None;
        for mut row in sess.rows {
            row.cells[SESSION_ID] = sid.clone();
            if row.cells[ORDER_ID] == ORDER_PENDING {
                let oid = order.get_or_insert_with(|| {
                    orders += 1;
                    format!("o{orders:06}")
                });
                row.cells[ORDER_ID] = oid.clone();
            }
            out.push(row);
        }
    }
    out
}
