use shelf_core::{Role, Severity, TableKind};

use super::conversion_without_view::step_without_prior;
use crate::plan::{Check, Ctx, ProbeSpec};

/// FN002
pub struct ClickWithoutImpression;

impl Check for ClickWithoutImpression {
    meta!(
        "FN002",
        "click-without-impression",
        Warning,
        None,
        "\
click-without-impression (FN002)

What: in a log that records impressions (the item was shown: impression, show, expose, 曝光),
finds clicks (click, clk, 点击) on an item the same session (or, without sessions, the same
user) was never shown (never_shown), or was shown only after the click (shown_later). Needs
item_id, event and a session or user; time order comes from the timestamp (equal times count
as before), else from file order. A log without any impression is not checked.

Why: a click is a response to an impression. Clicks without one come from impressions lost in
logging (a client that drops them under load, a sampled impression stream), from clicks
joined to the wrong session, or from clicks that no person made. CTR models trained on such a
log see clicks without their negatives and overestimate CTR; position-bias estimates break.

Example: session s7 clicks item 42 at 10:00:05, but its only impression of item 42 is at
10:03:00 (shown_later), or there is none (never_shown).

Fix: check the impression logging of the surface where these clicks happen; drop or repair
the clicks before training CTR models."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        let Some((actor, sql)) = step_without_prior(
            t,
            &["click"],
            &["impression"],
            ["never_shown", "shown_later"],
        ) else {
            return vec![];
        };
        let who = if actor == "session_id" {
            "session"
        } else {
            "user"
        };
        vec![
            ProbeSpec::query(
                t,
                Some(Role::Event),
                sql,
                "{n} {click|clicks} without a prior impression",
                self.severity(),
            )
            .variant(
                "never_shown",
                Severity::Warning,
                &format!(
                    "{{n}} {{click is|clicks are}} on an item the same {who} was never shown in the log"
                ),
            )
            .variant(
                "shown_later",
                Severity::Warning,
                &format!(
                    "{{n}} {{click comes|clicks come}} before the same {who}'s first impression of the item"
                ),
            ),
        ]
    }
}
