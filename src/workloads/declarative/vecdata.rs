//! Vector data for pgvector benchmarks that must not use independent uniform values:
//! clustered synthetic vectors ([`Clustered`]) and real embeddings read from the files
//! ann-benchmarks and most public datasets ship ([`VectorFile`], `.fvecs` and `.npy`).
//!
//! Uniform random vectors make every index look alike: no neighbourhoods, all distances
//! nearly equal. Clustered vectors have the structure IVFFlat lists and HNSW graphs are
//! built for; real embeddings have the structure of the data they came from.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use rand::Rng as _;
use rand_distr::StandardNormal;

use crate::core::Rng;

/// The most dimensions a vector may have: pgvector's limit for `vector`.
pub(crate) const MAX_DIMS: usize = 16_000;

/// The most clusters a [`ClusterSpec`] may ask for.
pub(crate) const MAX_CLUSTERS: usize = 1_000_000;

/// The most centre coordinates (`dims × clusters`) kept in memory: 1 GiB of `f32`.
const MAX_CENTRE_VALUES: usize = 1 << 28;

/// The largest vector file read (8 GiB).
const MAX_FILE_BYTES: u64 = 8 << 30;

/// The RNG stream of the centres, apart from any stream that draws points.
const CENTRE_STREAM: u64 = 0x7665_6364_6174_6100;

/// How clustered vectors are drawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterSpec {
    /// Dimensions of every vector, 1..=16000.
    pub(crate) dims: usize,
    /// Number of clusters, 1..=1,000,000.
    pub(crate) clusters: usize,
    /// Root-mean-square distance of a point from its centre before normalising (the mean
    /// distance is about `spread·(1 − 1/(4·dims))`, whatever the dims); centres are on the
    /// unit sphere, so 0.1 is tight clusters and 1 is clusters that overlap. Positive and
    /// finite.
    pub(crate) spread: f64,
    /// Scale every point to unit length (for cosine distance and inner product).
    pub(crate) normalize: bool,
    /// Cluster `c` is drawn with probability proportional to `1/(c+1)^skew`: 0 gives equal
    /// sizes, 1 a Zipf-like law. Zero or more, finite.
    pub(crate) skew: f64,
    /// Seed of the centres: the same spec gives the same centres whatever RNG draws the
    /// points.
    pub(crate) seed: u64,
}

/// A compiled [`ClusterSpec`]: the centres and the cumulative cluster weights.
#[derive(Clone)]
pub(crate) struct Clustered {
    /// Dimensions of every vector.
    dims: usize,
    /// Centre coordinates, cluster after cluster (`clusters × dims`).
    centres: Vec<f32>,
    /// Cumulative cluster weights; the last is the total.
    cumulative: Vec<f64>,
    /// Standard deviation of the noise per coordinate: `spread / sqrt(dims)`.
    sigma: f64,
    /// Scale points to unit length.
    normalize: bool,
}

impl fmt::Debug for Clustered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clustered")
            .field("dims", &self.dims)
            .field("clusters", &self.cumulative.len())
            .field("sigma", &self.sigma)
            .field("normalize", &self.normalize)
            .finish_non_exhaustive()
    }
}

impl Clustered {
    /// Checks the spec and draws the centres (standard-normal vectors scaled to unit
    /// length, from the spec's seed alone).
    pub(crate) fn new(spec: &ClusterSpec) -> Result<Clustered, String> {
        let ClusterSpec {
            dims,
            clusters,
            spread,
            normalize,
            skew,
            seed,
        } = *spec;
        if !(1..=MAX_DIMS).contains(&dims) {
            return Err(format!(
                "dims: must be between 1 and {MAX_DIMS} (pgvector's limit), got {dims}"
            ));
        }
        if !(1..=MAX_CLUSTERS).contains(&clusters) {
            return Err(format!(
                "clusters: must be between 1 and {MAX_CLUSTERS}, got {clusters}"
            ));
        }
        if !(spread.is_finite() && spread > 0.0) {
            return Err(format!(
                "spread: must be a positive finite distance (0.1 for tight clusters, 1 for overlapping ones), got {}",
                crate::core::Shown(spread)
            ));
        }
        if !(skew.is_finite() && skew >= 0.0) {
            return Err(format!(
                "skew: must be a finite number of 0 or more (0 for equal cluster sizes), got {}",
                crate::core::Shown(skew)
            ));
        }
        let values = dims
            .checked_mul(clusters)
            .filter(|&n| n <= MAX_CENTRE_VALUES)
            .ok_or_else(|| {
                format!(
                    "clusters: {clusters} centres of {dims} dims are more than {MAX_CENTRE_VALUES} values; use fewer clusters or fewer dims"
                )
            })?;

        let mut rng = crate::core::rng(seed, CENTRE_STREAM);
        let mut centres = Vec::with_capacity(values);
        let mut v = vec![0f64; dims];
        for _ in 0..clusters {
            let norm = loop {
                for x in v.iter_mut() {
                    *x = rng.sample(StandardNormal);
                }
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                // A zero vector has no direction; its chance is nil, but draw again.
                if norm > 1e-12 {
                    break norm;
                }
            };
            centres.extend(v.iter().map(|x| (x / norm) as f32));
        }

        let mut total = 0.0;
        let cumulative = (0..clusters)
            .map(|c| {
                total += (c as f64 + 1.0).powf(-skew);
                total
            })
            .collect();

        Ok(Clustered {
            dims,
            centres,
            cumulative,
            sigma: spread / (dims as f64).sqrt(),
            normalize,
        })
    }

    /// Draws one vector into `out` (cleared, len dims) and returns its cluster id (0-based).
    pub(crate) fn sample(&self, rng: &mut Rng, out: &mut Vec<f32>) -> u32 {
        let c = self.pick(rng);
        let centre = &self.centres[c * self.dims..(c + 1) * self.dims];
        out.clear();
        out.reserve(self.dims);
        let mut sum_sq = 0.0;
        for &x in centre {
            let noise: f64 = rng.sample(StandardNormal);
            let y = f64::from(x) + self.sigma * noise;
            sum_sq += y * y;
            out.push(y as f32);
        }
        if self.normalize {
            let norm = sum_sq.sqrt();
            if norm > 1e-12 {
                for y in out.iter_mut() {
                    *y = (f64::from(*y) / norm) as f32;
                }
            } else {
                // The noise cancelled the centre exactly; the centre has unit length.
                out.clear();
                out.extend_from_slice(centre);
            }
        }
        // At most MAX_CLUSTERS clusters, so the id fits.
        c as u32
    }

    /// Dimensions of every vector drawn.
    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    /// A cluster drawn by its weight: binary search of the cumulative weights.
    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.gen::<f64>() * total;
        let c = self.cumulative.partition_point(|&w| w <= u);
        c.min(self.cumulative.len().saturating_sub(1))
    }
}

/// Vectors read from a file: `rows` vectors of `dims` values, row after row.
pub(crate) struct VectorFile {
    /// Dimensions of every row.
    dims: usize,
    /// Number of rows.
    rows: usize,
    /// The values, row after row (`rows × dims`).
    data: Vec<f32>,
}

impl fmt::Debug for VectorFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorFile")
            .field("dims", &self.dims)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// The element types a `.npy` file may hold.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NpyType {
    /// Little-endian IEEE half (`<f2`).
    F2,
    /// Little-endian float (`<f4`).
    F4,
    /// Little-endian double (`<f8`), narrowed to `f32`.
    F8,
}

impl NpyType {
    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            NpyType::F2 => 2,
            NpyType::F4 => 4,
            NpyType::F8 => 8,
        }
    }
}

impl VectorFile {
    /// Reads a whole vector file, by extension: `.fvecs` (records of a little-endian
    /// `i32` dimension and that many `f32`) or `.npy` (a 2-D NumPy array of `float32`,
    /// `float64` or `float16`). Every value must be finite; files above 8 GiB are refused.
    pub(crate) fn open(path: &Path) -> Result<VectorFile, String> {
        let shown = path.display();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let npy = match ext.as_deref() {
            Some("fvecs") => false,
            Some("npy") => true,
            _ => {
                return Err(format!(
                    "vector file {shown}: unknown format; the name must end in .fvecs (ann-benchmarks, TEXMEX) or .npy (numpy.save)"
                ))
            }
        };
        // a FIFO would block the open, a device never end: regular files only
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("vector file {shown}: cannot open it ({e}); check the path"))?;
        if !meta.is_file() {
            return Err(format!(
                "vector file {shown}: not a regular file (a folder, device or pipe); give a .fvecs or .npy file"
            ));
        }
        let file = File::open(path)
            .map_err(|e| format!("vector file {shown}: cannot open it ({e}); check the path"))?;
        let len = file
            .metadata()
            .map_err(|e| format!("vector file {shown}: cannot read its size ({e})"))?
            .len();
        if len > MAX_FILE_BYTES {
            return Err(format!(
                "vector file {shown}: {len} bytes is above the limit of 8 GiB; use a subset of its rows"
            ));
        }
        let mut r = BufReader::with_capacity(1 << 20, file);
        let read = if npy {
            read_npy(&mut r, len)
        } else {
            read_fvecs(&mut r, len)
        };
        read.map_err(|e| format!("vector file {shown}: {e}"))
    }

    /// Dimensions of every row.
    pub(crate) fn dims(&self) -> usize {
        self.dims
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Row `i`; `i` must be below [`VectorFile::rows`] (a larger `i` panics).
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
}

/// Fills `buf` from `r`, naming the byte offset when the file ends or cannot be read.
fn read_at(r: &mut impl Read, buf: &mut [u8], offset: u64) -> Result<(), String> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format!(
                "ends early at byte {offset}: the file was cut short or changed while being read"
            )
        } else {
            format!("cannot read at byte {offset} ({e})")
        }
    })
}

/// Refuses NaN and infinite values, naming the row and column (0-based).
fn finite(v: f32, row: usize, col: usize) -> Result<f32, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!(
            "row {row} (0-based), column {col} is {v}; vectors must be finite, drop or fix that row"
        ))
    }
}

/// Checks a dimension count read from a file.
fn check_dims(dims: usize, what: &str) -> Result<(), String> {
    if (1..=MAX_DIMS).contains(&dims) {
        Ok(())
    } else {
        Err(format!(
            "{what} {dims} dimensions; vectors need 1 to {MAX_DIMS} (pgvector's limit)"
        ))
    }
}

/// Reads `.fvecs` records from `r`, a file of `len` bytes.
fn read_fvecs(r: &mut impl Read, len: u64) -> Result<VectorFile, String> {
    if len == 0 {
        return Err("the file is empty; an .fvecs file holds records of a little-endian i32 dimension and that many f32".into());
    }
    let mut offset = 0u64;
    let mut dims = 0usize;
    let mut rows = 0usize;
    let mut data = Vec::new();
    let mut buf = Vec::new();
    while offset < len {
        let left = len - offset;
        if left < 4 {
            return Err(format!(
                "truncated at byte {offset}: {left} bytes left where record {rows}'s 4-byte dimension should be; the file was cut short"
            ));
        }
        let mut head = [0u8; 4];
        read_at(r, &mut head, offset)?;
        let d = i32::from_le_bytes(head);
        if rows == 0 {
            let d = usize::try_from(d).map_err(|_| {
                format!("record 0 at byte 0 has dimension {d}; is this really an .fvecs file?")
            })?;
            check_dims(d, "record 0 at byte 0 has")?;
            dims = d;
            let record = 4 + 4 * dims as u64;
            data.reserve_exact(usize::try_from(len / record).unwrap_or(0) * dims);
            buf.resize(4 * dims, 0);
        } else if i64::from(d) != dims as i64 {
            return Err(format!(
                "record {rows} at byte {offset} has dimension {d}, the first record has {dims}; every record must have the same dimension"
            ));
        }
        let need = 4 + 4 * dims as u64;
        if left < need {
            return Err(format!(
                "truncated at byte {offset}: record {rows} needs {need} bytes, {left} are left; the file was cut short"
            ));
        }
        read_at(r, &mut buf, offset + 4)?;
        for (col, b) in buf.chunks_exact(4).enumerate() {
            let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            data.push(finite(v, rows, col)?);
        }
        offset += need;
        rows += 1;
    }
    Ok(VectorFile { dims, rows, data })
}

/// Reads a `.npy` file (format 1.0, 2.0 or 3.0) from `r`, a file of `len` bytes.
fn read_npy(r: &mut impl Read, len: u64) -> Result<VectorFile, String> {
    let (header, start) = npy_header(r, len)?;
    let (descr, fortran, shape) = parse_npy_header(&header)?;
    let ty = npy_type(&descr)?;
    if fortran {
        return Err(
            "the array is in Fortran order; save it in C order: numpy.save(path, numpy.ascontiguousarray(arr))"
                .into(),
        );
    }
    let [rows, dims] = shape[..] else {
        return Err(format!(
            "shape {shape:?} is not 2-D; save an array of shape (rows, dims)"
        ));
    };
    if rows == 0 {
        return Err("the array has no rows".into());
    }
    check_dims(dims, "each row has")?;
    let data_len = len - start;
    let expected = (rows as u64)
        .checked_mul(dims as u64)
        .and_then(|n| n.checked_mul(ty.size() as u64));
    if expected != Some(data_len) {
        let expected = expected.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
        return Err(format!(
            "the data is {data_len} bytes but shape ({rows}, {dims}) of {descr} needs {expected}; the file is truncated or its header is wrong"
        ));
    }
    let data = read_npy_data(r, ty, rows, dims, start)?;
    Ok(VectorFile { dims, rows, data })
}

/// The header text of a `.npy` file of `len` bytes, and the byte offset its data starts
/// at.
fn npy_header(r: &mut impl Read, len: u64) -> Result<(String, u64), String> {
    if len < 10 {
        return Err(format!(
            "{len} bytes is too short for a .npy file; write it with numpy.save"
        ));
    }
    let mut lead = [0u8; 8];
    read_at(r, &mut lead, 0)?;
    if &lead[..6] != b"\x93NUMPY" {
        return Err(
            "not a .npy file (it does not start with \\x93NUMPY); write it with numpy.save".into(),
        );
    }
    let (major, minor) = (lead[6], lead[7]);
    let (header_len, start) = match (major, minor) {
        (1, 0) => {
            let mut b = [0u8; 2];
            read_at(r, &mut b, 8)?;
            (u64::from(u16::from_le_bytes(b)), 10u64)
        }
        (2, 0) | (3, 0) => {
            let mut b = [0u8; 4];
            read_at(r, &mut b, 8)?;
            (u64::from(u32::from_le_bytes(b)), 12u64)
        }
        _ => {
            return Err(format!(
                "npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are); write it with numpy.save"
            ))
        }
    };
    if header_len > 1 << 20 || start + header_len > len {
        return Err(format!(
            "the npy header claims {header_len} bytes, more than the file's {len} bytes allow; the file is damaged"
        ));
    }
    let mut header = vec![0u8; header_len as usize];
    read_at(r, &mut header, start)?;
    let header = String::from_utf8(header)
        .map_err(|_| "the npy header is not text; the file is damaged".to_string())?;
    Ok((header, start + header_len))
}

/// The element type of a `.npy` dtype (`descr`); little-endian floats only.
fn npy_type(descr: &str) -> Result<NpyType, String> {
    match descr {
        "<f4" => Ok(NpyType::F4),
        "<f8" => Ok(NpyType::F8),
        "<f2" => Ok(NpyType::F2),
        ">f4" | ">f8" | ">f2" => Err(format!(
            "dtype {descr} is big-endian; save arr.astype('<f4') instead"
        )),
        _ => Err(format!(
            "dtype {descr} is not supported; save float32 ('<f4'), float64 ('<f8') or float16 ('<f2'), e.g. arr.astype('float32')"
        )),
    }
}

/// Reads the `rows × dims` values of type `ty` starting at byte `offset`, in chunks of
/// about 1 MiB.
fn read_npy_data(
    r: &mut impl Read,
    ty: NpyType,
    rows: usize,
    dims: usize,
    mut offset: u64,
) -> Result<Vec<f32>, String> {
    // The size matches a file below 8 GiB, so these products fit.
    let row_bytes = dims * ty.size();
    let mut data = Vec::with_capacity(rows * dims);
    let chunk_rows = ((1usize << 20) / row_bytes).max(1);
    let mut buf = vec![0u8; chunk_rows * row_bytes];
    let mut row = 0;
    while row < rows {
        let n = chunk_rows.min(rows - row);
        let bytes = &mut buf[..n * row_bytes];
        read_at(r, bytes, offset)?;
        for (i, one_row) in bytes.chunks_exact(row_bytes).enumerate() {
            let r_i = row + i;
            for (col, b) in one_row.chunks_exact(ty.size()).enumerate() {
                data.push(finite(npy_value(ty, b, r_i, col)?, r_i, col)?);
            }
        }
        offset += bytes.len() as u64;
        row += n;
    }
    Ok(data)
}

/// One little-endian element `b` of type `ty` (at `row`, `col`) as `f32`; a double
/// beyond the `f32` range is an error.
#[inline]
fn npy_value(ty: NpyType, b: &[u8], row: usize, col: usize) -> Result<f32, String> {
    Ok(match ty {
        NpyType::F4 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        NpyType::F2 => f16_to_f32(u16::from_le_bytes([b[0], b[1]])),
        NpyType::F8 => {
            let d = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            let v = d as f32;
            if d.is_finite() && !v.is_finite() {
                return Err(format!(
                    "row {row} (0-based), column {col} is {d:e}, beyond the float32 range; scale the vectors"
                ));
            }
            v
        }
    })
}

/// An IEEE 754 half (binary16) as `f32`; exact, since every half is a float.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match exp {
        // Zero or subnormal: man × 2^-24, exact in f32.
        0 => {
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign == 0 { v } else { -v };
        }
        // Infinity or NaN, keeping the payload.
        0x1f => sign | 0x7f80_0000 | (man << 13),
        // Normal: rebias the exponent from 15 to 127.
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// A value of the npy header's dict literal.
#[derive(Debug)]
enum PyValue {
    /// A quoted string.
    Str(String),
    /// `True` or `False`.
    Bool(bool),
    /// A tuple of non-negative integers.
    Tuple(Vec<usize>),
    /// A non-negative integer.
    Int,
}

/// Parses the npy header (a Python dict literal such as `{'descr': '<f4',
/// 'fortran_order': False, 'shape': (10, 3), }`) into descr, fortran order and shape.
fn parse_npy_header(text: &str) -> Result<(String, bool, Vec<usize>), String> {
    let mut p = DictParser {
        s: text.as_bytes(),
        pos: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.ws();
    p.expect(b'{')?;
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = match p.value()? {
            PyValue::Str(k) => k,
            _ => return Err(p.error("a quoted key")),
        };
        p.ws();
        p.expect(b':')?;
        p.ws();
        let value = p.value()?;
        match (key.as_str(), value) {
            ("descr", PyValue::Str(s)) => descr = Some(s),
            ("fortran_order", PyValue::Bool(b)) => fortran = Some(b),
            ("shape", PyValue::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(format!(
                    "the npy header's '{key}' has an unexpected value {v:?}; the file is damaged or not written by numpy.save"
                ))
            }
            _ => {}
        }
        p.ws();
        if p.eat(b',') {
            continue;
        }
        p.expect(b'}')?;
        break;
    }
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.error("the end of the header"));
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(
            "the npy header lacks 'descr', 'fortran_order' or 'shape'; write the file with numpy.save"
                .into(),
        ),
    }
}

/// A cursor over the npy header's dict literal.
struct DictParser<'a> {
    /// The header text.
    s: &'a [u8],
    /// The next byte to read.
    pos: usize,
}

impl DictParser<'_> {
    /// Skips spaces and newlines.
    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        let next = self.s.get(self.pos) == Some(&c);
        if next {
            self.pos += 1;
        }
        next
    }

    /// Consumes `c` or fails.
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("'{}'", char::from(c))))
        }
    }

    /// The message for something other than `wanted` at the cursor.
    fn error(&self, wanted: &str) -> String {
        format!(
            "cannot parse the npy header: expected {wanted} at character {}; the file is damaged or not written by numpy.save",
            self.pos
        )
    }

    /// A non-negative integer (Python 2's `L` suffix allowed).
    fn int(&mut self) -> Result<usize, String> {
        let from = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        let n = std::str::from_utf8(&self.s[from..self.pos])
            .ok()
            .and_then(|t| t.parse().ok());
        let Some(n) = n else {
            self.pos = from;
            return Err(self.error("a non-negative integer"));
        };
        self.eat(b'L');
        Ok(n)
    }

    /// A string, boolean, integer or tuple of integers.
    fn value(&mut self) -> Result<PyValue, String> {
        match self.s.get(self.pos) {
            Some(&q @ (b'\'' | b'"')) => {
                let from = self.pos + 1;
                let Some(len) = self.s[from..].iter().position(|&c| c == q) else {
                    return Err(self.error("a closing quote"));
                };
                self.pos = from + len + 1;
                Ok(PyValue::Str(
                    String::from_utf8_lossy(&self.s[from..from + len]).into_owned(),
                ))
            }
            Some(b'T') if self.s[self.pos..].starts_with(b"True") => {
                self.pos += 4;
                Ok(PyValue::Bool(true))
            }
            Some(b'F') if self.s[self.pos..].starts_with(b"False") => {
                self.pos += 5;
                Ok(PyValue::Bool(false))
            }
            Some(b'(') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.eat(b')') {
                        break;
                    }
                    items.push(self.int()?);
                    self.ws();
                    if !self.eat(b',') {
                        self.expect(b')')?;
                        break;
                    }
                }
                Ok(PyValue::Tuple(items))
            }
            Some(c) if c.is_ascii_digit() => {
                self.int()?;
                Ok(PyValue::Int)
            }
            _ => Err(self.error("a string, True, False, an integer or a tuple")),
        }
    }
}

#[cfg(test)]
mod tests;
