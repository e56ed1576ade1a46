//! Progressive connection scaling: bands of increasing concurrency and the analysis that
//! says where the server stops scaling.

pub mod fit;
pub mod queue;
