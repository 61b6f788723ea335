//! `shelf.toml`: inert option types, parsed strictly (`deny_unknown_fields`) and resolved into
//! live objects once, when the audit is planned (STYLE.md §8).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shelf_core::{ShelfError, ShelfResult};

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Per table kind: `[tables.catalog]`, `[tables.events]`, …
    #[serde(default)]
    pub tables: BTreeMap<String, TableConfig>,
    /// Per check code or name: `[checks.TX005]` with `enabled`, `severity`, `mostly` and the
    /// check's own parameters.
    #[serde(default)]
    pub checks: BTreeMap<String, toml::Table>,
    /// User rules: `[[rule]]`.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    pub lm: LmConfig,
    /// The file this was read from, for errors found later (a rule's SQL); `None` when built
    /// in code.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// How to read and map one table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Input path, relative to the config file; `--catalog` etc. override it.
    pub path: Option<PathBuf>,
    pub preset: Option<String>,
    pub format: Option<String>,
    /// One character, or `tab`.
    pub delimiter: Option<String>,
    pub header: Option<bool>,
    pub encoding: Option<String>,
    pub max_field_bytes: Option<usize>,
    /// Multiply parsed prices by this (0.01 for cents).
    pub price_scale: Option<f64>,
    /// `[lo, hi]` for numeric relevance labels.
    pub label_scale: Option<[f64; 2]>,
    /// Extra strings that mean "no value" in this table.
    pub null_tokens: Option<Vec<String>>,
    /// role → column, or role → [columns] for a category path.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleColumns>,
}

/// One column, or several forming a path.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RoleColumns {
    One(String),
    Path(Vec<String>),
}

impl RoleColumns {
    pub fn columns(&self) -> Vec<String> {
        match self {
            RoleColumns::One(c) => vec![c.clone()],
            RoleColumns::Path(v) => v.clone(),
        }
    }
}

/// `[[rule]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub table: String,
    /// SQL predicate over role names that good rows satisfy.
    pub expect: String,
    #[serde(default = "default_rule_severity")]
    pub severity: String,
    pub mostly: Option<f64>,
    pub message: Option<String>,
}

fn default_rule_severity() -> String {
    "warning".into()
}

/// The engine's memory budget when `[run] memory_limit_mb` is not set. Above it sorts and
/// aggregates spill, so peak memory stops growing with the input: at 1 GiB the audit of 10.8 M
/// and 21.7 M Online Retail rows peaks at about 0.5 GiB of RSS (`bench/memory_scaling.py`).
/// Hash-join build sides cannot spill; a run that needs more says so and names this setting.
pub const DEFAULT_MEMORY_LIMIT_MB: usize = 1024;

/// `[lm]`: the language models checks may use. Nothing here downloads anything: a model is a
/// path, the name of one installed by `shelf models fetch`, or a server's URL.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmConfig {
    /// The embedder for semantic checks (category-mismatch, uncategorized-item): an installed
    /// model's name (`multilingual-e5-small`), a model folder or file, or an
    /// OpenAI-compatible server's `http(s)://…/v1`. Unset: those checks do not run.
    pub embedder: Option<String>,
    /// The model name to ask a server for (OpenAI `model`); default: the server's first.
    pub remote_model: Option<String>,
    /// Threads for local models (default: every core).
    pub threads: Option<usize>,
    /// Keep model answers on disk so reruns are exact and free (default true).
    pub cache: Option<bool>,
    /// Where (default: `$SHELF_LM_CACHE`, else `$XDG_CACHE_HOME/shelf/lm-cache`, else
    /// `~/.cache/shelf/lm-cache`).
    pub cache_dir: Option<PathBuf>,
}

/// `[run]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// "Now" for future-time checks (RFC 3339); defaults to the clock.
    pub now: Option<String>,
    /// Memory the engine may use before spilling, in MiB (default [`DEFAULT_MEMORY_LIMIT_MB`]).
    pub memory_limit_mb: Option<usize>,
    /// Engine threads (default: all cores).
    pub threads: Option<usize>,
}

impl Config {
    /// Reads and parses a config file; errors name the file and line.
    pub fn load(path: &Path) -> ShelfResult<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ShelfError::io(path, "cannot read the config file", e))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| {
                // toml spans an unknown key's whole table, from its header; name the key's line.
                match unknown_key(e.message()).and_then(|key| key_offset(&text, s.start, key)) {
                    Some(at) => text[..at].matches('\n').count() as u64 + 1,
                    None => text[..s.start].lines().count().max(1) as u64,
                }
            });
            ShelfError::input(
                path,
                line,
                None,
                format!("invalid shelf.toml: {}", e.message()),
            )
        })?;
        cfg.source = Some(path.to_path_buf());
        let base = path.parent().unwrap_or(Path::new("."));
        for t in cfg.tables.values_mut() {
            if let Some(p) = &t.path
                && p.is_relative()
            {
                t.path = Some(base.join(p));
            }
        }
        Ok(cfg)
    }

    /// An error about something in this file: names the file and, when `needle` (e.g. a rule's
    /// quoted name) is found in it, that line.
    pub fn error_at(&self, needle: &str, message: String) -> ShelfError {
        let Some(path) = &self.source else {
            return ShelfError::user(message);
        };
        let line = std::fs::read_to_string(path).ok().and_then(|text| {
            let at = text.find(needle)?;
            Some(text[..at].lines().count() as u64 + 1)
        });
        ShelfError::input(path, line, None, message)
    }
}

/// The key named by toml's "unknown field `x`" message.
fn unknown_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// Byte offset of the line that sets `key`, searching from `from` (the table's header).
fn key_offset(text: &str, from: usize, key: &str) -> Option<usize> {
    let mut offset = from;
    for line in text.get(from..)?.split_inclusive('\n') {
        let name = line
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if line.contains('=') && name == key {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}
