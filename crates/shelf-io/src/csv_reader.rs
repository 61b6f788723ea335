//! CSV / TSV: delimiter and header sniffing, quoted multi-line fields, line-accurate errors.

use std::io::Read;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use shelf_core::{ShelfError, ShelfResult};

use crate::ReadOptions;

pub(crate) const BATCH_ROWS: usize = 8192;

/// Picks the delimiter among `, \t ; |` whose per-line count (outside quotes) is the most
/// consistent and largest over the first lines.
pub(crate) fn sniff_delimiter(head: &str) -> u8 {
    let lines: Vec<&str> = head
        .lines()
        .take(50)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let lines = if lines.len() > 1 {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    }; // last may be cut
    let mut best = (b',', 0usize, 0usize); // (delim, consistent lines, count)
    for &d in b",\t;|" {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == first).count();
        if consistent > best.1 || (consistent == best.1 && first > best.2) {
            best = (d, consistent, first);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut inside = false;
    let mut n = 0;
    for &b in line.as_bytes() {
        if b == b'"' {
            inside = !inside;
        } else if b == d && !inside {
            n += 1;
        }
    }
    n
}

/// A first row is a header when none of its fields is empty or numeric (a data row almost always
/// has an id, a number or a date in it) and either its fields are distinct, or, for a header that
/// repeats a name (`price,price`), some column that is text in the first row holds numbers or
/// dates in most of the rows `below` it. All-text rows with a repeated value stay data.
pub(crate) fn sniff_header(first: &csv::StringRecord, below: &[csv::StringRecord]) -> bool {
    let all_names = first.iter().enumerate().all(|(i, f)| {
        let f = f.trim();
        // An unnamed index column (pandas writes `,a,b`) is still a header.
        f.is_empty() && i == 0 || !f.is_empty() && !looks_like_number_or_date(f)
    });
    if !all_names {
        return false;
    }
    let mut seen = std::collections::HashSet::new();
    if first.iter().all(|f| seen.insert(f.trim())) {
        return true;
    }
    (0..first.len()).any(|col| {
        let typed = below
            .iter()
            .filter(|r| {
                r.get(col)
                    .is_some_and(|v| looks_like_number_or_date(v.trim()))
            })
            .count();
        typed > 0 && typed * 2 > below.len()
    })
}

/// The records after the first in the decoded head of a file (at most 20), without the last one
/// when the head does not end a line (it was cut short).
fn rows_below_first(head: &str, delim: u8) -> Vec<csv::StringRecord> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(head.as_bytes());
    let mut rows: Vec<csv::StringRecord> = rdr.records().take(22).map_while(Result::ok).collect();
    if !head.ends_with('\n') {
        rows.pop();
    }
    if !rows.is_empty() {
        rows.remove(0);
    }
    rows
}

fn looks_like_number_or_date(f: &str) -> bool {
    f.parse::<f64>().is_ok() || looks_like_date(f)
}

fn looks_like_date(f: &str) -> bool {
    crate::values::parse_time(f).is_some()
}

/// Unique, non-empty column names: empty ones become `column_N`, repeats get `_2`, `_3`.
pub(crate) fn clean_names(raw: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, n) in raw.into_iter().enumerate() {
        let n = n.trim().trim_start_matches('\u{feff}').to_string();
        let base = if n.is_empty() {
            format!("column_{}", i + 1)
        } else {
            n
        };
        let mut name = base.clone();
        let mut k = 2;
        while out.contains(&name) || name == shelf_core::ROW_ID {
            name = format!("{base}_{k}");
            k += 1;
        }
        out.push(name);
    }
    out
}

/// Streams one decoded CSV part into string batches.
pub(crate) struct CsvPart<'a> {
    pub name: &'a str,
    pub reader: Box<dyn Read + Send + 'a>,
    pub head: &'a str,
    pub opts: &'a ReadOptions,
    /// Column names fixed by an earlier part of the same table, if any.
    pub expected: Option<&'a [String]>,
}

pub(crate) fn read_csv(
    part: CsvPart<'_>,
    sink: &mut dyn FnMut(RecordBatch) -> ShelfResult<()>,
) -> ShelfResult<(SchemaRef, u8)> {
    let delim = part
        .opts
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(part.head));
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(part.reader);
    let max_field = part.opts.max_field_bytes();
    let name = part.name;
    let err_at = |line: u64, msg: String| ShelfError::input(name, Some(line), None, msg);
    let mut record = csv::StringRecord::new();
    let read = |rdr: &mut csv::Reader<_>, record: &mut csv::StringRecord| -> ShelfResult<bool> {
        rdr.read_record(record).map_err(|e| csv_error(name, e))
    };

    if !read(&mut rdr, &mut record)? {
        return Err(ShelfError::input(
            name,
            None,
            None,
            "the file is empty: it has no header and no rows; give a file with data",
        ));
    }
    let first_line = record.position().map_or(1, |p| p.line());
    let header = part
        .opts
        .header
        .unwrap_or_else(|| sniff_header(&record, &rows_below_first(part.head, delim)));
    let names: Vec<String> = if let Some(names) = &part.opts.column_names {
        if names.len() != record.len() {
            return Err(err_at(
                first_line,
                format!(
                    "expected {} columns ({}) but the row has {}; check the preset or the delimiter",
                    names.len(),
                    names.join(", "),
                    record.len()
                ),
            ));
        }
        names.clone()
    } else if header {
        clean_names(record.iter().map(str::to_string).collect())
    } else {
        (1..=record.len()).map(|i| format!("column_{i}")).collect()
    };
    if let Some(expected) = part.expected
        && expected != names.as_slice()
    {
        return Err(err_at(
            first_line,
            format!(
                "this part's columns ({}) differ from the first part's ({}); all files of one table must share a header",
                names.join(", "),
                expected.join(", ")
            ),
        ));
    }
    let schema: SchemaRef = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let ncols = names.len();
    let mut builders: Vec<StringBuilder> = (0..ncols).map(|_| StringBuilder::new()).collect();
    let mut rows = 0usize;
    let mut pending_first = !header;
    loop {
        if pending_first {
            pending_first = false;
        } else if !read(&mut rdr, &mut record)? {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) && ncols > 1 {
            continue; // a blank line between rows is not a row
        }
        if record.len() != ncols {
            let hint = if record.len() < ncols {
                "a field probably contains an unescaped quote or line break, or the delimiter is wrong"
            } else {
                "a field probably contains an unquoted delimiter, or the delimiter is wrong"
            };
            return Err(err_at(
                line,
                format!(
                    "row has {} fields but the header has {ncols} ({hint}); fix the row or pass --delimiter",
                    record.len()
                ),
            ));
        }
        for (i, (f, b)) in record.iter().zip(builders.iter_mut()).enumerate() {
            if f.len() > max_field {
                return Err(ShelfError::input(
                    name,
                    Some(line),
                    Some(names[i].clone()),
                    format!(
                        "field is {} bytes, over the {max_field}-byte limit (usually an unclosed quote swallowing the rest of the file); fix the quoting or raise max_field_bytes in shelf.toml",
                        f.len()
                    ),
                ));
            }
            if f.is_empty() {
                b.append_null()
            } else {
                b.append_value(f)
            }
        }
        rows += 1;
        if rows == BATCH_ROWS {
            sink(finish(&schema, &mut builders)?)?;
            rows = 0;
        }
    }
    if rows > 0 {
        sink(finish(&schema, &mut builders)?)?;
    }
    Ok((schema, delim))
}

fn finish(schema: &SchemaRef, builders: &mut [StringBuilder]) -> ShelfResult<RecordBatch> {
    let cols: Vec<ArrayRef> = builders
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    RecordBatch::try_new(schema.clone(), cols).map_err(|e| ShelfError::internal(e.to_string()))
}

fn csv_error(name: &str, e: csv::Error) -> ShelfError {
    let line = e.position().map(|p| p.line());
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => ShelfError::input(
            name,
            line,
            None,
            "bytes that are not valid UTF-8; the file is in another encoding: pass --encoding (e.g. latin-1, windows-1252, gbk, utf-16)",
        ),
        csv::ErrorKind::Io(io) => ShelfError::input(
            name,
            line,
            None,
            format!("read failed: {io} (a truncated or corrupt compressed file?)"),
        ),
        _ => ShelfError::input(name, line, None, format!("malformed CSV: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(text: &str) -> bool {
        let rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .into_records()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        sniff_header(&rows[0], &rows_below_first(text, b','))
    }

    #[test]
    fn distinct_names_are_a_header() {
        assert!(header_of("id,title,price\n1,Mug,3.5\n"));
        assert!(
            header_of(",title,price\n0,Mug,3.5\n"),
            "pandas' unnamed index column"
        );
    }

    #[test]
    fn a_row_with_a_number_or_date_is_data() {
        assert!(!header_of("1,Mug,3.5\n2,Cup,4\n"));
        assert!(!header_of("Mug,2024-01-02,x\nCup,2024-01-03,y\n"));
    }

    #[test]
    fn repeated_names_are_a_header_when_the_rows_below_are_typed() {
        assert!(header_of("id,price,price\nA1,3.5,4\nA2,3.0,4\n"));
        assert!(header_of("sku,when,when\nA1,2024-01-02,2024-01-03\n"));
    }

    #[test]
    fn all_text_rows_with_a_repeated_value_stay_data() {
        assert!(!header_of("red,red,shirt\nblue,green,hat\n"));
    }

    #[test]
    fn a_cut_last_line_is_not_read_as_a_row() {
        // The head ends mid-row: the cut row must not count as text below the header.
        assert!(header_of("id,price,price\nA1,3.5,4\nA2,3."));
        assert_eq!(rows_below_first("a,a\n1,2\n3,", b',').len(), 1);
    }
}
