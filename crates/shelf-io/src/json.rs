//! JSON and JSONL, streamed: a top-level array is split element by element without holding the
//! file; every record is flattened to text columns (nested objects as `a.b`, arrays of scalars
//! joined with `|`, one nested array of objects exploded into one row per element — the shape
//! of relevance files such as `{"query": q, "ratings": [{"docId": d, "rating": r}, …]}`).

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};
use shelf_core::{ShelfError, ShelfResult};

/// One flattened record: (column, text value or None for null), in key order.
pub type Record = Vec<(String, Option<String>)>;

/// Calls `f` for every flattened record of a JSON or JSONL stream, in file order.
pub fn for_each_record(
    name: &str,
    reader: Box<dyn Read + Send + '_>,
    jsonl: bool,
    f: &mut dyn FnMut(Record) -> ShelfResult<()>,
) -> ShelfResult<()> {
    let mut emit = |v: Value, line: u64| -> ShelfResult<()> {
        match v {
            Value::Object(map) => {
                for rec in flatten_record(map) {
                    f(rec)?;
                }
                Ok(())
            }
            other => Err(ShelfError::input(
                name,
                Some(line),
                None,
                format!(
                    "expected a JSON object per record, found {}; give an array of objects or one object per line",
                    kind(&other)
                ),
            )),
        }
    };
    let mut r = BufReader::with_capacity(1 << 16, reader);
    if jsonl {
        let mut line = String::new();
        let mut no = 0u64;
        loop {
            line.clear();
            let n = r
                .read_line(&mut line)
                .map_err(|e| read_err(name, no + 1, e))?;
            if n == 0 {
                break;
            }
            no += 1;
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(t).map_err(|e| {
                ShelfError::input(
                    name,
                    Some(no),
                    Some(format!("{}", e.column())),
                    format!("invalid JSON: {e}; each line must be one JSON object"),
                )
            })?;
            emit(v, no)?;
        }
        return Ok(());
    }
    // A JSON document: either an array of records, or an object holding one.
    let first = skip_ws(&mut r, name)?;
    match first {
        Some(b'[') => split_array(name, &mut r, &mut emit),
        Some(b'{') => {
            let mut buf = vec![b'{'];
            r.read_to_end(&mut buf).map_err(|e| read_err(name, 1, e))?;
            let v: Value = serde_json::from_slice(&buf).map_err(|e| {
                ShelfError::input(
                    name,
                    Some(e.line() as u64),
                    Some(e.column().to_string()),
                    format!("invalid JSON: {e}"),
                )
            })?;
            let Value::Object(map) = v else {
                return unreachable_object(name).map(|_| ());
            };
            // The records are the longest array of objects at the top level; without one, the
            // object itself is the only record.
            let records = map
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::Array(a) if a.iter().any(Value::is_object) => Some((k.clone(), a.len())),
                    _ => None,
                })
                .max_by_key(|(_, n)| *n)
                .map(|(k, _)| k);
            match records {
                Some(key) => {
                    let Some(Value::Array(items)) = map.get(&key).cloned() else {
                        return Ok(());
                    };
                    for item in items {
                        emit(item, 1)?;
                    }
                    Ok(())
                }
                None => emit(Value::Object(map), 1),
            }
        }
        None => Err(ShelfError::input(
            name,
            None,
            None,
            "the file is empty; give a file with data",
        )),
        Some(b) => Err(ShelfError::input(
            name,
            Some(1),
            None,
            format!(
                "a JSON file must start with [ or {{, found {:?}; if this is CSV, name it .csv or pass --format csv",
                b as char
            ),
        )),
    }
}

fn unreachable_object(name: &str) -> ShelfResult<Map<String, Value>> {
    Err(ShelfError::internal(format!(
        "{name}: parsed object is not an object"
    )))
}

fn read_err(name: &str, line: u64, e: std::io::Error) -> ShelfError {
    ShelfError::input(
        name,
        Some(line),
        None,
        format!("read failed: {e} (a truncated or corrupt file?)"),
    )
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn skip_ws(r: &mut impl BufRead, name: &str) -> ShelfResult<Option<u8>> {
    loop {
        let buf = r.fill_buf().map_err(|e| read_err(name, 1, e))?;
        if buf.is_empty() {
            return Ok(None);
        }
        // Skip a UTF-8 BOM and whitespace.
        let skip = buf
            .iter()
            .take_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF)
            .count();
        if skip < buf.len() {
            let b = buf[skip];
            r.consume(skip + 1);
            return Ok(Some(b));
        }
        let n = buf.len();
        r.consume(n);
    }
}

/// Splits the elements of a top-level array (the `[` already consumed) and parses each one.
fn split_array(
    name: &str,
    r: &mut impl BufRead,
    emit: &mut dyn FnMut(Value, u64) -> ShelfResult<()>,
) -> ShelfResult<()> {
    let mut elem: Vec<u8> = Vec::new();
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let mut line = 1u64;
    let mut elem_line = 1u64;
    let mut closed = false;
    let mut byte = [0u8; 1];
    loop {
        let n = r.read(&mut byte).map_err(|e| read_err(name, line, e))?;
        if n == 0 {
            break;
        }
        let b = byte[0];
        if b == b'\n' {
            line += 1;
        }
        if in_str {
            elem.push(b);
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                elem.push(b);
            }
            b'{' | b'[' => {
                if elem.iter().all(u8::is_ascii_whitespace) {
                    elem_line = line;
                }
                depth += 1;
                elem.push(b);
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                elem.push(b);
            }
            b']' => {
                closed = true;
                flush(name, &mut elem, elem_line, emit)?;
                break;
            }
            b',' if depth == 0 => flush(name, &mut elem, elem_line, emit)?,
            _ => elem.push(b),
        }
    }
    if !closed {
        return Err(ShelfError::input(
            name,
            Some(line),
            None,
            "the JSON array is not closed: the file is truncated or malformed; re-export it",
        ));
    }
    Ok(())
}

fn flush(
    name: &str,
    elem: &mut Vec<u8>,
    line: u64,
    emit: &mut dyn FnMut(Value, u64) -> ShelfResult<()>,
) -> ShelfResult<()> {
    if elem.iter().all(u8::is_ascii_whitespace) {
        elem.clear();
        return Ok(());
    }
    let v: Value = serde_json::from_slice(elem).map_err(|e| {
        ShelfError::input(
            name,
            Some(line + e.line() as u64 - 1),
            Some(e.column().to_string()),
            format!("invalid JSON: {e}"),
        )
    })?;
    elem.clear();
    emit(v, line)
}

/// Flattens one object into records (more than one when a nested array of objects is exploded).
pub fn flatten_record(map: Map<String, Value>) -> Vec<Record> {
    let mut base: Record = Vec::new();
    let mut explode: Option<(String, Vec<Value>)> = None;
    for (k, v) in map {
        match v {
            Value::Array(items)
                if explode.is_none() && !items.is_empty() && items.iter().all(Value::is_object) =>
            {
                explode = Some((k, items));
            }
            other => flatten_value(&k, other, &mut base),
        }
    }
    match explode {
        None => vec![base],
        Some((key, items)) => items
            .into_iter()
            .map(|item| {
                let mut rec = base.clone();
                if let Value::Object(inner) = item {
                    for (k, v) in inner {
                        let col = if rec.iter().any(|(c, _)| *c == k) {
                            format!("{key}.{k}")
                        } else {
                            k
                        };
                        flatten_value(&col, v, &mut rec);
                    }
                }
                rec
            })
            .collect(),
    }
}

fn flatten_value(key: &str, v: Value, out: &mut Record) {
    match v {
        Value::Null => out.push((key.to_string(), None)),
        Value::String(s) => out.push((key.to_string(), Some(s))),
        Value::Bool(b) => out.push((key.to_string(), Some(b.to_string()))),
        Value::Number(n) => out.push((key.to_string(), Some(n.to_string()))),
        Value::Object(m) => {
            for (k, v) in m {
                flatten_value(&format!("{key}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                let parts: Vec<String> = items
                    .into_iter()
                    .filter(|i| !i.is_null())
                    .map(|i| match i {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect();
                out.push((
                    key.to_string(),
                    if parts.is_empty() {
                        None
                    } else {
                        Some(parts.join("|"))
                    },
                ));
            } else {
                out.push((key.to_string(), Some(Value::Array(items).to_string())));
            }
        }
    }
}
