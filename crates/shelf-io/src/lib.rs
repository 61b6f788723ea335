//! shelf's readers: files as shops really send them, turned into Arrow record batches.
//!
//! A table is read streaming and **staged**: decoded (any encoding, plain / gz / zip,
//! CSV / TSV / JSON / JSONL / Parquet), given a `__row_id` column (0-based position in file
//! order), and written to a Parquet file in a work directory. DataFusion then scans the staged
//! file with bounded memory and both cores. Staging costs one extra write, but it buys one
//! engine path for every input format and row ids that never depend on how the engine
//! partitions a scan.
//!
//! Most inputs are read once. JSON and JSONL are read twice (records may differ in keys, so the
//! first pass learns the columns); a headerless file whose auto-detected preset needs another
//! delimiter is staged again; zip entries and Parquet inside gzip are copied to scratch files
//! first.
//!
//! The crate also owns the things that interpret a shop's columns: value parsers for prices and
//! times ([`values`]), presets for known public formats ([`presets`]) and role inference from
//! names and values ([`infer`]).

pub mod encoding;
pub mod infer;
pub mod json;
pub mod options;
pub mod presets;
pub mod source;
pub mod stage;
pub mod values;

mod csv_reader;
mod parquet_reader;

pub use options::{Format, ReadOptions};
pub use stage::{StagedTable, stage_table};
