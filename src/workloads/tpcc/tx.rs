//! The five transactions of clause 2, run by one terminal: client-side as prepared
//! statements (independent statements pipelined on the connection), or server-side as one
//! PL/pgSQL function call per transaction.

use std::sync::{Arc, OnceLock};

use postgres_types::ToSql;
use rand::Rng as _;

use super::gen;
use super::load::{CUSTOMERS, DISTRICTS, ITEMS};
use super::sql;
use crate::core::dist::nurand;
use crate::core::{
    BoxFuture, Params, Rng, Rows, Session, Statements, Step, Stmt, TxError, TxKind, TxOutcome,
    WorkerTx,
};
use crate::types::Isolation;

/// Transaction kinds, in report order.
pub(crate) const KINDS: &[&str] = &[
    "new_order",
    "payment",
    "order_status",
    "delivery",
    "stock_level",
];
pub(crate) const NEW_ORDER: TxKind = 0;
pub(crate) const PAYMENT: TxKind = 1;
pub(crate) const ORDER_STATUS: TxKind = 2;
pub(crate) const DELIVERY: TxKind = 3;

const TRANSACTIONS_SQL: &str = include_str!("../../../workloads/tpcc/transactions.sql");

/// The statements of `transactions.sql`, in this order (see the `s` indexes).
const STATEMENT_NAMES: &[&str] = &[
    "no_customer",
    "no_district",
    "no_order",
    "no_new_order",
    "no_items",
    "no_stock",
    "no_line",
    "pay_warehouse",
    "pay_district",
    "customer_by_name",
    "pay_customer",
    "pay_history",
    "os_customer",
    "os_order",
    "os_lines",
    "dl_new_order",
    "dl_order",
    "dl_lines",
    "dl_customer",
    "sl_district",
    "sl_count",
    "begin_read_committed",
    "begin_repeatable_read",
    "begin_serializable",
    "commit",
    "proc_new_order",
    "proc_payment",
    "proc_order_status",
    "proc_delivery",
    "proc_stock_level",
];

/// Indexes into [`STATEMENT_NAMES`].
mod s {
    pub(crate) const NO_CUSTOMER: usize = 0;
    pub(crate) const NO_DISTRICT: usize = 1;
    pub(crate) const NO_ORDER: usize = 2;
    pub(crate) const NO_NEW_ORDER: usize = 3;
    pub(crate) const NO_ITEMS: usize = 4;
    pub(crate) const NO_STOCK: usize = 5;
    pub(crate) const NO_LINE: usize = 6;
    pub(crate) const PAY_WAREHOUSE: usize = 7;
    pub(crate) const PAY_DISTRICT: usize = 8;
    pub(crate) const CUSTOMER_BY_NAME: usize = 9;
    pub(crate) const PAY_CUSTOMER: usize = 10;
    pub(crate) const PAY_HISTORY: usize = 11;
    pub(crate) const OS_CUSTOMER: usize = 12;
    pub(crate) const OS_ORDER: usize = 13;
    pub(crate) const OS_LINES: usize = 14;
    pub(crate) const DL_NEW_ORDER: usize = 15;
    pub(crate) const DL_ORDER: usize = 16;
    pub(crate) const DL_LINES: usize = 17;
    pub(crate) const DL_CUSTOMER: usize = 18;
    pub(crate) const SL_DISTRICT: usize = 19;
    pub(crate) const SL_COUNT: usize = 20;
    pub(crate) const BEGIN: usize = 21;
    pub(crate) const COMMIT: usize = 24;
    pub(crate) const PROC_NEW_ORDER: usize = 25;
    pub(crate) const PROC_PAYMENT: usize = 26;
    pub(crate) const PROC_ORDER_STATUS: usize = 27;
    pub(crate) const PROC_DELIVERY: usize = 28;
    pub(crate) const PROC_STOCK_LEVEL: usize = 29;
}

/// The statement texts in [`STATEMENT_NAMES`] order; the error names a missing block.
pub(crate) fn statement_sql() -> Result<&'static [&'static str], String> {
    static SQL: OnceLock<Result<Vec<&'static str>, &'static str>> = OnceLock::new();
    match SQL.get_or_init(|| sql::all_named(TRANSACTIONS_SQL, STATEMENT_NAMES)) {
        Ok(v) => Ok(v.as_slice()),
        Err(name) => Err(format!("transactions.sql has no statement '{name}'")),
    }
}

/// SQLSTATE a procedure raises for New-Order's unused item number.
const ROLLBACK_SQLSTATE: &str = "TC001";
/// The unused item number of a New-Order that must roll back.
const UNUSED_ITEM: i32 = ITEMS as i32 + 1;

/// The TPC-C statement set's BEGIN of `iso`.
fn begin_statement(iso: Isolation) -> usize {
    s::BEGIN + iso as usize
}

/// Where the transactions' logic runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Execution {
    /// Prepared statements sent by the client (the default).
    #[default]
    Client,
    /// One call of a PL/pgSQL function per transaction.
    Procedures,
}

/// What every terminal shares: immutable after build.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Warehouses loaded (the scale).
    pub(crate) warehouses: i32,
    /// Cumulative shares of the kinds, the last one 1.0.
    pub(crate) cumulative: [f64; 5],
    /// Isolation of every transaction.
    pub(crate) isolation: Isolation,
    /// Client-side statements or server-side functions.
    pub(crate) execution: Execution,
    /// Keying and think times after each transaction.
    pub(crate) think_times: bool,
    /// NURand C_RUN constants for C_LAST, C_ID and OL_I_ID.
    pub(crate) c_last: u64,
    /// C for C_ID.
    pub(crate) c_id: u64,
    /// C for OL_I_ID.
    pub(crate) c_item: u64,
    /// The 1,000 last names by number.
    pub(crate) last_names: Vec<String>,
    /// Statement texts (see [`statement_sql`]).
    pub(crate) sql: &'static [&'static str],
}

/// One terminal: its home warehouse and district, its RNG and its prepared statements.
pub(crate) struct Terminal {
    shared: Arc<Shared>,
    rng: Rng,
    stmts: Statements,
    w_id: i32,
    d_id: i32,
    lines: Lines,
    /// Rows of one round trip's statements (buffers reused).
    rows: Vec<Rows>,
    /// Rows of the stock updates (kept while the order lines are sent).
    stock: Vec<Rows>,
}

/// The order lines of the current New-Order, in item order (buffers reused).
#[derive(Default)]
struct Lines {
    item_ids: Vec<i32>,
    supply_w_ids: Vec<i32>,
    quantities: Vec<i32>,
    remote: Vec<i32>,
    numbers: Vec<i32>,
    /// (I_ID, I_PRICE in cents) of the items found.
    prices: Vec<(i32, i32)>,
    amounts: Vec<i32>,
    sorted: Vec<(i32, i32, i32)>,
}

/// How a Payment or Order-Status finds its customer.
#[derive(Debug, Clone, Copy)]
struct CustomerKey {
    w_id: i32,
    d_id: i32,
    c_id: i32,
    /// Index of the last name when selecting by name (60%).
    by_name: Option<usize>,
}

impl Terminal {
    /// Terminal `worker_id`: warehouse `worker_id % W + 1`, district
    /// `(worker_id / W) % 10 + 1`.
    pub(crate) fn new(shared: Arc<Shared>, worker_id: usize, rng: Rng) -> Self {
        let w = shared.warehouses.max(1) as usize;
        Terminal {
            stmts: Statements::new(shared.sql),
            w_id: (worker_id % w + 1) as i32,
            d_id: ((worker_id / w) % DISTRICTS as usize + 1) as i32,
            shared,
            rng,
            lines: Lines::default(),
            rows: vec![Rows::new(); 4],
            stock: vec![Rows::new(); 4],
        }
    }

    fn district(&mut self) -> i32 {
        self.rng.gen_range(1..=DISTRICTS as i32)
    }

    fn customer_id(&mut self) -> i32 {
        nurand(&mut self.rng, 1023, self.shared.c_id, 1, CUSTOMERS) as i32
    }

    /// A warehouse other than the home one (the home one when there is only one).
    fn remote_warehouse(&mut self) -> i32 {
        let w = self.shared.warehouses;
        if w <= 1 {
            return self.w_id;
        }
        let other = self.rng.gen_range(1..w);
        if other >= self.w_id {
            other + 1
        } else {
            other
        }
    }

    /// The customer of a Payment (`remote` allowed) or Order-Status.
    fn customer_key(&mut self, w_id: i32, d_id: i32) -> CustomerKey {
        let by_name = self.rng.gen_range(1..=100) <= 60;
        CustomerKey {
            w_id,
            d_id,
            c_id: self.customer_id(),
            by_name: by_name
                .then(|| nurand(&mut self.rng, 255, self.shared.c_last, 0, 999) as usize),
        }
    }

    /// Draws the order lines of a New-Order; `rollback` makes the last item unused.
    fn draw_lines(&mut self, rollback: bool) {
        let count = self.rng.gen_range(5..=15);
        let mut sorted = std::mem::take(&mut self.lines.sorted);
        sorted.clear();
        for i in 0..count {
            let item = if rollback && i == count - 1 {
                UNUSED_ITEM
            } else {
                nurand(&mut self.rng, 8191, self.shared.c_item, 1, ITEMS) as i32
            };
            let supply = if self.rng.gen_range(1..=100) == 1 {
                self.remote_warehouse()
            } else {
                self.w_id
            };
            sorted.push((item, supply, self.rng.gen_range(1..=10)));
        }
        // stock rows are locked in item order: no deadlocks between New-Orders
        sorted.sort_unstable();
        let l = &mut self.lines;
        l.item_ids.clear();
        l.supply_w_ids.clear();
        l.quantities.clear();
        l.remote.clear();
        l.numbers.clear();
        for (n, (item, supply, qty)) in sorted.iter().enumerate() {
            l.item_ids.push(*item);
            l.supply_w_ids.push(*supply);
            l.quantities.push(*qty);
            l.remote.push(i32::from(*supply != self.w_id));
            l.numbers.push(n as i32 + 1);
        }
        l.sorted = sorted;
    }

    /// Statement `i`, prepared on `session`.
    async fn stmt(&mut self, session: &mut dyn Session, i: usize) -> Result<Stmt, TxError> {
        self.stmts.get(session, i).await.cloned()
    }

    /// Statements `ids`, prepared on `session`.
    async fn stmts_of(
        &mut self,
        session: &mut dyn Session,
        ids: &[usize],
    ) -> Result<Vec<Stmt>, TxError> {
        let mut out = Vec::with_capacity(ids.len());
        for &i in ids {
            out.push(self.stmt(session, i).await?);
        }
        Ok(out)
    }

    /// The BEGIN of the configured isolation level.
    async fn begin(&mut self, session: &mut dyn Session) -> Result<Stmt, TxError> {
        self.stmt(session, begin_statement(self.shared.isolation))
            .await
    }

    /// BEGIN, the customer and the district (next order id) in one round trip; then the
    /// order, its new-order row and the items; then every stock update; then every order
    /// line and COMMIT: four round trips.
    async fn new_order(&mut self, session: &mut dyn Session) -> Result<TxOutcome, TxError> {
        let (w, d, c) = (self.w_id, self.district(), self.customer_id());
        let rollback = self.rng.gen_range(1..=100) == 1;
        self.draw_lines(rollback);
        let begin = self.begin(session).await?;
        let stmts = self
            .stmts_of(
                session,
                &[
                    s::NO_CUSTOMER,
                    s::NO_DISTRICT,
                    s::NO_ORDER,
                    s::NO_NEW_ORDER,
                    s::NO_ITEMS,
                    s::NO_STOCK,
                    s::NO_LINE,
                    s::COMMIT,
                ],
            )
            .await?;
        let Terminal {
            lines: l,
            rows,
            stock,
            ..
        } = self;
        session
            .pipeline(
                &[
                    Step::new(&begin, &[]),
                    Step::new(&stmts[0], &[&w, &d, &c]),
                    Step::new(&stmts[1], &[&w, &d]),
                ],
                &mut rows[..3],
            )
            .await?;
        let o_id: i32 = rows[2].one(0)?;
        let ol_cnt = l.item_ids.len() as i32;
        let all_local = i32::from(l.remote.iter().all(|r| *r == 0));
        session
            .pipeline(
                &[
                    Step::new(&stmts[2], &[&o_id, &d, &w, &c, &ol_cnt, &all_local]),
                    Step::new(&stmts[3], &[&o_id, &d, &w]),
                    Step::new(&stmts[4], &[&l.item_ids]),
                ],
                &mut rows[..3],
            )
            .await?;
        if !l.price_lines(&rows[2])? {
            session.simple_query("ROLLBACK").await?;
            return Ok(TxOutcome::RolledBack { queries: 5 });
        }
        let n = l.item_ids.len();
        let stock_params = l.stock_params(&d);
        let steps: Vec<Step> = stock_params
            .iter()
            .map(|p| Step::new(&stmts[5], p))
            .collect();
        if stock.len() < n {
            stock.resize_with(n, Rows::new);
        }
        session.pipeline(&steps, &mut stock[..n]).await?;
        let mut dist_info = Vec::with_capacity(n);
        for r in &stock[..n] {
            dist_info.push(r.one::<&str>(1)?);
        }
        let line_params = l.line_params([&o_id, &d, &w], &dist_info);
        let mut steps: Vec<Step> = line_params
            .iter()
            .map(|p| Step::new(&stmts[6], p))
            .collect();
        steps.push(Step::new(&stmts[7], &[]));
        if rows.len() < steps.len() {
            rows.resize_with(steps.len(), Rows::new);
        }
        session.pipeline(&steps, &mut rows[..steps.len()]).await?;
        Ok(TxOutcome::committed(5 + 2 * ol_cnt as u32))
    }

    /// BEGIN, warehouse, district (and the customer by name) in one round trip; the
    /// customer, the history row and COMMIT in the second.
    async fn payment(&mut self, session: &mut dyn Session) -> Result<TxOutcome, TxError> {
        let (w, d) = (self.w_id, self.district());
        let remote = self.rng.gen_range(1..=100) > 85;
        let (c_w, c_d) = if remote {
            (self.remote_warehouse(), self.district())
        } else {
            (w, d)
        };
        let key = self.customer_key(c_w, c_d);
        let amount: i32 = self.rng.gen_range(100..=500_000);
        let begin = self.begin(session).await?;
        let st_w = self.stmt(session, s::PAY_WAREHOUSE).await?;
        let st_d = self.stmt(session, s::PAY_DISTRICT).await?;
        let st_c = self.stmt(session, s::PAY_CUSTOMER).await?;
        let st_h = self.stmt(session, s::PAY_HISTORY).await?;
        let st_name = self.stmt(session, s::CUSTOMER_BY_NAME).await?;
        let commit = self.stmt(session, s::COMMIT).await?;
        let Terminal {
            rows,
            stock,
            shared,
            ..
        } = self;
        let (_, last) = name_param(shared, key);
        let p_w: Args<2> = [&w, &amount];
        let p_d: Args<3> = [&w, &d, &amount];
        let p_name: Args<3> = [&key.w_id, &key.d_id, &last];
        let first = [
            Step::new(&begin, &[]),
            Step::new(&st_w, &p_w),
            Step::new(&st_d, &p_d),
            Step::new(&st_name, &p_name),
        ];
        let first = &first[..3 + usize::from(key.by_name.is_some())];
        session.pipeline(first, &mut stock[..first.len()]).await?;
        let c_id = match key.by_name {
            Some(_) => middle_customer(&stock[3], key.c_id)?,
            None => key.c_id,
        };
        let (w_name, d_name): (&str, &str) = (stock[1].one(0)?, stock[2].one(0)?);
        session
            .pipeline(
                &[
                    Step::new(&st_c, &[&c_w, &c_d, &c_id, &amount, &d, &w]),
                    Step::new(
                        &st_h,
                        &[&c_id, &c_d, &c_w, &d, &w, &amount, &w_name, &d_name],
                    ),
                    Step::new(&commit, &[]),
                ],
                &mut rows[..3],
            )
            .await?;
        Ok(TxOutcome::committed(4 + u32::from(key.by_name.is_some())))
    }

    /// BEGIN with the customer and its last order (by name: the customer's id first),
    /// then the order's lines with COMMIT.
    async fn order_status(&mut self, session: &mut dyn Session) -> Result<TxOutcome, TxError> {
        let (w, d) = (self.w_id, self.district());
        let key = self.customer_key(w, d);
        let begin = self.begin(session).await?;
        let st_name = self.stmt(session, s::CUSTOMER_BY_NAME).await?;
        let st_c = self.stmt(session, s::OS_CUSTOMER).await?;
        let st_o = self.stmt(session, s::OS_ORDER).await?;
        let st_l = self.stmt(session, s::OS_LINES).await?;
        let commit = self.stmt(session, s::COMMIT).await?;
        let Terminal { rows, shared, .. } = self;
        let (_, last) = name_param(shared, key);
        let c_id = match key.by_name {
            Some(_) => {
                session
                    .pipeline(
                        &[
                            Step::new(&begin, &[]),
                            Step::new(&st_name, &[&w, &d, &last]),
                        ],
                        &mut rows[..2],
                    )
                    .await?;
                let c_id = middle_customer(&rows[1], key.c_id)?;
                session
                    .pipeline(
                        &[
                            Step::new(&st_c, &[&w, &d, &c_id]),
                            Step::new(&st_o, &[&w, &d, &c_id]),
                        ],
                        &mut rows[1..3],
                    )
                    .await?;
                c_id
            }
            None => {
                let c_id = key.c_id;
                session
                    .pipeline(
                        &[
                            Step::new(&begin, &[]),
                            Step::new(&st_c, &[&w, &d, &c_id]),
                            Step::new(&st_o, &[&w, &d, &c_id]),
                        ],
                        &mut rows[..3],
                    )
                    .await?;
                c_id
            }
        };
        if rows[1].is_empty() {
            return Err(TxError::workload(format!(
                "order-status: customer {c_id} of district {d}, warehouse {w} not found"
            )));
        }
        let mut queries = 2 + u32::from(key.by_name.is_some());
        if rows[2].is_empty() {
            session.execute(&commit, &[]).await?;
        } else {
            let o_id: i32 = rows[2].one(0)?;
            session
                .pipeline(
                    &[Step::new(&st_l, &[&w, &d, &o_id]), Step::new(&commit, &[])],
                    &mut rows[..2],
                )
                .await?;
            queries += 1;
        }
        Ok(TxOutcome::committed(queries))
    }

    /// BEGIN; per district the oldest new order, then its order and lines, then the
    /// customer; COMMIT.
    async fn delivery(&mut self, session: &mut dyn Session) -> Result<TxOutcome, TxError> {
        let w = self.w_id;
        let carrier: i32 = self.rng.gen_range(1..=10);
        let begin = self.begin(session).await?;
        let st_no = self.stmt(session, s::DL_NEW_ORDER).await?;
        let st_o = self.stmt(session, s::DL_ORDER).await?;
        let st_l = self.stmt(session, s::DL_LINES).await?;
        let st_c = self.stmt(session, s::DL_CUSTOMER).await?;
        let commit = self.stmt(session, s::COMMIT).await?;
        let rows = &mut self.rows;
        session.execute(&begin, &[]).await?;
        let mut queries = 0;
        for d in 1..=DISTRICTS as i32 {
            queries += 1;
            session.query(&st_no, &[&w, &d], &mut rows[0]).await?;
            if rows[0].is_empty() {
                continue;
            }
            let o_id: i32 = rows[0].one(0)?;
            session
                .pipeline(
                    &[
                        Step::new(&st_o, &[&w, &d, &o_id, &carrier]),
                        Step::new(&st_l, &[&w, &d, &o_id]),
                    ],
                    &mut rows[1..3],
                )
                .await?;
            let c_id: i32 = rows[1].one(0)?;
            let total_cents: i64 = rows[2].one(0)?;
            session
                .execute(&st_c, &[&w, &d, &c_id, &total_cents])
                .await?;
            queries += 3;
        }
        session.execute(&commit, &[]).await?;
        Ok(TxOutcome::committed(queries))
    }

    /// BEGIN with the district's next order id, then the count with COMMIT.
    async fn stock_level(&mut self, session: &mut dyn Session) -> Result<TxOutcome, TxError> {
        let (w, d) = (self.w_id, self.d_id);
        let threshold: i32 = self.rng.gen_range(10..=20);
        let begin = self.begin(session).await?;
        let st_d = self.stmt(session, s::SL_DISTRICT).await?;
        let st_c = self.stmt(session, s::SL_COUNT).await?;
        let commit = self.stmt(session, s::COMMIT).await?;
        let rows = &mut self.rows;
        session
            .pipeline(
                &[Step::new(&begin, &[]), Step::new(&st_d, &[&w, &d])],
                &mut rows[..2],
            )
            .await?;
        let next: i32 = rows[1].one(0)?;
        session
            .pipeline(
                &[
                    Step::new(&st_c, &[&w, &d, &next, &threshold]),
                    Step::new(&commit, &[]),
                ],
                &mut rows[..2],
            )
            .await?;
        Ok(TxOutcome::committed(2))
    }
}

/// One statement's parameters.
type Args<'a, const N: usize> = [&'a (dyn ToSql + Sync); N];

impl Lines {
    /// The parameters of each line's stock update in district `d`.
    fn stock_params<'a>(&'a self, d: &'a i32) -> Vec<Args<'a, 5>> {
        (0..self.item_ids.len())
            .map(|i| {
                [
                    &self.item_ids[i] as &(dyn ToSql + Sync),
                    &self.supply_w_ids[i],
                    &self.quantities[i],
                    &self.remote[i],
                    d,
                ]
            })
            .collect()
    }

    /// The parameters of each order line of order `[o_id, d_id, w_id]`, with the stock's
    /// district information.
    fn line_params<'a>(
        &'a self,
        [o_id, d, w]: [&'a i32; 3],
        dist_info: &'a [&'a str],
    ) -> Vec<Args<'a, 9>> {
        (0..self.item_ids.len())
            .map(|i| {
                [
                    o_id as &(dyn ToSql + Sync),
                    d,
                    w,
                    &self.numbers[i],
                    &self.item_ids[i],
                    &self.supply_w_ids[i],
                    &self.quantities[i],
                    &self.amounts[i],
                    &dist_info[i],
                ]
            })
            .collect()
    }

    /// Fills prices and amounts from the found items (I_ID, I_PRICE in cents); false
    /// when an item is missing.
    fn price_lines(&mut self, items: &Rows) -> Result<bool, TxError> {
        self.prices.clear();
        for r in 0..items.len() {
            self.prices.push((items.get(r, 0)?, items.get(r, 1)?));
        }
        self.amounts.clear();
        for (i, item) in self.item_ids.iter().enumerate() {
            match self.prices.iter().find(|(id, _)| id == item) {
                Some((_, price)) => self.amounts.push(price * self.quantities[i]),
                None => return Ok(false),
            }
        }
        Ok(true)
    }
}

/// (by name?, the last name or "") as function arguments.
fn name_param(shared: &Shared, key: CustomerKey) -> (bool, &str) {
    match key.by_name {
        Some(n) => (true, shared.last_names[n].as_str()),
        None => (false, ""),
    }
}

/// The customer selected by last name: the one at position ceil(n/2) sorted by first
/// name (clause 2.5.2.2). Every district holds every last name (customers 1..=1000 use
/// all of them); `drawn` stands in should the data have been changed by hand.
fn middle_customer(rows: &Rows, drawn: i32) -> Result<i32, TxError> {
    Ok(match rows.len() {
        0 => drawn,
        n => rows.get(n.div_ceil(2) - 1, 0)?,
    })
}

impl WorkerTx for Terminal {
    #[inline]
    fn next_kind(&mut self) -> TxKind {
        let u: f64 = self.rng.gen();
        self.shared
            .cumulative
            .iter()
            .position(|c| u < *c)
            .unwrap_or(NEW_ORDER)
    }

    fn run<'a>(
        &'a mut self,
        kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        Box::pin(async move {
            let done = if self.shared.execution == Execution::Procedures {
                self.run_procedure(kind, session).await
            } else {
                match kind {
                    NEW_ORDER => self.new_order(session).await,
                    PAYMENT => self.payment(session).await,
                    ORDER_STATUS => self.order_status(session).await,
                    DELIVERY => self.delivery(session).await,
                    _ => self.stock_level(session).await, // Stock-Level
                }
            };
            if done.is_err() {
                // a failed statement leaves the transaction aborted (and a failed
                // pipeline may have skipped its COMMIT): end it before the next one
                let _ = session.simple_query("ROLLBACK").await;
            }
            done
        })
    }

    fn pause_after(&mut self, kind: TxKind) -> std::time::Duration {
        if !self.shared.think_times {
            return std::time::Duration::ZERO;
        }
        std::time::Duration::from_secs_f64(gen::keying_and_think_s(&mut self.rng, kind))
    }
}

mod procedures;
#[cfg(test)]
mod tests;
