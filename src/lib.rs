//! stormbench: a PostgreSQL load tester. One YAML file picks a workload from the registry
//! and runs it across many workers over a pool, with HDR latency tracking and reports.

// print through `out!`, `outln!` and `errln!`, which survive a closed pipe
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
mod out;

pub mod cli;
pub(crate) mod collect;
pub mod commands;
pub mod config;
pub mod core;
pub mod db;
pub mod error;
pub(crate) mod exec;
pub(crate) mod export;
pub(crate) mod fault;
pub(crate) mod history;
pub(crate) mod pipeline;
pub(crate) mod progress;
pub mod report;
pub(crate) mod rows;
pub(crate) mod scaling;
pub(crate) mod schema;
pub(crate) mod stats;
pub mod trace;
pub mod types;
pub mod workloads;
