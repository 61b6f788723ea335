use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use serde_json::{Map, Value, json};
use shelf_core::{Role, ShelfError, ShelfResult, TableKind};

use crate::bots::{self, Actor, Settings};
use crate::plan::{Analysis, Analyzer, Check, Ctx, Outcome, ProbeSpec, sql_str};

/// BT001
pub struct BotTraffic;

const CODE: &str = "BT001";
const NAME: &str = "bot-traffic";
/// Flagged actors listed in the evidence, most unusual first.
const SHOWN: usize = 200;

impl Check for BotTraffic {
    meta!(
        "BT001",
        "bot-traffic",
        Warning,
        Some("DropBotTraffic"),
        "\
bot-traffic (BT001)

What: finds users (or sessions, where the user is unknown) whose behaviour is not a person's.
The log is reduced to one row per actor: actions per minute and per day (an order's lines are
one action), how regular the gaps between actions are, the share of actions in the log's six
quietest hours of the day, distinct items, views, carts and purchases, the first 20 actions
as sequences of 8 and how many actors share one exactly, and the most actors on one IP. Then:
- strong rules flag on their own: high-rate (30 actions in one minute, or 10 per active
  minute over 100 actions or more), periodic (20 or more
  gaps that vary by at most 15%), shared-sequence (the same 8 consecutive actions, over at least 3
  different items, as 2 other actors: a click farm), cart-stuffing (20 carts, more carts than views, no purchase);
- weak rules (night: half of 50 or more actions in the quiet hours; shared-ip: an IP with 20
  actors; high-volume: 500 actions in a day) flag only when the actor is also among the 1%
  most unusual by ECOD, an outlier score over the same behaviour features that needs no
  tuning and says which features made the actor unusual.
The evidence lists the flagged actors, most unusual first, each with its reasons in words;
the affected rows are all of their events. Needs a timestamp and a user or session.

Why: bots and click farms inflate popularity, teach recommendation and CTR models what a
script clicks, and make A/B tests and offline metrics lie.

Example: user 900001 viewed 412 different items, 44 of them within one minute; user 900002
clicked every 60 s (the gaps vary by 3%) for 5 hours.

Settings ([checks.bot-traffic]): max_per_minute (30), max_per_active_minute (10),
min_sustained (100), min_gaps (20), max_gap_cv (0.15),
min_sequence (8), min_sharers (3), min_carts (20), outlier_percentile (0.99),
min_night_actions (50), min_ip_fanout (20), max_per_day (500).

Fix: drop the flagged actors' events before training (DropBotTraffic); look at the shared IPs
and sequences with the team that owns tracking."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        // A missing user ("NA", blank) falls back to the session: one anonymous "NA" actor
        // would otherwise hold every logged-out visit.
        let known = |role: &str| {
            format!(
                "CASE WHEN {} THEN NULL ELSE {role} END",
                super::null_like(t, role)
            )
        };
        let actor = match (t.has(Role::UserId), t.has(Role::SessionId)) {
            (true, true) => format!(
                "coalesce({}, concat('session ', {}))",
                known("user_id"),
                known("session_id")
            ),
            (true, false) => known("user_id"),
            (false, true) => format!("concat('session ', {})", known("session_id")),
            (false, false) => return vec![],
        };
        if !t.has(Role::Timestamp) {
            return vec![];
        }
        let d = Settings::default();
        let p = |key: &str, default: f64| ctx.params.f64(CODE, NAME, key, default);
        let settings = Settings {
            max_per_minute: p("max_per_minute", d.max_per_minute),
            max_per_active_minute: p("max_per_active_minute", d.max_per_active_minute),
            min_sustained: p("min_sustained", d.min_sustained),
            min_gaps: p("min_gaps", d.min_gaps),
            max_gap_cv: p("max_gap_cv", d.max_gap_cv),
            min_sequence: p("min_sequence", d.min_sequence),
            min_sharers: p("min_sharers", d.min_sharers),
            min_carts: p("min_carts", d.min_carts),
            outlier_percentile: p("outlier_percentile", d.outlier_percentile),
            min_night_actions: p("min_night_actions", d.min_night_actions),
            min_ip_fanout: p("min_ip_fanout", d.min_ip_fanout),
            max_per_day: p("max_per_day", d.max_per_day),
        };
        let who = if t.has(Role::UserId) {
            "user"
        } else {
            "session"
        };
        vec![ProbeSpec::analyze(
            t,
            Some(if t.has(Role::UserId) {
                Role::UserId
            } else {
                Role::SessionId
            }),
            behaviour_sql(t, &actor, settings.min_sequence.clamp(3.0, 20.0) as usize),
            Arc::new(BotJudge {
                settings,
                actor: actor.clone(),
            }),
            format!("{{n}} events come from {who}s that behave like bots"),
            self.severity(),
        )]
    }
}

/// One row of behaviour per actor (see [`Actor`]). Every step is a grouping or a window over
/// the log, so it streams and spills; nothing but the per-actor rows reaches Rust. Joins with
/// a log-sized side build on the small side (`quiet RIGHT JOIN g`, `gc JOIN grams`).
fn behaviour_sql(t: &crate::plan::TableInfo, actor: &str, n: usize) -> String {
    let item = if t.has(Role::ItemId) {
        "item_id"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    let kind = if t.has(Role::Event) {
        "shelf_event_kind(event)"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    let ip = if t.has(Role::Ip) {
        "ip"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    // An order's lines share one action; without orders every event is an action.
    let actions = if t.has(Role::OrderId) {
        "SELECT actor, coalesce(order_id, CAST(row_id AS VARCHAR)) AS action, min(t) AS t, \
         min(item) AS item, min(kind) AS kind FROM e GROUP BY actor, coalesce(order_id, CAST(row_id AS VARCHAR))"
    } else {
        "SELECT actor, CAST(row_id AS VARCHAR) AS action, t, item, kind FROM e"
    };
    format!(
        "WITH e AS (SELECT row_id, {actor} AS actor, CAST(timestamp AS BIGINT) / 1000000 AS t, \
           {item} AS item, {kind} AS kind, {ip} AS ip{order} FROM events \
           WHERE {actor} IS NOT NULL AND timestamp IS NOT NULL), \
         a AS ({actions}), \
         hc AS (SELECT ((t % 86400) + 86400) % 86400 / 3600 AS h, count(*) AS c FROM a GROUP BY 1), \
         quiet AS (SELECT hours.value AS h, coalesce(hc.c, 0) AS c FROM range(24) AS hours \
           LEFT JOIN hc ON hours.value = hc.h ORDER BY 2, 1 LIMIT 6), \
         qs AS (SELECT CAST(sum(quiet.c) AS DOUBLE) / (SELECT count(*) FROM a) AS quiet_share FROM quiet), \
         g AS (SELECT actor, action, t, item, kind, ((t % 86400) + 86400) % 86400 / 3600 AS h, \
           t - lag(t) OVER (PARTITION BY actor ORDER BY t, action) AS gap, \
           row_number() OVER (PARTITION BY actor ORDER BY t, action) AS step FROM a), \
         f AS (SELECT actor, count(*) AS actions, max(t) - min(t) AS span, \
           count(CASE WHEN gap > 0 THEN 1 END) AS gaps, \
           avg(CASE WHEN gap > 0 THEN gap END) AS gap_mean, \
           stddev_pop(CASE WHEN gap > 0 THEN gap END) AS gap_std, \
           count(DISTINCT item) AS items, \
           count(CASE WHEN kind IN ('view', 'click') THEN 1 END) AS views, \
           count(CASE WHEN kind = 'cart' THEN 1 END) AS carts, \
           count(CASE WHEN kind = 'purchase' THEN 1 END) AS purchases, \
           count(quiet.h) AS night \
           FROM quiet RIGHT JOIN g ON g.h = quiet.h GROUP BY actor), \
         m AS (SELECT actor, count(*) AS active_minutes, max(c) AS peak_minute \
           FROM (SELECT actor, t / 60 AS minute, count(*) AS c FROM a GROUP BY actor, t / 60) GROUP BY actor), \
         dd AS (SELECT actor, max(c) AS peak_day \
           FROM (SELECT actor, t / 86400 AS day, count(*) AS c FROM a GROUP BY actor, t / 86400) GROUP BY actor), \
         ng AS (SELECT actor, {grams}), \
         grams AS (SELECT DISTINCT actor, gram FROM ng WHERE last IS NOT NULL AND items >= 3), \
         gc AS (SELECT gram, count(*) AS sharers FROM grams GROUP BY gram HAVING count(*) > 1), \
         sq AS (SELECT grams.actor, max(gc.sharers) AS sharers FROM gc JOIN grams ON grams.gram = gc.gram \
           GROUP BY grams.actor), \
         ipf AS (SELECT ip, count(DISTINCT actor) AS fan FROM e WHERE ip IS NOT NULL GROUP BY ip), \
         af AS (SELECT x.actor, max(ipf.fan) AS ip_fanout FROM (SELECT DISTINCT actor, ip FROM e WHERE ip IS NOT NULL) x \
           JOIN ipf ON x.ip = ipf.ip GROUP BY x.actor), \
         r AS (SELECT actor, count(*) AS event_rows, min(row_id) AS first_row FROM e GROUP BY actor) \
         SELECT f.actor, r.event_rows, r.first_row, f.actions, f.span, m.active_minutes, m.peak_minute, \
           dd.peak_day, f.gaps, f.gap_mean, f.gap_std, f.items, f.views, f.carts, f.purchases, f.night, \
           coalesce(sq.sharers, 1) AS sharers, coalesce(af.ip_fanout, 0) AS ip_fanout, qs.quiet_share \
         FROM qs CROSS JOIN f JOIN r ON f.actor = r.actor JOIN m ON f.actor = m.actor \
           JOIN dd ON f.actor = dd.actor LEFT JOIN sq ON f.actor = sq.actor \
           LEFT JOIN af ON f.actor = af.actor \
         ORDER BY f.actor",
        grams = sequence_window(n),
        order = if t.has(Role::OrderId) {
            ", order_id"
        } else {
            ""
        },
    )
}

/// Per action: `gram`, a hash of it and the next `n - 1` actions of the same actor (kind and
/// item, in time order), `items`, how many different steps they hold, and `last`, NULL where
/// fewer than `n` actions are left. Steps are hashed first, so the window moves integers.
fn sequence_window(n: usize) -> String {
    let window = "OVER (PARTITION BY actor ORDER BY t, action)";
    let mut steps = vec!["s".to_string()];
    steps.extend((1..n).map(|k| format!("lead(s, {k}) {window}")));
    format!(
        "shelf_hash({all}) AS gram, cardinality(array_distinct(make_array({all}))) AS items, \
         {last} AS last FROM (SELECT actor, t, action, shelf_hash(kind, item) AS s FROM a)",
        all = steps.join(", "),
        last = steps[n - 1]
    )
}

/// Judges the per-actor rows.
#[derive(Debug)]
struct BotJudge {
    settings: Settings,
    /// The SQL naming an event's actor, to select the flagged actors' events afterwards.
    actor: String,
}

fn col_err(e: impl std::fmt::Display) -> ShelfError {
    ShelfError::internal(format!("bot detection input: {e}"))
}

/// Reads the per-actor rows of [`behaviour_sql`].
fn read(batches: &[RecordBatch]) -> ShelfResult<Vec<Actor>> {
    let mut actors = Vec::new();
    for b in batches {
        let col = |name: &str| b.column_by_name(name).ok_or_else(|| col_err(name));
        // Every measure as f64 (counts are exact far beyond any log's size); NULL is 0.
        let num = |name: &str| -> ShelfResult<Vec<f64>> {
            let c = cast(col(name)?, &DataType::Float64).map_err(col_err)?;
            let c = c.as_primitive::<Float64Type>();
            Ok((0..c.len())
                .map(|i| if c.is_valid(i) { c.value(i) } else { 0.0 })
                .collect())
        };
        let ids = cast(col("actor")?, &DataType::Utf8).map_err(col_err)?;
        let ids = ids.as_string::<i32>();
        let (rows, first, actions) = (num("event_rows")?, num("first_row")?, num("actions")?);
        let (span, minutes, peak_minute) =
            (num("span")?, num("active_minutes")?, num("peak_minute")?);
        let (peak_day, gaps, gap_mean, gap_std) = (
            num("peak_day")?,
            num("gaps")?,
            num("gap_mean")?,
            num("gap_std")?,
        );
        let (items, views, carts, purchases) = (
            num("items")?,
            num("views")?,
            num("carts")?,
            num("purchases")?,
        );
        let (night, quiet) = (num("night")?, num("quiet_share")?);
        let (sharers, fanout) = (num("sharers")?, num("ip_fanout")?);
        for i in 0..b.num_rows() {
            actors.push(Actor {
                id: ids.value(i).to_string(),
                rows: rows[i] as u64,
                first_row: first[i] as u64,
                actions: actions[i] as u64,
                span_s: span[i],
                active_minutes: minutes[i] as u64,
                peak_minute: peak_minute[i] as u64,
                peak_day: peak_day[i] as u64,
                gaps: gaps[i] as u64,
                gap_mean_s: gap_mean[i],
                gap_cv: if gap_mean[i] > 0.0 {
                    gap_std[i] / gap_mean[i]
                } else {
                    0.0
                },
                items: items[i] as u64,
                views: views[i] as u64,
                carts: carts[i] as u64,
                purchases: purchases[i] as u64,
                night: night[i] as u64,
                quiet_share: quiet[i],
                sequence_sharers: sharers[i] as u64,
                ip_fanout: fanout[i] as u64,
            });
        }
    }
    Ok(actors)
}

impl Analyzer for BotJudge {
    fn key(&self) -> String {
        format!("bot-judge {:?}", self.settings)
    }

    fn analyze(&self, batches: &[RecordBatch]) -> ShelfResult<Analysis> {
        let actors = read(batches)?;
        let verdicts = bots::judge(&actors, &self.settings);
        if verdicts.is_empty() {
            return Ok(Analysis::default());
        }
        let flagged: Vec<String> = verdicts
            .iter()
            .map(|v| sql_str(&actors[v.actor].id))
            .collect();
        let rows_sql = format!(
            "SELECT row_id FROM events WHERE {} IN ({})",
            self.actor,
            flagged.join(", ")
        );
        let mut kinds: std::collections::BTreeMap<&str, u64> = Default::default();
        for v in &verdicts {
            for (k, _) in &v.reasons {
                *kinds.entry(k).or_default() += 1;
            }
        }
        let examples = verdicts
            .iter()
            .take(5)
            .map(|v| {
                let a = &actors[v.actor];
                let mut o = Map::new();
                o.insert("row_id".into(), json!(a.first_row));
                o.insert("actor".into(), json!(a.id));
                o.insert("events".into(), json!(a.rows));
                o.insert(
                    "why".into(),
                    json!(
                        v.reasons
                            .iter()
                            .map(|r| r.1.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                );
                o
            })
            .collect();
        let mut evidence = Map::new();
        evidence.insert("actors_flagged".into(), json!(verdicts.len()));
        evidence.insert("actors".into(), json!(actors.len()));
        evidence.insert("by_rule".into(), json!(kinds));
        evidence.insert(
            "flagged".into(),
            Value::Array(
                verdicts
                    .iter()
                    .take(SHOWN)
                    .map(|v| bots::evidence(&actors[v.actor], v))
                    .collect(),
            ),
        );
        Ok(Analysis {
            outcomes: vec![Outcome {
                code: CODE,
                key: String::new(),
                row_ids: Vec::new(),
                rows_sql: Some(rows_sql),
                examples,
                evidence,
                message: Some(format!(
                    "{{n}} {{event comes|events come}} from {} {} that {} like {}: {}",
                    verdicts.len(),
                    if verdicts.len() == 1 {
                        "actor"
                    } else {
                        "actors"
                    },
                    if verdicts.len() == 1 {
                        "behaves"
                    } else {
                        "behave"
                    },
                    if verdicts.len() == 1 { "a bot" } else { "bots" },
                    kinds
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }],
            duplicate_pairs: None,
        })
    }
}
