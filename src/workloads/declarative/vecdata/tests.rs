use super::*;

fn spec(dims: usize, clusters: usize, spread: f64, skew: f64) -> ClusterSpec {
    ClusterSpec {
        dims,
        clusters,
        spread,
        normalize: false,
        skew,
        seed: 7,
    }
}

fn dist(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn centre(c: &Clustered, i: usize) -> &[f32] {
    &c.centres[i * c.dims..(i + 1) * c.dims]
}

const DRAWS: usize = 100_000;

#[test]
fn cluster_frequencies_follow_the_skew() {
    for skew in [0.0, 0.8, 2.0] {
        let k = 16;
        let c = Clustered::new(&spec(4, k, 0.5, skew)).unwrap();
        let mut rng = crate::core::rng(1, 2);
        let mut counts = vec![0usize; k];
        let mut out = Vec::new();
        for _ in 0..DRAWS {
            counts[c.sample(&mut rng, &mut out) as usize] += 1;
        }
        let weights: Vec<f64> = (0..k).map(|i| (i as f64 + 1.0).powf(-skew)).collect();
        let total: f64 = weights.iter().sum();
        let chi2: f64 = counts
            .iter()
            .zip(&weights)
            .map(|(&n, w)| {
                let e = DRAWS as f64 * w / total;
                (n as f64 - e).powi(2) / e
            })
            .sum();
        // 15 degrees of freedom: P(chi2 > 37.7) = 0.001.
        assert!(chi2 < 37.7, "skew {skew}: chi2 {chi2}, counts {counts:?}");
    }
}

#[test]
fn a_large_skew_puts_nearly_everything_in_cluster_zero() {
    let c = Clustered::new(&spec(2, 1000, 0.5, 50.0)).unwrap();
    let mut rng = crate::core::rng(3, 0);
    let mut out = Vec::new();
    assert!((0..1000).all(|_| c.sample(&mut rng, &mut out) == 0));
    let one = Clustered::new(&spec(3, 1, 0.5, 1.0)).unwrap();
    assert!((0..1000).all(|_| one.sample(&mut rng, &mut out) == 0));
}

#[test]
fn mean_distance_to_the_centre_is_the_spread() {
    for (dims, spread) in [(32, 0.3), (256, 2.0)] {
        let c = Clustered::new(&spec(dims, 8, spread, 0.0)).unwrap();
        assert_eq!(c.dims(), dims);
        let mut rng = crate::core::rng(5, 1);
        let mut out = vec![9.0; 3];
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..DRAWS {
            let id = c.sample(&mut rng, &mut out) as usize;
            assert_eq!(out.len(), dims);
            let d = dist(&out, centre(&c, id));
            sum += d;
            sum_sq += d * d;
        }
        let mean = sum / DRAWS as f64;
        let mean_sq = sum_sq / DRAWS as f64;
        assert!(
            (mean / spread - 1.0).abs() < 0.03,
            "dims {dims}: mean distance {mean}, spread {spread}"
        );
        assert!(
            (mean_sq / (spread * spread) - 1.0).abs() < 0.01,
            "dims {dims}: mean squared distance {mean_sq}, spread² {}",
            spread * spread
        );
    }
}

#[test]
fn normalized_vectors_have_unit_length() {
    for dims in [1, 32, 1536] {
        let c = Clustered::new(&ClusterSpec {
            normalize: true,
            ..spec(dims, 16, 0.7, 1.0)
        })
        .unwrap();
        let mut rng = crate::core::rng(9, 9);
        let mut out = Vec::new();
        let draws = if dims > 100 { 5_000 } else { DRAWS };
        for _ in 0..draws {
            c.sample(&mut rng, &mut out);
            let norm = out
                .iter()
                .map(|x| f64::from(*x).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "dims {dims}: norm {norm}");
        }
    }
}

#[test]
fn centres_are_unit_vectors() {
    let c = Clustered::new(&spec(48, 20, 0.1, 0.0)).unwrap();
    for i in 0..20 {
        let norm = dist(centre(&c, i), &[0.0; 48]);
        assert!((norm - 1.0).abs() < 1e-6, "centre {i}: norm {norm}");
    }
}

#[test]
fn a_point_is_nearest_its_own_centre_when_the_spread_is_small() {
    let k = 16;
    let c = Clustered::new(&spec(32, k, 0.1, 0.5)).unwrap();
    let mut rng = crate::core::rng(11, 4);
    let mut out = Vec::new();
    let mut own = 0;
    for _ in 0..DRAWS {
        let id = c.sample(&mut rng, &mut out) as usize;
        let nearest = (0..k)
            .min_by(|&a, &b| dist(&out, centre(&c, a)).total_cmp(&dist(&out, centre(&c, b))))
            .unwrap();
        own += usize::from(nearest == id);
    }
    assert!(own as f64 > 0.99 * DRAWS as f64, "{own} of {DRAWS}");
}

#[test]
fn the_seed_alone_fixes_the_centres() {
    let a = Clustered::new(&spec(16, 10, 0.2, 1.0)).unwrap();
    // Drawing points does not move the centres, and neither does the spread.
    let mut rng = crate::core::rng(123, 0);
    let mut out = Vec::new();
    a.sample(&mut rng, &mut out);
    let b = Clustered::new(&spec(16, 10, 0.9, 0.0)).unwrap();
    assert_eq!(a.centres, b.centres);
    let other = Clustered::new(&ClusterSpec {
        seed: 8,
        ..spec(16, 10, 0.2, 1.0)
    })
    .unwrap();
    assert_ne!(a.centres, other.centres);
    // Same spec and RNG stream, same points.
    let again = Clustered::new(&spec(16, 10, 0.2, 1.0)).unwrap();
    let mut r1 = crate::core::rng(5, 5);
    let mut r2 = crate::core::rng(5, 5);
    let (mut p1, mut p2) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        assert_eq!(a.sample(&mut r1, &mut p1), again.sample(&mut r2, &mut p2));
        assert_eq!(p1, p2);
    }
}

#[test]
fn bad_specs_name_the_field() {
    let cases = [
        (spec(0, 4, 0.1, 0.0), "dims: must be between 1 and 16000"),
        (spec(16_001, 4, 0.1, 0.0), "got 16001"),
        (
            spec(8, 0, 0.1, 0.0),
            "clusters: must be between 1 and 1000000",
        ),
        (spec(8, 1_000_001, 0.1, 0.0), "got 1000001"),
        (spec(8, 4, 0.0, 0.0), "spread: must be a positive"),
        (spec(8, 4, -1.0, 0.0), "spread:"),
        (spec(8, 4, f64::NAN, 0.0), "spread:"),
        (spec(8, 4, f64::INFINITY, 0.0), "spread:"),
        (
            spec(8, 4, 0.1, -0.5),
            "skew: must be a finite number of 0 or more",
        ),
        (spec(8, 4, 0.1, f64::NAN), "skew:"),
        (spec(8, 4, 0.1, f64::INFINITY), "skew:"),
        (
            spec(16_000, 1_000_000, 0.1, 0.0),
            "use fewer clusters or fewer dims",
        ),
    ];
    for (s, want) in cases {
        let e = Clustered::new(&s).unwrap_err();
        assert!(e.contains(want), "{s:?}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

// ---- vector files ----

/// One .fvecs record.
fn fvecs_record(v: &[f32]) -> Vec<u8> {
    let mut b = (v.len() as i32).to_le_bytes().to_vec();
    for x in v {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b
}

/// A .npy file as numpy.save writes it (header padded to 64 bytes with spaces and a
/// newline).
fn npy(major: u8, descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let fo = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {shape}, }}");
    let prefix = if major == 1 { 10 } else { 12 };
    while (prefix + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut b = b"\x93NUMPY".to_vec();
    b.extend_from_slice(&[major, 0]);
    if major == 1 {
        b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        b.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    b.extend_from_slice(dict.as_bytes());
    b.extend_from_slice(data);
    b
}

fn f4(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f8(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f2(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes `bytes` to `name` in a fresh folder and opens it.
fn open(name: &str, bytes: &[u8]) -> Result<VectorFile, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    VectorFile::open(&path)
}

fn err(name: &str, bytes: &[u8], want: &str) {
    let e = open(name, bytes).unwrap_err();
    assert!(e.contains(want), "{name}: {e}");
    assert!(e.contains(name), "{name}: the message names the file: {e}");
    assert!(!e.contains('\n'), "{e}");
}

const ROWS: [[f32; 3]; 2] = [[1.0, -2.5, 0.125], [3.0, 1e-3, -7.0]];

fn check_rows(v: &VectorFile) {
    assert_eq!((v.rows(), v.dims()), (2, 3));
    assert_eq!(v.row(0), ROWS[0]);
    assert_eq!(v.row(1), ROWS[1]);
}

#[test]
fn fvecs_files_are_read() {
    let mut b = fvecs_record(&ROWS[0]);
    b.extend(fvecs_record(&ROWS[1]));
    check_rows(&open("a.fvecs", &b).unwrap());
    check_rows(&open("upper.FVECS", &b).unwrap());
}

#[test]
fn npy_files_of_every_version_and_dtype_are_read() {
    let flat: Vec<f32> = ROWS.concat();
    let wide: Vec<f64> = flat.iter().map(|&x| f64::from(x)).collect();
    for major in [1, 2, 3] {
        let v = open("a.npy", &npy(major, "<f4", false, "(2, 3)", &f4(&flat))).unwrap();
        check_rows(&v);
        let v = open("a.npy", &npy(major, "<f8", false, "(2, 3)", &f8(&wide))).unwrap();
        check_rows(&v);
    }
    // 1, -2.5, 0.125, 3, 65504 (the largest half), 2^-24 (the smallest subnormal).
    let halves = [0x3c00, 0xc100, 0x3000, 0x4200, 0x7bff, 0x0001];
    let v = open("h.npy", &npy(1, "<f2", false, "(2, 3)", &f2(&halves))).unwrap();
    assert_eq!(v.row(0), [1.0, -2.5, 0.125]);
    assert_eq!(v.row(1), [3.0, 65504.0, 2f32.powi(-24)]);
    // Python 2's long suffix and a header with double quotes and no trailing comma.
    let v = open("l.npy", &npy(1, "<f4", false, "(2L, 3L)", &f4(&flat))).unwrap();
    check_rows(&v);
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let h = "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \"<f4\"}\n";
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend(f4(&flat));
    check_rows(&open("q.npy", &b).unwrap());
}

#[test]
fn many_rows_cross_read_chunks() {
    // 700 rows of 1000 f4 values: 2.8 MB, more than one 1 MiB read.
    let (rows, dims) = (700, 1000);
    let flat: Vec<f32> = (0..rows * dims).map(|i| i as f32).collect();
    let shape = format!("({rows}, {dims})");
    let v = open("big.npy", &npy(1, "<f4", false, &shape, &f4(&flat))).unwrap();
    assert_eq!((v.rows(), v.dims()), (rows, dims));
    assert_eq!(v.row(699)[999], (rows * dims - 1) as f32);
    assert_eq!(v.row(350)[0], (350 * dims) as f32);
}

#[test]
fn halves_convert_exactly() {
    for h in 0..=u16::MAX {
        let got = f16_to_f32(h);
        let exp = i32::from((h >> 10) & 0x1f);
        let man = f64::from(h & 0x3ff);
        let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
        let want = match exp {
            0 => sign * man * 2f64.powi(-24),
            31 if man == 0.0 => sign * f64::INFINITY,
            31 => {
                assert!(got.is_nan(), "{h:#06x}");
                continue;
            }
            _ => sign * (1.0 + man / 1024.0) * 2f64.powi(exp - 15),
        };
        assert_eq!(f64::from(got), want, "{h:#06x}");
        assert_eq!(got.is_sign_negative(), sign < 0.0, "{h:#06x}");
    }
}

#[test]
fn malformed_fvecs_files_say_what_is_wrong() {
    let rec = fvecs_record(&ROWS[0]);
    let mut two = rec.clone();
    two.extend(fvecs_record(&ROWS[1]));
    err("e.fvecs", &[], "the file is empty");
    err(
        "t.fvecs",
        &two[..two.len() - 3],
        "truncated at byte 16: record 1 needs 16 bytes, 13 are left",
    );
    err("h.fvecs", &two[..18], "truncated at byte 16: 2 bytes left");
    let mut mixed = rec.clone();
    mixed.extend(fvecs_record(&[1.0, 2.0]));
    err(
        "m.fvecs",
        &mixed,
        "record 1 at byte 16 has dimension 2, the first record has 3",
    );
    err(
        "z.fvecs",
        &fvecs_record(&[]),
        "record 0 at byte 0 has 0 dimensions",
    );
    err(
        "n.fvecs",
        &(-4i32).to_le_bytes(),
        "record 0 at byte 0 has dimension -4",
    );
    err(
        "w.fvecs",
        &16_001i32.to_le_bytes(),
        "has 16001 dimensions; vectors need 1 to 16000",
    );
    let mut nan = rec.clone();
    nan.extend(fvecs_record(&[1.0, f32::NAN, 2.0]));
    err("nan.fvecs", &nan, "row 1 (0-based), column 1 is NaN");
    err(
        "inf.fvecs",
        &fvecs_record(&[f32::NEG_INFINITY]),
        "row 0 (0-based), column 0 is -inf",
    );
}

#[test]
fn malformed_npy_files_say_what_is_wrong() {
    let flat: Vec<f32> = ROWS.concat();
    let d = f4(&flat);
    err("s.npy", b"\x93NUMPY", "too short for a .npy file");
    err("m.npy", b"PK\x03\x04 not an npy file", "not a .npy file");
    let mut v4 = npy(1, "<f4", false, "(2, 3)", &d);
    v4[6] = 4;
    err(
        "v.npy",
        &v4,
        "npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)",
    );
    err(
        "f.npy",
        &npy(1, "<f4", true, "(2, 3)", &d),
        "Fortran order; save it in C order",
    );
    err(
        "b.npy",
        &npy(1, ">f4", false, "(2, 3)", &d),
        "dtype >f4 is big-endian",
    );
    err(
        "i.npy",
        &npy(1, "<i4", false, "(2, 3)", &d),
        "dtype <i4 is not supported; save float32",
    );
    err(
        "1.npy",
        &npy(1, "<f4", false, "(6,)", &d),
        "shape [6] is not 2-D",
    );
    err(
        "3.npy",
        &npy(1, "<f4", false, "(1, 2, 3)", &d),
        "is not 2-D",
    );
    err(
        "0.npy",
        &npy(1, "<f4", false, "(0, 3)", &[]),
        "the array has no rows",
    );
    err(
        "w.npy",
        &npy(1, "<f4", false, "(1, 16001)", &[]),
        "each row has 16001 dimensions",
    );
    err(
        "short.npy",
        &npy(1, "<f4", false, "(2, 3)", &d[..20]),
        "the data is 20 bytes but shape (2, 3) of <f4 needs 24",
    );
    let mut long = d.clone();
    long.push(0);
    err(
        "long.npy",
        &npy(2, "<f4", false, "(2, 3)", &long),
        "the data is 25 bytes",
    );
    err(
        "huge.npy",
        &npy(1, "<f4", false, "(4611686018427387904, 16)", &d),
        "needs more than 2^64",
    );
    let mut nan = flat.clone();
    nan[4] = f32::INFINITY;
    err(
        "nan.npy",
        &npy(3, "<f4", false, "(2, 3)", &f4(&nan)),
        "row 1 (0-based), column 1 is inf",
    );
    err(
        "h.npy",
        &npy(1, "<f2", false, "(1, 2)", &f2(&[0x3c00, 0x7e00])),
        "row 0 (0-based), column 1 is NaN",
    );
    err(
        "o.npy",
        &npy(1, "<f8", false, "(1, 2)", &f8(&[1.0, 1e300])),
        "column 1 is 1e300, beyond the float32 range",
    );
    let mut cut = npy(1, "<f4", false, "(2, 3)", &d);
    cut[8] = 0xff;
    err("c.npy", &cut, "the npy header claims 255 bytes");
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let h = "{'descr': '<f4', 'shape': (2, 3)}\n";
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    err("k.npy", &b, "lacks 'descr', 'fortran_order' or 'shape'");
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}\n";
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    err(
        "p.npy",
        &b,
        "cannot parse the npy header: expected a string, True, False",
    );
}

#[test]
fn other_files_are_refused() {
    err(
        "a.bin",
        b"abc",
        "the name must end in .fvecs (ann-benchmarks, TEXMEX) or .npy",
    );
    err("noext", b"abc", "or .npy");
    let e = VectorFile::open(Path::new("/nonexistent/x.fvecs")).unwrap_err();
    assert!(e.contains("/nonexistent/x.fvecs: cannot open it"), "{e}");
    // A sparse file just above 8 GiB costs no disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.npy");
    File::create(&path)
        .unwrap()
        .set_len(MAX_FILE_BYTES + 1)
        .unwrap();
    let e = VectorFile::open(&path).unwrap_err();
    assert!(
        e.contains("8589934593 bytes is above the limit of 8 GiB"),
        "{e}"
    );
    // a pipe (which would block the open), a device through a symlink, a folder
    let fifo = dir.path().join("p.fvecs");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let zero = dir.path().join("z.npy");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let folder = dir.path().join("d.npy");
    std::fs::create_dir(&folder).unwrap();
    for p in [fifo, zero, folder] {
        let e = VectorFile::open(&p).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
