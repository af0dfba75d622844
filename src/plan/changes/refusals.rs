//! Refusals a deploy makes before any change, which `mraa diff` makes
//! too, with the same message and exit code: a plan that the deploy would
//! refuse is no plan.

use crate::aws::{Aws, aws_error};
use crate::cfn;
use crate::error::{MraaError, Result};
use crate::plan::Unit;

/// Data stores kept by an earlier `teardown` (without `--delete-data`) hold
/// the names the layers would create again; CloudFormation would fail on
/// them half-way. Said up front instead, with the choices.
pub async fn refuse_if_kept_data_in_the_way(aws: &Aws, app: &str, account: &str) -> Result<()> {
    let primary = &aws.primary;
    // Independent reads, run together; `kept` keeps their order.
    let set_exists = |unit: Unit| async move {
        let set = crate::names::stack_name(app, unit.id());
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
            let name = crate::names::user_pool_name(app);
            for clients in aws.regions() {
                let ids = crate::discover::user_pools(&clients.cognito, &name)
                    .await
                    .map_err(|e| aws_error(unit.id(), &clients.region, &name, e))?;
                kept.extend(
                    ids.iter()
                        .map(|id| format!("user pool {name} ({id}) in {}", clients.region)),
                );
            }
        }
        let name = crate::names::table_name(app, table);
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
        let heads = aws.regions().into_iter().flat_map(|clients| {
            ["objects", "logs"].map(|kind| async move {
                let bucket = crate::names::bucket_name(app, kind, account, &clients.region);
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
        aws.primary.region,
        aws.secondary.region,
    )))
}
