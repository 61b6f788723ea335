//! Resolving one input table: read options, preset, role bindings (config > preset >
//! inference), staging, and the SQL that registers it in the session.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, RecordBatch};
use shelf_checks::TableInfo;
use shelf_core::{
    MappingSource, Role, RoleBinding, RoleType, ShelfError, ShelfResult, TableKind, TableSummary,
};
use shelf_io::presets::{self, LabelScale, Preset};
use shelf_io::{Format, ReadOptions, StagedTable};

use crate::config::TableConfig;

/// A staged table with its roles resolved.
#[derive(Debug)]
pub struct ResolvedTable {
    pub kind: TableKind,
    pub input: PathBuf,
    pub staged: StagedTable,
    pub preset: Option<&'static Preset>,
    pub bindings: Vec<(RoleBinding, Vec<String>)>,
    pub price_scale: f64,
    pub label_scale: Option<LabelScale>,
    pub null_tokens: Vec<String>,
    /// Why each inferred role was inferred.
    pub inferred: Vec<String>,
}

fn read_options(cfg: &TableConfig, cli_encoding: Option<&str>) -> ShelfResult<ReadOptions> {
    let mut o = ReadOptions::default();
    if let Some(f) = &cfg.format {
        let (fmt, delim) = Format::parse(f).ok_or_else(|| {
            ShelfError::user(format!(
                "unknown format {f:?}; use csv, tsv, json, jsonl or parquet"
            ))
        })?;
        o.format = Some(fmt);
        o.delimiter = delim;
    }
    if let Some(d) = &cfg.delimiter {
        o.delimiter = Some(match d.as_str() {
            "tab" | "\\t" | "\t" => b'\t',
            s if s.len() == 1 => s.as_bytes()[0],
            s => {
                return Err(ShelfError::user(format!(
                    "delimiter {s:?} must be one character or \"tab\""
                )));
            }
        });
    }
    o.header = cfg.header;
    o.encoding = cli_encoding
        .map(str::to_string)
        .or_else(|| cfg.encoding.clone());
    o.max_field_bytes = cfg.max_field_bytes;
    Ok(o)
}

/// Merges preset read options under the user's.
fn with_preset(mut o: ReadOptions, p: &Preset) -> ReadOptions {
    let po = p.read_options();
    o.delimiter = o.delimiter.or(po.delimiter);
    if o.header.is_none() {
        o.header = po.header;
        o.column_names = po.column_names;
    }
    o
}

/// Reads the first rows of a staged table (for preset detection and inference).
fn first_rows(staged: &StagedTable) -> ShelfResult<Option<RecordBatch>> {
    let file = std::fs::File::open(&staged.path)
        .map_err(|e| ShelfError::io(&staged.path, "cannot open staged file", e))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(200).build())
        .map_err(|e| ShelfError::internal(format!("staged file: {e}")))?;
    reader
        .into_iter()
        .next()
        .transpose()
        .map_err(|e| ShelfError::internal(format!("staged file: {e}")))
}

/// The first row of a staged table as text (user columns only), for preset detection.
pub(crate) fn first_row(staged: &StagedTable) -> ShelfResult<Vec<Option<String>>> {
    Ok(match first_rows(staged)? {
        Some(b) => (1..b.num_columns())
            .map(|i| {
                let a = b.column(i);
                (!a.is_empty() && a.is_valid(0))
                    .then(|| arrow::util::display::array_value_to_string(a, 0).unwrap_or_default())
            })
            .collect(),
        None => vec![],
    })
}

fn column_values(batch: &RecordBatch, col: &str) -> Vec<String> {
    let Some(a) = batch.column_by_name(col) else {
        return vec![];
    };
    (0..a.len())
        .filter(|&i| a.is_valid(i))
        .filter_map(|i| arrow::util::display::array_value_to_string(a, i).ok())
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Stages `input` as table `kind` and resolves its roles.
pub fn resolve(
    kind: TableKind,
    input: &Path,
    cfg: &TableConfig,
    cli_preset: Option<&str>,
    cli_encoding: Option<&str>,
    work: &Path,
) -> ShelfResult<ResolvedTable> {
    resolve_requiring(
        kind,
        input,
        cfg,
        cli_preset,
        cli_encoding,
        work,
        kind.required_roles(),
    )
}

/// [`resolve`] with the roles the caller cannot work without instead of the kind's usual
/// ones (`shelf lift ctr` needs a click, not an item id: Criteo's ads are anonymous).
pub fn resolve_requiring(
    kind: TableKind,
    input: &Path,
    cfg: &TableConfig,
    cli_preset: Option<&str>,
    cli_encoding: Option<&str>,
    work: &Path,
    required: &[Role],
) -> ShelfResult<ResolvedTable> {
    let base = read_options(cfg, cli_encoding)?;
    let preset_name = cfg.preset.as_deref().or(cli_preset);
    let mut candidates: Vec<&'static Preset> = Vec::new();
    if let Some(name) = preset_name {
        let all = presets::by_name(name);
        if all.is_empty() {
            return Err(ShelfError::user(format!(
                "unknown preset {name:?}; known presets: {}",
                presets::names().join(", ")
            )));
        }
        candidates = all.into_iter().filter(|p| p.kind == kind).collect();
    }
    // A single candidate fixes the read options; several are told apart after staging.
    let opts = match candidates.as_slice() {
        [one] => with_preset(base.clone(), one),
        _ => base.clone(),
    };
    let mut staged = shelf_io::stage_table(input, &opts, work, kind.as_str())?;
    let sample = first_rows(&staged)?;
    let first_row: Vec<Option<String>> = match &sample {
        Some(b) => (1..b.num_columns())
            .map(|i| {
                let a = b.column(i);
                (!a.is_empty() && a.is_valid(0))
                    .then(|| arrow::util::display::array_value_to_string(a, 0).unwrap_or_default())
            })
            .collect(),
        None => vec![],
    };
    let preset = if candidates.len() == 1 {
        Some(candidates[0])
    } else {
        let pool: Vec<&'static Preset> = if candidates.is_empty() {
            presets::PRESETS.iter().filter(|p| p.kind == kind).collect()
        } else {
            candidates
        };
        pool.into_iter()
            .find(|p| p.matches(&staged.columns, &first_row))
    };
    // An auto-detected preset for a headerless file whose first row was taken as data is fine;
    // one whose delimiter differs from the sniffed one means the file must be re-read.
    if let Some(p) = preset
        && p.delimiter.is_some()
        && staged.delimiter.is_some()
        && p.delimiter != staged.delimiter
        && base.delimiter.is_none()
    {
        staged = shelf_io::stage_table(input, &with_preset(base.clone(), p), work, kind.as_str())?;
    }

    let columns = staged.columns.clone();
    let mut bindings: Vec<(RoleBinding, Vec<String>)> = Vec::new();
    let bind = |role: Role,
                cols: Vec<String>,
                source: MappingSource,
                bindings: &mut Vec<(RoleBinding, Vec<String>)>| {
        bindings.push((
            RoleBinding {
                role,
                column: cols.join(" > "),
                source,
            },
            cols,
        ));
    };
    // 1. The user's config.
    for (name, cols) in &cfg.roles {
        let role = Role::parse(name).ok_or_else(|| {
            ShelfError::user(format!(
                "unknown role {name:?} in [tables.{kind}.roles]; roles are: {}",
                Role::names().join(", ")
            ))
        })?;
        let cols = cols.columns();
        let most = match role.role_type() {
            RoleType::Category => usize::MAX,
            RoleType::Time => 2,
            _ => 1,
        };
        if cols.len() > most {
            return Err(ShelfError::user(format!(
                "[tables.{kind}.roles] maps {name} to {} columns; only a category takes a path of several columns, and a time takes at most two (a date and the milliseconds after it)",
                cols.len()
            )));
        }
        for c in &cols {
            if !columns.contains(c) {
                return Err(ShelfError::user(format!(
                    "[tables.{kind}.roles] maps {name} to column {c:?}, but {} has no such column; its columns are: {}",
                    input.display(),
                    columns.join(", ")
                )));
            }
        }
        bind(role, cols, MappingSource::Config, &mut bindings);
    }
    // 2. The preset.
    if let Some(p) = preset {
        for (role, wanted) in p.roles {
            if bindings.iter().any(|(b, _)| b.role == *role) {
                continue;
            }
            let cols: Vec<String> = wanted
                .iter()
                .filter_map(|w| p.resolve_column(w, &columns))
                .collect();
            if !cols.is_empty()
                && cols
                    .iter()
                    .all(|c| !bindings.iter().any(|(_, bc)| bc.contains(c)))
            {
                bind(*role, cols, MappingSource::Preset, &mut bindings);
            }
        }
    }
    // 3. Inference for the rest.
    let taken: Vec<String> = bindings.iter().flat_map(|(_, c)| c.clone()).collect();
    let bound: Vec<Role> = bindings.iter().map(|(b, _)| b.role).collect();
    let sampler = |c: &str| {
        sample
            .as_ref()
            .map(|b| column_values(b, c))
            .unwrap_or_default()
    };
    let mut inferred = Vec::new();
    for inf in shelf_io::infer::infer_roles(kind, &columns, &sampler, &taken, &bound) {
        inferred.push(format!(
            "{} ← {} ({})",
            inf.role,
            inf.columns.join(" > "),
            inf.reason
        ));
        bind(
            inf.role,
            inf.columns,
            MappingSource::Inferred,
            &mut bindings,
        );
    }
    bindings.sort_by_key(|(b, _)| b.role);

    for role in required {
        if !bindings.iter().any(|(b, _)| b.role == *role) {
            return Err(ShelfError::user(format!(
                "{}: the {kind} table needs a column for role {role}, and none was found; its columns are: {}. \
                 Map one in shelf.toml under [tables.{kind}.roles] (e.g. {role} = \"{}\") or pass --preset",
                input.display(),
                columns.join(", "),
                columns.first().cloned().unwrap_or_default()
            )));
        }
    }

    let label_scale = cfg
        .label_scale
        .map(|[lo, hi]| LabelScale::Range(lo, hi))
        .or_else(|| preset.and_then(|p| p.label_scale));
    let mut null_tokens: Vec<String> = preset
        .map(|p| p.null_tokens.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    null_tokens.extend(cfg.null_tokens.clone().unwrap_or_default());
    Ok(ResolvedTable {
        kind,
        input: input.to_path_buf(),
        price_scale: cfg
            .price_scale
            .or(preset.map(|p| p.price_scale))
            .unwrap_or(1.0),
        staged,
        preset,
        bindings,
        label_scale,
        null_tokens,
        inferred,
    })
}

fn ident(c: &str) -> String {
    format!("\"{}\"", c.replace('"', "\"\""))
}

impl ResolvedTable {
    /// `CREATE VIEW` for the role view (see [`shelf_checks::TableInfo`] for its shape), named
    /// after the kind over `<kind>_raw`, as the checks expect.
    pub fn view_sql(&self) -> String {
        self.view_sql_named(self.kind.as_str(), &format!("{}_raw", self.kind))
    }

    /// The role view as `view` over the staged table registered as `raw` (`shelf diff` holds
    /// two versions of one kind in a session).
    pub fn view_sql_named(&self, view: &str, raw: &str) -> String {
        let mut cols = vec!["__row_id AS row_id".to_string()];
        for (b, src) in &self.bindings {
            let r = b.role.as_str();
            let text = if src.len() == 1 {
                format!("shelf_text({})", ident(&src[0]))
            } else {
                let parts: Vec<String> = src
                    .iter()
                    .map(|c| format!("shelf_text({})", ident(c)))
                    .collect();
                format!("nullif(concat_ws(' > ', {}), '')", parts.join(", "))
            };
            let c0 = ident(&src[0]);
            match (b.role, b.role.role_type()) {
                (Role::Label, _) => {
                    cols.push(format!("shelf_label({c0}) AS label, {text} AS label_raw"))
                }
                (_, RoleType::Money) => cols.push(format!(
                    "shelf_price({c0}) * {} AS {r}, {text} AS {r}_raw",
                    self.price_scale
                )),
                (_, RoleType::Number) => {
                    cols.push(format!("shelf_number({c0}) AS {r}, {text} AS {r}_raw"))
                }
                // Two columns: a date and the milliseconds since it (Diginetica's eventdate
                // and timeframe), so events within a day keep their order and spacing.
                (_, RoleType::Time) if src.len() == 2 => {
                    let offset = ident(&src[1]);
                    cols.push(format!(
                        "to_timestamp_micros(CAST(shelf_time({c0}) AS BIGINT) + CAST(shelf_number({offset}) * 1000 AS BIGINT)) AS {r}, \
                         concat(shelf_text({c0}), ' + ', shelf_text({offset}), ' ms') AS {r}_raw"
                    ))
                }
                (_, RoleType::Time) => {
                    cols.push(format!("shelf_time({c0}) AS {r}, {text} AS {r}_raw"))
                }
                _ => cols.push(format!("{text} AS {r}")),
            }
        }
        format!(
            "CREATE VIEW {} AS SELECT {} FROM {}",
            ident(view),
            cols.join(", "),
            ident(raw)
        )
    }

    pub fn info(&self) -> TableInfo {
        TableInfo {
            kind: self.kind,
            rows: self.staged.rows,
            columns: self.staged.columns.clone(),
            roles: self
                .bindings
                .iter()
                .map(|(b, c)| (b.role, c.clone()))
                .collect(),
            null_tokens: self.null_tokens.clone(),
            label_scale: self.label_scale,
        }
    }

    pub fn summary(&self) -> TableSummary {
        TableSummary {
            kind: self.kind,
            path: self.input.display().to_string(),
            rows: self.staged.rows,
            columns: self.staged.columns.clone(),
            roles: self
                .bindings
                .iter()
                .map(|(b, _)| (b.role.as_str().to_string(), b.column.clone()))
                .collect(),
            role_sources: self
                .bindings
                .iter()
                .map(|(b, _)| (b.role.as_str().to_string(), b.source))
                .collect::<BTreeMap<_, _>>(),
            encoding: self.staged.encoding.clone(),
            format: match (self.staged.format, self.staged.delimiter) {
                (Format::Csv, Some(b'\t')) => "tsv".into(),
                (f, _) => f.as_str().into(),
            },
            preset: self.preset.map(|p| p.name.to_string()),
        }
    }
}
