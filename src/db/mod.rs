//! Database access: pools, connect options, the embedded throwaway cluster.
pub mod embedded;
