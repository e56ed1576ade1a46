//! `mode: procedures`: one PL/pgSQL function call per transaction, BEGIN, call and COMMIT
//! in one round trip, as HammerDB does.

use super::*;

impl Terminal {
    /// BEGIN, the function call and COMMIT in one round trip. The function raises
    /// TC001 for New-Order's unused item: a rollback on purpose.
    async fn call(
        &mut self,
        session: &mut dyn Session,
        proc: usize,
        params: Params<'_>,
    ) -> Result<TxOutcome, TxError> {
        let begin = self.begin(session).await?;
        let call = self.stmt(session, proc).await?;
        let commit = self.stmt(session, s::COMMIT).await?;
        let sent = session
            .pipeline(
                &[
                    Step::new(&begin, &[]),
                    Step {
                        stmt: &call,
                        params,
                    },
                    Step::new(&commit, &[]),
                ],
                &mut self.rows[..3],
            )
            .await;
        match sent {
            Err(e) if e.code().is_some_and(|c| c.code() == ROLLBACK_SQLSTATE) => {
                session.simple_query("ROLLBACK").await?;
                Ok(TxOutcome::RolledBack { queries: 1 })
            }
            Err(e) => Err(e),
            Ok(()) => Ok(TxOutcome::committed(1)),
        }
    }

    pub(super) async fn run_procedure(
        &mut self,
        kind: TxKind,
        session: &mut dyn Session,
    ) -> Result<TxOutcome, TxError> {
        let w = self.w_id;
        match kind {
            NEW_ORDER => {
                let (d, c) = (self.district(), self.customer_id());
                let rollback = self.rng.gen_range(1..=100) == 1;
                self.draw_lines(rollback);
                let l = std::mem::take(&mut self.lines);
                let p: [&(dyn ToSql + Sync); 6] =
                    [&w, &d, &c, &l.item_ids, &l.supply_w_ids, &l.quantities];
                let out = self.call(session, s::PROC_NEW_ORDER, &p).await;
                self.lines = l;
                out
            }
            PAYMENT => {
                let d = self.district();
                let (c_w, c_d) = if self.rng.gen_range(1..=100) > 85 {
                    (self.remote_warehouse(), self.district())
                } else {
                    (w, d)
                };
                let key = self.customer_key(c_w, c_d);
                let amount: i32 = self.rng.gen_range(100..=500_000);
                let shared = self.shared.clone();
                let (by_name, last) = name_param(&shared, key);
                let p: [&(dyn ToSql + Sync); 8] =
                    [&w, &d, &c_w, &c_d, &by_name, &key.c_id, &last, &amount];
                self.call(session, s::PROC_PAYMENT, &p).await
            }
            ORDER_STATUS => {
                let d = self.district();
                let key = self.customer_key(w, d);
                let shared = self.shared.clone();
                let (by_name, last) = name_param(&shared, key);
                let p: [&(dyn ToSql + Sync); 5] = [&w, &d, &by_name, &key.c_id, &last];
                self.call(session, s::PROC_ORDER_STATUS, &p).await
            }
            DELIVERY => {
                let carrier: i32 = self.rng.gen_range(1..=10);
                self.call(session, s::PROC_DELIVERY, &[&w, &carrier]).await
            }
            _ => {
                let (d, threshold) = (self.d_id, self.rng.gen_range(10..=20i32));
                self.call(session, s::PROC_STOCK_LEVEL, &[&w, &d, &threshold])
                    .await
            }
        }
    }
}
