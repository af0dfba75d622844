//! `manifest.json`: what each rendered template deploys as (stack or StackSet),
//! where, with which parameters, in which wave — the plan, written down.

use serde::Serialize;

use crate::plan::{Plan, PlannedUnit, Unit, WiringStep};

/// Bumped when a field changes meaning or disappears; additions keep it.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub schema_version: u32,
    pub app: &'a str,
    pub primary: &'a str,
    pub secondary: &'a str,
    /// How users reach the secondary: `native` or `import`.
    pub user_replication: crate::plan::UserReplication,
    pub units: &'a [PlannedUnit],
    pub wiring: Vec<Wiring>,
}

#[derive(Debug, Serialize)]
pub struct Wiring {
    pub step: WiringStep,
    pub after: &'static [Unit],
    pub description: &'static str,
}

impl<'a> Manifest<'a> {
    pub fn new(plan: &'a Plan) -> Self {
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            app: &plan.app,
            primary: &plan.primary,
            secondary: &plan.secondary,
            user_replication: plan.user_replication,
            units: &plan.units,
            wiring: WiringStep::ALL
                .iter()
                .map(|&step| Wiring {
                    step,
                    after: step.after(plan.user_replication),
                    description: step.describe(),
                })
                .collect(),
        }
    }
}
