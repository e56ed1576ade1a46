//! Generators that read earlier columns of the row: `same_as`, `template`, `pick`,
//! `parent` and `derived`.

use super::*;

pub(super) fn same_as(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let col = v.as_str().unwrap_or_default();
    let cols = row_columns("same_as", p, ctx, errors)?;
    let i = earlier_column(col, cols, p, errors)?;
    Some(Gen::SameAs(i))
}

/// The earlier columns of the row, for a generator that reads them; outside data tables,
/// an error.
fn row_columns<'a>(
    name: &str,
    p: &str,
    ctx: &Ctx<'a>,
    errors: &mut Vec<String>,
) -> Option<&'a [String]> {
    if ctx.columns.is_none() {
        errors.push(format!(
            "{p}: {name} only applies to data columns (it reads earlier columns of the same row); in a transaction use vars to share a value"
        ));
    }
    ctx.columns
}

/// The position of the earlier column `col`, or an error listing the earlier columns.
fn earlier_column(col: &str, cols: &[String], p: &str, errors: &mut Vec<String>) -> Option<usize> {
    let i = cols.iter().position(|c| c == col);
    if i.is_none() {
        errors.push(format!(
            "{p}: no earlier column '{col}' in this table; columns before this one: {}",
            if cols.is_empty() {
                "none".to_string()
            } else {
                cols.join(", ")
            }
        ));
    }
    i
}

/// An upper bound of the bytes of column `i`'s values, through `same_as` copies.
fn column_bytes(gens: &[Gen], mut i: usize) -> u64 {
    for _ in 0..=gens.len() {
        let g = match gens.get(i) {
            Some(Gen::Nullable(_, g)) => g.as_ref(),
            Some(g) => g,
            None => return 0,
        };
        match g {
            Gen::SameAs(j) if *j < i => i = *j,
            g => return g.max_bytes(),
        }
    }
    0
}

/// `template: "{last_name}, {first_name}"`: `{column}` (letters, digits and _ in single
/// braces) is an earlier column's value; every other character, other braces included, is
/// kept as written.
pub(super) fn template(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let cols = row_columns("template", p, ctx, errors)?;
    let Some(text) = v.as_str() else {
        errors.push(format!(
            "{p}: expected text naming earlier columns in single braces, e.g. template: \"{{last_name}}, {{first_name}}\""
        ));
        return None;
    };
    let before = errors.len();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut bytes = 0u64;
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len == 0 || !after[len..].starts_with('}') {
            literal.push_str(&rest[..=open]);
            rest = after;
            continue;
        }
        literal.push_str(&rest[..open]);
        if let Some(i) = earlier_column(&after[..len], cols, p, errors) {
            if !literal.is_empty() {
                bytes += 2 * literal.len() as u64;
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Column(i));
            bytes = bytes.saturating_add(column_bytes(ctx.column_gens, i));
        }
        rest = &after[len + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        bytes += 2 * literal.len() as u64;
        pieces.push(Piece::Text(literal));
    }
    (errors.len() == before).then_some(Gen::Template { pieces, bytes })
}

/// `pick: {by: COLUMN, values: {VALUE: generator, ...}, default: generator}`.
pub(super) fn pick(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let cols = row_columns("pick", p, ctx, errors)?;
    let a: PickArgs = args(v, p, errors);
    let column = if a.by.is_empty() {
        errors.push(format!(
            "{p}.by: missing; name the earlier column whose value picks the generator"
        ));
        None
    } else {
        earlier_column(&a.by, cols, &format!("{p}.by"), errors)
    };
    if a.values.is_empty() {
        errors.push(format!(
            "{p}.values: give at least one VALUE: generator, e.g. values: {{3: {{choice: [Drama, Comedy]}}}}"
        ));
    }
    let mut values: Vec<(String, Gen)> = Vec::with_capacity(a.values.len());
    for (k, g) in &a.values {
        let key = match scalar(k) {
            Some(Value::Null) | None => {
                errors.push(format!(
                    "{p}.values: keys must be numbers, text or booleans; NULL values take the default"
                ));
                continue;
            }
            Some(v) => {
                let mut s = String::new();
                v.push_text(&mut s);
                s
            }
        };
        let Some(g) = parse(g, &format!("{p}.values.{key}"), ctx, errors) else {
            continue;
        };
        if values.iter().any(|(x, _)| *x == key) {
            errors.push(format!(
                "{p}.values.{key}: given twice (keys are compared as text: 3 and '3' are the same); keep one"
            ));
            continue;
        }
        values.push((key, g));
    }
    let default = match &a.default {
        Some(d) => Some(Box::new(parse(d, &format!("{p}.default"), ctx, errors)?)),
        None => None,
    };
    values.sort_by(|x, y| x.0.cmp(&y.0));
    Some(Gen::Pick {
        column: column?,
        values,
        default,
    })
}

/// `parent: {key: C, column: P}`: column P of the row that the earlier foreign-key
/// column C refers to, made again from the parent table's generators.
pub(super) fn parent(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let cols = row_columns("parent", p, ctx, errors)?;
    let a: ParentArgs = args(v, p, errors);
    if a.key.is_empty() || a.column.is_empty() {
        errors.push(format!(
            "{p}: give key (an earlier foreign-key column of this row) and column (the parent's column), e.g. parent: {{key: product_id, column: price}}"
        ));
        return None;
    }
    let key = earlier_column(&a.key, cols, &format!("{p}.key"), errors)?;
    let fk = match ctx.column_gens.get(key) {
        Some(Gen::Nullable(_, g)) => g.as_ref(),
        g => g?,
    };
    let Gen::ForeignKey {
        start, step, table, ..
    } = fk
    else {
        errors.push(format!(
            "{p}.key: '{}' is not a foreign_key column; parent follows a foreign key to its row",
            a.key
        ));
        return None;
    };
    let (start, step) = (*start, *step);
    // the parent's rows are made again from its generators: it is an earlier data table
    let name = &ctx.tables[*table].name;
    let Some((table, t)) = ctx
        .parents
        .iter()
        .enumerate()
        .find(|(_, t)| t.name == *name)
    else {
        errors.push(format!(
            "{p}.key: its foreign key's table '{name}' must come before this table in data (its rows are made again from its generators)"
        ));
        return None;
    };
    let names: Vec<&str> = t.names.iter().map(String::as_str).collect();
    let Some(c) = names.iter().position(|n| *n == a.column) else {
        errors.push(format!(
            "{p}.column: table '{}' has no column '{}'; its columns: {}",
            t.name,
            a.column,
            names.join(", ")
        ));
        return None;
    };
    let columns: Arc<[Gen]> = t.columns[..=c].iter().cloned().collect();
    let kind = columns[c].out_kind();
    Some(Gen::Parent {
        key,
        start,
        step,
        table,
        reads_row: columns.iter().any(Gen::reads_row),
        columns,
        kind,
    })
}

/// `derived: {column: C, multiply: Y, add: X, modulo: M}`: `(C * Y + X) mod M`.
pub(super) fn derived(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let cols = row_columns("derived", p, ctx, errors)?;
    let a: DerivedArgs = args(v, p, errors);
    let before = errors.len();
    let num =
        |n: &Option<serde_yaml::Number>, key: &str, default: i64, errors: &mut Vec<String>| {
            let Some(n) = n else {
                return Num::Int(default);
            };
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Num::Int(i),
                (None, Some(x)) if x.is_finite() => Num::Float(x),
                _ => {
                    errors.push(format!("{p}.{key}: must be a finite number (got {n})"));
                    Num::Int(default)
                }
            }
        };
    let multiply = num(&a.multiply, "multiply", 1, errors);
    let add = num(&a.add, "add", 0, errors);
    let modulo = a
        .modulo
        .as_ref()
        .map(|_| num(&a.modulo, "modulo", 1, errors));
    if let Some(m) = modulo.filter(|m| m.f() <= 0.0) {
        let m = match m {
            Num::Int(i) => i.to_string(),
            Num::Float(x) => crate::core::Shown(x).to_string(),
        };
        errors.push(format!(
            "{p}.modulo: must be positive (got {m}); the result is the remainder in 0..modulo"
        ));
    }
    let column = if a.column.is_empty() {
        errors.push(format!(
            "{p}.column: missing; name the earlier numeric column to derive from"
        ));
        None
    } else {
        earlier_column(&a.column, cols, &format!("{p}.column"), errors)
    };
    let column = column?;
    let source = ctx
        .column_gens
        .get(column)
        .map_or(OutKind::Any, Gen::out_kind);
    if !matches!(source, OutKind::Int | OutKind::Float | OutKind::Any) {
        errors.push(format!(
            "{p}.column: '{}' holds {} values; derived needs a numeric column",
            a.column,
            source.name()
        ));
    }
    let float = [Some(multiply), Some(add), modulo]
        .iter()
        .any(|n| matches!(n, Some(Num::Float(_))));
    let kind = if float || source == OutKind::Float {
        OutKind::Float
    } else {
        source
    };
    (errors.len() == before).then_some(Gen::Derived {
        column,
        multiply,
        add,
        modulo,
        kind,
    })
}
