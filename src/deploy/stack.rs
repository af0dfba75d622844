//! A single CloudFormation stack (bootstrap, edge) deployed through a change
//! set: created, updated only when its template or parameters differ, and
//! recovered from the states a failed earlier run leaves behind.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{ChangeSetType, Stack, StackStatus};

use crate::aws::{aws_error, sdk_message};
use crate::cfn::change_set::{self, ChangeSetSpec};
use crate::cfn::stack::{
    describe, effective_parameters, outputs_of, parameter_map, root_cause, wait_for,
};
use crate::error::Result;
use crate::ui::progress::Status;

use crate::context::{Change, Ctx, UnitOutcome};

pub struct StackSpec<'a> {
    pub unit: &'a str,
    pub name: &'a str,
    pub body: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
    /// The service role the stack's change sets pass (`None`: the caller).
    pub role: Option<&'a str>,
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
    let custom_endpoint = ctx.aws.custom_endpoint;
    change_set::create(
        cfn,
        &ChangeSetSpec {
            stack: spec.name,
            name: &change_set,
            kind: kind.clone(),
            body: spec.body,
            parameters: spec.parameters,
            app: &ctx.app,
            role: spec.role,
        },
    )
    .await
    .map_err(|e| fail(spec.name, e))?;

    if !change_set::wait_ready(cfn, custom_endpoint, spec.name, &change_set)
        .await
        .map_err(|e| fail(spec.name, e))?
    {
        // Text differed but CloudFormation sees nothing to do (e.g. comments).
        change_set::delete(cfn, spec.name, &change_set).await;
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

    change_set::execute(cfn, spec.name, &change_set)
        .await
        .map_err(|e| fail(spec.name, e))?;
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

/// Same template text and same parameter values as deployed: nothing to do.
async fn unchanged(cfn: &Client, stack: &Stack, spec: &StackSpec<'_>) -> Result<bool, String> {
    if parameter_map(stack.parameters()) != effective_parameters(spec.body, spec.parameters) {
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
