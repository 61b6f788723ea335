//! Reading a probe's result columns into plain Rust values, for analyzers. A missing or
//! uncastable column is a bug in the probe's SQL (the check wrote it), so it is an internal
//! error naming the column.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt64Type};
use shelf_core::{ShelfError, ShelfResult};

fn column(
    b: &RecordBatch,
    name: &str,
    to: &DataType,
) -> ShelfResult<Option<arrow::array::ArrayRef>> {
    let Some(c) = b.column_by_name(name) else {
        return Ok(None);
    };
    cast(c, to)
        .map(Some)
        .map_err(|e| ShelfError::internal(format!("probe column {name}: {e}")))
}

fn required<T>(name: &str, v: Option<T>) -> ShelfResult<T> {
    v.ok_or_else(|| ShelfError::internal(format!("the probe returned no {name} column")))
}

/// A text column (any type, cast to text), `None` for nulls.
pub fn texts(b: &RecordBatch, name: &str) -> ShelfResult<Vec<Option<String>>> {
    required(name, optional_texts(b, name)?)
}

/// A text column the probe may leave out.
pub fn optional_texts(b: &RecordBatch, name: &str) -> ShelfResult<Option<Vec<Option<String>>>> {
    Ok(column(b, name, &DataType::Utf8)?.map(|c| {
        c.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }))
}

/// A non-null unsigned integer column (row ids).
pub fn u64s(b: &RecordBatch, name: &str) -> ShelfResult<Vec<u64>> {
    let c = required(name, column(b, name, &DataType::UInt64)?)?;
    if c.null_count() > 0 {
        return Err(ShelfError::internal(format!(
            "probe column {name} has nulls"
        )));
    }
    Ok(c.as_primitive::<UInt64Type>().values().to_vec())
}

/// A numeric column (any numeric type, cast to f64), `None` for nulls.
pub fn floats(b: &RecordBatch, name: &str) -> ShelfResult<Vec<Option<f64>>> {
    let c = required(name, column(b, name, &DataType::Float64)?)?;
    Ok(c.as_primitive::<arrow::datatypes::Float64Type>()
        .iter()
        .collect())
}
