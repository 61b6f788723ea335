use shelf_core::{Role, TableKind};
use shelf_io::presets::LabelScale;

use crate::plan::{Check, Ctx, ProbeSpec};

/// JU003
pub struct LabelOutOfScale;

impl Check for LabelOutOfScale {
    meta!(
        "JU003",
        "label-out-of-scale",
        Error,
        Some("DropRows"),
        "\
label-out-of-scale (JU003)

What: finds relevance labels outside the declared scale (a preset's, or `label_scale = [lo,
hi]` under `[tables.judgments]` in shelf.toml). Without a declared scale the check does not
run: shelf will not guess what your labels mean.

Why: a label of 7 on a 0–3 scale is a typo or a different guideline; gain functions like
2^label − 1 let one such row dominate a query's nDCG.

Example: `-1` or `7` in a 0–3 judgment file.

Fix: correct or drop (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Judgments) else {
            return vec![];
        };
        if !t.has(Role::Label) {
            return vec![];
        }
        let pred = match t.label_scale {
            Some(LabelScale::Range(lo, hi)) => format!("label < {lo} OR label > {hi}"),
            Some(LabelScale::Esci) => "label NOT IN (0, 1, 2, 3)".into(),
            None => return vec![],
        };
        let scale = match t.label_scale {
            Some(LabelScale::Range(lo, hi)) => format!("{lo}–{hi}"),
            _ => "E/S/C/I".into(),
        };
        vec![ProbeSpec::rows(
            t,
            Some(Role::Label),
            pred,
            vec!["item_id".into(), "label_raw".into()]
                .into_iter()
                .filter(|c| c != "item_id" || t.has(Role::ItemId))
                .collect(),
            format!("{{n}} {{label is|labels are}} outside the declared scale {scale}"),
            self.severity(),
        )]
    }
}
