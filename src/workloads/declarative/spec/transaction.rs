//! Compiling `transactions:`: variables, statements, parameters (generators, `var` and
//! `returned`), the BEGIN a transaction needs.

use super::*;

/// Why a file of a query folder is not one query stormbench may run as it stands: a
/// folder copied from elsewhere (a benchmark's repository) may also hold its schema, index
/// or clean-up scripts, which would run as kinds against the user's tables.
/// A statement of only blanks or comments: the server runs it as nothing, and a run of
/// it would count transactions that did no work.
const EMPTY_STATEMENT: &str =
    "the statement is empty (only blanks or comments): give the SQL it runs";

fn not_one_query(sql: &str) -> Option<String> {
    let statements = crate::core::script::split(sql);
    if statements.is_empty() {
        return Some(
            "holds only comments: no query to run; give it one or move it out of the folder".into(),
        );
    }
    if statements.len() > 1 {
        return Some(format!(
            "holds {} statements (a schema or index script?), but each file of the folder runs \
             as one query; move it out of the folder",
            statements.len()
        ));
    }
    let first = statements.first()?;
    if let Some(cmd) = crate::core::script::beyond_the_workload(first.text) {
        return Some(format!(
            "is a {cmd} ({}), which changes what the cluster or the whole database shares; a \
             folder holds queries only: move it out of the folder",
            first.head()
        ));
    }
    crate::core::script::destructive_anywhere(first.text).map(|cmd| {
        format!(
            "is a {cmd} ({}), which would drop, empty, change or replace existing objects; \
             a folder holds queries only: move it out of the folder",
            first.head()
        )
    })
}

impl Compiler<'_> {
    pub(super) fn transactions(
        &mut self,
        raw: &RawWorkload,
        ranges: &[TableRange],
    ) -> Vec<Transaction> {
        let from = raw
            .transactions_from
            .as_ref()
            .filter(|f| !f.folder.trim().is_empty());
        if raw.transactions.is_empty() && from.is_none() {
            self.err("transactions", "give at least one transaction");
        }
        let mut out: Vec<Transaction> = Vec::new();
        for (i, t) in raw.transactions.iter().enumerate() {
            let path = format!("transactions[{i}]");
            if !ident_ok(&t.name) {
                self.err(
                    &format!("{path}.name"),
                    format!(
                        "'{}' must be lower-case letters, digits and _, starting with a letter",
                        t.name
                    ),
                );
            }
            if out.iter().any(|o| o.name == t.name) {
                self.err(
                    &format!("{path}.name"),
                    format!("transaction '{}' is defined twice", t.name),
                );
            }
            if t.weight.is_some() && !raw.modes.is_empty() {
                self.err(
                    &format!("{path}.weight"),
                    "only used when there are no modes; put the weight in each mode instead",
                );
            }
            out.push(self.transaction(&path, t, ranges));
        }
        if let Some(f) = from {
            self.transactions_from(f, &mut out);
        }
        out
    }

    /// `transactions_from`: one single-statement transaction per `.sql` file of the
    /// folder, in natural order of the names (2a before 10a), named prefix + file stem.
    fn transactions_from(&mut self, f: &RawFrom, out: &mut Vec<Transaction>) {
        let path = "transactions_from.folder";
        let folder = self.dir.join(&f.folder);
        let entries = match std::fs::read_dir(&folder) {
            Ok(e) => e,
            Err(e) => {
                self.err(
                    path,
                    format!(
                        "cannot read folder {} ({e}); give a folder of .sql files (relative to the workload folder, or absolute)",
                        folder.display()
                    ),
                );
                return;
            }
        };
        let mut files: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql") && p.is_file())
            .collect();
        if files.is_empty() {
            self.err(path, format!("{} holds no .sql file", folder.display()));
            return;
        }
        if files.len() > 10_000 {
            self.err(
                path,
                format!("{} holds more than 10,000 .sql files", folder.display()),
            );
            return;
        }
        files.sort_by_key(|p| natural_key(&p.file_stem().unwrap_or_default().to_string_lossy()));
        let prefix = f.prefix.clone().unwrap_or_else(|| "q".into());
        for file in files {
            let stem = file
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_lowercase();
            let name: String = format!("{prefix}{stem}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let p = format!("{path} ({})", file.display());
            if !ident_ok(&name) {
                self.err(
                    &p,
                    format!(
                        "'{name}' is not a transaction name; give a prefix starting with a letter"
                    ),
                );
                continue;
            }
            if out.iter().any(|o| o.name == name) {
                self.err(&p, format!("transaction '{name}' is defined twice"));
                continue;
            }
            let sql = match yaml::read_text(&file) {
                Ok(t) => t.trim().trim_end_matches(';').trim().to_string(),
                Err(_) => {
                    self.err(&p, "cannot read it, or it is larger than 1 MiB");
                    continue;
                }
            };
            if sql.is_empty() {
                self.err(&p, "the file is empty");
                continue;
            }
            if let Some(m) = not_one_query(&sql) {
                self.err(&p, m);
                continue;
            }
            if let Some(m) = sql::check_placeholders(&sql, 0) {
                self.err(&p, format!("{m}; a query of a folder takes no parameters"));
                continue;
            }
            out.push(Transaction {
                name: name.clone(),
                begin: None,
                vars: Vec::new(),
                statements: vec![Statement {
                    label: format!("{name}[0]"),
                    path: p,
                    sql,
                    params: Vec::new(),
                    captures: Vec::new(),
                    inserts: None,
                }],
                slots: 0,
                copy: None,
                rollback: RollbackIf::default(),
            });
        }
    }

    fn transaction(
        &mut self,
        path: &str,
        t: &RawTransaction,
        ranges: &[TableRange],
    ) -> Transaction {
        let (var_names, vars) = self.vars(path, t, ranges);
        if let Some(c) = &t.copy {
            if !t.statements.is_empty() || !t.vars.is_empty() || t.isolation.is_some() {
                self.err(
                    path,
                    "a copy transaction has no statements, vars or isolation; make them two transactions",
                );
            }
            return Transaction {
                name: t.name.clone(),
                begin: None,
                vars,
                statements: Vec::new(),
                slots: 0,
                copy: self.copy(&format!("{path}.copy"), c, ranges),
                rollback: RollbackIf::default(),
            };
        }
        if t.statements.is_empty() {
            self.err(
                &format!("{path}.statements"),
                "give at least one statement (or copy)",
            );
        }
        let mut tx = TxBuild {
            name: &t.name,
            path,
            var_names: &var_names,
            statements: Vec::new(),
            slots: 0,
        };
        for (j, s) in t.statements.iter().enumerate() {
            let p = format!("{path}.statements[{j}]");
            let sql = self.statement_sql(&p, s, &tx.statements);
            let mut params = Vec::new();
            for (k, v) in s.params.iter().enumerate() {
                let pp = format!("{p}.params[{k}]");
                if let Some(param) = self.param(&pp, v, &mut tx, ranges) {
                    params.push(param);
                }
            }
            tx.statements.push(Statement {
                label: match &s.name {
                    Some(n) => format!("{}.{n}", t.name),
                    None => format!("{}[{j}]", t.name),
                },
                path: p.clone(),
                sql,
                params,
                captures: Vec::new(),
                inserts: None,
            });
            if let Some(v) = &s.inserts {
                let i = tx.statements.len() - 1;
                self.inserts(&format!("{p}.inserts"), v, i, &mut tx, ranges);
            }
        }
        let rollback = match &t.rollback_if {
            Some(r) => self.rollback_if(&format!("{path}.rollback_if"), r, &mut tx),
            None => RollbackIf::default(),
        };
        let TxBuild {
            statements, slots, ..
        } = tx;
        self.drawn_fits(path, &vars, &statements);
        Transaction {
            name: t.name.clone(),
            begin: begin(t, statements.len()),
            vars,
            statements,
            slots,
            copy: None,
            rollback,
        }
    }

    /// `rollback_if`: SQLSTATEs, and a returned value checked after its statement.
    fn rollback_if(&mut self, path: &str, r: &RawRollbackIf, tx: &mut TxBuild<'_>) -> RollbackIf {
        let mut out = RollbackIf::default();
        for (i, v) in r.sqlstate.iter().enumerate() {
            let code = match v {
                serde_yaml::Value::String(s) => s.clone(),
                serde_yaml::Value::Number(n) => format!("{n:0>5}"),
                _ => String::new(),
            };
            if code.len() == 5
                && code
                    .chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            {
                out.sqlstates.push(code);
            } else {
                self.err(
                    &format!("{path}.sqlstate[{i}]"),
                    "a SQLSTATE is five digits or capital letters, e.g. \"23514\" (quote it)",
                );
            }
        }
        let check = match (&r.missing, &r.is_false) {
            (Some(m), None) => Some((m, false, "missing")),
            (None, Some(f)) => Some((f, true, "not")),
            (None, None) => None,
            (Some(_), Some(_)) => {
                self.err(path, "give missing or not, not both");
                None
            }
        };
        if let Some((spec, on_false, key)) = check {
            let p = format!("{path}.{key}");
            let stmt = spec.split_once('.').map(|(s, _)| s.to_string());
            if let Some(Param::Returned(slot)) = self.returned_param(&p, spec, tx) {
                let label = format!("{}.{}", tx.name, stmt.unwrap_or_default());
                let idx = tx
                    .statements
                    .iter()
                    .position(|s| s.label == label)
                    .unwrap_or(0);
                if idx + 1 >= tx.statements.len() {
                    self.err(
                        &p,
                        "the statement it checks must not be the last (the last one commits); check an earlier statement",
                    );
                } else {
                    out.check = Some((idx, slot, on_false));
                }
            }
        }
        if out.sqlstates.is_empty() && out.check.is_none() {
            self.err(path, "give sqlstate, missing or not");
        }
        out
    }

    /// A `copy:` transaction: its table, rows per COPY and column generators.
    fn copy(&mut self, path: &str, c: &RawCopy, ranges: &[TableRange]) -> Option<CopyTx> {
        if !sql::plain_identifier(&c.table) {
            self.err(
                &format!("{path}.table"),
                format!("'{}' must be a lower-case table name", c.table),
            );
        }
        if !(1..=1_000_000).contains(&c.rows) {
            self.err(
                &format!("{path}.rows"),
                "rows per COPY: a whole number from 1 to 1000000",
            );
        }
        if c.columns.is_empty() {
            self.err(
                &format!("{path}.columns"),
                "give at least one column: name: generator",
            );
        }
        let mut names = Vec::new();
        let mut columns = Vec::new();
        for (k, v) in &c.columns {
            let col = k.as_str().unwrap_or_default();
            let p = format!("{path}.columns.{col}");
            if !sql::plain_identifier(col) || col.contains('.') {
                self.err(&p, "column names must be lower-case letters, digits and _");
                continue;
            }
            if let Some(g) = self.generator(v, &p, ranges) {
                if matches!(g, Gen::SameAs(_)) {
                    self.err(&p, "same_as is for data tables only");
                    continue;
                }
                self.bind_copied_sequence(&g, &c.table, col);
                names.push(col.to_string());
                columns.push(g);
            }
        }
        let row = columns
            .iter()
            .fold(0u64, |a, g| a.saturating_add(g.max_bytes()));
        if row.saturating_mul(c.rows) > gen::MAX_ROW_BYTES {
            self.err(
                path,
                format!(
                    "one COPY can reach {} bytes, above the limit of {} MiB; copy fewer rows",
                    row.saturating_mul(c.rows),
                    gen::MAX_ROW_BYTES >> 20
                ),
            );
        }
        Some(CopyTx {
            sql: format!("COPY {} ({}) FROM STDIN", c.table, names.join(", ")),
            rows: c.rows,
            columns,
        })
    }

    /// A sequence filling a column of a `copy:` resumes past that column's keys at each
    /// run (unless `after:` already binds it).
    fn bind_copied_sequence(&mut self, g: &Gen, table: &str, column: &str) {
        if let Gen::Sequence {
            slot, start, step, ..
        } = *g
        {
            if !self.resumes.iter().any(|r| r.slot == slot) {
                self.resumes.push(super::super::resume::Resume {
                    slot,
                    start,
                    step,
                    table: table.to_string(),
                    column: column.to_string(),
                });
            }
        }
    }

    /// The transaction's `vars`: names and generators, in order.
    fn vars(
        &mut self,
        path: &str,
        t: &RawTransaction,
        ranges: &[TableRange],
    ) -> (Vec<String>, Vec<Gen>) {
        let mut names = Vec::new();
        let mut vars = Vec::new();
        for (k, v) in &t.vars {
            let name = k.as_str().unwrap_or_default().to_string();
            let p = format!("{path}.vars.{name}");
            if let Some(g) = self.generator(v, &p, ranges) {
                names.push(name);
                vars.push(g);
            }
        }
        (names, vars)
    }

    /// A generator at `p`, its sequences numbered after the ones before it.
    fn generator(&mut self, v: &serde_yaml::Value, p: &str, ranges: &[TableRange]) -> Option<Gen> {
        let mut ctx = Ctx {
            dir: self.dir,
            tables: ranges,
            sequences: self.sequences,
            resumes: std::mem::take(&mut self.resumes),
            columns: None,
            column_gens: &[],
            parents: &[],
        };
        let g = gen::parse(v, p, &mut ctx, &mut self.errors);
        self.sequences = ctx.sequences;
        self.resumes = ctx.resumes;
        g
    }

    /// A statement's SQL (inline or from its file), with its placeholders and name
    /// checked against the statements before it.
    fn statement_sql(&mut self, p: &str, s: &RawStatement, earlier: &[Statement]) -> String {
        let sql = match (&s.sql, &s.file) {
            (Some(q), None) if crate::core::script::split(q).is_empty() => {
                self.err(&format!("{p}.sql"), EMPTY_STATEMENT);
                String::new()
            }
            (Some(q), None) => q.clone(),
            (None, Some(f)) => match self.read(&format!("{p}.file"), f) {
                None => String::new(),
                Some(text) => match sql::substitute(&text, &params::refs(&self.vars)) {
                    Ok(t) if crate::core::script::split(&t).is_empty() => {
                        self.err(&format!("{p}.file ({f})"), EMPTY_STATEMENT);
                        String::new()
                    }
                    Ok(t) => t,
                    Err(es) => {
                        for e in es {
                            self.err(&format!("{p}.file ({f})"), e);
                        }
                        String::new()
                    }
                },
            },
            (Some(_), Some(_)) => {
                self.err(p, "give sql or file, not both");
                String::new()
            }
            (None, None) => {
                self.err(p, "missing sql (or file)");
                String::new()
            }
        };
        let sql = sql.trim().trim_end_matches(';').trim().to_string();
        if !sql.is_empty() {
            if let Some(m) = sql::check_placeholders(&sql, s.params.len()) {
                self.err(&format!("{p}.params"), m);
            }
            self.within_the_workload(p, &sql);
        }
        if let Some(n) = &s.name {
            if !ident_ok(n) {
                self.err(
                    &format!("{p}.name"),
                    "must be lower-case letters, digits and _",
                );
            }
            if earlier.iter().any(|o| o.label.ends_with(&format!(".{n}"))) {
                self.err(
                    &format!("{p}.name"),
                    format!("statement name '{n}' is used twice"),
                );
            }
        }
        sql
    }

    /// One parameter at `pp`: a variable, a value an earlier statement returned, or a
    /// generator; `None` after an error.
    fn param(
        &mut self,
        pp: &str,
        v: &serde_yaml::Value,
        tx: &mut TxBuild<'_>,
        ranges: &[TableRange],
    ) -> Option<Param> {
        if let Some(r) = v.get("var") {
            return self.var_param(pp, v, r.as_str().unwrap_or_default(), tx);
        }
        if let Some(r) = v.get("returned") {
            return self.returned_param(pp, r.as_str().unwrap_or_default(), tx);
        }
        self.generator(v, pp, ranges).map(Param::Gen)
    }

    fn var_param(
        &mut self,
        pp: &str,
        v: &serde_yaml::Value,
        name: &str,
        tx: &TxBuild<'_>,
    ) -> Option<Param> {
        match tx.var_names.iter().position(|n| n == name) {
            Some(idx) if v.as_mapping().is_some_and(|m| m.len() == 1) => Some(Param::Var(idx)),
            Some(_) => {
                self.err(pp, "var takes no other keys");
                None
            }
            None => {
                self.err(
                    &format!("{pp}.var"),
                    format!(
                        "no variable '{name}' in {}.vars; variables: {}",
                        tx.path,
                        if tx.var_names.is_empty() {
                            "none".into()
                        } else {
                            tx.var_names.join(", ")
                        }
                    ),
                );
                None
            }
        }
    }

    /// `inserts: TABLE` (or `{table, key}`): statement `i` returns the key of a row it adds
    /// to a data table; captured, and recorded for `new_rows:` once the transaction commits.
    fn inserts(
        &mut self,
        p: &str,
        v: &serde_yaml::Value,
        i: usize,
        tx: &mut TxBuild<'_>,
        ranges: &[TableRange],
    ) {
        let (table, key) = match v {
            serde_yaml::Value::String(t) => (t.as_str(), None),
            serde_yaml::Value::Mapping(m) => {
                let get = |k: &str| m.get(k).and_then(|x| x.as_str());
                let unknown = m
                    .keys()
                    .filter_map(|k| k.as_str())
                    .find(|k| *k != "table" && *k != "key");
                match (get("table"), unknown) {
                    (Some(t), None) => (t, get("key")),
                    (_, Some(k)) => {
                        self.err(
                            p,
                            format!("unknown field '{k}'; the fields are table and key"),
                        );
                        return;
                    }
                    (None, None) => {
                        self.err(p, "give the table: inserts: {table: orders, key: id}");
                        return;
                    }
                }
            }
            _ => {
                self.err(p, "give a data table's name, or {table: orders, key: id}");
                return;
            }
        };
        let Some(t) = ranges.iter().find(|t| t.name == table) else {
            self.err(
                p,
                format!("no table '{table}' in data (new rows are drawn by foreign keys into a data table)"),
            );
            return;
        };
        let Some(key) = key.or(t.sequences.first().map(|s| s.0.as_str())) else {
            self.err(
                p,
                format!("table '{table}' has no sequence column; name the returned key: {{table: {table}, key: id}}"),
            );
            return;
        };
        let slot = capture_slot(&mut tx.statements[i], key, &mut tx.slots);
        let o = &mut tx.statements[i];
        t.new_keys
            .recorded
            .store(true, std::sync::atomic::Ordering::Relaxed);
        o.inserts = Some((slot, t.new_keys.clone()));
    }

    /// `returned: STATEMENT.COLUMN`: the earlier statement captures the column into a slot.
    fn returned_param(&mut self, pp: &str, spec: &str, tx: &mut TxBuild<'_>) -> Option<Param> {
        let Some((stmt, col)) = spec.split_once('.') else {
            self.err(
                &format!("{pp}.returned"),
                format!("'{spec}' must be STATEMENT.COLUMN, e.g. returned: debit.balance"),
            );
            return None;
        };
        let label = format!("{}.{stmt}", tx.name);
        let Some(o) = tx.statements.iter_mut().find(|o| o.label == label) else {
            self.err(
                &format!("{pp}.returned"),
                format!(
                    "no earlier statement named '{stmt}' in this transaction; name the statement that returns it (name: {stmt}) and put it before this one"
                ),
            );
            return None;
        };
        let slot = capture_slot(o, col, &mut tx.slots);
        Some(Param::Returned(slot))
    }

    /// The values one transaction draws must fit the row limit.
    fn drawn_fits(&mut self, path: &str, vars: &[Gen], statements: &[Statement]) {
        let drawn = vars
            .iter()
            .chain(statements.iter().flat_map(|s| {
                s.params.iter().filter_map(|p| match p {
                    Param::Gen(g) => Some(g),
                    _ => None,
                })
            }))
            .fold(0u64, |acc, g| acc.saturating_add(g.max_bytes()));
        if drawn > gen::MAX_ROW_BYTES {
            self.err(
                path,
                format!(
                    "the values drawn for one transaction can reach {drawn} bytes, above the limit of {} MiB; lower the lengths of its generators",
                    gen::MAX_ROW_BYTES >> 20
                ),
            );
        }
    }
}

/// Sorts `10a` after `2a`: the leading number, then the rest.
fn natural_key(stem: &str) -> (u64, String) {
    let digits: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
    (
        digits.parse().unwrap_or(u64::MAX),
        stem[digits.len()..].to_string(),
    )
}

/// A transaction being compiled.
struct TxBuild<'a> {
    name: &'a str,
    path: &'a str,
    var_names: &'a [String],
    statements: Vec<Statement>,
    /// Returned values captured so far.
    slots: usize,
}

/// The slot statement `o` captures column `col` into: its existing one, or the next free.
fn capture_slot(o: &mut Statement, col: &str, slots: &mut usize) -> usize {
    if let Some(c) = o.captures.iter().find(|c| c.0 == col) {
        return c.1;
    }
    o.captures.push((col.to_string(), *slots));
    *slots += 1;
    *slots - 1
}

/// The BEGIN a transaction needs: with options, or to hold several statements.
fn begin(t: &RawTransaction, statements: usize) -> Option<String> {
    let explicit = t.isolation.is_some() || t.read_only.unwrap_or(false);
    (explicit || statements > 1).then(|| {
        let mut b = String::from("BEGIN");
        if let Some(iso) = t.isolation {
            b.push(' ');
            b.push_str(iso.clause());
        }
        if t.read_only.unwrap_or(false) {
            b.push_str(" READ ONLY");
        }
        b
    })
}
