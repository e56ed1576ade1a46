//! The loader: every table filled by COPY over several pooled connections, each taking a
//! contiguous range of the table's rows (whole warehouses when there are enough of them),
//! then keys, indexes and VACUUM ANALYZE, also concurrently. Data follows clause 4.3.3.1;
//! every row is generated from its own seeded RNG, so the data does not depend on how the
//! work is split.

use std::ops::Range;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng as _;

use super::gen::{self, a_string, address, data_with_original, decimal, int, n_string};
use super::sql;
use crate::core::dist::nurand;
use crate::core::{rng, LoadProgress, LoadStats, Pool, Rng, SchemaError, TableLoad};

const COPY_SQL: &str = include_str!("../../../workloads/tpcc/copy.sql");
const KEYS_SQL: &str = include_str!("../../../workloads/tpcc/keys.sql");
const ANALYZE_SQL: &str = include_str!("../../../workloads/tpcc/analyze.sql");

/// Items in the catalog (and stock rows per warehouse).
pub(crate) const ITEMS: u64 = 100_000;
/// Districts per warehouse.
pub(crate) const DISTRICTS: u64 = 10;
/// Customers (and initial orders) per district.
pub(crate) const CUSTOMERS: u64 = 3_000;
/// Initial orders per district that are still undelivered (the last 900).
pub(crate) const NEW_ORDERS: u64 = 900;
/// The first undelivered order id of the initial data.
pub(crate) const FIRST_NEW_ORDER: u64 = CUSTOMERS - NEW_ORDERS + 1;

/// Bytes buffered before a chunk is sent.
const CHUNK_BYTES: usize = 256 * 1024;

/// The tables, in load order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    /// ITEM, 100,000 rows.
    Item,
    /// WAREHOUSE, one row per warehouse.
    Warehouse,
    /// DISTRICT, 10 per warehouse.
    District,
    /// STOCK, 100,000 per warehouse.
    Stock,
    /// CUSTOMER, 3,000 per district.
    Customer,
    /// HISTORY, one per customer.
    History,
    /// ORDERS, 3,000 per district.
    Orders,
    /// ORDER_LINE, 5..=15 per order.
    OrderLine,
    /// NEW_ORDER, the last 900 orders of each district.
    NewOrder,
}

/// All tables in load order.
pub(crate) const TABLES: [Table; 9] = [
    Table::Item,
    Table::Warehouse,
    Table::District,
    Table::Stock,
    Table::Customer,
    Table::History,
    Table::Orders,
    Table::OrderLine,
    Table::NewOrder,
];

impl Table {
    /// The table's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Item => "item",
            Table::Warehouse => "warehouse",
            Table::District => "district",
            Table::Stock => "stock",
            Table::Customer => "customer",
            Table::History => "history",
            Table::Orders => "orders",
            Table::OrderLine => "order_line",
            Table::NewOrder => "new_order",
        }
    }

    /// Generation units at `warehouses`: rows, except ORDER_LINE whose unit is an order.
    pub(crate) fn units(self, warehouses: u64) -> u64 {
        match self {
            Table::Item => ITEMS,
            Table::Warehouse => warehouses,
            Table::District => warehouses * DISTRICTS,
            Table::Stock => warehouses * ITEMS,
            Table::Customer | Table::History | Table::Orders | Table::OrderLine => {
                warehouses * DISTRICTS * CUSTOMERS
            }
            Table::NewOrder => warehouses * DISTRICTS * NEW_ORDERS,
        }
    }

    /// Salt of the RNG streams of this table's rows.
    fn salt(self) -> u64 {
        // orders and their lines share a stream: the first draw is O_OL_CNT in both
        match self {
            Table::OrderLine => Table::Orders as u64 + 1,
            t => t as u64 + 1,
        }
        .wrapping_mul(0x5851_F42D_4C95_7F2D)
    }
}

/// What every row generator needs: the data seed, the scale and the load's timestamp.
#[derive(Debug, Clone)]
pub(crate) struct LoadCtx {
    /// Seed of all generated data.
    pub(crate) seed: u64,
    /// Warehouses to load.
    pub(crate) warehouses: u64,
    /// The load's date and time as COPY text (C_SINCE, H_DATE, O_ENTRY_D).
    pub(crate) now: String,
}

impl LoadCtx {
    /// A context stamped with the current local time.
    pub(crate) fn new(seed: u64, warehouses: u64) -> Self {
        LoadCtx {
            seed,
            warehouses,
            now: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        }
    }

    /// The RNG of unit `unit` of `table`.
    fn unit_rng(&self, table: Table, unit: u64) -> Rng {
        rng(self.seed ^ table.salt(), unit)
    }

    /// O_OL_CNT of the initial order at order unit `unit`.
    pub(crate) fn ol_cnt(&self, unit: u64) -> u64 {
        self.unit_rng(Table::Orders, unit).gen_range(5..=15)
    }

    /// Rows `table` will hold after the load.
    pub(crate) fn rows(&self, table: Table) -> u64 {
        match table {
            Table::OrderLine => (0..table.units(self.warehouses))
                .map(|u| self.ol_cnt(u))
                .sum(),
            t => t.units(self.warehouses),
        }
    }
}

/// (warehouse, district, number within the district) of a unit of 3,000 per district.
fn split_district_unit(unit: u64, per_district: u64) -> (u64, u64, u64) {
    let district_index = unit / per_district;
    (
        district_index / DISTRICTS + 1,
        district_index % DISTRICTS + 1,
        unit % per_district + 1,
    )
}

/// Writes the rows of one table; keeps the customer permutation of the last district.
pub(crate) struct RowWriter<'a> {
    ctx: &'a LoadCtx,
    table: Table,
    /// (district index, O_C_ID of orders 1..=3000).
    permutation: Option<(u64, Vec<u16>)>,
}

impl<'a> RowWriter<'a> {
    /// A writer of `table`'s rows.
    pub(crate) fn new(ctx: &'a LoadCtx, table: Table) -> Self {
        RowWriter {
            ctx,
            table,
            permutation: None,
        }
    }

    /// Appends the COPY text of unit `unit`; returns the rows written.
    pub(crate) fn write(&mut self, unit: u64, buf: &mut BytesMut) -> u64 {
        let mut r = self.ctx.unit_rng(self.table, unit);
        match self.table {
            Table::Item => item_row(&mut r, unit + 1, buf),
            Table::Warehouse => warehouse_row(&mut r, unit + 1, buf),
            Table::District => district_row(&mut r, unit, buf),
            Table::Stock => stock_row(&mut r, unit, buf),
            Table::Customer => customer_row(&mut r, self.ctx, unit, buf),
            Table::History => history_row(&mut r, self.ctx, unit, buf),
            Table::Orders => {
                let c_id = self.customer_of_order(unit);
                order_row(&mut r, self.ctx, unit, c_id, buf)
            }
            Table::OrderLine => return order_lines(&mut r, self.ctx, unit, buf),
            Table::NewOrder => new_order_row(unit, buf),
        }
        1
    }

    /// O_C_ID of the order at `unit`: a random permutation of the district's customers.
    fn customer_of_order(&mut self, unit: u64) -> u64 {
        let district_index = unit / CUSTOMERS;
        let fresh = !matches!(&self.permutation, Some((d, _)) if *d == district_index);
        if fresh {
            let mut r = rng(self.ctx.seed ^ 0xC0FF_EE00, district_index);
            let mut p: Vec<u16> = (1..=CUSTOMERS as u16).collect();
            p.shuffle(&mut r);
            self.permutation = Some((district_index, p));
        }
        match &self.permutation {
            Some((_, p)) => u64::from(p[(unit % CUSTOMERS) as usize]),
            None => unit % CUSTOMERS + 1,
        }
    }
}

fn tab(buf: &mut BytesMut) {
    buf.put_u8(b'\t');
}

fn item_row(r: &mut Rng, i_id: u64, buf: &mut BytesMut) {
    int(buf, i_id);
    tab(buf);
    int(buf, r.gen_range(1..=10_000));
    tab(buf);
    a_string(r, 14, 24, buf);
    tab(buf);
    decimal(buf, r.gen_range(100..=10_000), 2);
    tab(buf);
    data_with_original(r, buf);
    buf.put_u8(b'\n');
}

fn warehouse_row(r: &mut Rng, w_id: u64, buf: &mut BytesMut) {
    int(buf, w_id);
    tab(buf);
    a_string(r, 6, 10, buf);
    tab(buf);
    address(r, buf);
    tab(buf);
    decimal(buf, r.gen_range(0..=2000), 4);
    buf.put_slice(b"\t300000.00\n");
}

fn district_row(r: &mut Rng, unit: u64, buf: &mut BytesMut) {
    int(buf, unit % DISTRICTS + 1);
    tab(buf);
    int(buf, unit / DISTRICTS + 1);
    tab(buf);
    a_string(r, 6, 10, buf);
    tab(buf);
    address(r, buf);
    tab(buf);
    decimal(buf, r.gen_range(0..=2000), 4);
    buf.put_slice(b"\t30000.00\t");
    int(buf, CUSTOMERS + 1);
    buf.put_u8(b'\n');
}

fn stock_row(r: &mut Rng, unit: u64, buf: &mut BytesMut) {
    int(buf, unit % ITEMS + 1);
    tab(buf);
    int(buf, unit / ITEMS + 1);
    tab(buf);
    int(buf, r.gen_range(10..=100));
    for _ in 0..DISTRICTS {
        tab(buf);
        a_string(r, 24, 24, buf);
    }
    buf.put_slice(b"\t0\t0\t0\t");
    data_with_original(r, buf);
    buf.put_u8(b'\n');
}

fn customer_row(r: &mut Rng, ctx: &LoadCtx, unit: u64, buf: &mut BytesMut) {
    let (w, d, c) = split_district_unit(unit, CUSTOMERS);
    for v in [c, d, w] {
        int(buf, v);
        tab(buf);
    }
    a_string(r, 8, 16, buf);
    buf.put_slice(b"\tOE\t");
    let last = if c <= 1000 {
        c - 1
    } else {
        nurand(r, 255, gen::C_LOAD_LAST, 0, 999)
    };
    buf.put_slice(gen::last_name(last).as_bytes());
    tab(buf);
    address(r, buf);
    tab(buf);
    n_string(r, 16, buf);
    tab(buf);
    buf.put_slice(ctx.now.as_bytes());
    buf.put_slice(if r.gen_ratio(1, 10) {
        b"\tBC\t"
    } else {
        b"\tGC\t"
    });
    buf.put_slice(b"50000.00\t");
    decimal(buf, r.gen_range(0..=5000), 4);
    buf.put_slice(b"\t-10.00\t10.00\t1\t0\t");
    a_string(r, 300, 500, buf);
    buf.put_u8(b'\n');
}

fn history_row(r: &mut Rng, ctx: &LoadCtx, unit: u64, buf: &mut BytesMut) {
    let (w, d, c) = split_district_unit(unit, CUSTOMERS);
    for v in [c, d, w, d, w] {
        int(buf, v);
        tab(buf);
    }
    buf.put_slice(ctx.now.as_bytes());
    buf.put_slice(b"\t10.00\t");
    a_string(r, 12, 24, buf);
    buf.put_u8(b'\n');
}

fn order_row(r: &mut Rng, ctx: &LoadCtx, unit: u64, c_id: u64, buf: &mut BytesMut) {
    let (w, d, o) = split_district_unit(unit, CUSTOMERS);
    let ol_cnt = r.gen_range(5..=15);
    let carrier: u64 = r.gen_range(1..=10);
    for v in [o, d, w, c_id] {
        int(buf, v);
        tab(buf);
    }
    buf.put_slice(ctx.now.as_bytes());
    tab(buf);
    if o < FIRST_NEW_ORDER {
        int(buf, carrier);
    } else {
        buf.put_slice(b"\\N");
    }
    tab(buf);
    int(buf, ol_cnt);
    buf.put_slice(b"\t1\n");
}

fn order_lines(r: &mut Rng, ctx: &LoadCtx, unit: u64, buf: &mut BytesMut) -> u64 {
    let (w, d, o) = split_district_unit(unit, CUSTOMERS);
    let ol_cnt = r.gen_range(5..=15);
    let delivered = o < FIRST_NEW_ORDER;
    for number in 1..=ol_cnt {
        for v in [o, d, w, number, r.gen_range(1..=ITEMS), w] {
            int(buf, v);
            tab(buf);
        }
        if delivered {
            buf.put_slice(ctx.now.as_bytes());
            buf.put_slice(b"\t5\t0.00\t");
        } else {
            buf.put_slice(b"\\N\t5\t");
            decimal(buf, r.gen_range(1..=999_999), 2);
            tab(buf);
        }
        a_string(r, 24, 24, buf);
        buf.put_u8(b'\n');
    }
    ol_cnt
}

fn new_order_row(unit: u64, buf: &mut BytesMut) {
    let (w, d, n) = split_district_unit(unit, NEW_ORDERS);
    int(buf, FIRST_NEW_ORDER - 1 + n);
    tab(buf);
    int(buf, d);
    tab(buf);
    int(buf, w);
    buf.put_u8(b'\n');
}

/// Loads every table at `ctx.warehouses` over up to `parallelism` connections, then
/// builds keys and indexes and analyzes.
pub(crate) async fn load_all(
    pool: &Pool,
    ctx: &LoadCtx,
    progress: &LoadProgress,
) -> Result<LoadStats, SchemaError> {
    let t0 = Instant::now();
    let parallelism = pool.status().max_size.clamp(1, 8) as u64;
    progress.expect(TABLES.iter().map(|t| ctx.rows(*t)).sum());
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        tables.push(load_table(pool, ctx, table, parallelism, progress).await?);
    }
    let width = parallelism as usize;
    run_concurrently(pool, KEYS_SQL, width, "building the tpcc keys and indexes").await?;
    run_concurrently(pool, ANALYZE_SQL, width, "analyzing the tpcc tables").await?;
    Ok(LoadStats {
        tables,
        elapsed_s: t0.elapsed().as_secs_f64(),
        ..Default::default()
    })
}

/// Loads one table: its units split into contiguous ranges, one per connection. Ranges
/// are whole warehouses when there are at least as many warehouses as connections.
async fn load_table(
    pool: &Pool,
    ctx: &LoadCtx,
    table: Table,
    parallelism: u64,
    progress: &LoadProgress,
) -> Result<TableLoad, SchemaError> {
    let started = Instant::now();
    let copy_sql = sql::named(COPY_SQL, table.name()).ok_or_else(|| {
        SchemaError::Pool(format!("no COPY statement for table {}", table.name()))
    })?;
    let units = table.units(ctx.warehouses);
    let parts = parallelism.min(units.max(1));
    let loaders = (0..parts).map(|p| {
        let range = split(units, ctx.warehouses, table == Table::Item, parts, p);
        copy_range(pool, ctx, table, copy_sql, range, progress)
    });
    let mut rows = 0;
    for r in futures_util::future::join_all(loaders).await {
        rows += r?;
    }
    Ok(TableLoad {
        table: table.name().to_string(),
        rows,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}

/// Part `p` of `parts` of `units`: whole warehouses when there are at least as many as
/// parts (and the table is per warehouse), otherwise an even share of the units.
fn split(units: u64, warehouses: u64, global: bool, parts: u64, p: u64) -> Range<u64> {
    let (groups, size) = if warehouses >= parts && !global {
        (warehouses, units / warehouses)
    } else {
        (units, 1)
    };
    (p * groups / parts) * size..((p + 1) * groups / parts) * size
}

async fn copy_range(
    pool: &Pool,
    ctx: &LoadCtx,
    table: Table,
    copy_sql: &'static str,
    range: Range<u64>,
    progress: &LoadProgress,
) -> Result<u64, SchemaError> {
    if range.is_empty() {
        return Ok(0);
    }
    let what = || format!("loading table {}", table.name());
    let conn = pool
        .get()
        .await
        .map_err(|e| SchemaError::pool(&what(), &e))?;
    let sink = conn
        .copy_in::<_, Bytes>(copy_sql)
        .await
        .map_err(SchemaError::db(what()))?;
    futures_util::pin_mut!(sink);
    let mut writer = RowWriter::new(ctx, table);
    let mut buf = BytesMut::with_capacity(CHUNK_BYTES + 8 * 1024);
    let mut pending = 0;
    for unit in range {
        pending += writer.write(unit, &mut buf);
        if buf.len() >= CHUNK_BYTES {
            sink.send(buf.split().freeze())
                .await
                .map_err(SchemaError::db(what()))?;
            progress.add(pending);
            pending = 0;
        }
    }
    if !buf.is_empty() {
        sink.send(buf.split().freeze())
            .await
            .map_err(SchemaError::db(what()))?;
    }
    let rows = sink.finish().await.map_err(SchemaError::db(what()))?;
    progress.add(pending);
    Ok(rows)
}

/// Runs the statements of `script` on up to `width` connections at once.
async fn run_concurrently(
    pool: &Pool,
    script: &'static str,
    width: usize,
    what: &str,
) -> Result<(), SchemaError> {
    let runs = futures_util::stream::iter(sql::statements(script))
        .map(|stmt| async move {
            let conn = pool.get().await.map_err(|e| SchemaError::pool(what, &e))?;
            conn.batch_execute(&stmt)
                .await
                .map_err(SchemaError::db(format!("{what} ({})", stmt.trim())))
        })
        .buffer_unordered(width.max(1));
    let results: Vec<_> = runs.collect().await;
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> LoadCtx {
        LoadCtx {
            seed: 9,
            warehouses: 2,
            now: "2024-01-02 03:04:05".into(),
        }
    }

    fn line(table: Table, unit: u64) -> Vec<String> {
        let c = ctx();
        let mut w = RowWriter::new(&c, table);
        let mut b = BytesMut::new();
        w.write(unit, &mut b);
        let text = String::from_utf8(b.to_vec()).unwrap_or_default();
        text.lines()
            .next()
            .unwrap_or("")
            .split('\t')
            .map(String::from)
            .collect()
    }

    #[test]
    fn rows_have_the_columns_of_their_copy_statement() {
        for t in TABLES {
            let copy = sql::named(COPY_SQL, t.name()).unwrap_or("");
            let columns = copy.matches(',').count() + 1;
            assert_eq!(line(t, 7).len(), columns, "{}", t.name());
        }
    }

    #[test]
    fn customers_and_orders_follow_the_spec() {
        // unit 30,000 + 3,000 * 4 + 41 is warehouse 2, district 5, customer 42
        let c = line(Table::Customer, 30_000 + 3_000 * 4 + 41);
        assert_eq!(&c[..3], ["42", "5", "2"]);
        assert_eq!(c[5], gen::last_name(41));
        assert_eq!(c[4], "OE");
        let o = line(Table::Orders, 2_999);
        assert_eq!(o[0], "3000");
        assert_eq!(o[5], "\\N", "the last 900 orders are undelivered");
        let o = line(Table::Orders, 0);
        assert_ne!(o[5], "\\N");
        let n = line(Table::NewOrder, 0);
        assert_eq!(n, ["2101", "1", "1"]);
        let n = line(Table::NewOrder, 9_000 + 899);
        assert_eq!(n, ["3000", "1", "2"]);
    }

    #[test]
    fn order_lines_match_o_ol_cnt() {
        let c = ctx();
        let mut orders = RowWriter::new(&c, Table::Orders);
        let mut lines = RowWriter::new(&c, Table::OrderLine);
        for unit in [0, 5, 2_500, 59_999] {
            let mut b = BytesMut::new();
            orders.write(unit, &mut b);
            let text = String::from_utf8(b.to_vec()).unwrap_or_default();
            let ol_cnt: u64 = text
                .split('\t')
                .nth(6)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let mut b = BytesMut::new();
            assert_eq!(lines.write(unit, &mut b), ol_cnt);
            assert_eq!(c.ol_cnt(unit), ol_cnt);
            assert!((5..=15).contains(&ol_cnt));
        }
    }

    #[test]
    fn order_customers_are_a_permutation() {
        let c = ctx();
        let mut w = RowWriter::new(&c, Table::Orders);
        let mut seen: Vec<u64> = (3_000..6_000).map(|u| w.customer_of_order(u)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (1..=3_000).collect::<Vec<_>>());
    }

    #[test]
    fn splits_cover_every_unit_once() {
        for (units, warehouses, global, parts) in [
            (1_000_000, 10, false, 8),
            (100_000, 1, false, 8),
            (100_000, 10, true, 8),
            (30_000, 3, false, 3),
            (7, 7, false, 8),
        ] {
            let ranges: Vec<_> = (0..parts)
                .map(|p| split(units, warehouses, global, parts, p))
                .collect();
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[ranges.len() - 1].end, units);
            assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            if warehouses >= parts && !global {
                let per = units / warehouses;
                assert!(ranges.iter().all(|r| r.start % per == 0), "{ranges:?}");
            }
        }
        // 10 warehouses over 8 loaders: 1 or 2 warehouses each
        let sizes: Vec<_> = (0..8)
            .map(|p| split(1_000_000, 10, false, 8, p).count())
            .collect();
        assert!(
            sizes.iter().all(|s| *s == 100_000 || *s == 200_000),
            "{sizes:?}"
        );
    }

    #[test]
    fn units_per_table() {
        assert_eq!(Table::Stock.units(3), 300_000);
        assert_eq!(Table::NewOrder.units(1), 9_000);
        assert_eq!(Table::Item.units(7), 100_000);
        let c = ctx();
        let lines = c.rows(Table::OrderLine);
        assert!((550_000..650_000).contains(&lines), "{lines}");
    }
}
