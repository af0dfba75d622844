//! Before the first change: what the run reads to plan itself, and the
//! refusals (another operation at work, data kept by an earlier teardown in
//! the way). A check that must stop a deploy before it changes anything
//! belongs here: an opt-in region not enabled, a user pool kept from an
//! earlier deployment.

use crate::aws::{Aws, aws_error};
use crate::error::{MraaError, Result};
use crate::plan::{Kind, PlannedUnit, Unit};

use crate::cfn;
use crate::cfn::status::is_in_progress;

/// An opt-in region of the deployment that the account has not enabled:
/// refused with how to enable it, before the first call that needs it.
pub(super) async fn refuse_if_region_disabled(aws: &Aws, regions: &[&str]) -> Result<()> {
    let disabled = crate::aws::disabled_opt_in_regions(regions, |r| aws.sts_probe_in(r)).await?;
    crate::regions::refuse_disabled(&disabled)
}

/// One of the app's stacks in `region`, read before the run.
pub(super) async fn read_stack(
    aws: &Aws,
    region: &str,
    (unit, name): (Unit, String),
) -> Result<Option<aws_sdk_cloudformation::types::Stack>> {
    cfn::stack::describe(&aws.cfn_in(region), &name)
        .await
        .map_err(|e| aws_error(unit.id(), region, &name, e))
}

/// Another operation on the stacks or StackSets of `units` (this app's):
/// refuse to start.
pub(super) async fn refuse_if_busy(aws: &Aws, app: &str, units: &[PlannedUnit]) -> Result<()> {
    let cfn = &aws.primary.cfn;
    let checks = units.iter().map(|planned| async move {
        let region = &aws.primary.region;
        match planned.kind {
            Kind::Stack => {
                let stack = cfn::stack::describe(cfn, &planned.name)
                    .await
                    .map_err(|e| aws_error(planned.unit.id(), region, &planned.name, e))?;
                let status = stack.and_then(|s| s.stack_status().cloned());
                match status {
                    Some(s) if is_in_progress(s.as_str()) => Ok(Some(format!(
                        "stack {} is {} in {region}",
                        planned.name,
                        s.as_str()
                    ))),
                    _ => Ok::<_, MraaError>(None),
                }
            }
            Kind::StackSet => {
                let busy = cfn::stack_set::busy_operations(cfn, &planned.name)
                    .await
                    .map_err(|e| aws_error(planned.unit.id(), region, &planned.name, e))?;
                Ok(busy.first().map(|o| {
                    format!(
                        "StackSet {} has {}",
                        planned.name,
                        cfn::stack_set::describe_operation(o)
                    )
                }))
            }
        }
    });
    let busy: Vec<String> = futures::future::try_join_all(checks)
        .await?
        .into_iter()
        .flatten()
        .collect();
    if busy.is_empty() {
        Ok(())
    } else {
        Err(MraaError::Busy(format!(
            "another operation on app {app} is in progress: {}",
            busy.join("; ")
        )))
    }
}

/// Data stores kept by an earlier teardown: this app's, to adopt; another's
/// in the way, refused as `mraa diff` refuses them (see
/// [`crate::plan::changes::refusals`]).
pub(super) async fn refuse_if_kept_data_in_the_way(
    aws: &Aws,
    plan: &crate::plan::Plan,
    account: &str,
) -> Result<crate::plan::changes::import::Kept> {
    crate::plan::changes::refusals::refuse_if_kept_data_in_the_way(aws, plan, account).await
}
