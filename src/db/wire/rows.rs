//! Result rows: the DataRow bytes of one result, kept in buffers that are reused from
//! one statement to the next, and typed access to their binary values.

use std::fmt;
use std::ops::Range;

use tokio_postgres::types::{FromSql, Type};

use super::error::{ErrorKind, WireError};

/// The rows of one result (binary format), with their column types. Reuse one `Rows`
/// across statements ([`super::WireConn::query_into`]): its buffers grow to the largest
/// result and stay, so reading rows allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Rows {
    /// Every value of every row, back to back.
    data: Vec<u8>,
    /// Per cell (row-major), its bytes in `data`, or `None` for NULL.
    cells: Vec<Option<Range<u32>>>,
    types: Vec<Type>,
    rows: usize,
    tag_rows: u64,
}

impl Rows {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The count in the command tag (rows affected or returned).
    #[inline]
    pub fn tag_rows(&self) -> u64 {
        self.tag_rows
    }

    /// The result's column types.
    #[inline]
    pub fn columns(&self) -> &[Type] {
        &self.types
    }

    /// The value at `row`, `col`; panics when out of range, of another type or NULL into
    /// a non-`Option` (see [`Rows::try_get`]).
    #[inline]
    pub fn get<'a, T: FromSql<'a>>(&'a self, row: usize, col: usize) -> T {
        match self.try_get(row, col) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// The value at `row`, `col` decoded as `T` (`Option<T>` for a NULL-able column).
    pub fn try_get<'a, T: FromSql<'a>>(&'a self, row: usize, col: usize) -> Result<T, WireError> {
        let ncols = self.types.len();
        if row >= self.rows || col >= ncols {
            return Err(decode(format!(
                "no value at row {row}, column {col}: the result has {} rows of {ncols} columns",
                self.rows
            )));
        }
        let ty = &self.types[col];
        if !T::accepts(ty) {
            return Err(decode(format!(
                "column {col} is {ty}, which {} cannot hold",
                std::any::type_name::<T>()
            )));
        }
        let raw = self.cells[row * ncols + col]
            .clone()
            .map(|r| &self.data[r.start as usize..r.end as usize]);
        T::from_sql_nullable(ty, raw)
            .map_err(|e| decode(format!("cannot decode column {col} ({ty}): {e}")))
    }

    /// Starts a new result of `types`.
    pub(super) fn reset(&mut self, types: &[Type]) {
        self.data.clear();
        self.cells.clear();
        self.types.clear();
        self.types.extend_from_slice(types);
        self.rows = 0;
        self.tag_rows = 0;
    }

    pub(super) fn set_tag_rows(&mut self, n: u64) {
        self.tag_rows = n;
    }

    /// Appends a DataRow body (after the 4-byte length): column count, then each value as
    /// a length (-1 for NULL) and its bytes.
    pub(super) fn push(&mut self, body: &[u8]) -> Result<(), WireError> {
        let bad = || WireError::protocol("malformed data row");
        let n = u16::from_be_bytes(body.get(..2).ok_or_else(bad)?.try_into().unwrap()) as usize;
        if n != self.types.len() {
            return Err(WireError::protocol(
                "a data row's column count differs from the statement's",
            ));
        }
        let mut at = 2;
        for _ in 0..n {
            let len = i32::from_be_bytes(body.get(at..at + 4).ok_or_else(bad)?.try_into().unwrap());
            at += 4;
            if len < 0 {
                self.cells.push(None);
                continue;
            }
            let v = body.get(at..at + len as usize).ok_or_else(bad)?;
            at += len as usize;
            let start = self.data.len() as u32;
            self.data.extend_from_slice(v);
            self.cells.push(Some(start..self.data.len() as u32));
        }
        self.rows += 1;
        Ok(())
    }
}

fn decode(m: String) -> WireError {
    WireError::new(ErrorKind::Decode(m))
}

/// A NUMERIC value as the server sent it (binary), read without loss as text or
/// approximately as `f64`. It borrows the row's bytes.
#[derive(Clone, Copy)]
pub struct Numeric<'a> {
    sign: u16,
    weight: i16,
    dscale: u16,
    digits: &'a [u8],
}

const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

impl Numeric<'_> {
    fn digit(&self, i: usize) -> i64 {
        match self.digits.get(2 * i..2 * i + 2) {
            Some(d) => i64::from(i16::from_be_bytes([d[0], d[1]])),
            None => 0,
        }
    }

    fn ndigits(&self) -> usize {
        self.digits.len() / 2
    }

    /// The value as `f64` (NaN and the infinities as such).
    pub fn to_f64(&self) -> f64 {
        match self.sign {
            NUMERIC_NAN => return f64::NAN,
            NUMERIC_PINF => return f64::INFINITY,
            NUMERIC_NINF => return f64::NEG_INFINITY,
            _ => {}
        }
        let mut v = 0.0f64;
        for i in 0..self.ndigits() {
            v += self.digit(i) as f64 * 10000f64.powi(i32::from(self.weight) - i as i32);
        }
        if self.sign == NUMERIC_NEG {
            -v
        } else {
            v
        }
    }
}

impl fmt::Display for Numeric<'_> {
    /// As PostgreSQL prints it (`-12.50` for a `numeric(6,2)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sign {
            NUMERIC_NAN => return f.write_str("NaN"),
            NUMERIC_PINF => return f.write_str("Infinity"),
            NUMERIC_NINF => return f.write_str("-Infinity"),
            NUMERIC_NEG => f.write_str("-")?,
            _ => {}
        }
        if self.weight < 0 {
            f.write_str("0")?;
        } else {
            for i in 0..=self.weight as usize {
                if i == 0 {
                    write!(f, "{}", self.digit(i))?;
                } else {
                    write!(f, "{:04}", self.digit(i))?;
                }
            }
        }
        if self.dscale > 0 {
            f.write_str(".")?;
            let mut left = usize::from(self.dscale);
            // the base-10000 digit at power -k is index weight + k
            let mut k: i64 = 1;
            while left > 0 {
                let idx = i64::from(self.weight) + k;
                let d = if idx < 0 { 0 } else { self.digit(idx as usize) };
                let s = format!("{d:04}");
                let take = left.min(4);
                f.write_str(&s[..take])?;
                left -= take;
                k += 1;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Numeric<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Numeric({self})")
    }
}

impl<'a> FromSql<'a> for Numeric<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        if raw.len() < 8 {
            return Err("numeric value too short".into());
        }
        let ndigits = u16::from_be_bytes([raw[0], raw[1]]) as usize;
        let digits = &raw[8..];
        if digits.len() != 2 * ndigits {
            return Err("numeric value has a wrong digit count".into());
        }
        Ok(Numeric {
            weight: i16::from_be_bytes([raw[2], raw[3]]),
            sign: u16::from_be_bytes([raw[4], raw[5]]),
            dscale: u16::from_be_bytes([raw[6], raw[7]]),
            digits,
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}
