//! A layer as a self-managed StackSet with an instance in each region: one
//! operation covers both regions in parallel with zero failure tolerance, and
//! nothing mutating happens when template, parameters and instances already
//! match.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, PermissionModels, RegionConcurrencyType, StackInstanceStatus, StackSet,
    StackSetOperationPreferences, StackSetOperationStatus, StackSetStatus, Tag,
};

use crate::aws::{aws_error, is_not_found, sdk_message};
use crate::error::Result;
use crate::names::APP_TAG;
use crate::ui::progress::Status;

use super::stack::{outputs_of, parameter_map, parameters, root_cause};
use super::wait::Backoff;
use super::{Change, Ctx, UnitOutcome};

const OPERATION_LIMIT: Duration = Duration::from_secs(30 * 60);

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

    let existing = describe(cfn, spec.name).await.map_err(fail)?;
    let mut change = Change::Unchanged;
    match &existing {
        None => {
            ctx.report(spec.unit, &home, Status::Started, "creating StackSet");
            ctx.claim("deploy").await?;
            cfn.create_stack_set()
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
                .map_err(|e| fail(sdk_message(&e)))?;
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
                .operation_preferences(preferences())
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

    let mut outputs = BTreeMap::new();
    for region in spec.regions {
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
        outputs.insert(region.clone(), outputs_of(&stack));
    }
    Ok(UnitOutcome { change, outputs })
}

#[derive(Clone, Copy)]
enum InstanceOp {
    /// Instances missing in some regions.
    Create,
    /// Instances not current (an earlier operation did not reach them).
    Refresh,
}

/// Creates or refreshes the instances in `regions`, in one operation.
async fn instances_operation(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    what: InstanceOp,
    regions: Vec<String>,
) -> Result<()> {
    let cfn = &ctx.aws.primary.cfn;
    let home = &ctx.aws.primary.region;
    let (verb, id) = match what {
        InstanceOp::Create => ("creating", "create"),
        InstanceOp::Refresh => ("refreshing", "refresh"),
    };
    ctx.report(
        spec.unit,
        home,
        Status::Waiting,
        &format!("{verb} instances in {}", regions.join(", ")),
    );
    let operation = ctx.operation_id(spec.unit, id);
    ctx.claim("deploy").await?;
    let sent = match what {
        InstanceOp::Create => cfn
            .create_stack_instances()
            .stack_set_name(spec.name)
            .accounts(&ctx.account)
            .set_regions(Some(regions))
            .operation_preferences(preferences())
            .operation_id(&operation)
            .send()
            .await
            .map(|o| o.operation_id().map(str::to_string))
            .map_err(|e| sdk_message(&e)),
        InstanceOp::Refresh => cfn
            .update_stack_instances()
            .stack_set_name(spec.name)
            .accounts(&ctx.account)
            .set_regions(Some(regions))
            .operation_preferences(preferences())
            .operation_id(&operation)
            .send()
            .await
            .map(|o| o.operation_id().map(str::to_string))
            .map_err(|e| sdk_message(&e)),
    }
    .map_err(|e| aws_error(spec.unit, home, spec.name, e))?;
    // AWS echoes the id it was given; some endpoints make their own.
    wait_operation(ctx, spec, sent.as_deref().unwrap_or(&operation)).await
}

pub async fn describe(cfn: &Client, name: &str) -> Result<Option<StackSet>, String> {
    match cfn.describe_stack_set().stack_set_name(name).send().await {
        Ok(out) => Ok(out
            .stack_set()
            .filter(|s| s.status() != Some(&StackSetStatus::Deleted))
            .cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_message(&e)),
    }
}

fn matches_spec(set: &StackSet, spec: &StackSetSpec<'_>) -> bool {
    set.template_body() == Some(spec.body) && &parameter_map(set.parameters()) == spec.parameters
}

/// Both regions at once; any failure stops the operation.
fn preferences() -> StackSetOperationPreferences {
    StackSetOperationPreferences::builder()
        .region_concurrency_type(RegionConcurrencyType::Parallel)
        .failure_tolerance_count(0)
        .max_concurrent_percentage(100)
        .build()
}

async fn wait_operation(ctx: &Ctx, spec: &StackSetSpec<'_>, operation: &str) -> Result<()> {
    let cfn = &ctx.aws.primary.cfn;
    let home = &ctx.aws.primary.region;
    match await_operation(cfn, ctx.aws.custom_endpoint, spec.name, operation).await {
        Ok(()) => Ok(()),
        Err(OperationEnd::Failed) => Err(operation_failure(ctx, spec, operation).await),
        Err(OperationEnd::Other(cause)) => Err(aws_error(spec.unit, home, spec.name, cause)),
    }
}

/// How waiting for a StackSet operation ended, other than in success.
pub enum OperationEnd {
    /// FAILED or STOPPED: the per-region results say why.
    Failed,
    /// Not readable, or still running at the limit.
    Other(String),
}

/// Polls a StackSet operation with backoff until it ends (or the limit).
pub async fn await_operation(
    cfn: &Client,
    custom_endpoint: bool,
    set: &str,
    operation: &str,
) -> Result<(), OperationEnd> {
    let mut backoff = Backoff::for_operation(custom_endpoint, OPERATION_LIMIT);
    loop {
        let out = cfn
            .describe_stack_set_operation()
            .stack_set_name(set)
            .operation_id(operation)
            .send()
            .await
            .map_err(|e| OperationEnd::Other(sdk_message(&e)))?;
        let status = out.stack_set_operation().and_then(|o| o.status().cloned());
        match status {
            Some(StackSetOperationStatus::Succeeded) => return Ok(()),
            Some(StackSetOperationStatus::Failed | StackSetOperationStatus::Stopped) => {
                return Err(OperationEnd::Failed);
            }
            _ => {}
        }
        if !backoff.wait().await {
            return Err(OperationEnd::Other(format!(
                "operation {operation} still {status:?} after {} minutes",
                OPERATION_LIMIT.as_secs() / 60
            )));
        }
    }
}

/// Each failed region's reason, with the root-cause event of its stack.
async fn operation_failure(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    operation: &str,
) -> crate::error::MraaError {
    let cfn = &ctx.aws.primary.cfn;
    let mut reasons = Vec::new();
    if let Ok(results) = cfn
        .list_stack_set_operation_results()
        .stack_set_name(spec.name)
        .operation_id(operation)
        .send()
        .await
    {
        for result in results.summaries() {
            let region = result.region().unwrap_or("?");
            let status = result.status().map(|s| s.as_str()).unwrap_or("?");
            if status == "SUCCEEDED" {
                continue;
            }
            let mut reason = format!(
                "{region} {status}: {}",
                result.status_reason().unwrap_or("no reason given")
            );
            if let Ok(Some(stack)) =
                instance_stack(cfn, &ctx.aws.region(region).cfn, spec.name, region).await
                && let Some(id) = stack.stack_id()
            {
                reason.push_str(&format!(
                    " — {}",
                    root_cause(&ctx.aws.region(region).cfn, id).await
                ));
            }
            reasons.push(reason);
        }
    }
    if reasons.is_empty() {
        reasons.push("the operation failed without per-region results".into());
    }
    aws_error(
        spec.unit,
        ctx.aws.primary.region.clone(),
        format!("{} operation {operation}", spec.name),
        reasons.join("; "),
    )
}

/// The stack behind a StackSet instance, read in its own region. Found by the
/// instance's StackId; failing that, by the instance-stack naming
/// (`StackSet-<set>-<id>` on AWS, `StackSet:<set>` on some emulators).
pub async fn instance_stack(
    home: &Client,
    regional: &Client,
    set: &str,
    region: &str,
) -> Result<Option<aws_sdk_cloudformation::types::Stack>, String> {
    let instances = home
        .list_stack_instances()
        .stack_set_name(set)
        .stack_instance_region(region)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let stack_id = instances
        .summaries()
        .iter()
        .find(|s| s.region() == Some(region))
        .and_then(|s| s.stack_id());
    stack_in_region(regional, set, stack_id).await
}

/// The instance stack of `set` in the region of `regional`, by id when known.
pub async fn stack_in_region(
    regional: &Client,
    set: &str,
    stack_id: Option<&str>,
) -> Result<Option<aws_sdk_cloudformation::types::Stack>, String> {
    if let Some(id) = stack_id
        && let Some(stack) = super::stack::describe(regional, id).await?
    {
        return Ok(Some(stack));
    }
    let mut pages = regional.describe_stacks().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_message(&e))?;
        if let Some(stack) = page.stacks().iter().find(|s| {
            s.stack_name().is_some_and(|n| {
                n.starts_with(&format!("StackSet-{set}-")) || n == format!("StackSet:{set}")
            })
        }) {
            return Ok(Some(stack.clone()));
        }
    }
    Ok(None)
}
