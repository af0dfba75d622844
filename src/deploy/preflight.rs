//! Before the first change: what the run reads to plan itself, and the
//! refusals (another operation at work, data kept by an earlier teardown in
//! the way). A check that must stop a deploy before it changes anything
//! belongs here: an opt-in region not enabled, a user pool kept from an
//! earlier deployment.

use crate::aws::{Aws, aws_error};
use crate::error::{MraaError, Result};
use crate::plan::{Kind, Unit};

use crate::cfn;
use crate::cfn::status::is_in_progress;
use crate::context::Ctx;

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

/// Another operation on this app's stacks or StackSets: refuse to start.
pub(super) async fn refuse_if_busy(ctx: &Ctx) -> Result<()> {
    let cfn = &ctx.aws.primary.cfn;
    let checks = ctx.plan.units.iter().map(|planned| async move {
        let region = &ctx.aws.primary.region;
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
            "another operation on app {} is in progress: {}",
            ctx.app,
            busy.join("; ")
        )))
    }
}

/// Data stores kept by an earlier `teardown` (without `--delete-data`) hold
/// the names the layers would create again; CloudFormation would fail on
/// them half-way. Said up front instead, with the choices.
pub(super) async fn refuse_if_kept_data_in_the_way(ctx: &Ctx) -> Result<()> {
    let primary = &ctx.aws.primary;
    // Independent reads, run together; `kept` keeps their order.
    let set_exists = |unit: Unit| async move {
        let set = crate::names::stack_name(&ctx.app, unit.id());
        cfn::stack_set::describe(&primary.cfn, &set)
            .await
            .map_err(|e| aws_error(unit.id(), &primary.region, &set, e))
            .map(|found| found.is_some())
    };
    let tables = [
        (Unit::KvStore, "comments"),
        (Unit::Routing, "app-config"),
        (Unit::Frontend, "users"),
    ]
    .map(|(unit, table)| async move {
        if set_exists(unit).await? {
            return Ok::<_, MraaError>(Vec::new());
        }
        let mut kept = Vec::new();
        if unit == Unit::Frontend {
            // Cognito accepts a second pool of the same name, so a kept pool
            // would not fail the deploy: it would be duplicated, its users
            // left behind.
            let name = crate::names::user_pool_name(&ctx.app);
            for clients in ctx.aws.regions() {
                let ids = crate::discover::user_pools(&clients.cognito, &name)
                    .await
                    .map_err(|e| aws_error(unit.id(), &clients.region, &name, e))?;
                kept.extend(
                    ids.iter()
                        .map(|id| format!("user pool {name} ({id}) in {}", clients.region)),
                );
            }
        }
        let name = crate::names::table_name(&ctx.app, table);
        let found = primary
            .dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .is_ok();
        if found {
            kept.push(format!("table {name}"));
        }
        Ok(kept)
    });
    let buckets = async {
        if set_exists(Unit::ObjectStore).await? {
            return Ok::<_, MraaError>(Vec::new());
        }
        let heads = ctx.aws.regions().into_iter().flat_map(|clients| {
            ["objects", "logs"].map(|kind| async move {
                let bucket =
                    crate::names::bucket_name(&ctx.app, kind, &ctx.account, &clients.region);
                let found = clients
                    .s3
                    .head_bucket()
                    .bucket(&bucket)
                    .send()
                    .await
                    .is_ok();
                found.then(|| format!("bucket {bucket}"))
            })
        });
        Ok(futures::future::join_all(heads).await)
    };
    let (tables, buckets) =
        futures::future::try_join(futures::future::try_join_all(tables), buckets).await?;
    let kept: Vec<String> = tables
        .into_iter()
        .flatten()
        .chain(buckets.into_iter().flatten())
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    Err(MraaError::Refused(format!(
        "data kept by an earlier teardown of app {app} is in the way ({}): CloudFormation cannot create stores of the same names, and a second user pool would leave the first one's users behind; \
         deploy under another --app, or, once the data is backed up, remove it with \
         `mraa teardown --delete-data --yes --app {app} --primary {} --secondary {}`; nothing was changed",
        kept.join(", "),
        ctx.aws.primary.region,
        ctx.aws.secondary.region,
        app = ctx.app,
    )))
}
