//! Result rows as a driver hands them back: the binary cells of every row in one reused
//! buffer, decoded on demand through `postgres-types` (`FromSql`). Any driver fills a
//! [`Rows`]; workloads read it. This module imports nothing from the crate.

use std::fmt;

use postgres_types::{FromSql, Type};

/// The rows of one statement's result, in binary format. Reuse one `Rows` across
/// transactions: [`Rows::reset`] keeps the buffers, so reading rows allocates nothing
/// once they are large enough.
#[derive(Debug, Default, Clone)]
pub struct Rows {
    types: Vec<Type>,
    data: Vec<u8>,
    /// Per cell, row-major: (offset in `data`, length; -1 for NULL).
    cells: Vec<(u32, i32)>,
    /// The count of the command tag (rows affected or returned).
    affected: u64,
}

/// A cell that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsError(String);

impl fmt::Display for RowsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RowsError {}

impl Rows {
    /// Empty, with no columns.
    pub fn new() -> Self {
        Rows::default()
    }

    /// Empties the rows for a result of columns of `types` (buffers are kept).
    pub(crate) fn reset(&mut self, types: &[Type]) {
        self.types.clear();
        self.types.extend_from_slice(types);
        self.data.clear();
        self.cells.clear();
        self.affected = 0;
    }

    /// Adds a row from the body of a DataRow message: a 16-bit cell count, then per cell
    /// a 32-bit length (-1 for NULL) and that many bytes.
    pub(crate) fn push_data_row(&mut self, body: &[u8]) -> Result<(), RowsError> {
        let bad = || RowsError("malformed DataRow message".into());
        let n = u16::from_be_bytes(
            body.get(..2)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        if n as usize != self.types.len() {
            return Err(RowsError(format!(
                "a row has {n} columns where {} were described",
                self.types.len()
            )));
        }
        let mut at = 2usize;
        for _ in 0..n {
            let len_bytes: [u8; 4] = body
                .get(at..at + 4)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?;
            let len = i32::from_be_bytes(len_bytes);
            at += 4;
            if len < 0 {
                self.cells.push((0, -1));
                continue;
            }
            let cell = body.get(at..at + len as usize).ok_or_else(bad)?;
            self.cells.push((self.data.len() as u32, len));
            self.data.extend_from_slice(cell);
            at += len as usize;
        }
        Ok(())
    }

    /// Adds a row of cells given one by one (`None` for NULL), as a driver that does not
    /// see DataRow bodies does.
    pub(crate) fn push_row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = Option<&'a [u8]>>,
    ) -> Result<(), RowsError> {
        let before = self.cells.len();
        for c in cells {
            match c {
                None => self.cells.push((0, -1)),
                Some(b) => {
                    self.cells.push((self.data.len() as u32, b.len() as i32));
                    self.data.extend_from_slice(b);
                }
            }
        }
        let n = self.cells.len() - before;
        if n != self.types.len() {
            self.cells.truncate(before);
            return Err(RowsError(format!(
                "a row has {n} columns where {} were described",
                self.types.len()
            )));
        }
        Ok(())
    }

    /// Records the command tag's count.
    pub(crate) fn set_affected(&mut self, n: u64) {
        self.affected = n;
    }

    /// The command tag's count: rows affected by an INSERT/UPDATE/DELETE, rows returned
    /// by a SELECT.
    pub fn affected(&self) -> u64 {
        self.affected
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        if self.types.is_empty() {
            0
        } else {
            self.cells.len() / self.types.len()
        }
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw binary value of a cell; `None` for NULL.
    pub(crate) fn raw(&self, row: usize, col: usize) -> Result<Option<&[u8]>, RowsError> {
        if row >= self.len() || col >= self.types.len() {
            return Err(RowsError(format!(
                "no cell at row {row}, column {col}: the result has {} rows of {} columns",
                self.len(),
                self.types.len()
            )));
        }
        let (off, len) = self.cells[row * self.types.len() + col];
        Ok((len >= 0).then(|| &self.data[off as usize..off as usize + len as usize]))
    }

    /// Decodes a cell as `T` (an `Option<T>` reads NULL as `None`).
    pub fn get<'a, T: FromSql<'a>>(&'a self, row: usize, col: usize) -> Result<T, RowsError> {
        let ty = self
            .types
            .get(col)
            .ok_or_else(|| RowsError(format!("no column {col} in the result")))?;
        if !T::accepts(ty) {
            return Err(RowsError(format!(
                "column {col} is {ty}, which cannot be read as {}",
                std::any::type_name::<T>()
            )));
        }
        T::from_sql_nullable(ty, self.raw(row, col)?)
            .map_err(|e| RowsError(format!("row {row}, column {col} ({ty}): {e}")))
    }

    /// Decodes a cell of the first row; an error when there is none.
    pub(crate) fn one<'a, T: FromSql<'a>>(&'a self, col: usize) -> Result<T, RowsError> {
        if self.is_empty() {
            return Err(RowsError("the query returned no row".into()));
        }
        self.get(0, col)
    }
}

/// A value of any column type as its raw binary bytes, for drivers that decode rows
/// themselves and hand the cells over to [`Rows::push_row`].
#[derive(Debug)]
pub(crate) struct RawCell<'a>(pub(crate) &'a [u8]);

impl<'a> FromSql<'a> for RawCell<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawCell(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn data_row(cells: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = (cells.len() as u16).to_be_bytes().to_vec();
        for c in cells {
            match c {
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    b.extend_from_slice(v);
                }
            }
        }
        b
    }

    #[test]
    fn cells_decode_by_type_and_null_is_none() {
        let mut r = Rows::new();
        r.reset(&[Type::INT4, Type::TEXT, Type::INT8]);
        r.push_data_row(&data_row(&[Some(&7i32.to_be_bytes()), Some(b"abc"), None]))
            .unwrap();
        r.push_data_row(&data_row(&[
            Some(&(-1i32).to_be_bytes()),
            Some(b""),
            Some(&9i64.to_be_bytes()),
        ]))
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.get::<i32>(0, 0).unwrap(), 7);
        assert_eq!(r.get::<&str>(0, 1).unwrap(), "abc");
        assert_eq!(r.get::<Option<i64>>(0, 2).unwrap(), None);
        assert_eq!(r.get::<i64>(1, 2).unwrap(), 9);
        assert!(r.get::<i64>(0, 2).is_err(), "NULL into a non-Option");
        let wrong = r.get::<i64>(0, 0).unwrap_err().to_string();
        assert!(wrong.contains("int4"), "{wrong}");
        assert!(r.get::<i32>(2, 0).is_err());
        r.reset(&[Type::INT4]);
        assert!(r.is_empty());
        assert!(r.one::<i32>(0).is_err());
    }

    #[test]
    fn a_row_of_the_wrong_width_or_a_short_body_is_refused() {
        let mut r = Rows::new();
        r.reset(&[Type::INT4, Type::INT4]);
        assert!(r
            .push_data_row(&data_row(&[Some(&1i32.to_be_bytes())]))
            .is_err());
        let mut short = data_row(&[Some(&1i32.to_be_bytes()), Some(&2i32.to_be_bytes())]);
        short.truncate(short.len() - 1);
        assert!(r.push_data_row(&short).is_err());
        assert!(r.push_row([Some(&b"x"[..])]).is_err());
        assert_eq!(r.len(), 0);
    }

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    fn text(raw: &[u8]) -> String {
        Numeric::from_sql(&Type::NUMERIC, raw).unwrap().to_string()
    }

    #[test]
    fn numeric_follows_the_binary_layout() {
        // 12345.67 = digits [1, 2345, 6700], weight 1, scale 2
        let raw = numeric(1, 0, 2, &[1, 2345, 6700]);
        assert_eq!(text(&raw), "12345.67");
        assert!(
            (Numeric::from_sql(&Type::NUMERIC, &raw).unwrap().to_f64() - 12345.67).abs() < 1e-9
        );
        assert_eq!(text(&numeric(0, 0x4000, 0, &[42])), "-42");
        // 0.0005 = digits [5], weight -1, scale 4
        assert_eq!(text(&numeric(-1, 0, 4, &[5])), "0.0005");
        // 10000 = digits [1], weight 1 (trailing zero digits are not sent)
        assert_eq!(text(&numeric(1, 0, 0, &[1])), "10000");
        assert_eq!(text(&numeric(0, 0, 2, &[])), "0.00");
        assert_eq!(text(&numeric(0, 0xC000, 0, &[])), "NaN");
        assert!(Numeric::from_sql(&Type::NUMERIC, &[0, 1]).is_err());
    }
}
