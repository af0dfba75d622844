//! Stacks and StackSets: the edge's CloudFront distribution disabled and
//! deployed before its stack goes, StackSet instances deleted in every region
//! by one operation, then the StackSets, and the bootstrap stack last.

use std::time::Duration;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    RegionConcurrencyType, StackSetOperationPreferences, StackStatus,
};

use crate::aws::{is_not_found, sdk_message};
use crate::cfn::wait::Backoff;
use crate::cfn::{stack, stack_set};
use crate::error::{MraaError, Result};
use crate::ui::progress::Status;

use super::inventory::{SetRef, StackRef};
use super::{Run, fail};

/// Disabling a distribution deploys it to every edge location: ~15 minutes.
const DISTRIBUTION_LIMIT: Duration = Duration::from_secs(45 * 60);
const OPERATION_LIMIT: Duration = Duration::from_secs(30 * 60);
/// After API Gateway deletes a custom domain, ACM keeps reporting its
/// certificate in use for a while, so CloudFormation fails to delete the
/// certificate (`ResourceInUseException`, aws/aws-cdk issue 36265). Minutes
/// in practice; Terraform's AWS provider raised its retries to 20 minutes to
/// "better support API Gateway Custom Domain deletion"
/// (hashicorp/terraform-provider-aws pull request 13513).
const RELEASE_LIMIT: Duration = Duration::from_secs(20 * 60);

/// A failure that is only ACM's lag after the custom domain went: the
/// certificate resource, reported in use.
pub fn certificate_lag(cause: &str) -> bool {
    cause.contains("AWS::CertificateManager::Certificate")
        && (cause.contains("ResourceInUseException") || cause.contains("is in use"))
}

/// Disables the distribution and waits until CloudFront reports it
/// `Deployed`, so that CloudFormation can delete it. `Ok(false)`: no such
/// distribution.
pub async fn disable_distribution(run: &Run, step: &str, id: &str) -> Result<bool> {
    let cf = &run.aws.cloudfront;
    let region = &run.inventory.primary;
    let err = |cause: String| fail(step, region, format!("distribution {id}"), cause);
    let current = match cf.get_distribution_config().id(id).send().await {
        Ok(out) => out,
        Err(e) if e.code() == Some("NoSuchDistribution") || is_not_found(&e) => {
            return Ok(false);
        }
        Err(e) => return Err(err(sdk_message(&e))),
    };
    let Some(config) = current.distribution_config() else {
        return Err(err("CloudFront returned no configuration".into()));
    };
    if config.enabled {
        run.report(
            step,
            region,
            Status::Waiting,
            &format!("disabling distribution {id}"),
        );
        let mut disabled = config.clone();
        disabled.enabled = false;
        cf.update_distribution()
            .id(id)
            .set_if_match(current.e_tag().map(str::to_string))
            .distribution_config(disabled)
            .send()
            .await
            .map_err(|e| err(sdk_message(&e)))?;
    }
    let mut backoff = Backoff::for_operation(run.aws.custom_endpoint, DISTRIBUTION_LIMIT);
    loop {
        let out = cf
            .get_distribution()
            .id(id)
            .send()
            .await
            .map_err(|e| err(sdk_message(&e)))?;
        let status = out
            .distribution()
            .map(|d| d.status().to_string())
            .unwrap_or_default();
        if status == "Deployed" {
            return Ok(true);
        }
        run.report(
            step,
            region,
            Status::Waiting,
            &format!("distribution {id} is {status}; waiting for Deployed"),
        );
        if !backoff.wait().await {
            return Err(err(format!(
                "still {status} after {} minutes",
                DISTRIBUTION_LIMIT.as_secs() / 60
            )));
        }
    }
}

/// True once CloudFront no longer knows the distribution.
pub async fn distribution_gone(run: &Run, id: &str) -> std::result::Result<bool, String> {
    match run.aws.cloudfront.get_distribution().id(id).send().await {
        Ok(_) => Ok(false),
        Err(e) if e.code() == Some("NoSuchDistribution") || is_not_found(&e) => Ok(true),
        Err(e) => Err(sdk_message(&e)),
    }
}

/// Deletes a single stack and waits until it is gone; a stack that fails to
/// delete is reported with the resource that failed and why.
pub async fn delete_stack(run: &Run, step: &str, target: &StackRef) -> Result<()> {
    // Any region: the site certificate's us-east-1 may be neither of the
    // deployment's.
    let cfn = &run.aws.cfn_in(&target.region);
    let err = |cause: String| fail(step, &target.region, &target.name, cause);
    run.report(
        step,
        &target.region,
        Status::Started,
        &format!("deleting stack {}", target.name),
    );
    // By id: this very stack, even if another of that name appears.
    let id = target.id.as_deref().unwrap_or(&target.name);
    if target.status != StackStatus::DeleteInProgress.as_str() {
        cfn.delete_stack()
            .stack_name(id)
            .send()
            .await
            .map_err(|e| err(sdk_message(&e)))?;
    }
    let status = stack::wait_for(cfn, run.aws.custom_endpoint, id)
        .await
        .map_err(err)?;
    match status {
        None => Ok(()),
        Some(status) => {
            let cause = stack::root_cause(cfn, id).await;
            Err(err(format!("stack ended {}: {cause}", status.as_str())))
        }
    }
}

fn preferences() -> StackSetOperationPreferences {
    StackSetOperationPreferences::builder()
        .region_concurrency_type(RegionConcurrencyType::Parallel)
        .failure_tolerance_count(0)
        .max_concurrent_percentage(100)
        .build()
}

/// Waits for an operation already running on the set (an earlier, interrupted
/// teardown or deploy) before starting a new one.
async fn wait_idle(run: &Run, set: &SetRef) -> Result<()> {
    let cfn = &run.aws.primary.cfn;
    let home = &run.inventory.primary;
    let running: Vec<String> = stack_set::busy_operations(cfn, &set.name)
        .await
        .map_err(|e| fail(set.unit.id(), home, &set.name, e))?
        .iter()
        .filter_map(|o| o.operation_id().map(str::to_string))
        .collect();
    for operation in running {
        run.report(
            set.unit.id(),
            home,
            Status::Waiting,
            &format!("operation {operation} is already running; waiting for it"),
        );
        // Its outcome does not matter: what is left is deleted next.
        let _ = wait_operation(run, set, &operation).await;
    }
    Ok(())
}

async fn wait_operation(run: &Run, set: &SetRef, operation: &str) -> Result<()> {
    let cfn = &run.aws.primary.cfn;
    let home = &run.inventory.primary;
    let err = |cause: String| fail(set.unit.id(), home, &set.name, cause);
    match stack_set::await_operation(cfn, run.aws.custom_endpoint, &set.name, operation).await {
        Ok(()) => Ok(()),
        Err(stack_set::OperationEnd::Failed) => {
            Err(err(operation_failure(run, set, operation).await))
        }
        Err(stack_set::OperationEnd::Other(cause)) => Err(err(cause)),
    }
}

async fn operation_failure(run: &Run, set: &SetRef, operation: &str) -> String {
    let results = run
        .aws
        .primary
        .cfn
        .list_stack_set_operation_results()
        .stack_set_name(&set.name)
        .operation_id(operation)
        .send()
        .await
        .map(|out| out.summaries().to_vec())
        .unwrap_or_default();
    let reasons = stack_set::failed_regions(&results, |region| async move {
        let id = set
            .instances
            .iter()
            .find(|i| i.region == region)
            .and_then(|i| i.stack.as_ref())
            .and_then(|s| s.stack_id())?;
        Some(stack::root_cause(&run.aws.region(&region).cfn, id).await)
    })
    .await;
    format!("delete operation {operation}: {reasons}")
}

/// Deletes the set's instances in every region they exist (one operation,
/// regions in parallel), then checks that no instance and no instance stack
/// is left. Returns the regions deleted now.
pub async fn delete_instances(run: &Run, set: &SetRef) -> Result<Vec<String>> {
    let cfn = &run.aws.primary.cfn;
    let home = &run.inventory.primary;
    let step = set.unit.id();
    let err = |cause: String| fail(step, home, &set.name, cause);
    wait_idle(run, set).await?;
    let present = instance_regions(run, set).await?;
    if !present.is_empty() {
        run.report(
            step,
            home,
            Status::Started,
            &format!(
                "deleting the instances of {} in {}",
                set.name,
                present.join(", ")
            ),
        );
        let mut regions = present.clone();
        let mut backoff = Backoff::for_operation(run.aws.custom_endpoint, RELEASE_LIMIT);
        for attempt in 0.. {
            // Each operation needs an id of its own.
            let what = match attempt {
                0 => "delete".to_string(),
                n => format!("delete-{n}"),
            };
            let operation = run.operation_id(step, &what);
            let sent = cfn
                .delete_stack_instances()
                .stack_set_name(&set.name)
                .accounts(&run.inventory.account)
                .set_regions(Some(regions.clone()))
                .retain_stacks(false)
                .operation_preferences(preferences())
                .operation_id(&operation)
                .send()
                .await
                .map_err(|e| err(sdk_message(&e)))?;
            // AWS echoes the id it was given; some endpoints make their own.
            let ended = wait_operation(run, set, sent.operation_id().unwrap_or(&operation)).await;
            match ended {
                Err(MraaError::Aws(failure)) if certificate_lag(&failure.cause) => {
                    run.report(
                        step,
                        home,
                        Status::Waiting,
                        "ACM still reports the API certificate in use by the deleted custom domain; deleting again",
                    );
                    if !backoff.wait().await {
                        return Err(MraaError::Aws(failure));
                    }
                    regions = instance_regions(run, set).await?;
                    if regions.is_empty() {
                        break;
                    }
                }
                other => {
                    other?;
                    break;
                }
            }
        }
    }

    // Verify: no instance listed, and each instance stack gone in its region.
    let left = instance_regions(run, set).await?;
    if !left.is_empty() {
        return Err(err(format!(
            "instances still listed in {} after deleting them",
            left.join(", ")
        )));
    }
    for instance in &set.instances {
        let Some(id) = instance.stack.as_ref().and_then(|s| s.stack_id()) else {
            continue;
        };
        let regional = &run.aws.region(&instance.region).cfn;
        let found = stack::describe(regional, id)
            .await
            .map_err(|e| fail(step, &instance.region, &set.name, e))?;
        if let Some(stack) = found
            && stack.stack_status() != Some(&StackStatus::DeleteComplete)
        {
            return Err(fail(
                step,
                &instance.region,
                &set.name,
                format!(
                    "the instance stack {} is still {}",
                    stack.stack_name().unwrap_or(id),
                    stack.stack_status().map(|s| s.as_str()).unwrap_or("?")
                ),
            ));
        }
    }
    Ok(present)
}

async fn instance_regions(run: &Run, set: &SetRef) -> Result<Vec<String>> {
    let out = match run
        .aws
        .primary
        .cfn
        .list_stack_instances()
        .stack_set_name(&set.name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(Vec::new()),
        Err(e) => {
            return Err(fail(
                set.unit.id(),
                &run.inventory.primary,
                &set.name,
                sdk_message(&e),
            ));
        }
    };
    let mut regions: Vec<String> = out
        .summaries()
        .iter()
        .filter_map(|s| s.region().map(str::to_string))
        .collect();
    regions.sort();
    regions.dedup();
    Ok(regions)
}

/// Deletes the (empty) StackSet and checks it is gone.
pub async fn delete_set(run: &Run, set: &SetRef) -> Result<()> {
    let cfn = &run.aws.primary.cfn;
    let home = &run.inventory.primary;
    let err = |cause: String| fail(set.unit.id(), home, &set.name, cause);
    match cfn
        .delete_stack_set()
        .stack_set_name(&set.name)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(err(sdk_message(&e))),
    }
    let mut backoff = Backoff::for_operation(run.aws.custom_endpoint, OPERATION_LIMIT);
    while stack_set::describe(cfn, &set.name)
        .await
        .map_err(err)?
        .is_some()
    {
        if !backoff.wait().await {
            return Err(err("the StackSet is still listed after deleting it".into()));
        }
    }
    Ok(())
}
