//! stormbench: a PostgreSQL load tester. One YAML file picks a workload from the registry
//! and runs it across many workers over a pool, with HDR latency tracking and reports.

pub mod cli;
pub mod collect;
pub mod commands;
pub mod config;
pub mod core;
pub mod db;
pub mod error;
pub mod exec;
pub mod export;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod rows;
pub mod scaling;
pub mod schema;
pub mod stats;
pub mod trace;
pub mod types;
pub mod workloads;
