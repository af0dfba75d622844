//! A single CloudFormation stack (bootstrap, edge) deployed through a change
//! set: created, updated only when its template or parameters differ, and
//! recovered from the states a failed earlier run leaves behind.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, Stack, StackStatus, Tag,
};

use crate::aws::{aws_error, is_not_found, sdk_message};
use crate::error::Result;
use crate::names::APP_TAG;
use crate::ui::progress::Status;

use super::wait::Backoff;
use crate::context::{Change, Ctx, UnitOutcome};

/// CloudFront distributions take the longest: up to ~15 minutes on AWS.
const STACK_LIMIT: Duration = Duration::from_secs(45 * 60);

pub struct StackSpec<'a> {
    pub unit: &'a str,
    pub name: &'a str,
    pub body: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
}

pub async fn deploy(ctx: &Ctx, cfn: &Client, spec: &StackSpec<'_>) -> Result<UnitOutcome> {
    let region = cfn
        .config()
        .region()
        .map_or_else(|| ctx.aws.primary.region.clone(), |r| r.to_string());
    let fail = |resource: &str, cause: String| aws_error(spec.unit, &region, resource, cause);

    let mut existing = match ctx.prefetched.take_stack(&region, spec.name) {
        Some(found) => found,
        None => describe(cfn, spec.name)
            .await
            .map_err(|e| fail(spec.name, e))?,
    };

    // A stack whose first change set was never executed holds nothing yet:
    // it takes a CREATE change set again.
    if existing
        .as_ref()
        .is_some_and(|s| s.stack_status() == Some(&StackStatus::ReviewInProgress))
    {
        existing = None;
    }

    if let Some(stack) = &existing {
        match stack.stack_status() {
            // A first create that failed and rolled back: nothing to keep.
            Some(StackStatus::RollbackComplete) => {
                ctx.report(
                    spec.unit,
                    &region,
                    Status::Waiting,
                    "deleting the rolled-back stack before re-creating it",
                );
                ctx.claim("deploy").await?;
                cfn.delete_stack()
                    .stack_name(spec.name)
                    .send()
                    .await
                    .map_err(|e| fail(spec.name, sdk_message(&e)))?;
                wait_for(cfn, ctx.aws.custom_endpoint, spec.name)
                    .await
                    .map_err(|e| fail(spec.name, e))?;
                existing = None;
            }
            // An update whose rollback failed: finish the rollback first.
            Some(StackStatus::UpdateRollbackFailed) => {
                ctx.report(
                    spec.unit,
                    &region,
                    Status::Waiting,
                    "continuing the failed rollback",
                );
                ctx.claim("deploy").await?;
                cfn.continue_update_rollback()
                    .stack_name(spec.name)
                    .send()
                    .await
                    .map_err(|e| fail(spec.name, sdk_message(&e)))?;
                let status = wait_for(cfn, ctx.aws.custom_endpoint, spec.name)
                    .await
                    .map_err(|e| fail(spec.name, e))?;
                if status != Some(StackStatus::UpdateRollbackComplete) {
                    let cause = root_cause(cfn, spec.name).await;
                    return Err(fail(
                        spec.name,
                        format!("rollback ended {status:?}: {cause}"),
                    ));
                }
            }
            _ => {}
        }
    }

    if let Some(stack) = &existing
        && unchanged(cfn, stack, spec)
            .await
            .map_err(|e| fail(spec.name, e))?
    {
        return Ok(UnitOutcome {
            change: Change::Unchanged,
            outputs: BTreeMap::from([(region.clone(), outputs_of(stack))]),
        });
    }

    let kind = if existing.is_some() {
        ChangeSetType::Update
    } else {
        ChangeSetType::Create
    };
    let change_set = format!("{}-{}", ctx.run_id, spec.unit);
    ctx.report(
        spec.unit,
        &region,
        Status::Started,
        &format!("change set {change_set}"),
    );
    ctx.claim("deploy").await?;
    cfn.create_change_set()
        .stack_name(spec.name)
        .change_set_name(&change_set)
        .change_set_type(kind.clone())
        .template_body(spec.body)
        .set_parameters(Some(parameters(spec.parameters)))
        .capabilities(Capability::CapabilityNamedIam)
        .tags(Tag::builder().key(APP_TAG).value(&ctx.app).build())
        .send()
        .await
        .map_err(|e| fail(spec.name, sdk_message(&e)))?;

    if !change_set_ready(ctx, cfn, spec.name, &change_set)
        .await
        .map_err(|e| fail(spec.name, e))?
    {
        // Text differed but CloudFormation sees nothing to do (e.g. comments).
        let _ = cfn
            .delete_change_set()
            .stack_name(spec.name)
            .change_set_name(&change_set)
            .send()
            .await;
        let stack = describe(cfn, spec.name)
            .await
            .map_err(|e| fail(spec.name, e))?;
        return Ok(UnitOutcome {
            change: Change::Unchanged,
            outputs: BTreeMap::from([(
                region.clone(),
                stack.as_ref().map(outputs_of).unwrap_or_default(),
            )]),
        });
    }

    cfn.execute_change_set()
        .stack_name(spec.name)
        .change_set_name(&change_set)
        .send()
        .await
        .map_err(|e| fail(spec.name, sdk_message(&e)))?;
    ctx.report(spec.unit, &region, Status::Waiting, "executing change set");
    let status = wait_for(cfn, ctx.aws.custom_endpoint, spec.name)
        .await
        .map_err(|e| fail(spec.name, e))?;
    let wanted = if kind == ChangeSetType::Create {
        StackStatus::CreateComplete
    } else {
        StackStatus::UpdateComplete
    };
    if status.as_ref() != Some(&wanted) {
        let cause = root_cause(cfn, spec.name).await;
        let status = status
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "gone".into());
        return Err(fail(spec.name, format!("stack ended {status}: {cause}")));
    }
    let stack = describe(cfn, spec.name)
        .await
        .map_err(|e| fail(spec.name, e))?;
    Ok(UnitOutcome {
        change: if kind == ChangeSetType::Create {
            Change::Created
        } else {
            Change::Updated
        },
        outputs: BTreeMap::from([(region, stack.as_ref().map(outputs_of).unwrap_or_default())]),
    })
}

pub async fn describe(cfn: &Client, name: &str) -> Result<Option<Stack>, String> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_message(&e)),
    }
}

pub fn outputs_of(stack: &Stack) -> BTreeMap<String, String> {
    stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect()
}

pub fn parameters(values: &BTreeMap<String, String>) -> Vec<Parameter> {
    values
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

/// Parameters as a key → value map (the form mraa compares and records).
pub fn parameter_map(parameters: &[Parameter]) -> BTreeMap<String, String> {
    parameters
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_string(),
                p.parameter_value()?.to_string(),
            ))
        })
        .collect()
}

/// Same template text and same parameter values as deployed: nothing to do.
async fn unchanged(cfn: &Client, stack: &Stack, spec: &StackSpec<'_>) -> Result<bool, String> {
    if &parameter_map(stack.parameters()) != spec.parameters {
        return Ok(false);
    }
    if !matches!(
        stack.stack_status(),
        Some(StackStatus::CreateComplete | StackStatus::UpdateComplete)
    ) {
        return Ok(false);
    }
    let template = cfn
        .get_template()
        .stack_name(spec.name)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(template.template_body() == Some(spec.body))
}

/// Waits for the change set to be computed. `Ok(false)`: it holds no change.
async fn change_set_ready(
    ctx: &Ctx,
    cfn: &Client,
    stack: &str,
    name: &str,
) -> Result<bool, String> {
    let mut backoff = Backoff::for_operation(ctx.aws.custom_endpoint, Duration::from_secs(600));
    loop {
        let out = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        match out.status() {
            Some(ChangeSetStatus::CreateComplete) => return Ok(true),
            Some(ChangeSetStatus::Failed) => {
                let reason = out.status_reason().unwrap_or_default();
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    return Ok(false);
                }
                return Err(format!("change set {name} failed: {reason}"));
            }
            _ => {}
        }
        if !backoff.wait().await {
            return Err(format!("change set {name} was not ready in time"));
        }
    }
}

/// Polls until the stack is no longer in progress; `None` once it is gone.
pub async fn wait_for(
    cfn: &Client,
    custom_endpoint: bool,
    name: &str,
) -> Result<Option<StackStatus>, String> {
    let mut backoff = Backoff::for_operation(custom_endpoint, STACK_LIMIT);
    loop {
        let stack = describe(cfn, name).await?;
        let status = stack.and_then(|s| s.stack_status().cloned());
        match &status {
            None | Some(StackStatus::DeleteComplete) => return Ok(None),
            Some(s) if !s.as_str().ends_with("_IN_PROGRESS") => return Ok(status),
            _ => {}
        }
        if !backoff.wait().await {
            return Err(format!(
                "still {status:?} after {} minutes",
                STACK_LIMIT.as_secs() / 60
            ));
        }
    }
}

/// The first resource failure of the latest operation, with its reason: the
/// event a user needs, not the cascade of cancellations after it.
pub async fn root_cause(cfn: &Client, stack: &str) -> String {
    let Ok(out) = cfn.describe_stack_events().stack_name(stack).send().await else {
        return "no stack events could be read".into();
    };
    first_failure(out.stack_events())
}

/// Events arrive newest first; the operation's own events run back to the
/// stack's `*_IN_PROGRESS` event that started it.
pub fn first_failure(events: &[aws_sdk_cloudformation::types::StackEvent]) -> String {
    let mut operation: Vec<_> = Vec::new();
    for event in events {
        let is_stack = event.resource_type() == Some("AWS::CloudFormation::Stack");
        let status = event
            .resource_status()
            .map(|s| s.as_str())
            .unwrap_or_default();
        operation.push(event);
        if is_stack && (status == "CREATE_IN_PROGRESS" || status == "UPDATE_IN_PROGRESS") {
            break;
        }
    }
    operation
        .iter()
        .rev()
        .find(|e| {
            let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
            let reason = e.resource_status_reason().unwrap_or_default();
            status.ends_with("_FAILED")
                && !reason.contains("cancelled")
                && e.resource_type() != Some("AWS::CloudFormation::Stack")
        })
        .map(|e| {
            format!(
                "{} ({}): {}",
                e.logical_resource_id().unwrap_or("?"),
                e.resource_type().unwrap_or("?"),
                e.resource_status_reason().unwrap_or("no reason given")
            )
        })
        .unwrap_or_else(|| "no failed resource event; see the stack's events".into())
}
