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
    pub fn reset(&mut self, types: &[Type]) {
        self.types.clear();
        self.types.extend_from_slice(types);
        self.data.clear();
        self.cells.clear();
        self.affected = 0;
    }

    /// Adds a row from the body of a DataRow message: a 16-bit cell count, then per cell
    /// a 32-bit length (-1 for NULL) and that many bytes.
    pub fn push_data_row(&mut self, body: &[u8]) -> Result<(), RowsError> {
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
    pub fn push_row<'a>(
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
    pub fn set_affected(&mut self, n: u64) {
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

    /// Columns per row.
    pub fn columns(&self) -> &[Type] {
        &self.types
    }

    /// The raw binary value of a cell; `None` for NULL.
    pub fn raw(&self, row: usize, col: usize) -> Result<Option<&[u8]>, RowsError> {
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
    pub fn one<'a, T: FromSql<'a>>(&'a self, col: usize) -> Result<T, RowsError> {
        if self.is_empty() {
            return Err(RowsError("the query returned no row".into()));
        }
        self.get(0, col)
    }
}

/// A value of any column type as its raw binary bytes, for drivers that decode rows
/// themselves and hand the cells over to [`Rows::push_row`].
#[derive(Debug)]
pub struct RawCell<'a>(pub &'a [u8]);

impl<'a> FromSql<'a> for RawCell<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawCell(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A NUMERIC value, read through its exact decimal text (binary NUMERIC has no `FromSql`
/// in `postgres-types` without an extra crate).
#[derive(Debug, Clone, PartialEq)]
pub struct Numeric(pub String);

impl Numeric {
    /// The value as a float (NaN and infinities as such).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Numeric(numeric_text(raw).ok_or("malformed NUMERIC value")?))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// The decimal text of a binary NUMERIC: i16 digit count, i16 weight (base-10000 exponent
/// of the first digit), u16 sign, u16 display scale, then base-10000 digits.
fn numeric_text(raw: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes(
            raw.get(i * 2..i * 2 + 2)?.try_into().ok()?,
        ))
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i32;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let digit = |pos: i32| -> u16 {
        // base-10000 digit with exponent `pos`
        let idx = weight - pos;
        if idx < 0 || idx as usize >= digits.len() {
            0
        } else {
            digits[idx as usize]
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for pos in (0..=weight).rev() {
            let d = digit(pos);
            if pos == weight {
                s.push_str(&d.to_string());
            } else {
                s.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::new();
        let mut pos = -1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(pos)));
            pos -= 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    Some(s)
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

    #[test]
    fn numeric_text_follows_the_binary_layout() {
        // 12345.67 = digits [1, 2345, 6700], weight 1, scale 2
        assert_eq!(
            numeric_text(&numeric(1, 0, 2, &[1, 2345, 6700])).unwrap(),
            "12345.67"
        );
        assert_eq!(numeric_text(&numeric(0, 0x4000, 0, &[42])).unwrap(), "-42");
        // 0.0005 = digits [5], weight -1, scale 4
        assert_eq!(numeric_text(&numeric(-1, 0, 4, &[5])).unwrap(), "0.0005");
        // 10000 = digits [1], weight 1 (trailing zero digits are not sent)
        assert_eq!(numeric_text(&numeric(1, 0, 0, &[1])).unwrap(), "10000");
        assert_eq!(numeric_text(&numeric(0, 0, 2, &[])).unwrap(), "0.00");
        assert_eq!(numeric_text(&numeric(0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert!(numeric_text(&[0, 1]).is_none());
        let n = Numeric(numeric_text(&numeric(1, 0, 2, &[1, 2345, 6700])).unwrap());
        assert!((n.to_f64() - 12345.67).abs() < 1e-9);
    }
}
