//! What a deploy with given inputs would change in a deployment: each unit
//! against what is deployed (a change set where the template or parameters
//! differ), then the wiring steps. One code path for both commands: `mraa
//! diff` prints it, and `mraa deploy` shows the same before it changes an
//! existing deployment and asks for approval. Its only mutating calls are
//! its own change sets, made and deleted again.

pub mod dns;
pub mod import;
pub mod import_template;
pub mod refusals;
pub mod regions;
pub mod report;
pub mod units;
pub mod view;
pub mod wiring;

use crate::aws::Aws;
use crate::error::Result;
use crate::plan::Plan;
use crate::render::Rendered;

use report::{UnitDiff, WiringDiff};
use units::DeployedStack;

/// The changes a deploy of `plan` would make, and the stacks deployed now.
#[derive(Debug, Clone)]
pub struct Changes {
    pub units: Vec<UnitDiff>,
    pub wiring: Vec<WiringDiff>,
    /// Every stack of the deployment as found (where drift detection looks).
    pub deployed: Vec<DeployedStack>,
}

/// Compares every planned unit, in dependency order, then the wiring.
pub async fn compute(
    aws: &Aws,
    plan: &Plan,
    rendered: &[Rendered],
    account: &str,
    run_id: &str,
) -> Result<Changes> {
    let (units, deployed, outputs) = units::compare(aws, plan, rendered, run_id, &plan.app).await?;
    let wiring = wiring::compare(aws, plan, account, &outputs).await?;
    Ok(Changes {
        units,
        wiring,
        deployed,
    })
}
