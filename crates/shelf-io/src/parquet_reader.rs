//! Parquet input: native types kept (numbers stay numbers, timestamps stay timestamps), string
//! variants normalised to `Utf8` so every check sees one string type.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use shelf_core::{ShelfError, ShelfResult};

fn normalised(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::LargeUtf8 | DataType::Utf8View => Some(DataType::Utf8),
        DataType::Dictionary(_, v)
            if matches!(
                v.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            Some(DataType::Utf8)
        }
        DataType::Float16 | DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
            Some(DataType::Float64)
        }
        _ => None,
    }
}

pub(crate) fn read_parquet(
    name: &str,
    path: &Path,
    sink: &mut dyn FnMut(RecordBatch) -> ShelfResult<()>,
) -> ShelfResult<SchemaRef> {
    let bad = |e: parquet::errors::ParquetError| {
        ShelfError::input(
            name,
            None,
            None,
            format!(
                "not a readable Parquet file ({e}); the file is truncated or corrupt — re-export it"
            ),
        )
    };
    let file = File::open(path).map_err(|e| ShelfError::io(path, "cannot open", e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(bad)?;
    let in_schema = builder.schema().clone();
    let names = crate::csv_reader::clean_names(
        in_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    );
    let fields: Vec<Field> = in_schema
        .fields()
        .iter()
        .zip(&names)
        .map(|(f, n)| {
            Field::new(
                n,
                normalised(f.data_type()).unwrap_or_else(|| f.data_type().clone()),
                true,
            )
        })
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let reader = builder
        .with_batch_size(crate::csv_reader::BATCH_ROWS)
        .build()
        .map_err(bad)?;
    let mut row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| ShelfError::input(name, None, None, format!(
            "Parquet data near row {row} cannot be decoded ({e}); the file is truncated or corrupt — re-export it"
        )))?;
        row += batch.num_rows() as u64;
        let cols: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    cast(c, f.data_type())
                }
            })
            .collect::<Result<_, _>>()
            .map_err(|e| ShelfError::internal(format!("{name}: cast failed: {e}")))?;
        sink(
            RecordBatch::try_new(schema.clone(), cols)
                .map_err(|e| ShelfError::internal(e.to_string()))?,
        )?;
    }
    Ok(schema)
}
