//! Configuration: YAML -> raw structs -> overrides (environment, then command line) ->
//! [`validate`] -> a typed [`RunPlan`]. Every problem is reported at once, with its YAML path.
//!
//! - `conninfo`: libpq's connection URIs, key/value strings, PG* environment, service and
//!   password files.
//! - `safety`: the guards on destructive steps.
//! - `slo`: the service-level objectives a run is judged by.
//! - `raw`: the sections as written (`RawConfig` and its parts, `Secret`).
//! - `load`: reading and parsing a file (`ConfigFile`, `LoadedConfig`), the workloads path.
//! - `overrides`: environment variables and command-line flags over the file.
//! - `validate`: checks every section and builds the plan.
//! - `database`: the connection settings of the `database:` section.
//! - `progressive`: the bands of a progressive sweep.
//! - `plan`: the validated plan the run follows.

mod conninfo;
mod database;
mod distributed;
mod duration;
mod env;
mod load;
mod overrides;
mod plan;
mod progressive;
mod raw;
mod safety;
mod slo;
mod store;
mod validate;
pub(crate) mod yaml;

pub use crate::types::{Isolation, SslMode};
pub(crate) use conninfo::url_has_password;
pub(crate) use database::database_plan;
pub(crate) use distributed::{barrier_prefix, barrier_session_name};
pub use distributed::{DistributedPlan, RawDistributed, Shard, StartRule};
pub use duration::Dur;
pub use env::expand as expand_env;
pub(crate) use load::workloads_paths;
pub use load::{parse_str, ConfigError, ConfigFile, LoadedConfig, STDIN_PATH};
pub use overrides::Overrides;
pub(crate) use overrides::{apply_env, apply_overrides};
pub use plan::{
    Arrival, BuiltWorkload, CollectPlan, DatabasePlan, ExecOptions, ProgressivePlan, RunPlan,
    SafetyPlan, Stop,
};
pub(crate) use plan::{GroupPlan, ParamSweepPlan};
pub use raw::{
    ArrivalKind, PathList, RawConfig, RawDatabase, RawMetrics, RawOutput, RawProgressive,
    RawPrometheus, Secret, StopWhen, Strategy,
};
pub use safety::Intent;
pub use slo::{Objectives, RawSlo};
pub use store::RawHistory;
pub(crate) use store::{resolve_store, StoreSpec};
pub(crate) use validate::validate;

#[cfg(test)]
mod tests;
