//! Configuration: YAML -> raw structs -> overrides (environment, then command line) ->
//! [`validate`] -> a typed [`RunPlan`]. Every problem is reported at once, with its YAML path.
//!
//! - `raw`: the sections as written (`RawConfig` and its parts, `Secret`).
//! - `load`: reading and parsing a file (`ConfigFile`, `LoadedConfig`), the workloads path.
//! - `overrides`: environment variables and command-line flags over the file.
//! - `validate`: checks every section and builds the plan.
//! - `progressive`: the bands of a progressive sweep.
//! - `plan`: the validated plan the run follows.

mod duration;
mod env;
mod load;
mod overrides;
mod plan;
mod progressive;
mod raw;
mod validate;
pub mod yaml;

pub use crate::types::{Isolation, SslMode};
pub use duration::Dur;
pub use env::{expand as expand_env, expand_str as expand_env_str};
pub use load::{
    parse_str, workloads_paths, ConfigError, ConfigFile, LoadedConfig, DEFAULT_WORKLOADS_PATH,
    STDIN_PATH,
};
pub use overrides::{apply_env, apply_overrides, Overrides};
pub use plan::{
    Arrival, BuiltWorkload, CollectPlan, DatabasePlan, ExecOptions, ProgressivePlan, RunPlan, Stop,
};
pub use progressive::levels;
pub use raw::{
    ArrivalKind, PathList, RawConfig, RawDatabase, RawMetrics, RawOutput, RawProgressive,
    RawPrometheus, Secret, StopWhen, Strategy,
};
pub use validate::{
    database_plan, validate, MAX_CONNECTIONS, MAX_CONNECT_TIMEOUT, MAX_INTERVAL, MAX_RUN_TIME,
    MAX_THINK_TIME, MAX_WORKERS,
};

#[cfg(test)]
mod tests;
