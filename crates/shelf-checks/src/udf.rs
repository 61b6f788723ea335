//! shelf's scalar UDFs. Checks are SQL over role views; these functions carry what SQL does not
//! have: shop-format value parsing and text-quality kernels. A UDF crosses a Ballista cluster by
//! name only, so [`register_all`] is the one place that names them — a scheduler or executor
//! calls it too.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray, UInt64Array,
};
use arrow::buffer::BooleanBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float32Type, Float64Type, TimeUnit};
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::text;

/// What a UDF computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Text,
    Price,
    Number,
    Time,
    Label,
    IsBlank,
    NullLike,
    TestValue,
    PlaceholderTitle,
    Markup,
    Mojibake,
    Control,
    AllCaps,
    TokenRepeats,
    TextWidth,
    MixedScript,
    NormQuery,
    LooksNumeric,
    Cancellation,
    NonProduct,
    Hash,
    KeyHash,
    FunnelStep,
}

const ALL: &[(&str, Kind)] = &[
    ("shelf_all_caps", Kind::AllCaps),
    ("shelf_cancellation", Kind::Cancellation),
    ("shelf_control_chars", Kind::Control),
    ("shelf_event_kind", Kind::FunnelStep),
    ("shelf_hash", Kind::Hash),
    ("shelf_is_blank", Kind::IsBlank),
    ("shelf_key_hash", Kind::KeyHash),
    ("shelf_label", Kind::Label),
    ("shelf_looks_numeric", Kind::LooksNumeric),
    ("shelf_markup", Kind::Markup),
    ("shelf_mixed_scripts", Kind::MixedScript),
    ("shelf_mojibake", Kind::Mojibake),
    ("shelf_non_product", Kind::NonProduct),
    ("shelf_norm_query", Kind::NormQuery),
    ("shelf_null_like", Kind::NullLike),
    ("shelf_number", Kind::Number),
    ("shelf_placeholder_title", Kind::PlaceholderTitle),
    ("shelf_price", Kind::Price),
    ("shelf_test_value", Kind::TestValue),
    ("shelf_text", Kind::Text),
    ("shelf_time", Kind::Time),
    ("shelf_text_width", Kind::TextWidth),
    ("shelf_token_repeats", Kind::TokenRepeats),
];

/// Registers every shelf UDF in `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in all_udfs() {
        ctx.register_udf(udf);
    }
}

/// Every shelf UDF, sorted by name.
pub fn all_udfs() -> Vec<ScalarUDF> {
    ALL.iter()
        .map(|(name, kind)| ScalarUDF::new_from_impl(ShelfUdf::new(name, *kind)))
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ShelfUdf {
    name: &'static str,
    kind: Kind,
    signature: Signature,
}

impl ShelfUdf {
    fn new(name: &'static str, kind: Kind) -> Self {
        let signature = match kind {
            Kind::NonProduct | Kind::NullLike => Signature::any(2, Volatility::Immutable),
            Kind::Hash | Kind::KeyHash => Signature::variadic_any(Volatility::Immutable),
            _ => Signature::any(1, Volatility::Immutable),
        };
        Self {
            name,
            kind,
            signature,
        }
    }
}

impl ScalarUDFImpl for ShelfUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::Text | Kind::NormQuery | Kind::FunnelStep => DataType::Utf8,
            Kind::Price | Kind::Number | Kind::Label => DataType::Float64,
            Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::TokenRepeats | Kind::TextWidth => DataType::Int64,
            Kind::Hash | Kind::KeyHash => DataType::UInt64,
            _ => DataType::Boolean,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<_>>()?;
        let Some(first) = arrays.first() else {
            return exec_err!("{} needs an argument", self.name);
        };
        let out: ArrayRef = match self.kind {
            Kind::Text => Arc::new(to_text(first)?),
            Kind::NormQuery => Arc::new(map_text(first, |s| Some(text::normalize_query(s)))?),
            Kind::FunnelStep => Arc::new(map_text(first, |s| {
                text::event_kind(s).map(str::to_string)
            })?),
            Kind::Price => Arc::new(to_f64(first, shelf_io::values::parse_price)?),
            Kind::Number => Arc::new(to_f64(first, shelf_io::values::parse_number)?),
            Kind::Label => Arc::new(to_f64(first, parse_label)?),
            Kind::Time => Arc::new(to_time(first)?),
            Kind::TextWidth => {
                let t = to_text(first)?;
                Arc::new(
                    t.iter()
                        .map(|v| v.map(|s| text::width(s.trim()) as i64))
                        .collect::<Int64Array>(),
                )
            }
            Kind::TokenRepeats => {
                let t = to_text(first)?;
                Arc::new(
                    t.iter()
                        .map(|v| Some(v.map_or(0, |s| text::max_token_repeats(s) as i64)))
                        .collect::<Int64Array>(),
                )
            }
            Kind::IsBlank => {
                let t = to_text(first)?;
                let bits = BooleanBuffer::collect_bool(n, |i| {
                    !t.is_valid(i) || text::is_blank(t.value(i))
                });
                Arc::new(BooleanArray::new(bits, None))
            }
            Kind::NullLike => {
                let extra: Vec<String> = arrays
                    .get(1)
                    .and_then(|a| to_text(a).ok())
                    .and_then(|a| (!a.is_empty() && a.is_valid(0)).then(|| a.value(0).to_string()))
                    .map(|s| {
                        s.split('|')
                            .filter(|t| !t.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                bool_of(first, |s| text::is_null_like(s, &extra))?
            }
            Kind::TestValue => bool_of(first, text::is_test_value)?,
            Kind::PlaceholderTitle => bool_of(first, text::is_placeholder_title)?,
            Kind::Markup => bool_of(first, text::has_markup)?,
            Kind::Mojibake => bool_of(first, text::has_mojibake)?,
            Kind::Control => bool_of(first, text::has_control_chars)?,
            Kind::AllCaps => bool_of(first, text::is_all_caps)?,
            Kind::MixedScript => bool_of(first, text::has_mixed_script_word)?,
            Kind::LooksNumeric => bool_of(first, text::looks_numeric)?,
            Kind::Cancellation => bool_of(first, text::is_cancellation_marker)?,
            Kind::NonProduct => {
                let ids = to_text(first)?;
                let titles = match arrays.get(1) {
                    Some(a) => to_text(a)?,
                    None => StringArray::new_null(n),
                };
                Arc::new(
                    ids.iter()
                        .zip(titles.iter())
                        .map(|(i, t)| {
                            Some((i.is_some() || t.is_some()) && text::is_non_product(i, t))
                        })
                        .collect::<BooleanArray>(),
                )
            }
            Kind::KeyHash => {
                // Typed values hashed as they are (no text conversion): a prefilter whose
                // equal keys always hash equal. Collisions only add candidates; the query
                // that uses it compares the real values afterwards.
                let mut hashes = vec![0u64; n];
                create_hashes(&arrays, &RandomState::with_seed(0x5e1f), &mut hashes)?;
                Arc::new(UInt64Array::from(hashes))
            }
            Kind::Hash => {
                let texts: Vec<StringArray> = arrays.iter().map(to_text).collect::<Result<_>>()?;
                Arc::new(
                    (0..n)
                        .map(|i| {
                            let mut h = std::collections::hash_map::DefaultHasher::new();
                            for t in &texts {
                                if t.is_valid(i) {
                                    (1u8, t.value(i)).hash(&mut h);
                                } else {
                                    0u8.hash(&mut h);
                                }
                            }
                            Some(h.finish())
                        })
                        .collect::<UInt64Array>(),
                )
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Any array as text: strings as they are, integral floats without `.0` (ids exported from
/// pandas as `17850.0`), NaN as `NaN`, everything else through Arrow's cast.
pub fn to_text(a: &ArrayRef) -> Result<StringArray> {
    match a.data_type() {
        DataType::Utf8 => Ok(a.as_string::<i32>().clone()),
        DataType::Float64 => Ok(floats_to_text(a.as_primitive::<Float64Type>().iter())),
        DataType::Float32 => Ok(floats_to_text(
            a.as_primitive::<Float32Type>()
                .iter()
                .map(|v| v.map(f64::from)),
        )),
        DataType::Null => Ok(StringArray::new_null(a.len())),
        DataType::Timestamp(_, None) => {
            let c = cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let micros = c.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            // Whole seconds (almost every log) are written directly in the form Arrow's cast
            // writes; anything else goes through the cast itself.
            if micros.iter().flatten().all(|m| m % 1_000_000 == 0) {
                let mut b = arrow::array::StringBuilder::new();
                let mut buf = [0u8; 19];
                for m in micros {
                    match m.and_then(|m| iso_seconds(m / 1_000_000, &mut buf)) {
                        Some(s) => b.append_value(s),
                        None => return Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()),
                    }
                }
                return Ok(b.finish());
            }
            Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
        }
        _ => Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()),
    }
}

/// `YYYY-MM-DDTHH:MM:SS` for unix seconds, as Arrow's cast of a whole-second timestamp writes
/// it, in `buf`; `None` outside years 0–9999.
fn iso_seconds(secs: i64, buf: &mut [u8; 19]) -> Option<&str> {
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = shelf_core::calendar::civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut put = |at: usize, v: i64, width: usize| {
        let mut v = v;
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, rem / 3600, 2);
    put(14, rem / 60 % 60, 2);
    put(17, rem % 60, 2);
    (buf[4], buf[7], buf[10], buf[13], buf[16]) = (b'-', b'-', b'T', b':', b':');
    std::str::from_utf8(buf).ok()
}

fn floats_to_text(it: impl Iterator<Item = Option<f64>>) -> StringArray {
    use std::fmt::Write;
    // Written straight into the array's buffer: one allocation per batch, not per value.
    let mut b = arrow::array::StringBuilder::new();
    for v in it {
        match v {
            None => b.append_null(),
            Some(f) => {
                let _ = if f.is_nan() {
                    b.write_str("NaN")
                } else if f.fract() == 0.0 && f.abs() < 1e15 {
                    b.write_str(itoa::Buffer::new().format(f as i64))
                } else {
                    write!(b, "{f}")
                };
                b.append_value("");
            }
        }
    }
    b.finish()
}

fn map_text(a: &ArrayRef, f: impl Fn(&str) -> Option<String>) -> Result<StringArray> {
    Ok(to_text(a)?.iter().map(|v| v.and_then(&f)).collect())
}

fn bool_of(a: &ArrayRef, f: impl Fn(&str) -> bool) -> Result<ArrayRef> {
    let t = to_text(a)?;
    // Null in, false out: the result has no null buffer.
    let bits = BooleanBuffer::collect_bool(t.len(), |i| t.is_valid(i) && f(t.value(i)));
    Ok(Arc::new(BooleanArray::new(bits, None)))
}

fn to_f64(a: &ArrayRef, parse: fn(&str) -> Option<f64>) -> Result<Float64Array> {
    match a.data_type() {
        DataType::Float64 => Ok(a
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.filter(|f| f.is_finite()))
            .collect()),
        dt if dt.is_numeric() => Ok(cast(a, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.filter(|f| f.is_finite()))
            .collect()),
        DataType::Boolean => Ok(cast(a, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .clone()),
        _ => Ok(to_text(a)?.iter().map(|v| v.and_then(parse)).collect()),
    }
}

fn to_time(a: &ArrayRef) -> Result<TimestampMicrosecondArray> {
    match a.data_type() {
        DataType::Timestamp(_, tz) => {
            let c = cast(a, &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))?;
            let p = c.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            Ok(p.iter().collect())
        }
        DataType::Date32 | DataType::Date64 => {
            let c = cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            Ok(
                c.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                    .clone(),
            )
        }
        dt if dt.is_numeric() => {
            let f = cast(a, &DataType::Float64)?;
            Ok(f.as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.and_then(|x| shelf_io::values::parse_time(&format!("{}", x as i64))))
                .collect())
        }
        _ => Ok(to_text(a)?
            .iter()
            .map(|v| v.and_then(shelf_io::values::parse_time))
            .collect()),
    }
}

/// Relevance labels: numbers, or ESCI letters / words (Exact 3, Substitute 2, Complement 1,
/// Irrelevant 0).
pub fn parse_label(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "e" | "exact" => Some(3.0),
        "s" | "substitute" => Some(2.0),
        "c" | "complement" => Some(1.0),
        "i" | "irrelevant" => Some(0.0),
        _ => shelf_io::values::parse_number(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Float64Array;

    #[test]
    fn whole_second_timestamps_read_as_arrow_writes_them() {
        // From year 1 to 9999, including leap days and the epoch.
        let secs: Vec<i64> = (-62_135_596_800i64..253_402_300_799)
            .step_by(9_876_543_211)
            .chain([0, 951_782_400, 1_291_195_560, -1])
            .collect();
        let a: ArrayRef = Arc::new(TimestampMicrosecondArray::from(
            secs.iter().map(|s| s * 1_000_000).collect::<Vec<_>>(),
        ));
        let ours = to_text(&a).unwrap();
        let arrows = cast(&a, &DataType::Utf8).unwrap();
        assert_eq!(&ours, arrows.as_string::<i32>());
    }

    #[test]
    fn floats_read_without_a_trailing_zero() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(17850.0),
            Some(2.55),
            None,
            Some(f64::NAN),
            Some(-3.0),
        ]));
        let t = to_text(&a).unwrap();
        let got: Vec<Option<&str>> = t.iter().collect();
        assert_eq!(
            got,
            [Some("17850"), Some("2.55"), None, Some("NaN"), Some("-3")]
        );
    }
}
