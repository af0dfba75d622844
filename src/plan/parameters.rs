//! Parameter values, resolved: what `deploy` passes to a unit's stack and
//! what `diff` compares with the deployed ones.

use std::collections::BTreeMap;

use super::{ParamSource, Plan, PlannedUnit};
use crate::context::Outputs;

/// A unit's parameter values, from literal values and upstream outputs (as
/// deployed, or as a deploy would pass them: `diff` compares with these).
pub fn resolve(plan: &Plan, unit: &PlannedUnit, outputs: &Outputs) -> BTreeMap<String, String> {
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
