//! Bot and click-fraud detection over per-actor behaviour (the analysis behind BT001).
//!
//! SQL reduces the event log to one row of behaviour per actor (a user, or a session where the
//! user is unknown): rates, the regularity of the gaps between actions, night share, funnel
//! counts, how many other actors performed one of its sequences of actions exactly, IP fan-out. This
//! module judges those rows:
//!
//! - **Rules** with thresholds a person can check ("41 actions in one minute") say *why*. A
//!   strong rule describes behaviour people do not produce (gaps that vary by under 15% over
//!   20 actions, the same 8 consecutive actions as two other users) and flags on its own. A weak rule
//!   describes behaviour some people do produce (shopping at night, one IP shared by many
//!   users) and flags only when the actor is also a statistical outlier.
//! - **ECOD** ([`ecod`]) scores how unusual each actor is against this log's own population;
//!   it gates the weak rules and orders the flagged actors.
//!
//! Contract: pure; memory is one row per actor, never per event.

pub mod ecod;

use serde_json::{Value, json};

/// One actor's behaviour, as the SQL in `checks/bot_traffic.rs` measures it. Times in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actor {
    pub id: String,
    /// Event rows (an order's lines are several rows, one action).
    pub rows: u64,
    /// The actor's first row.
    pub first_row: u64,
    pub actions: u64,
    pub span_s: f64,
    pub active_minutes: u64,
    /// The most actions in one calendar minute.
    pub peak_minute: u64,
    /// The most actions in one day.
    pub peak_day: u64,
    /// Gaps between consecutive actions at different times.
    pub gaps: u64,
    pub gap_mean_s: f64,
    pub gap_cv: f64,
    pub items: u64,
    pub views: u64,
    pub carts: u64,
    pub purchases: u64,
    /// Actions in the log's six quietest hours of the day.
    pub night: u64,
    /// The share of all the log's actions in those hours (the same for every actor). Above
    /// [`NIGHT_SHARE`] the log has no night to speak of (one time zone missing, times of day
    /// not recorded), and the night rule stays silent.
    pub quiet_share: f64,
    /// The most actors (this one included) that performed one of this actor's sequences of
    /// `min_sequence` consecutive actions (same items, same order); 1 when none is shared.
    pub sequence_sharers: u64,
    /// The most actors seen on one of this actor's IPs (0 without an IP column).
    pub ip_fanout: u64,
}

/// The most of the log's actions its quiet hours may hold for the night rule to apply. The
/// Taobao log has 4.6% of its actions in its six quietest hours; an even spread has 25%, and a
/// log whose times carry no time of day has everything in one hour.
pub const NIGHT_SHARE: f64 = 0.1;

/// Thresholds (`[checks.bot-traffic]` in shelf.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Strong: this many actions in one minute, or this many per active minute over at least
    /// `min_sustained` actions.
    pub max_per_minute: f64,
    pub max_per_active_minute: f64,
    pub min_sustained: f64,
    /// Strong: at least `min_gaps` gaps whose coefficient of variation is at most `max_gap_cv`.
    pub min_gaps: f64,
    pub max_gap_cv: f64,
    /// Strong: a sequence of this many consecutive actions (3 or more items) shared by
    /// `min_sharers` actors.
    pub min_sequence: f64,
    pub min_sharers: f64,
    /// Strong: at least this many carts, no purchase, and more carts than views.
    pub min_carts: f64,
    /// Weak rules count only for actors whose ECOD score beats this share of all actors.
    pub outlier_percentile: f64,
    /// Weak: at least half of at least this many actions in the quiet hours.
    pub min_night_actions: f64,
    /// Weak: an IP shared by at least this many actors.
    pub min_ip_fanout: f64,
    /// Weak: at least this many actions in one day.
    pub max_per_day: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_per_minute: 30.0,
            max_per_active_minute: 10.0,
            min_sustained: 100.0,
            min_gaps: 20.0,
            max_gap_cv: 0.15,
            min_sequence: 8.0,
            min_sharers: 3.0,
            min_carts: 20.0,
            outlier_percentile: 0.99,
            min_night_actions: 50.0,
            min_ip_fanout: 20.0,
            max_per_day: 500.0,
        }
    }
}

/// A flagged actor: its ECOD score and the rules that fired, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub actor: usize,
    pub score: f64,
    pub percentile: f64,
    /// Rule names (`high-rate`, `periodic`…) and their sentences.
    pub reasons: Vec<(&'static str, String)>,
}

/// Feature names, in [`features`] order, as the evidence words them.
pub const FEATURES: [&str; 6] = [
    "actions in one minute",
    "actions per active minute",
    "regularity of the gaps between actions",
    "share of distinct items",
    "carts without a purchase",
    "actors sharing a sequence of actions",
];

/// The ECOD features of an actor: its core behaviour (how fast, how regular, how broad, how it
/// carts, whom it copies), each growing with bot-likeness. Night share, IP fan-out and daily
/// volume are context, not behaviour: they are the weak rules that a core outlier must
/// corroborate, so they stay out of the score (an early riser who browses like everyone else
/// is not an outlier).
fn features(a: &Actor) -> Vec<f64> {
    let actions = a.actions.max(1) as f64;
    let regularity = if a.gaps >= 5 {
        1.0 / (a.gap_cv + 0.01)
    } else {
        0.0
    };
    vec![
        a.peak_minute as f64,
        actions / a.active_minutes.max(1) as f64,
        regularity,
        a.items as f64 / actions,
        if a.purchases == 0 {
            a.carts as f64
        } else {
            0.0
        },
        a.sequence_sharers as f64,
    ]
}

fn strong_rules(a: &Actor, s: &Settings) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let per_active_minute = a.actions as f64 / a.active_minutes.max(1) as f64;
    if a.peak_minute as f64 >= s.max_per_minute
        || (a.actions as f64 >= s.min_sustained && per_active_minute >= s.max_per_active_minute)
    {
        out.push((
            "high-rate",
            format!(
                "{} actions in one minute ({} in all, {:.1} per active minute)",
                a.peak_minute, a.actions, per_active_minute
            ),
        ));
    }
    if a.gaps as f64 >= s.min_gaps && a.gap_cv <= s.max_gap_cv {
        out.push((
            "periodic",
            format!(
                "{} gaps between actions all close to {} (they vary by {:.0}%; people's gaps vary by more than the gap itself)",
                a.gaps,
                seconds(a.gap_mean_s),
                a.gap_cv * 100.0
            ),
        ));
    }
    if a.sequence_sharers as f64 >= s.min_sharers {
        out.push((
            "shared-sequence",
            format!(
                "the same {} consecutive actions (same items, same order) as {} other actors",
                s.min_sequence,
                a.sequence_sharers - 1
            ),
        ));
    }
    if a.carts as f64 >= s.min_carts && a.purchases == 0 && a.carts > a.views {
        out.push((
            "cart-stuffing",
            format!(
                "{} carts, {} and no purchase",
                a.carts,
                plural(a.views, "view")
            ),
        ));
    }
    out
}

fn weak_rules(a: &Actor, s: &Settings) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if a.actions as f64 >= s.min_night_actions
        && a.night * 2 >= a.actions
        && a.quiet_share <= NIGHT_SHARE
    {
        out.push((
            "night",
            format!(
                "{} of {} actions in the log's six quietest hours of the day",
                a.night, a.actions
            ),
        ));
    }
    if a.ip_fanout as f64 >= s.min_ip_fanout {
        out.push((
            "shared-ip",
            format!("uses an IP that {} actors share", a.ip_fanout),
        ));
    }
    if a.peak_day as f64 >= s.max_per_day {
        out.push(("high-volume", format!("{} actions in one day", a.peak_day)));
    }
    out
}

/// Judges every actor: strong rules alone, weak rules together with an outlying ECOD score.
/// Returns the flagged actors, most unusual first.
pub fn judge(actors: &[Actor], s: &Settings) -> Vec<Verdict> {
    let rows: Vec<Vec<f64>> = actors.iter().map(features).collect();
    let e = ecod::score(&rows);
    let pct = ecod::percentiles(&e.scores);
    let mut flagged: Vec<Verdict> = actors
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let mut reasons = strong_rules(a, s);
            if pct[i] >= s.outlier_percentile {
                let weak = weak_rules(a, s);
                if !weak.is_empty() {
                    reasons.extend(weak);
                    reasons.push(("outlier", unusual(&e.tails[i], pct[i])));
                }
            }
            (!reasons.is_empty()).then(|| Verdict {
                actor: i,
                score: e.scores[i],
                percentile: pct[i],
                reasons,
            })
        })
        .collect();
    flagged.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.actor.cmp(&b.actor)));
    flagged
}

/// "more unusual than 99.4% of actors, above all in …": the two features with the smallest
/// tail probability.
fn unusual(tails: &[f64], percentile: f64) -> String {
    let mut order: Vec<usize> = (0..tails.len()).filter(|&j| tails[j] < 0.5).collect();
    order.sort_by(|&a, &b| tails[a].total_cmp(&tails[b]));
    let top: Vec<String> = order
        .iter()
        .take(2)
        .map(|&j| {
            format!(
                "{} (higher than {:.1}% of actors)",
                FEATURES[j],
                (1.0 - tails[j]) * 100.0
            )
        })
        .collect();
    format!(
        "more unusual than {:.1}% of actors, above all in {}",
        percentile * 100.0,
        top.join(" and ")
    )
}

/// `1 view`, `3 views`.
fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `45 s`, `12 min`, `3.5 h`.
fn seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// The evidence entry for one flagged actor.
pub fn evidence(a: &Actor, v: &Verdict) -> Value {
    json!({
        "actor": a.id,
        "rows": a.rows,
        "actions": a.actions,
        "score": (v.score * 1000.0).round() / 1000.0,
        "percentile": (v.percentile * 1e4).round() / 1e4,
        "kinds": v.reasons.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        "reasons": v.reasons.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(i: u64) -> Actor {
        Actor {
            id: format!("u{i}"),
            rows: 40 + i % 30,
            actions: 40 + i % 30,
            active_minutes: 30 + i % 20,
            peak_minute: 2 + i % 5,
            peak_day: 20 + i % 30,
            gaps: 39 + i % 30,
            gap_mean_s: 300.0,
            gap_cv: 1.5 + (i % 10) as f64 / 10.0,
            items: 20 + i % 20,
            views: 38 + i % 30,
            carts: 2,
            purchases: i % 2,
            // Some people shop at night: shares from 0 to 45%.
            night: (i * 7) % ((40 + i % 30) * 45 / 100),
            sequence_sharers: 1,
            ..Actor::default()
        }
    }

    fn flag(extra: Actor) -> Vec<Verdict> {
        let mut actors: Vec<Actor> = (0..300).map(person).collect();
        actors.push(extra);
        judge(&actors, &Settings::default())
    }

    #[test]
    fn people_are_not_flagged() {
        assert!(
            judge(
                &(0..300).map(person).collect::<Vec<_>>(),
                &Settings::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn strong_rules_flag_alone_and_say_why() {
        let crawler = Actor {
            peak_minute: 45,
            ..person(1)
        };
        let v = flag(crawler);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].actor, 300);
        assert_eq!(v[0].reasons[0].0, "high-rate");
        assert!(v[0].reasons[0].1.starts_with("45 actions in one minute"));

        let clock = Actor {
            gaps: 60,
            gap_mean_s: 60.0,
            gap_cv: 0.04,
            ..person(2)
        };
        assert_eq!(flag(clock)[0].reasons[0].0, "periodic");
    }

    #[test]
    fn weak_rules_need_an_outlying_score() {
        // Half its actions at night but otherwise like everyone: an early bird, not a bot.
        let owl = Actor {
            actions: 60,
            night: 30,
            ..person(3)
        };
        assert!(flag(owl.clone()).is_empty());
        // At night, on a shared IP, at a rate nobody else has (below the strong rule's 30 a
        // minute) and viewing only new items: flagged, with every reason.
        let v = flag(Actor {
            night: 60,
            peak_minute: 25,
            active_minutes: 5,
            items: 60,
            ip_fanout: 40,
            ..owl
        });
        assert_eq!(v.len(), 1);
        let kinds: Vec<&str> = v[0].reasons.iter().map(|r| r.0).collect();
        assert_eq!(kinds, vec!["night", "shared-ip", "outlier"]);
    }
}
