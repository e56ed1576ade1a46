//! The wire driver as a [`Session`].

use std::sync::Arc;

use super::wire::{WireConn, WireError, WireStmt};
use crate::core::session::{Params, Session, Step, Stmt, TxError};
use crate::core::BoxFuture;
use crate::rows::Rows;

/// A wire-driver error as a transaction error.
pub fn tx_error(e: WireError) -> TxError {
    TxError::new(e.class(), e.code().cloned(), e)
}

#[inline]
fn statement(s: &Stmt) -> &WireStmt {
    s.handle::<Arc<WireStmt>>()
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
            Ok(Stmt::new(st, params, Vec::new()))
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
        _stmt: &'a Stmt,
        _params: Params<'a>,
        _rows: &'a mut Rows,
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(async { Err(tx_error(WireError::unsupported())) })
    }

    fn pipeline<'a>(
        &'a mut self,
        _steps: &'a [Step<'a>],
        _out: &'a mut [Rows],
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(async { Err(tx_error(WireError::unsupported())) })
    }

    fn simple_query<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(async move {
            self.batch_execute(sql)
                .await
                .map(|e| e.tag_rows)
                .map_err(tx_error)
        })
    }
}
