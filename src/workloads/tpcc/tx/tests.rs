use super::*;
use crate::core::rng;

fn shared(warehouses: i32) -> Arc<Shared> {
    Arc::new(Shared {
        warehouses,
        cumulative: [0.45, 0.88, 0.92, 0.96, 1.0],
        isolation: Isolation::ReadCommitted,
        execution: Execution::Client,
        think_times: false,
        c_last: 230,
        c_id: 5,
        c_item: 7,
        last_names: gen::last_names(),
        sql: statement_sql().unwrap_or(&[]),
    })
}

#[test]
fn every_statement_is_in_the_sql_file() {
    let sql = statement_sql().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sql.len(), STATEMENT_NAMES.len());
    assert!(sql[s::BEGIN].contains("READ COMMITTED"));
    assert!(sql[begin_statement(Isolation::Serializable)].contains("SERIALIZABLE"));
    assert_eq!(sql[s::COMMIT], "COMMIT");
    assert!(sql[s::PROC_STOCK_LEVEL].contains("tpcc_stock_level"));
    assert!(sql[s::SL_COUNT].contains("count(DISTINCT s_i_id)"));
}

/// The home warehouse and district.
fn home(t: &Terminal) -> (i32, i32) {
    (t.w_id, t.d_id)
}

#[test]
fn terminals_spread_over_warehouses_and_districts() {
    let sh = shared(3);
    let homes: Vec<_> = (0..7)
        .map(|id| home(&Terminal::new(sh.clone(), id, rng(1, id as u64))))
        .collect();
    assert_eq!(
        homes,
        [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 2), (1, 3)]
    );
    assert_eq!(home(&Terminal::new(sh, 30, rng(1, 1))), (1, 1));
}

#[test]
fn order_lines_are_sorted_and_rollbacks_use_an_unused_item() {
    let mut t = Terminal::new(shared(4), 1, rng(2, 2));
    let mut remote = 0;
    let mut lines = 0;
    for _ in 0..2_000 {
        t.draw_lines(false);
        let l = &t.lines;
        assert!((5..=15).contains(&l.item_ids.len()));
        assert!(l.item_ids.windows(2).all(|w| w[0] <= w[1]));
        assert!(l.item_ids.iter().all(|i| (1..=ITEMS as i32).contains(i)));
        assert!(l.quantities.iter().all(|q| (1..=10).contains(q)));
        remote += l.remote.iter().sum::<i32>();
        lines += l.item_ids.len() as i32;
    }
    let share = remote as f64 / lines as f64;
    assert!((0.005..0.015).contains(&share), "remote share {share}");
    t.draw_lines(true);
    assert_eq!(t.lines.item_ids.last(), Some(&UNUSED_ITEM));
}

#[test]
fn one_warehouse_never_goes_remote() {
    let mut t = Terminal::new(shared(1), 0, rng(3, 3));
    assert!((0..100).all(|_| t.remote_warehouse() == 1));
    let mut t = Terminal::new(shared(2), 0, rng(3, 3));
    assert!((0..100).all(|_| t.remote_warehouse() == 2));
}

#[test]
fn the_mix_follows_the_weights() {
    let mut t = Terminal::new(shared(1), 0, rng(4, 4));
    let mut counts = [0u32; 5];
    for _ in 0..100_000 {
        counts[t.next_kind()] += 1;
    }
    let expected = [0.45, 0.43, 0.04, 0.04, 0.04];
    for (c, e) in counts.iter().zip(expected) {
        assert!((*c as f64 / 100_000.0 - e).abs() < 0.01, "{counts:?}");
    }
}

#[test]
fn customers_by_name_are_sixty_percent() {
    let mut t = Terminal::new(shared(1), 0, rng(5, 5));
    let by_name = (0..10_000)
        .filter(|_| t.customer_key(1, 1).by_name.is_some())
        .count();
    assert!((5_700..6_300).contains(&by_name), "{by_name}");
}
