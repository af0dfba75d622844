//! `mraa deploy`: preflight, the units in dependency order (independent ones
//! concurrently), then the cross-region wiring, then a truthful summary.

pub mod api_account;
pub mod api_stage;
mod args;
mod command;
mod dns;
mod health_checks;
mod post_checks;
mod preflight;
mod schedule;
pub mod stack;
pub mod stack_set;
mod summary;
mod view;

pub use args::{AdminArgs, DeployArgs};
pub use command::run;

use std::collections::BTreeMap;

use crate::context::Outputs;
use crate::plan::{ParamSource, Plan, PlannedUnit};

/// A unit's parameter values, from literal values and upstream outputs.
pub fn resolve_parameters(
    plan: &Plan,
    unit: &PlannedUnit,
    outputs: &Outputs,
) -> BTreeMap<String, String> {
    unit.parameters
        .iter()
        .map(|(key, source)| {
            let value = match source {
                ParamSource::Value(v) => v.clone(),
                ParamSource::FromOutput {
                    unit,
                    output,
                    region,
                    default,
                } => outputs
                    .get(*unit, plan.output_region(*unit, *region), output)
                    .unwrap_or(default)
                    .to_string(),
            };
            (key.clone(), value)
        })
        .collect()
}
