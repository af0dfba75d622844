//! API Gateway serves a stage's *deployment*: a snapshot of the API taken
//! when the deployment was made. CloudFormation updates the methods of an
//! API in place but takes no new snapshot (the template's Deployment
//! resource is unchanged), so after an update the stage would go on serving
//! the old methods. After a routing or application update mraa deploys each
//! region's API to its stage itself and reads the stage back.

use crate::aws::{aws_error, sdk_message};
use crate::error::Result;
use crate::plan::Unit;
use crate::ui::progress::Status;

use crate::context::{Ctx, UnitOutcome};

/// The stage every mraa API serves (the templates' `StageName`).
const STAGE: &str = "prod";

/// The output naming the unit's REST API, for the units that have one.
fn api_output(unit: Unit) -> Option<&'static str> {
    match unit {
        Unit::Routing => Some("StateApiId"),
        Unit::Application => Some("AppApiId"),
        _ => None,
    }
}

/// Redeploys the unit's API in every region of `outcome` (call it only when
/// the unit was updated) and checks the stage serves the new deployment.
pub async fn redeploy(ctx: &Ctx, unit: Unit, outcome: &UnitOutcome) -> Result<()> {
    let Some(output) = api_output(unit) else {
        return Ok(());
    };
    for (region, outputs) in &outcome.outputs {
        let fail = |resource: &str, cause: String| aws_error(unit.id(), region, resource, cause);
        let Some(api) = outputs.get(output) else {
            return Err(fail(
                output,
                "the stack output is missing, so its API cannot be redeployed".into(),
            ));
        };
        let client = &ctx.aws.region(region).apigateway;
        ctx.report(
            unit.id(),
            region,
            Status::Waiting,
            &format!("deploying API {api} to stage {STAGE}"),
        );
        ctx.claim("deploy").await?;
        let deployment = client
            .create_deployment()
            .rest_api_id(api)
            .stage_name(STAGE)
            .description(format!(
                "mraa {}: {unit} updated by run {}",
                ctx.app, ctx.run_id
            ))
            .send()
            .await
            .map_err(|e| fail(&format!("REST API {api}"), sdk_message(&e)))?;
        let id = deployment.id().unwrap_or_default().to_string();
        let stage = client
            .get_stage()
            .rest_api_id(api)
            .stage_name(STAGE)
            .send()
            .await
            .map_err(|e| fail(&format!("stage {STAGE} of REST API {api}"), sdk_message(&e)))?;
        if id.is_empty() || stage.deployment_id() != Some(id.as_str()) {
            return Err(fail(
                &format!("stage {STAGE} of REST API {api}"),
                format!(
                    "deployment {id} was made but the stage serves {}",
                    stage.deployment_id().unwrap_or("none")
                ),
            ));
        }
    }
    Ok(())
}
