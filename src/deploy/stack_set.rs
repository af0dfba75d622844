//! A layer as a self-managed StackSet with an instance in each region: one
//! operation covers both regions in parallel with zero failure tolerance, and
//! nothing mutating happens when template, parameters and instances already
//! match.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::types::{
    Capability, PermissionModels, RegionConcurrencyType, StackInstanceStatus, StackSet,
    StackSetOperationPreferences, StackSetOperationResultStatus, StackSetOperationResultSummary,
    Tag,
};

use crate::aws::{aws_error, sdk_message};
use crate::error::Result;
use crate::names::APP_TAG;
use crate::ui::progress::Status;

use crate::cfn::stack::{
    EventStream, outputs_of, parameter_map, parameters, root_cause, streams_events,
};
use crate::cfn::stack_set::{
    OperationEnd, await_operation, describe, failed_region, failed_regions, instance_stack,
    instance_stack_id, operation_results, stack_in_region,
};
use crate::cfn::wait::Backoff;
use crate::context::{Change, Ctx, UnitOutcome};

pub struct StackSetSpec<'a> {
    pub unit: &'a str,
    pub name: &'a str,
    pub body: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
    pub regions: &'a [String],
}

pub async fn deploy(ctx: &Ctx, spec: &StackSetSpec<'_>) -> Result<UnitOutcome> {
    let cfn = &ctx.aws.primary.cfn;
    let home = ctx.aws.primary.region.clone();
    let fail = |cause: String| aws_error(spec.unit, &home, spec.name, cause);

    // Data kept by an earlier teardown comes back under the set first.
    let adopted = super::adopt::stack_set(ctx, spec).await?;
    let existing = describe(cfn, spec.name).await.map_err(fail)?;
    let mut change = if adopted {
        Change::Created
    } else {
        Change::Unchanged
    };
    match &existing {
        None => {
            create_set(ctx, spec).await?;
            change = Change::Created;
        }
        Some(set) if !matches_spec(set, spec) => {
            ctx.report(spec.unit, &home, Status::Started, "updating StackSet");
            let operation = ctx.operation_id(spec.unit, "update");
            ctx.claim("deploy").await?;
            let sent = cfn
                .update_stack_set()
                .stack_set_name(spec.name)
                .template_body(spec.body)
                .set_parameters(Some(parameters(spec.parameters)))
                .capabilities(Capability::CapabilityNamedIam)
                .administration_role_arn(ctx.admin_role_arn())
                .execution_role_name(ctx.execution_role_name())
                .tags(Tag::builder().key(APP_TAG).value(&ctx.app).build())
                .operation_preferences(preferences(spec.unit))
                .operation_id(&operation)
                .send()
                .await
                .map_err(|e| fail(sdk_message(&e)))?;
            wait_operation(ctx, spec, sent.operation_id().unwrap_or(&operation)).await?;
            change = Change::Updated;
        }
        Some(_) => {}
    }

    // Instances: create the missing, refresh the ones not current.
    let instances = cfn
        .list_stack_instances()
        .stack_set_name(spec.name)
        .send()
        .await
        .map_err(|e| fail(sdk_message(&e)))?;
    let present: BTreeMap<String, Option<StackInstanceStatus>> = instances
        .summaries()
        .iter()
        .filter_map(|s| Some((s.region()?.to_string(), s.status().cloned())))
        .collect();
    let missing: Vec<String> = spec
        .regions
        .iter()
        .filter(|r| !present.contains_key(*r))
        .cloned()
        .collect();
    let stale: Vec<String> = spec
        .regions
        .iter()
        .filter(|r| matches!(present.get(*r), Some(Some(s)) if *s != StackInstanceStatus::Current))
        .cloned()
        .collect();
    for (regions, what) in [(missing, InstanceOp::Create), (stale, InstanceOp::Refresh)] {
        if regions.is_empty() {
            continue;
        }
        instances_operation(ctx, spec, what, regions).await?;
        if change == Change::Unchanged {
            change = Change::Updated;
        }
    }

    // Each region's instance stack, read together: the next unit waits for them.
    let outputs = futures::future::try_join_all(spec.regions.iter().map(|region| async move {
        let clients = ctx.aws.region(region);
        let stack = instance_stack(cfn, &clients.cfn, spec.name, region)
            .await
            .map_err(|e| aws_error(spec.unit, region, spec.name, e))?;
        let Some(stack) = stack else {
            return Err(aws_error(
                spec.unit,
                region,
                spec.name,
                "the StackSet instance has no stack",
            ));
        };
        Ok((region.clone(), outputs_of(&stack)))
    }))
    .await?
    .into_iter()
    .collect();
    Ok(UnitOutcome { change, outputs })
}

#[derive(Clone, Copy)]
enum InstanceOp {
    /// Instances missing in some regions.
    Create,
    /// Instances not current (an earlier operation did not reach them).
    Refresh,
}

impl InstanceOp {
    fn verb(self) -> &'static str {
        match self {
            InstanceOp::Create => "creating",
            InstanceOp::Refresh => "refreshing",
        }
    }
}

/// Creates the StackSet, without instances.
pub(super) async fn create_set(ctx: &Ctx, spec: &StackSetSpec<'_>) -> Result<()> {
    let home = &ctx.aws.primary.region;
    ctx.report(spec.unit, home, Status::Started, "creating StackSet");
    ctx.claim("deploy").await?;
    ctx.aws
        .primary
        .cfn
        .create_stack_set()
        .stack_set_name(spec.name)
        .description(format!("mraa {} {}", ctx.app, spec.unit))
        .template_body(spec.body)
        .set_parameters(Some(parameters(spec.parameters)))
        .capabilities(Capability::CapabilityNamedIam)
        .permission_model(PermissionModels::SelfManaged)
        .administration_role_arn(ctx.admin_role_arn())
        .execution_role_name(ctx.execution_role_name())
        .tags(Tag::builder().key(APP_TAG).value(&ctx.app).build())
        .client_request_token(format!("{}-{}", ctx.run_id, spec.unit))
        .send()
        .await
        .map_err(|e| aws_error(spec.unit, home, spec.name, sdk_message(&e)))?;
    Ok(())
}

/// Creates or refreshes the instances in `regions`, in one operation. When
/// the operation (or the call) fails only because IAM has not yet propagated
/// the just-created StackSet roles, waits and runs it again for the regions
/// that did not succeed, a bounded number of times.
async fn instances_operation(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    what: InstanceOp,
    regions: Vec<String>,
) -> Result<()> {
    let home = &ctx.aws.primary.region;
    let id = match what {
        InstanceOp::Create => "create",
        InstanceOp::Refresh => "refresh",
    };
    let (mut what, mut regions) = (what, regions);
    let mut backoff = None;
    let mut attempt = 1;
    loop {
        ctx.report(
            spec.unit,
            home,
            Status::Waiting,
            &format!("{} instances in {}", what.verb(), regions.join(", ")),
        );
        // Operation ids are unique per StackSet: each attempt needs its own.
        let operation = match attempt {
            1 => ctx.operation_id(spec.unit, id),
            n => ctx.operation_id(spec.unit, &format!("{id}-{n}")),
        };
        let Some(stalled) = attempt_instances(ctx, spec, what, &regions, &operation).await? else {
            return Ok(());
        };
        // Bounded twice: by attempts, and by the deadline (measured from the
        // first such failure).
        let backoff = backoff.get_or_insert_with(|| iam_backoff(ctx.aws.custom_endpoint));
        if attempt < IAM_ATTEMPTS {
            ctx.report(
                spec.unit,
                home,
                Status::Waiting,
                &format!(
                    "waiting for IAM to propagate the StackSet roles, then retrying \
                     (attempt {} of {IAM_ATTEMPTS})",
                    attempt + 1
                ),
            );
            if backoff.wait().await {
                (what, regions) = stalled.next(what, regions);
                attempt += 1;
                continue;
            }
        }
        return Err(with_roles_hint(
            stalled.into_error(ctx, spec).await,
            attempt,
        ));
    }
}

/// How long, and how often, an instances operation is run while IAM
/// propagates the StackSet roles the bootstrap stack just created.
const IAM_PROPAGATION_LIMIT: Duration = Duration::from_secs(2 * 60);
const IAM_ATTEMPTS: u32 = 4;

fn iam_backoff(custom_endpoint: bool) -> Backoff {
    if custom_endpoint {
        Backoff::for_operation(true, IAM_PROPAGATION_LIMIT)
    } else {
        // 10 + 20 + 40 s between the 4 attempts.
        Backoff::new(
            Duration::from_secs(10),
            Duration::from_secs(40),
            IAM_PROPAGATION_LIMIT,
        )
    }
}

/// An instances operation that could not use the StackSet roles (yet).
enum RolesNotReady {
    /// The call itself was refused; nothing was started.
    Refused(String),
    /// The operation ran and failed; `retry` are the regions that did not
    /// succeed.
    Failed {
        operation: String,
        results: Option<Vec<StackSetOperationResultSummary>>,
        retry: Vec<String>,
    },
}

impl RolesNotReady {
    /// The next attempt: the same call again after a refusal; after a failed
    /// operation, an update of the regions that did not succeed, since the
    /// failed operation left their instances in place (OUTDATED), as a re-run
    /// of `mraa deploy` would.
    fn next(self, what: InstanceOp, regions: Vec<String>) -> (InstanceOp, Vec<String>) {
        match self {
            RolesNotReady::Refused(_) => (what, regions),
            RolesNotReady::Failed { retry, .. } => (InstanceOp::Refresh, retry),
        }
    }

    /// The error reported today for the same failure.
    async fn into_error(self, ctx: &Ctx, spec: &StackSetSpec<'_>) -> crate::error::MraaError {
        match self {
            RolesNotReady::Refused(cause) => {
                aws_error(spec.unit, &ctx.aws.primary.region, spec.name, cause)
            }
            RolesNotReady::Failed {
                operation, results, ..
            } => explain_failure(ctx, spec, &operation, results).await,
        }
    }
}

/// Appends why the roles may not work yet, and how to resume.
fn with_roles_hint(err: crate::error::MraaError, attempts: u32) -> crate::error::MraaError {
    match err {
        crate::error::MraaError::Aws(mut aws) => {
            aws.cause.push_str(&format!(
                "; the StackSet roles were just created and IAM had not propagated them after \
                 {attempts} attempts: run `mraa deploy` again in a few minutes, it resumes \
                 where it stopped"
            ));
            crate::error::MraaError::Aws(aws)
        }
        other => other,
    }
}

/// Sends one instances operation and waits for it: `None` once it succeeded,
/// `Some` when only the StackSet roles stood in its way, an error otherwise.
async fn attempt_instances(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    what: InstanceOp,
    regions: &[String],
    operation: &str,
) -> Result<Option<RolesNotReady>> {
    let cfn = &ctx.aws.primary.cfn;
    let home = &ctx.aws.primary.region;
    ctx.claim("deploy").await?;
    let regions = Some(regions.to_vec());
    let sent = match what {
        InstanceOp::Create => cfn
            .create_stack_instances()
            .stack_set_name(spec.name)
            .accounts(&ctx.account)
            .set_regions(regions)
            .operation_preferences(preferences(spec.unit))
            .operation_id(operation)
            .send()
            .await
            .map(|o| o.operation_id().map(str::to_string))
            .map_err(|e| sdk_message(&e)),
        InstanceOp::Refresh => cfn
            .update_stack_instances()
            .stack_set_name(spec.name)
            .accounts(&ctx.account)
            .set_regions(regions)
            .operation_preferences(preferences(spec.unit))
            .operation_id(operation)
            .send()
            .await
            .map(|o| o.operation_id().map(str::to_string))
            .map_err(|e| sdk_message(&e)),
    };
    let sent = match sent {
        // AWS echoes the id it was given; some endpoints make their own.
        Ok(id) => id.unwrap_or_else(|| operation.to_string()),
        Err(cause) if is_role_propagation(&cause) => {
            return Ok(Some(RolesNotReady::Refused(cause)));
        }
        Err(cause) => return Err(aws_error(spec.unit, home, spec.name, cause)),
    };
    match with_instance_events(
        ctx,
        spec,
        await_operation(cfn, ctx.aws.custom_endpoint, spec.name, &sent),
    )
    .await
    {
        Ok(()) => Ok(None),
        Err(OperationEnd::Other(cause)) => Err(aws_error(spec.unit, home, spec.name, cause)),
        Err(OperationEnd::Failed) => {
            let results = operation_results(cfn, spec.name, &sent).await;
            match results.as_deref().and_then(roles_not_ready) {
                Some(retry) => Ok(Some(RolesNotReady::Failed {
                    operation: sent,
                    results,
                    retry,
                })),
                None => Err(explain_failure(ctx, spec, &sent, results).await),
            }
        }
    }
}

/// The regions to run again when every failed region failed on the StackSet
/// roles (the rest were cancelled or not reached); `None` when any failed for
/// another reason.
fn roles_not_ready(results: &[StackSetOperationResultSummary]) -> Option<Vec<String>> {
    let unfinished: Vec<_> = results
        .iter()
        .filter(|r| r.status() != Some(&StackSetOperationResultStatus::Succeeded))
        .collect();
    let failed: Vec<_> = unfinished
        .iter()
        .filter(|r| r.status() == Some(&StackSetOperationResultStatus::Failed))
        .collect();
    let all_roles = !failed.is_empty()
        && failed
            .iter()
            .all(|r| r.status_reason().is_some_and(is_role_propagation));
    if !all_roles {
        return None;
    }
    unfinished
        .iter()
        .map(|r| r.region().map(str::to_string))
        .collect()
}

/// Whether a StackSet failure says the administration role cannot (yet) use
/// the execution role: "Account … should have '…' role with trust
/// relationship to Role '…'", or a call refused because a role "cannot be
/// assumed". Failures inside an instance's stack (a resource's own message,
/// such as a Lambda function's role) never count.
fn is_role_propagation(message: &str) -> bool {
    const ASSUME: [&str; 6] = [
        "cannot be assumed",
        "can't be assumed",
        "could not be assumed",
        "cannot assume",
        "could not assume",
        "unable to assume",
    ];
    let m = message.to_ascii_lowercase();
    if m.contains("resourcelogicalid") || m.contains("resource handler") {
        return false;
    }
    m.contains("role")
        && (m.contains("role with trust relationship") || ASSUME.iter().any(|p| m.contains(p)))
}

fn matches_spec(set: &StackSet, spec: &StackSetSpec<'_>) -> bool {
    set.template_body() == Some(spec.body) && &parameter_map(set.parameters()) == spec.parameters
}

/// Both regions at once; any failure stops the operation. The API domain's
/// regions go one after the other: their certificates for the one name share
/// a DNS validation record that CloudFormation writes into the zone, and the
/// second region then finds it in place instead of racing the first for it.
pub(super) fn preferences(unit: &str) -> StackSetOperationPreferences {
    let concurrency = if unit == crate::plan::Unit::ApiDomain.id() {
        RegionConcurrencyType::Sequential
    } else {
        RegionConcurrencyType::Parallel
    };
    StackSetOperationPreferences::builder()
        .region_concurrency_type(concurrency)
        .failure_tolerance_count(0)
        .max_concurrent_percentage(100)
        .build()
}

pub(super) async fn wait_operation(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    operation: &str,
) -> Result<()> {
    let cfn = &ctx.aws.primary.cfn;
    let home = &ctx.aws.primary.region;
    match with_instance_events(
        ctx,
        spec,
        await_operation(cfn, ctx.aws.custom_endpoint, spec.name, operation),
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(OperationEnd::Failed) => {
            let results = operation_results(cfn, spec.name, operation).await;
            Err(explain_failure(ctx, spec, operation, results).await)
        }
        Err(OperationEnd::Other(cause)) => Err(aws_error(spec.unit, home, spec.name, cause)),
    }
}

/// With `-v`, the events of the instance stacks in `spec`'s Regions as they
/// arrive while `operation` runs, and the last ones once it has ended.
async fn with_instance_events<T>(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    operation: impl std::future::Future<Output = T>,
) -> T {
    if !streams_events() {
        return operation.await;
    }
    let mut streams: Vec<(&String, EventStream, Option<String>)> = spec
        .regions
        .iter()
        .map(|r| (r, EventStream::for_instance(), None))
        .collect();
    let result = {
        // Bounded like the operation's own wait; past it, the operation
        // alone is awaited.
        let polling = async {
            let mut backoff =
                Backoff::for_operation(ctx.aws.custom_endpoint, Duration::from_secs(30 * 60));
            loop {
                show_instance_events(ctx, spec, &mut streams).await;
                if !backoff.wait().await {
                    return;
                }
            }
        };
        tokio::pin!(operation, polling);
        tokio::select! {
            result = &mut operation => result,
            () = &mut polling => (&mut operation).await,
        }
    };
    show_instance_events(ctx, spec, &mut streams).await;
    result
}

async fn show_instance_events(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    streams: &mut [(&String, EventStream, Option<String>)],
) {
    for (region, stream, stack_id) in streams.iter_mut() {
        if stack_id.is_none() {
            // The instance names its stack once StackSets has made it.
            *stack_id = instance_stack_id(&ctx.aws.primary.cfn, spec.name, region)
                .await
                .ok()
                .flatten();
        }
        if let Some(id) = stack_id {
            stream
                .show_new(&ctx.aws.cfn_in(region), id, spec.name)
                .await;
        }
    }
}

/// Each failed region's reason, with the root-cause event of its stack.
async fn explain_failure(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    operation: &str,
    results: Option<Vec<StackSetOperationResultSummary>>,
) -> crate::error::MraaError {
    let cfn = &ctx.aws.primary.cfn;
    let results = results.unwrap_or_default();
    let region = failed_region(&results).unwrap_or_else(|| ctx.aws.primary.region.clone());
    let reasons = failed_regions(&results, |region| async move {
        let regional = &ctx.aws.region(&region).cfn;
        // By the instance's StackId: after a failed creation StackSets has
        // deleted the stack, and only its id still reads its events.
        // Without one, by the instance-stack naming (the instance was just
        // listed: not again).
        match instance_stack_id(cfn, spec.name, &region).await {
            Ok(Some(id)) => Some(root_cause(regional, &id).await),
            Ok(None) => match stack_in_region(regional, spec.name, None).await {
                Ok(Some(stack)) => match stack.stack_id() {
                    Some(id) => Some(root_cause(regional, id).await),
                    None => None,
                },
                _ => None,
            },
            Err(_) => None,
        }
    })
    .await;
    aws_error(
        spec.unit,
        region,
        format!("{} operation {operation}", spec.name),
        reasons,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_domain_rolls_out_region_by_region() {
        assert_eq!(
            preferences("api-domain").region_concurrency_type(),
            Some(&RegionConcurrencyType::Sequential)
        );
        assert_eq!(
            preferences("routing").region_concurrency_type(),
            Some(&RegionConcurrencyType::Parallel)
        );
    }

    fn result(
        region: &str,
        status: StackSetOperationResultStatus,
        reason: &str,
    ) -> StackSetOperationResultSummary {
        StackSetOperationResultSummary::builder()
            .region(region)
            .status(status)
            .status_reason(reason)
            .build()
    }

    const TRUST: &str = "Account 123456789012 should have 'mraa-demo-stackset-exec' role with \
                         trust relationship to Role 'mraa-demo-stackset-admin'.";

    #[test]
    fn role_propagation_is_recognised_by_stack_sets_own_words_only() {
        assert!(is_role_propagation(TRUST));
        assert!(is_role_propagation(
            "ValidationError: Role arn:aws:iam::123456789012:role/mraa-demo-stackset-admin \
             cannot be assumed"
        ));
        assert!(!is_role_propagation(
            "Resource handler returned message: AccessDenied"
        ));
        // A resource's role inside the instance stack is the template's business.
        assert!(!is_role_propagation(
            "ResourceLogicalId:Fn, ResourceType:AWS::Lambda::Function, ResourceStatusReason:\
             Resource handler returned message: \"The role defined for the function cannot be \
             assumed by Lambda.\""
        ));
    }

    #[test]
    fn only_failures_all_on_the_roles_are_retried_with_the_unfinished_regions() {
        use StackSetOperationResultStatus as S;
        assert_eq!(
            roles_not_ready(&[
                result("us-east-1", S::Failed, TRUST),
                result(
                    "ap-northeast-1",
                    S::Cancelled,
                    "Cancelled since failure tolerance has exceeded"
                ),
            ]),
            Some(vec!["us-east-1".to_string(), "ap-northeast-1".to_string()])
        );
        assert_eq!(
            roles_not_ready(&[
                result("us-east-1", S::Succeeded, ""),
                result("ap-northeast-1", S::Failed, TRUST),
            ]),
            Some(vec!["ap-northeast-1".to_string()])
        );
        assert_eq!(
            roles_not_ready(&[
                result("us-east-1", S::Failed, TRUST),
                result(
                    "ap-northeast-1",
                    S::Failed,
                    "Resource handler returned message: AccessDenied"
                ),
            ]),
            None
        );
        // Stopped by someone: nothing failed, nothing to wait for.
        assert_eq!(
            roles_not_ready(&[result("us-east-1", S::Cancelled, "User initiated stop")]),
            None
        );
    }
}
