//! Compiling `data:`: each table's rows and key ranges, then its column generators.

use super::*;

impl Compiler<'_> {
    /// First pass over `data`: every table's rows and sequence columns, so foreign keys
    /// may point at any table, in any order.
    pub(super) fn table_ranges(&mut self, raw: &RawWorkload) -> Vec<TableRange> {
        let mut out: Vec<TableRange> = Vec::new();
        for (i, t) in raw.data.iter().enumerate() {
            let path = format!("data[{i}]");
            if !sql::plain_identifier(&t.table) {
                self.err(
                    &format!("{path}.table"),
                    format!(
                        "'{}' must be a lower-case table name (letters, digits, _; optionally schema.table)",
                        t.table
                    ),
                );
            }
            if out.iter().any(|o| o.name == t.table) {
                self.err(
                    &format!("{path}.table"),
                    format!("table '{}' is listed twice in data", t.table),
                );
            }
            let rows = match (t.rows, t.rows_per_scale) {
                (Some(n), None) => n,
                (None, Some(n)) => n.saturating_mul(self.scale),
                (Some(_), Some(_)) => {
                    self.err(&path, "give rows (fixed) or rows_per_scale, not both");
                    0
                }
                (None, None) => {
                    self.err(
                        &path,
                        "missing rows_per_scale (rows per unit of scale) or rows (a fixed count)",
                    );
                    0
                }
            };
            if rows > MAX_ROWS {
                self.err(
                    &path,
                    format!(
                        "{rows} rows at scale {} is above the limit of {MAX_ROWS} rows per table; lower rows, rows_per_scale or the scale",
                        self.scale
                    ),
                );
            }
            let mut sequences = Vec::new();
            for (k, v) in &t.columns {
                let (Some(col), Some(seq)) = (k.as_str(), v.get("sequence")) else {
                    continue;
                };
                let get = |key: &str, d: i64| seq.get(key).and_then(|x| x.as_i64()).unwrap_or(d);
                sequences.push((col.to_string(), get("start", 1), get("step", 1)));
            }
            out.push(TableRange {
                name: t.table.clone(),
                rows,
                sequences,
                new_keys: Default::default(),
            });
        }
        out
    }

    pub(super) fn data(&mut self, raw: &RawWorkload, ranges: &[TableRange]) -> Vec<DataTable> {
        let mut out = Vec::new();
        for (i, t) in raw.data.iter().enumerate() {
            let path = format!("data[{i}]");
            if t.columns.is_empty() {
                self.err(
                    &format!("{path}.columns"),
                    "give at least one column: name: generator",
                );
                continue;
            }
            let mut names = Vec::new();
            let mut columns = Vec::new();
            for (k, v) in &t.columns {
                let col = k.as_str().unwrap_or_default();
                let p = format!("{path}.columns.{col}");
                if !sql::plain_identifier(col) || col.contains('.') {
                    self.err(&p, "column names must be lower-case letters, digits and _");
                    continue;
                }
                let mut ctx = Ctx {
                    dir: self.dir,
                    tables: ranges,
                    sequences: self.sequences,
                    resumes: Vec::new(),
                    columns: Some(&names),
                    column_gens: &columns,
                    parents: &out,
                };
                let g = gen::parse(v, &p, &mut ctx, &mut self.errors);
                self.sequences = ctx.sequences;
                if let Some(g) = g {
                    names.push(col.to_string());
                    columns.push(g);
                }
            }
            let row_bytes = columns.iter().fold(0u64, |acc, mut g| {
                // a copied column weighs what the column it copies does (indexes only
                // point at earlier columns, so this ends)
                while let Gen::SameAs(i) = g {
                    match columns.get(*i) {
                        Some(c) if !std::ptr::eq(c, g) => g = c,
                        _ => break,
                    }
                }
                acc.saturating_add(g.max_bytes())
            });
            if row_bytes > gen::MAX_ROW_BYTES {
                self.err(
                    &path,
                    format!(
                        "one row can reach {row_bytes} bytes, above the limit of {} MiB; lower the lengths of its generators",
                        gen::MAX_ROW_BYTES >> 20
                    ),
                );
            }
            let hidden: Vec<bool> = names.iter().map(|n| n.starts_with('_')).collect();
            let loaded: Vec<&str> = names
                .iter()
                .filter(|n| !n.starts_with('_'))
                .map(String::as_str)
                .collect();
            if loaded.is_empty() {
                self.err(
                    &format!("{path}.columns"),
                    "every column is a helper (named _...); give at least one column to load",
                );
            }
            out.push(DataTable {
                name: t.table.clone(),
                rows: ranges[i].rows,
                copy_sql: format!("COPY {} ({}) FROM STDIN", t.table, loaded.join(", ")),
                same_as: columns.iter().any(Gen::reads_row),
                columns,
                hidden,
                names,
            });
        }
        out
    }
}
