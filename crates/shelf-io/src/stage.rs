//! Staging: any input → one Parquet file with a `__row_id` column, written in a work directory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use shelf_core::{ROW_ID, ShelfError, ShelfResult};

use crate::csv_reader::{BATCH_ROWS, CsvPart, read_csv};
use crate::encoding::{self, DecodeReader, Detected};
use crate::options::{Format, ReadOptions};
use crate::source::{Part, detect_format, open_parts, read_up_to};

/// A table read from its input and written to a staged Parquet file.
#[derive(Debug, Clone)]
pub struct StagedTable {
    /// The staged Parquet file (`__row_id` first, then the input's columns).
    pub path: PathBuf,
    /// The input's columns, in order, without `__row_id`.
    pub columns: Vec<String>,
    /// Schema of the staged file.
    pub schema: SchemaRef,
    pub rows: u64,
    pub format: Format,
    /// Encoding name, or `binary` for Parquet.
    pub encoding: String,
    /// CSV delimiter used, if CSV.
    pub delimiter: Option<u8>,
    /// Bytes that could not be decoded in the chosen encoding (replaced by U+FFFD).
    pub undecodable: u64,
}

/// Writes batches with row ids into a Parquet file.
struct Stager {
    path: PathBuf,
    writer: Option<ArrowWriter<std::fs::File>>,
    schema: Option<SchemaRef>,
    rows: u64,
}

impl Stager {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            writer: None,
            schema: None,
            rows: 0,
        }
    }

    fn write(&mut self, batch: RecordBatch) -> ShelfResult<()> {
        if self.writer.is_none() {
            let mut fields = vec![Field::new(ROW_ID, DataType::UInt64, false)];
            fields.extend(batch.schema().fields().iter().map(|f| f.as_ref().clone()));
            let schema = Arc::new(Schema::new(fields));
            let file = std::fs::File::create(&self.path)
                .map_err(|e| ShelfError::io(&self.path, "cannot create the staged file", e))?;
            // A scratch file read only by this run: no statistics (nothing prunes on them, and
            // min/max over every string cost a comparison per value).
            let props = WriterProperties::builder()
                .set_max_row_group_row_count(Some(128 * 1024))
                .set_statistics_enabled(EnabledStatistics::None)
                .build();
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
                .map_err(|e| ShelfError::internal(format!("staging writer: {e}")))?;
            self.writer = Some(writer);
            self.schema = Some(schema);
        }
        let schema = self.schema.clone().expect("set above");
        let n = batch.num_rows() as u64;
        let ids: ArrayRef = Arc::new(UInt64Array::from_iter_values(self.rows..self.rows + n));
        let mut cols = vec![ids];
        cols.extend(batch.columns().iter().cloned());
        let out = RecordBatch::try_new(schema, cols)
            .map_err(|e| ShelfError::internal(format!("staging batch: {e}")))?;
        self.writer
            .as_mut()
            .expect("set above")
            .write(&out)
            .map_err(|e| {
                ShelfError::io(
                    &self.path,
                    "cannot write the staged file",
                    std::io::Error::other(e.to_string()),
                )
            })?;
        self.rows += n;
        Ok(())
    }

    fn finish(self) -> ShelfResult<(SchemaRef, u64)> {
        let schema = self
            .schema
            .ok_or_else(|| ShelfError::internal("finish before any batch"))?;
        if let Some(w) = self.writer {
            w.close().map_err(|e| {
                ShelfError::io(
                    &self.path,
                    "cannot finish the staged file",
                    std::io::Error::other(e.to_string()),
                )
            })?;
        }
        Ok((schema, self.rows))
    }
}

/// Reads `input` with `opts` and stages it as `work_dir/<name>.parquet`.
pub fn stage_table(
    input: &Path,
    opts: &ReadOptions,
    work_dir: &Path,
    name: &str,
) -> ShelfResult<StagedTable> {
    let out = work_dir.join(format!("{name}.parquet"));
    let parts = open_parts(input, work_dir)?;
    let mut stager = Stager::new(out.clone());
    let mut format: Option<Format> = None;
    let mut detected_enc: Option<Detected> = None;
    let mut delimiter = None;
    let mut columns: Option<Vec<String>> = None;
    let mut undecodable = 0u64;
    let mut json_parts = Vec::new();

    for (index, mut part) in parts.into_iter().enumerate() {
        let mut head = vec![0u8; encoding::SNIFF_BYTES];
        let n = read_up_to(&mut part.reader, &mut head).map_err(|e| {
            ShelfError::input(
                &part.name,
                None,
                None,
                format!("read failed: {e} (a truncated or corrupt compressed file?)"),
            )
        })?;
        head.truncate(n);
        if n == 0 {
            return Err(ShelfError::input(
                &part.name,
                None,
                None,
                "the file is empty; give a file with a header and rows",
            ));
        }
        let (fmt, tsv) = match opts.format {
            Some(f) => (f, None),
            None => detect_format(&part.inner_name, &head).unwrap_or((Format::Csv, None)),
        };
        if let Some(prev) = format
            && prev != fmt
        {
            return Err(ShelfError::input(
                &part.name,
                None,
                None,
                format!(
                    "this part is {} but earlier parts are {}; one table must use one format",
                    fmt.as_str(),
                    prev.as_str()
                ),
            ));
        }
        format = Some(fmt);
        if fmt == Format::Parquet {
            let local = match &part.local_path {
                Some(p) => p.clone(),
                None => spill(&mut part, &head, work_dir)?,
            };
            let mut sink = |b: RecordBatch| stager.write(b);
            let schema = crate::parquet_reader::read_parquet(&part.name, &local, &mut sink)?;
            check_same_columns(&part.name, &mut columns, names_of(&schema))?;
            continue;
        }
        let det = match &opts.encoding {
            Some(label) => {
                let enc = encoding::from_label(label)?;
                let bom = encoding_rs::Encoding::for_bom(&head)
                    .filter(|(e, _)| *e == enc)
                    .map_or(0, |(_, l)| l);
                Detected {
                    encoding: enc,
                    bom_len: bom,
                }
            }
            None => encoding::detect(&head),
        };
        detected_enc.get_or_insert(det);
        let head_text = det
            .encoding
            .decode_without_bom_handling(&head[det.bom_len..])
            .0
            .into_owned();
        let raw: Box<dyn Read + Send> =
            Box::new(std::io::Cursor::new(head[det.bom_len..].to_vec()).chain(part.take_reader()));
        let (reader, counter): (
            Box<dyn Read + Send>,
            Option<Arc<std::sync::atomic::AtomicU64>>,
        ) = if det.encoding == encoding_rs::UTF_8 {
            (raw, None)
        } else {
            let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
            (
                Box::new(CountingDecode {
                    inner: DecodeReader::new(raw, det.encoding),
                    counter: counter.clone(),
                }),
                Some(counter),
            )
        };
        match fmt {
            Format::Csv => {
                let mut opts = opts.clone();
                if opts.delimiter.is_none() {
                    opts.delimiter = tsv;
                }
                let expected = columns.clone();
                let mut sink = |b: RecordBatch| stager.write(b);
                let (schema, d) = read_csv(
                    CsvPart {
                        name: &part.name,
                        reader,
                        head: &head_text,
                        opts: &opts,
                        expected: expected.as_deref(),
                    },
                    &mut sink,
                )?;
                delimiter = Some(d);
                check_same_columns(&part.name, &mut columns, names_of(&schema))?;
            }
            Format::Json | Format::Jsonl => {
                let jsonl = fmt == Format::Jsonl;
                // Pass 1 learns the columns (records may have different keys); pass 2 builds.
                let mut cols: Vec<String> = columns.clone().unwrap_or_default();
                crate::json::for_each_record(&part.name, reader, jsonl, &mut |rec| {
                    for (k, _) in rec {
                        if !cols.contains(&k) {
                            cols.push(k);
                        }
                    }
                    Ok(())
                })?;
                columns = Some(cols);
                json_parts.push((index, part, det));
            }
            Format::Parquet => unreachable!("handled above"),
        }
        if let Some(c) = counter {
            undecodable += c.load(std::sync::atomic::Ordering::Relaxed);
        }
    }

    // Pass 2 over JSON parts: read each again from its own file (a zip entry's scratch file is
    // still there) with the encoding detected for it; only a gzip stream is opened anew.
    let jsonl = format == Some(Format::Jsonl);
    let cols = columns.clone().unwrap_or_default();
    for (index, part, det) in json_parts {
        let mut r = match part.reopen() {
            Some(r) => r.map_err(|e| ShelfError::io(&part.name, "cannot reopen", e))?,
            None => open_parts(input, work_dir)?
                .swap_remove(index)
                .take_reader(),
        };
        let mut skip = vec![0u8; det.bom_len];
        read_up_to(&mut r, &mut skip)
            .map_err(|e| ShelfError::input(&part.name, None, None, e.to_string()))?;
        let reader: Box<dyn Read + Send> = if det.encoding == encoding_rs::UTF_8 {
            r
        } else {
            Box::new(DecodeReader::new(r, det.encoding))
        };
        build_json(&part.name, reader, jsonl, &cols, &mut stager)?;
    }

    let format = format.ok_or_else(|| ShelfError::input(input, None, None, "no data found"))?;
    if stager.schema.is_none() || stager.rows == 0 {
        return Err(ShelfError::input(
            input,
            None,
            None,
            "the file has no data rows (only a header, or nothing); give a file with data",
        ));
    }
    let (schema, rows) = stager.finish()?;
    Ok(StagedTable {
        path: out,
        columns: columns.unwrap_or_default(),
        schema,
        rows,
        format,
        encoding: match format {
            Format::Parquet => "binary".into(),
            _ => detected_enc.map_or_else(|| "UTF-8".into(), |d| d.name()),
        },
        delimiter,
        undecodable,
    })
}

fn names_of(schema: &SchemaRef) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

fn check_same_columns(
    name: &str,
    columns: &mut Option<Vec<String>>,
    got: Vec<String>,
) -> ShelfResult<()> {
    match columns {
        Some(c) if *c != got => Err(ShelfError::input(
            name,
            None,
            None,
            format!(
                "columns ({}) differ from the first part's ({}); all files of one table must share their columns",
                got.join(", "),
                c.join(", ")
            ),
        )),
        Some(_) => Ok(()),
        None => {
            *columns = Some(got);
            Ok(())
        }
    }
}

fn spill(part: &mut Part, head: &[u8], dir: &Path) -> ShelfResult<PathBuf> {
    let path = dir.join(format!("spill-{}.parquet", std::process::id()));
    let mut f = std::fs::File::create(&path)
        .map_err(|e| ShelfError::io(&path, "cannot create a scratch file", e))?;
    std::io::Write::write_all(&mut f, head)
        .map_err(|e| ShelfError::io(&path, "cannot write", e))?;
    std::io::copy(&mut part.reader, &mut f).map_err(|e| {
        ShelfError::input(
            &part.name,
            None,
            None,
            format!("read failed: {e} (truncated or corrupt?)"),
        )
    })?;
    Ok(path)
}

fn build_json(
    name: &str,
    reader: Box<dyn Read + Send>,
    jsonl: bool,
    cols: &[String],
    stager: &mut Stager,
) -> ShelfResult<()> {
    let schema: SchemaRef = Arc::new(Schema::new(
        cols.iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut builders: Vec<StringBuilder> = cols.iter().map(|_| StringBuilder::new()).collect();
    let mut rows = 0usize;
    let flush = |builders: &mut Vec<StringBuilder>, stager: &mut Stager| -> ShelfResult<()> {
        let arrays: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        stager.write(
            RecordBatch::try_new(schema.clone(), arrays)
                .map_err(|e| ShelfError::internal(e.to_string()))?,
        )
    };
    let mut row: Vec<Option<String>> = vec![None; cols.len()];
    crate::json::for_each_record(name, reader, jsonl, &mut |rec| {
        row.iter_mut().for_each(|v| *v = None);
        for (k, v) in rec {
            if let Some(i) = cols.iter().position(|c| *c == k) {
                row[i] = v;
            }
        }
        for (b, v) in builders.iter_mut().zip(&row) {
            match v {
                Some(s) if !s.is_empty() => b.append_value(s),
                _ => b.append_null(),
            }
        }
        rows += 1;
        if rows == BATCH_ROWS {
            flush(&mut builders, stager)?;
            rows = 0;
        }
        Ok(())
    })?;
    if rows > 0 {
        flush(&mut builders, stager)?;
    }
    Ok(())
}

/// A decoder that publishes its replacement count when dropped.
struct CountingDecode<R: Read> {
    inner: DecodeReader<R>,
    counter: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingDecode<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.store(
            self.inner.replacements,
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(n)
    }
}
