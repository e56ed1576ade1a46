//! The values generators produce and statements return, how they are written as COPY text
//! and how they are bound to a prepared statement's parameters.
//!
//! Binding follows the parameter type the server inferred at prepare time: integers, floats,
//! booleans and text go in binary; every other type (numeric, timestamps, dates, json,
//! uuid, vector, arrays, ...) goes in text format and the server parses it, exactly as
//! COPY would. A value that cannot fit its parameter (a float into an integer, text into
//! a boolean, an integer out of `int4` range) fails the transaction with a message naming
//! both types.

use std::error::Error;

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{Format, FromSql, IsNull, ToSql, Type};

/// A generated or returned value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Text; also the text form of timestamps, dates, JSON and arrays.
    Text(String),
    /// A pgvector `vector`: bound in binary to a `vector` parameter, as its text form
    /// (`[1,2,3]`) to any other type and in COPY.
    Vector(std::sync::Arc<[f32]>),
    /// A returned value of a type bound only to a parameter of the same type, as received.
    Raw(Type, Vec<u8>),
    /// A value that could not be made at run time (a RETURNING column that does not
    /// exist, a sequence past the bigint range); binding it fails with this message.
    Missing(&'static str),
}

type BoxError = Box<dyn Error + Sync + Send>;

/// Types bound in binary by [`Value`]; all others go in text format.
fn binary_type(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::INT2
            | Type::INT4
            | Type::INT8
            | Type::FLOAT4
            | Type::FLOAT8
            | Type::BOOL
            | Type::TEXT
            | Type::VARCHAR
            | Type::BPCHAR
            | Type::NAME
    )
}

fn is_int(ty: &Type) -> bool {
    matches!(*ty, Type::INT2 | Type::INT4 | Type::INT8)
}

fn is_float(ty: &Type) -> bool {
    matches!(*ty, Type::FLOAT4 | Type::FLOAT8)
}

impl Value {
    /// A short name of the value's kind, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "boolean",
            Value::Text(_) => "text",
            Value::Vector(_) => "vector",
            Value::Raw(..) => "returned value",
            Value::Missing(_) => "missing value",
        }
    }

    /// Appends the value in COPY text format (NULL as `\N`, text escaped).
    pub(crate) fn write_copy(&self, buf: &mut BytesMut) {
        match self {
            Value::Null | Value::Missing(_) | Value::Raw(..) => buf.put_slice(b"\\N"),
            Value::Int(v) => buf.put_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Value::Float(v) => write_float(*v, buf),
            Value::Bool(b) => buf.put_u8(if *b { b't' } else { b'f' }),
            Value::Text(s) => escape_copy(s, buf),
            Value::Vector(v) => write_vector_text(v, buf),
        }
    }

    fn write_text(&self, out: &mut BytesMut) -> Result<(), BoxError> {
        match self {
            Value::Int(v) => out.put_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Value::Float(v) => write_float(*v, out),
            Value::Bool(b) => out.put_slice(if *b { b"true" } else { b"false" }),
            Value::Text(s) => out.put_slice(s.as_bytes()),
            Value::Vector(v) => write_vector_text(v, out),
            Value::Null | Value::Raw(..) | Value::Missing(_) => {
                return Err("internal: no text form".into())
            }
        }
        Ok(())
    }
}

impl Value {
    /// Appends the value's text as a `template` or a `pick` key sees it: numbers as
    /// written in COPY, booleans as `true`/`false`, a vector as `[1,2,3]`, NULL as
    /// nothing.
    pub(crate) fn push_text(&self, s: &mut String) {
        match self {
            Value::Null | Value::Raw(..) | Value::Missing(_) => {}
            Value::Int(v) => s.push_str(itoa::Buffer::new().format(*v)),
            Value::Float(v) => {
                let mut b = BytesMut::new();
                write_float(*v, &mut b);
                s.push_str(std::str::from_utf8(&b).unwrap_or_default());
            }
            Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            Value::Text(t) => s.push_str(t),
            Value::Vector(v) => {
                s.push('[');
                let mut f = ryu::Buffer::new();
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(f.format(*x));
                }
                s.push(']');
            }
        }
    }
}

/// `[x1,x2,...]`, each float in its shortest exact form.
fn write_vector_text(v: &[f32], buf: &mut BytesMut) {
    let mut f = ryu::Buffer::new();
    buf.put_u8(b'[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            buf.put_u8(b',');
        }
        buf.put_slice(f.format(*x).as_bytes());
    }
    buf.put_u8(b']');
}

/// Whether `ty` is pgvector's `vector` (an extension type: known by name).
fn is_vector(ty: &Type) -> bool {
    ty.name() == "vector"
}

fn write_float(v: f64, buf: &mut BytesMut) {
    use std::fmt::Write as _;
    if v.is_finite() {
        let mut s = String::with_capacity(24);
        let _ = write!(s, "{v}");
        buf.put_slice(s.as_bytes());
    } else if v.is_nan() {
        buf.put_slice(b"NaN");
    } else if v > 0.0 {
        buf.put_slice(b"Infinity");
    } else {
        buf.put_slice(b"-Infinity");
    }
}

/// Appends `s` escaped for COPY text format.
pub(crate) fn escape_copy(s: &str, buf: &mut BytesMut) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        buf.put_slice(&bytes[start..i]);
        buf.put_slice(esc);
        start = i + 1;
    }
    buf.put_slice(&bytes[start..]);
}

fn mismatch(v: &Value, ty: &Type) -> BoxError {
    format!(
        "{} value cannot be bound to a parameter of type {}; use a matching generator or cast the parameter in SQL (e.g. $1::text)",
        v.kind(),
        ty.name()
    )
    .into()
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => return Ok(IsNull::Yes),
            Value::Missing(msg) => return Err((*msg).into()),
            Value::Raw(t, bytes) => {
                if t != ty {
                    return Err(format!(
                        "a returned {} value cannot be bound to a parameter of type {}; cast one of them in SQL",
                        t.name(),
                        ty.name()
                    )
                    .into());
                }
                out.put_slice(bytes);
            }
            Value::Int(v) => match *ty {
                Type::INT8 => out.put_i64(*v),
                Type::INT4 => out.put_i32(i32::try_from(*v).map_err(|_| range(*v, ty))?),
                Type::INT2 => out.put_i16(i16::try_from(*v).map_err(|_| range(*v, ty))?),
                Type::FLOAT8 => out.put_f64(*v as f64),
                Type::FLOAT4 => out.put_f32(*v as f32),
                Type::BOOL => return Err(mismatch(self, ty)),
                _ => self.write_text(out)?,
            },
            Value::Float(v) => match *ty {
                Type::FLOAT8 => out.put_f64(*v),
                Type::FLOAT4 => out.put_f32(*v as f32),
                _ if is_int(ty) || *ty == Type::BOOL => return Err(mismatch(self, ty)),
                _ => self.write_text(out)?,
            },
            Value::Bool(b) => match *ty {
                Type::BOOL => out.put_u8(u8::from(*b)),
                _ if is_int(ty) || is_float(ty) => return Err(mismatch(self, ty)),
                _ => self.write_text(out)?,
            },
            Value::Text(_) => {
                if is_int(ty) || is_float(ty) || *ty == Type::BOOL {
                    return Err(mismatch(self, ty));
                }
                self.write_text(out)?
            }
            Value::Vector(v) if is_vector(ty) => {
                // pgvector's binary form: dimensions, an unused int16, the floats
                let dims = i16::try_from(v.len()).map_err(|_| {
                    format!(
                        "a vector of {} dimensions is beyond pgvector's limit",
                        v.len()
                    )
                })?;
                out.reserve(4 + 4 * v.len());
                out.put_i16(dims);
                out.put_i16(0);
                for x in v.iter() {
                    out.put_f32(*x);
                }
            }
            Value::Vector(_) => {
                if is_int(ty) || is_float(ty) || *ty == Type::BOOL {
                    return Err(mismatch(self, ty));
                }
                self.write_text(out)?
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        if matches!(self, Value::Raw(..))
            || binary_type(ty)
            || (matches!(self, Value::Vector(_)) && is_vector(ty))
        {
            Format::Binary
        } else {
            Format::Text
        }
    }

    tokio_postgres::types::to_sql_checked!();
}

fn range(v: i64, ty: &Type) -> BoxError {
    format!(
        "{v} is out of range for a parameter of type {}; narrow the generator's range or widen the column",
        ty.name()
    )
    .into()
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)? as i64),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)? as i64),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Float(f32::from_sql(ty, raw)? as f64),
            Type::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
            Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => Value::Raw(ty.clone(), raw.to_vec()),
        })
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// What kind of value a generator produces, known before any draw: used to check a
/// generator against the parameter type the server inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutKind {
    /// Integers.
    Int,
    /// Floats.
    Float,
    /// Booleans.
    Bool,
    /// Plain text (names, choices of strings, ...).
    Text,
    /// Text that only a matching type parses (timestamp, date, json, vector, array, uuid).
    Typed(&'static str),
    /// Unknown until run time (a returned value, NULL).
    Any,
}

impl OutKind {
    /// Why a value of this kind cannot be bound to `ty`, or `None` when it can.
    pub(crate) fn incompatible(&self, ty: &Type) -> Option<String> {
        let bad = match self {
            OutKind::Int => *ty == Type::BOOL,
            OutKind::Float => is_int(ty) || *ty == Type::BOOL,
            OutKind::Bool => is_int(ty) || is_float(ty),
            OutKind::Text | OutKind::Typed(_) => is_int(ty) || is_float(ty) || *ty == Type::BOOL,
            OutKind::Any => false,
        };
        bad.then(|| {
            format!(
                "the {} generator cannot be bound to a parameter of type {}; use a matching generator or cast the parameter in SQL",
                self.name(),
                ty.name()
            )
        })
    }

    /// A short name, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            OutKind::Int => "integer",
            OutKind::Float => "float",
            OutKind::Bool => "boolean",
            OutKind::Text => "text",
            OutKind::Typed(t) => t,
            OutKind::Any => "value",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(v: &Value, ty: &Type) -> Result<Vec<u8>, String> {
        let mut b = BytesMut::new();
        v.to_sql_checked(ty, &mut b).map_err(|e| e.to_string())?;
        Ok(b.to_vec())
    }

    #[test]
    fn integers_follow_the_parameter_type() {
        assert_eq!(
            bind(&Value::Int(7), &Type::INT4).unwrap(),
            7i32.to_be_bytes()
        );
        assert_eq!(
            bind(&Value::Int(7), &Type::INT8).unwrap(),
            7i64.to_be_bytes()
        );
        assert_eq!(bind(&Value::Int(7), &Type::NUMERIC).unwrap(), b"7");
        assert!(matches!(
            Value::Int(7).encode_format(&Type::NUMERIC),
            Format::Text
        ));
        assert!(bind(&Value::Int(1 << 40), &Type::INT4)
            .unwrap_err()
            .contains("out of range"));
        assert!(bind(&Value::Float(1.5), &Type::INT8)
            .unwrap_err()
            .contains("float value cannot be bound to a parameter of type int8"));
    }

    #[test]
    fn text_goes_in_text_format_for_other_types() {
        let v = Value::Text("2024-01-02 03:04:05+00".into());
        assert!(matches!(v.encode_format(&Type::TIMESTAMPTZ), Format::Text));
        assert!(matches!(v.encode_format(&Type::TEXT), Format::Binary));
        assert!(bind(&v, &Type::BOOL).is_err());
    }

    #[test]
    fn copy_text_is_escaped() {
        let mut b = BytesMut::new();
        Value::Text("a\tb\\c\nd".into()).write_copy(&mut b);
        assert_eq!(&b[..], b"a\\tb\\\\c\\nd");
        b.clear();
        Value::Null.write_copy(&mut b);
        assert_eq!(&b[..], b"\\N");
    }

    #[test]
    fn vectors_bind_in_binary_to_vector_and_as_text_elsewhere() {
        let v = Value::Vector(vec![1.0f32, -0.5, 0.25].into());
        let vector = Type::new(
            "vector".into(),
            16_385,
            tokio_postgres::types::Kind::Simple,
            "public".into(),
        );
        assert!(matches!(v.encode_format(&vector), Format::Binary));
        let b = bind(&v, &vector).unwrap();
        let mut want = vec![0u8, 3, 0, 0];
        for x in [1.0f32, -0.5, 0.25] {
            want.extend_from_slice(&x.to_be_bytes());
        }
        assert_eq!(b, want);
        assert!(matches!(v.encode_format(&Type::TEXT), Format::Binary));
        assert!(matches!(v.encode_format(&Type::UNKNOWN), Format::Text));
        assert_eq!(bind(&v, &Type::UNKNOWN).unwrap(), b"[1.0,-0.5,0.25]");
        let mut c = BytesMut::new();
        v.write_copy(&mut c);
        assert_eq!(&c[..], b"[1.0,-0.5,0.25]");
        assert!(bind(&v, &Type::INT4).is_err());
    }

    #[test]
    fn kinds_are_checked_against_parameter_types() {
        assert!(OutKind::Float.incompatible(&Type::INT4).is_some());
        assert!(OutKind::Int.incompatible(&Type::NUMERIC).is_none());
        assert!(OutKind::Typed("json").incompatible(&Type::JSONB).is_none());
        assert!(OutKind::Text.incompatible(&Type::INT8).is_some());
    }
}
