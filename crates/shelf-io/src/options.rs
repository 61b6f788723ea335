//! How to read one input file. Every field is optional: what is not given is detected.

use serde::{Deserialize, Serialize};

/// Largest single field shelf accepts; anything longer is almost certainly a broken quote.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 1 << 20;

/// File formats shelf reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
    Jsonl,
    Parquet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }

    /// Parses a format name (`csv`, `tsv`, `json`, `jsonl`, `ndjson`, `parquet`).
    pub fn parse(s: &str) -> Option<(Format, Option<u8>)> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some((Format::Csv, None)),
            "tsv" | "tab" => Some((Format::Csv, Some(b'\t'))),
            "json" => Some((Format::Json, None)),
            "jsonl" | "ndjson" => Some((Format::Jsonl, None)),
            "parquet" | "pq" => Some((Format::Parquet, None)),
            _ => None,
        }
    }
}

/// Reading options for one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    pub format: Option<Format>,
    /// CSV field delimiter; sniffed from `, \t ; |` when absent.
    pub delimiter: Option<u8>,
    /// Whether the first CSV row is a header; detected when absent.
    pub header: Option<bool>,
    /// Column names for a headerless CSV (otherwise `column_1`, `column_2`, …).
    pub column_names: Option<Vec<String>>,
    /// Encoding label (`utf-8`, `utf-16`, `latin-1`, `windows-1252`, `gbk`, `gb18030`, …).
    pub encoding: Option<String>,
    /// Fields longer than this are an error (broken quote, binary data).
    pub max_field_bytes: Option<usize>,
}

impl ReadOptions {
    pub fn max_field_bytes(&self) -> usize {
        self.max_field_bytes.unwrap_or(DEFAULT_MAX_FIELD_BYTES)
    }
}
