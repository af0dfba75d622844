//! StackSets, read: the set, its operations and their per-region results,
//! and the stack behind each instance.

use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Stack, StackSet, StackSetOperationResultSummary, StackSetOperationStatus,
    StackSetOperationSummary, StackSetStatus, StackStatus,
};

use crate::aws::{is_not_found, sdk_message};

use super::status::is_busy_operation;
use super::wait::Backoff;

const OPERATION_LIMIT: Duration = Duration::from_secs(30 * 60);

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

/// The set's operations still running (queued, running or stopping): while
/// one runs, CloudFormation refuses another. Empty when the set is gone.
pub async fn busy_operations(
    cfn: &Client,
    set: &str,
) -> Result<Vec<StackSetOperationSummary>, String> {
    match cfn
        .list_stack_set_operations()
        .stack_set_name(set)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .summaries()
            .iter()
            .filter(|o| o.status().is_some_and(is_busy_operation))
            .cloned()
            .collect()),
        Err(e) if is_not_found(&e) => Ok(Vec::new()),
        Err(e) => Err(sdk_message(&e)),
    }
}

/// `operation <id> (<action>) <status>`, as refusals name a running one.
pub fn describe_operation(o: &StackSetOperationSummary) -> String {
    format!(
        "operation {} ({}) {}",
        o.operation_id().unwrap_or("?"),
        o.action().map(|a| a.as_str()).unwrap_or("?"),
        o.status().map(|s| s.as_str()).unwrap_or("?")
    )
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

/// The per-region results of an operation; `None` when they cannot be read.
pub async fn operation_results(
    cfn: &Client,
    set: &str,
    operation: &str,
) -> Option<Vec<StackSetOperationResultSummary>> {
    cfn.list_stack_set_operation_results()
        .stack_set_name(set)
        .operation_id(operation)
        .send()
        .await
        .ok()
        .map(|out| out.summaries().to_vec())
}

/// The regions of an operation that did not succeed, as `<region> <status>:
/// <reason>`, each followed by what `cause` finds for that region (its
/// stack's root-cause event), joined by `; `. Shared by deploy and teardown.
pub async fn failed_regions<F, Fut>(results: &[StackSetOperationResultSummary], cause: F) -> String
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let mut reasons = Vec::new();
    for result in results {
        let region = result.region().unwrap_or("?");
        let status = result.status().map(|s| s.as_str()).unwrap_or("?");
        if status == "SUCCEEDED" {
            continue;
        }
        let given = result.status_reason().unwrap_or("no reason given");
        let reason = match cause(region.to_string()).await {
            // The stack's event names the same resource with its physical
            // id: said once, from the event.
            Some(found) if given.contains("ResourceLogicalId:") && !found.starts_with("no ") => {
                format!("{region} {status}: {found}")
            }
            Some(found) => format!("{region} {status}: {given} — {found}"),
            None => format!("{region} {status}: {given}"),
        };
        reasons.push(reason);
    }
    if reasons.is_empty() {
        reasons.push("the operation failed without per-region results".into());
    }
    reasons.join("; ")
}

/// The one region where an operation failed (the others succeeded or were
/// cancelled because of it): where the failure is, so that the error names
/// that region and not the StackSet's home. `None` for none or several.
pub fn failed_region(results: &[StackSetOperationResultSummary]) -> Option<String> {
    let mut failed = results
        .iter()
        .filter(|r| r.status().is_some_and(|s| s.as_str() == "FAILED"));
    let first = failed.next()?.region()?.to_string();
    failed.next().is_none().then_some(first)
}

/// The stack behind a StackSet instance, read in its own region. Found by the
/// instance's StackId; failing that, by the instance-stack naming
/// (`StackSet-<set>-<id>` on AWS, `StackSet:<set>` on some emulators). A
/// stack StackSets deleted (after a failed creation) is none.
pub async fn instance_stack(
    home: &Client,
    regional: &Client,
    set: &str,
    region: &str,
) -> Result<Option<Stack>, String> {
    let stack_id = instance_stack_id(home, set, region).await?;
    stack_in_region(regional, set, stack_id.as_deref()).await
}

/// The StackId the instance of `set` in `region` names: after a failed
/// creation, the deleted stack whose events say why.
pub async fn instance_stack_id(
    home: &Client,
    set: &str,
    region: &str,
) -> Result<Option<String>, String> {
    let instances = home
        .list_stack_instances()
        .stack_set_name(set)
        .stack_instance_region(region)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(instances
        .summaries()
        .iter()
        .find(|s| s.region() == Some(region))
        .and_then(|s| s.stack_id())
        .map(str::to_string))
}

/// The instance stack of `set` in the region of `regional`, by id when known;
/// never a deleted one (DescribeStacks still answers a stack id after its
/// deletion).
pub async fn stack_in_region(
    regional: &Client,
    set: &str,
    stack_id: Option<&str>,
) -> Result<Option<Stack>, String> {
    if let Some(id) = stack_id
        && let Some(stack) = super::stack::describe(regional, id).await?
        && stack.stack_status() != Some(&StackStatus::DeleteComplete)
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
