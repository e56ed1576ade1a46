//! The wire driver as a [`Session`].

use super::wire::{WireConn, WireError, WireStmt};
use crate::core::session::{Column, Params, Session, Step, Stmt, TxError};
use crate::core::BoxFuture;
use crate::rows::Rows;

/// A wire-driver error as a transaction error.
pub(crate) fn tx_error(e: WireError) -> TxError {
    TxError::new(super::classify_wire(&e), e.code().cloned(), e)
}

#[inline]
fn statement(s: &Stmt) -> &WireStmt {
    s.handle::<WireStmt>()
        .expect("a statement prepared by the wire driver")
}

impl Session for WireConn {
    #[inline]
    fn id(&self) -> u64 {
        WireConn::id(self)
    }

    fn prepare<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Stmt, TxError>> {
        Box::pin(async move {
            let st = self.prepare_cached(sql).await.map_err(tx_error)?;
            let params = st.params().to_vec();
            let columns = st
                .column_names()
                .iter()
                .zip(st.column_types())
                .map(|(name, ty)| Column {
                    name: name.clone(),
                    ty: ty.clone(),
                })
                .collect();
            Ok(Stmt::new(st, params, columns))
        })
    }

    fn execute<'a>(
        &'a mut self,
        stmt: &'a Stmt,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(async move {
            WireConn::execute(self, statement(stmt), params)
                .await
                .map(|e| e.tag_rows)
                .map_err(tx_error)
        })
    }

    fn query<'a>(
        &'a mut self,
        stmt: &'a Stmt,
        params: Params<'a>,
        rows: &'a mut Rows,
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(async move {
            self.query_into(statement(stmt), params, rows)
                .await
                .map_err(tx_error)
        })
    }

    fn pipeline<'a>(
        &'a mut self,
        steps: &'a [Step<'a>],
        out: &'a mut [Rows],
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(async move {
            let wire: Vec<_> = steps
                .iter()
                .map(|s| (statement(s.stmt), s.params))
                .collect();
            self.query_many(&wire, out).await.map_err(tx_error)
        })
    }

    fn simple_query<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(async move {
            self.batch_execute(sql)
                .await
                .map(|e| e.tag_rows)
                .map_err(tx_error)
        })
    }

    fn copy_in<'a>(
        &'a mut self,
        sql: &'a str,
        data: &'a [u8],
    ) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(async move { WireConn::copy_in(self, sql, data).await.map_err(tx_error) })
    }
}
