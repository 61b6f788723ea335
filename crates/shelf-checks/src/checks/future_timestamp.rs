use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// TI001
pub struct FutureTimestamp;

impl Check for FutureTimestamp {
    meta!(
        "TI001",
        "future-timestamp",
        Error,
        Some("DropRows"),
        "\
future-timestamp (TI001)

What: finds times later than the run's \"now\" plus one day (event timestamps, creation
dates). \"Now\" is a parameter, so reruns give the same answer.

Why: future events come from wrong clocks, wrong time units or wrong formats (day and month
swapped); they break every time-based split and recency feature.

Example: an event dated 2031-03-01 in a 2025 log.

Fix: correct the unit or format; otherwise drop the rows (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let limit = ctx.now_micros + 86_400_000_000;
        per_role(
            ctx,
            &[Role::Timestamp, Role::CreatedAt],
            self.severity(),
            |_, r| Some(format!("{r} > to_timestamp_micros({limit})")),
            |t, r| {
                format!(
                    "{{n}} {{time|times}} in {} ({r}) {{is|are}} in the future",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
