//! A declarative workload's worker: draws a transaction's values and sends its
//! prepared statements, with BEGIN and COMMIT sharing the first and last round trips.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use rand::Rng as _;

use super::value::Value;
use super::{gen, spec, Shared, Suite};
use crate::core::seen::RowsSeen;
use crate::core::{
    intern, BoxFuture, Rows, Session, Statements, Step, Stmt, TxError, TxKind, TxOutcome, WorkerTx,
};

pub(super) struct Worker {
    /// The suite this worker claims its transactions from, in a suite mode.
    pub(super) suite: Option<Arc<Suite>>,
    /// The suite transaction claimed by `next_start`.
    pub(super) pending: TxKind,
    /// The worker group (index into the shared cumulative weights).
    pub(super) group: usize,
    pub(super) shared: Arc<Shared>,
    pub(super) stmts: Statements,
    pub(super) st: gen::State,
    /// This transaction's variables.
    pub(super) vars: Vec<Value>,
    /// This transaction's returned values.
    pub(super) slots: Vec<Value>,
    /// The parameters of the statement being sent.
    pub(super) params: Vec<Value>,
    /// Rows of the statements of one round trip.
    pub(super) rows: [Rows; 3],
    /// The text of a COPY transaction's rows.
    pub(super) copy_buf: BytesMut,
}

/// Draws the parameters of `stmt` into `out`.
#[inline]
fn fill(
    out: &mut Vec<Value>,
    stmt: &spec::Statement,
    st: &mut gen::State,
    vars: &[Value],
    slots: &[Value],
) {
    out.clear();
    for p in &stmt.params {
        out.push(match p {
            spec::Param::Gen(g) => g.sample(st),
            spec::Param::Var(i) => vars[*i].clone(),
            spec::Param::Returned(i) => slots[*i].clone(),
        });
    }
}

type Param<'a> = &'a (dyn postgres_types::ToSql + Sync);

/// Statements with up to this many parameters bind them without allocating.
const INLINE_PARAMS: usize = 16;

/// The parameters as the statement API takes them: on the stack for the usual few, in
/// a vector beyond [`INLINE_PARAMS`]. The inline array is the point: it lives on the
/// stack for the span of one statement.
#[allow(clippy::large_enum_variant)]
enum Refs<'a> {
    Inline([Param<'a>; INLINE_PARAMS], usize),
    Heap(Vec<Param<'a>>),
}

/// Fills the unused inline slots (never bound).
static UNUSED: Value = Value::Null;

#[inline]
fn refs(params: &[Value]) -> Refs<'_> {
    if params.len() > INLINE_PARAMS {
        return Refs::Heap(params.iter().map(|v| v as Param).collect());
    }
    let mut buf: [Param; INLINE_PARAMS] = [&UNUSED; INLINE_PARAMS];
    for (slot, v) in buf.iter_mut().zip(params) {
        *slot = v;
    }
    Refs::Inline(buf, params.len())
}

impl<'a> std::ops::Deref for Refs<'a> {
    type Target = [Param<'a>];
    #[inline]
    fn deref(&self) -> &[Param<'a>] {
        match self {
            Refs::Inline(buf, n) => &buf[..*n],
            Refs::Heap(v) => v,
        }
    }
}

/// Keeps the columns of `rows`' first row that later statements use (NULL when it
/// returned no row).
fn capture(
    rows: &Rows,
    prepared: &Stmt,
    stmt: &spec::Statement,
    slots: &mut [Value],
) -> Result<(), TxError> {
    for (col, slot) in &stmt.captures {
        slots[*slot] = match prepared.column(col) {
            _ if rows.is_empty() => Value::Null,
            Some(i) => rows.get::<Value>(0, i)?,
            None => Value::Missing(intern(&format!(
                "statement {} returns no column '{col}'; add it to RETURNING (or the select list)",
                stmt.label
            ))),
        };
    }
    Ok(())
}

/// Whether the value `rollback_if` checks after statement `i` makes the transaction a
/// deliberate rollback.
fn deliberate(tx: &spec::Transaction, i: usize, slots: &[Value]) -> bool {
    match tx.rollback.check {
        Some((at, slot, on_false)) if at == i => match slots.get(slot) {
            None | Some(Value::Null) => true,
            Some(Value::Bool(false)) => on_false,
            Some(_) => false,
        },
        _ => false,
    }
}

/// Sends one statement; keeps the returned columns later statements use. Returns its
/// command tag's count.
async fn send(
    session: &mut dyn Session,
    prepared: &Stmt,
    stmt: &spec::Statement,
    params: &[Value],
    rows: &mut Rows,
    slots: &mut [Value],
) -> Result<u64, TxError> {
    if stmt.captures.is_empty() {
        return session.execute(prepared, &refs(params)).await;
    }
    session.query(prepared, &refs(params), rows).await?;
    capture(rows, prepared, stmt, slots)?;
    Ok(rows.affected())
}

impl Worker {
    async fn run_tx(
        &mut self,
        kind: TxKind,
        session: &mut dyn Session,
    ) -> Result<TxOutcome, TxError> {
        let Worker {
            suite: _,
            pending: _,
            group: _,
            shared,
            stmts,
            st,
            vars,
            slots,
            params,
            rows,
            copy_buf,
        } = self;
        let tx = &shared.spec.transactions[kind];
        if let Some(c) = &tx.copy {
            return copy_tx(c, st, copy_buf, session).await;
        }
        let ids = &shared.stmt_ids[kind];
        stmts.ready(session, ids).await?;
        if let Some(b) = shared.begin_ids[kind] {
            stmts.ready(session, &[b, shared.commit_id]).await?;
        }
        let stmts: &Statements = stmts;
        vars.clear();
        for g in &tx.vars {
            vars.push(g.sample(st));
        }
        slots.clear();
        slots.resize(tx.slots, Value::Null);
        let mut run = Run {
            tx,
            stmts,
            seen: &shared.seen,
            ids,
            st,
            vars,
            slots,
            params,
            rows,
        };
        let Some(begin_id) = shared.begin_ids[kind] else {
            return run.implicit(session).await;
        };
        run.block(session, stmts.at(begin_id), stmts.at(shared.commit_id))
            .await
    }
}

/// Sends a COPY transaction: its rows drawn into `copy_buf`, then one COPY.
#[inline]
async fn copy_tx(
    c: &spec::CopyTx,
    st: &mut gen::State,
    copy_buf: &mut BytesMut,
    session: &mut dyn Session,
) -> Result<TxOutcome, TxError> {
    copy_buf.clear();
    for _ in 0..c.rows {
        for (i, g) in c.columns.iter().enumerate() {
            if i > 0 {
                copy_buf.put_u8(b'\t');
            }
            g.sample(st).write_copy(copy_buf);
        }
        copy_buf.put_u8(b'\n');
    }
    session.copy_in(&c.sql, copy_buf).await?;
    Ok(TxOutcome::committed(1))
}

/// One transaction's statements as prepared on the worker's connection, and the
/// worker's values and buffers, borrowed for the span of the transaction.
struct Run<'w> {
    tx: &'w spec::Transaction,
    stmts: &'w Statements,
    seen: &'w RowsSeen,
    /// The prepared-set index of each statement (also its index in `seen`).
    ids: &'w [usize],
    st: &'w mut gen::State,
    vars: &'w [Value],
    slots: &'w mut Vec<Value>,
    params: &'w mut Vec<Value>,
    rows: &'w mut [Rows; 3],
}

impl Run<'_> {
    /// One statement, no options: the server's implicit transaction.
    #[inline]
    async fn implicit(&mut self, session: &mut dyn Session) -> Result<TxOutcome, TxError> {
        let stmt = &self.tx.statements[0];
        fill(self.params, stmt, self.st, self.vars, self.slots);
        let n = send(
            session,
            self.stmts.at(self.ids[0]),
            stmt,
            self.params,
            &mut self.rows[0],
            self.slots,
        )
        .await?;
        self.seen.saw(self.ids[0], n);
        Ok(TxOutcome::committed(1))
    }

    /// A transaction block. BEGIN travels with the first statement and COMMIT with the
    /// last, in one round trip each; after a failure the block is rolled back.
    #[inline]
    async fn block(
        &mut self,
        session: &mut dyn Session,
        begin: &Stmt,
        commit: &Stmt,
    ) -> Result<TxOutcome, TxError> {
        let n = self.tx.statements.len();
        self.first_trip(session, begin, commit).await?;
        if n == 1 {
            return Ok(TxOutcome::committed(1));
        }
        if deliberate(self.tx, 0, self.slots) {
            session.simple_query("ROLLBACK").await?;
            return Ok(TxOutcome::RolledBack { queries: 2 });
        }
        for i in 1..n - 1 {
            if let Some(outcome) = self.middle(session, i).await? {
                return Ok(outcome);
            }
        }
        self.last_trip(session, commit).await?;
        Ok(TxOutcome::committed(n as u32))
    }

    /// BEGIN and the first statement (and COMMIT, when it is the only one) in one round
    /// trip.
    #[inline]
    async fn first_trip(
        &mut self,
        session: &mut dyn Session,
        begin: &Stmt,
        commit: &Stmt,
    ) -> Result<(), TxError> {
        let stmt = &self.tx.statements[0];
        let prepared = self.stmts.at(self.ids[0]);
        fill(self.params, stmt, self.st, self.vars, self.slots);
        let first = refs(self.params);
        let steps: &[Step] = &[
            Step::new(begin, &[]),
            Step::new(prepared, &first),
            Step::new(commit, &[]),
        ];
        let steps = if self.tx.statements.len() == 1 {
            steps
        } else {
            &steps[..2]
        };
        let sent = session.pipeline(steps, &mut self.rows[..steps.len()]).await;
        drop(first);
        if sent.is_ok() {
            self.seen.saw(self.ids[0], self.rows[1].affected());
        }
        let r = sent.and_then(|()| capture(&self.rows[1], prepared, stmt, self.slots));
        rolled_back_on_err(session, r).await
    }

    /// Statement `i`, neither the first nor the last, in its own round trip; a deliberate
    /// rollback after it is the transaction's outcome.
    #[inline]
    async fn middle(
        &mut self,
        session: &mut dyn Session,
        i: usize,
    ) -> Result<Option<TxOutcome>, TxError> {
        let stmt = &self.tx.statements[i];
        let ps = self.stmts.at(self.ids[i]);
        fill(self.params, stmt, self.st, self.vars, self.slots);
        let r = send(
            session,
            ps,
            stmt,
            self.params,
            &mut self.rows[0],
            self.slots,
        )
        .await
        .map(|n| self.seen.saw(self.ids[i], n));
        rolled_back_on_err(session, r).await?;
        if deliberate(self.tx, i, self.slots) {
            session.simple_query("ROLLBACK").await?;
            return Ok(Some(TxOutcome::RolledBack {
                queries: i as u32 + 2,
            }));
        }
        Ok(None)
    }

    /// The last statement and COMMIT in one round trip.
    #[inline]
    async fn last_trip(&mut self, session: &mut dyn Session, commit: &Stmt) -> Result<(), TxError> {
        let n = self.tx.statements.len();
        let last = &self.tx.statements[n - 1];
        let prepared = self.stmts.at(self.ids[n - 1]);
        fill(self.params, last, self.st, self.vars, self.slots);
        let p = refs(self.params);
        let steps = [Step::new(prepared, &p), Step::new(commit, &[])];
        let sent = session.pipeline(&steps, &mut self.rows[..2]).await;
        if sent.is_ok() {
            self.seen.saw(self.ids[n - 1], self.rows[0].affected());
        }
        let r = sent.and_then(|()| capture(&self.rows[0], prepared, last, self.slots));
        rolled_back_on_err(session, r).await
    }
}

/// `r`, after rolling the open block back when it failed (best effort: the error of the
/// statement is the one reported).
#[inline]
async fn rolled_back_on_err(
    session: &mut dyn Session,
    r: Result<(), TxError>,
) -> Result<(), TxError> {
    if r.is_err() {
        let _ = session.simple_query("ROLLBACK").await;
    }
    r
}

impl WorkerTx for Worker {
    #[inline]
    fn next_kind(&mut self) -> TxKind {
        if self.suite.is_some() {
            return self.pending;
        }
        let c = &self.shared.cumulative[self.group];
        if c.len() == 1 {
            return 0;
        }
        let u: f64 = self.st.rng.gen();
        c.iter().position(|x| u < *x).unwrap_or(c.len() - 1)
    }

    fn next_start(&mut self) -> crate::core::NextStart {
        let Some(s) = &self.suite else {
            return crate::core::NextStart::Schedule;
        };
        let i = s.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let n = s.order.len() as u64;
        if n == 0 || i >= n.saturating_mul(s.passes) {
            return crate::core::NextStart::Finished;
        }
        self.pending = s.order[(i % n) as usize];
        crate::core::NextStart::Schedule
    }

    fn run<'a>(
        &'a mut self,
        kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        Box::pin(async move {
            let r = self.run_tx(kind, session).await;
            let tx = &self.shared.spec.transactions[kind];
            if let Ok(TxOutcome::Committed { .. }) = r {
                for s in &tx.statements {
                    if let Some((slot, keys)) = &s.inserts {
                        if let Some(Value::Int(k)) = self.slots.get(*slot) {
                            keys.add(*k);
                        }
                    }
                }
            }
            match r {
                // an error the workload expects: a deliberate rollback (the block, if any,
                // was rolled back already)
                Err(e)
                    if e.code()
                        .is_some_and(|c| tx.rollback.sqlstates.iter().any(|s| s == c.code())) =>
                {
                    Ok(TxOutcome::RolledBack {
                        queries: tx.statements.len().max(1) as u32,
                    })
                }
                other => other,
            }
        })
    }
}
