//! DynamoDB global tables (version 2019.11.21): each table the layers create
//! in the primary gets a replica in the secondary through `UpdateTable`, and
//! mraa waits until the replica is ACTIVE, then keeps the replica's own
//! settings equal to the template's (`replica_settings`).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    CreateReplicationGroupMemberAction, ReplicaStatus, ReplicationGroupUpdate, TableDescription,
    Tag,
};

use crate::aws::{aws_error, is_not_found, sdk_message};
use crate::cfn::wait::Backoff;
use crate::context::{Change, Ctx};
use crate::error::Result;
use crate::lock::Claimer;
use crate::names;
use crate::ui::progress::Status;

use super::{Verdict, WireOutcome};

pub const STEP: &str = "dynamodb-replicas";
/// Marks a table whose replica mraa has requested: teardown finds the
/// secondary region by it even when the replica is gone.
pub const REPLICA_TAG: &str = "mraa:replica";
/// Replica creation copies the table: minutes for small tables.
const REPLICA_LIMIT: Duration = Duration::from_secs(60 * 60);

pub async fn wire(ctx: &Ctx) -> Result<WireOutcome> {
    let shorts = names::global_tables(ctx.plan.user_replication);
    let tables: Vec<String> = shorts
        .iter()
        .map(|t| names::table_name(&ctx.app, t))
        .collect();
    let region = &ctx.aws.secondary.region;
    // The step's one row per Region names its tables: the final event of
    // each table would otherwise read the same.
    ctx.report(
        STEP,
        region,
        Status::Started,
        &format!("replicas of {}", tables.join(", ")),
    );
    let results = futures::future::join_all(shorts.iter().map(|short| {
        ensure_replica(
            &ctx.aws.primary.dynamodb,
            &ctx.aws.secondary.dynamodb,
            &ctx.aws.secondary.region,
            (ctx.app.as_str(), *short),
            ctx.aws.custom_endpoint,
            ctx,
        )
    }))
    .await;
    let mut outcome = WireOutcome::new(Change::Unchanged);
    let mut unverified = Vec::new();
    for (table, result) in tables.iter().zip(results) {
        let (changed, verdict) = result.map_err(|e| aws_error(STEP, region, table.as_str(), e))?;
        outcome.mark(changed);
        if let Verdict::Unverified(reason) = verdict {
            unverified.push(Verdict::Unverified(format!("{table}: {reason}")));
        }
    }
    // One verdict per Region when every table's replica is ACTIVE (the row
    // named them when it started); otherwise each unverified table by name.
    if unverified.is_empty() {
        outcome.check(region, Verdict::Ok);
    }
    for verdict in unverified {
        outcome.check(region, verdict);
    }
    Ok(outcome)
}

/// One table (the app and the table's short name): `(changed, verdict)`.
/// `claim` is awaited before the first change (it takes the app's lock).
pub async fn ensure_replica(
    primary: &Client,
    secondary: &Client,
    secondary_region: &str,
    (app, short): (&str, &str),
    custom_endpoint: bool,
    claim: &dyn Claimer,
) -> Result<(bool, Verdict), String> {
    let table = &names::table_name(app, short);
    let described = describe(primary, table)
        .await?
        .ok_or_else(|| format!("table {table} is missing in the primary region"))?;
    let mut changed = false;
    if replica_wanted(&described, secondary_region) {
        let requested = requested_before(primary, &described, secondary_region).await?;
        claim.claim().await?;
        primary
            .update_table()
            .table_name(table)
            .replica_updates(
                ReplicationGroupUpdate::builder()
                    .create(
                        CreateReplicationGroupMemberAction::builder()
                            .region_name(secondary_region)
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        changed = true;
        if !requested && let Some(arn) = described.table_arn() {
            primary
                .tag_resource()
                .resource_arn(arn)
                .tags(
                    Tag::builder()
                        .key(REPLICA_TAG)
                        .value(secondary_region)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| sdk_message(&e))?;
        }
    }

    // A replica takes minutes on AWS; a custom endpoint may run a scaled
    // clock, where the operation bounds keep the poll a small fraction of it.
    let mut backoff = if custom_endpoint {
        Backoff::for_operation(true, REPLICA_LIMIT)
    } else {
        Backoff::new(
            Duration::from_secs(5),
            Duration::from_secs(30),
            REPLICA_LIMIT,
        )
    };
    let mut unlisted = 0;
    loop {
        let now = describe(primary, table)
            .await?
            .ok_or_else(|| format!("table {table} disappeared from the primary region"))?;
        match replica_status(&now, secondary_region) {
            Some(ReplicaStatus::Active) => break,
            Some(ReplicaStatus::Creating | ReplicaStatus::Updating) => {}
            Some(other) => {
                return Err(format!(
                    "replica in {secondary_region} is {}: {}",
                    other.as_str(),
                    replica_description(&now, secondary_region)
                ));
            }
            // AWS lists a CREATING replica as soon as it accepts the request;
            // a few reads allow for DescribeTable's eventual consistency.
            None if unlisted >= UNLISTED_READS => {
                return Err(format!(
                    "DynamoDB lists no replica in {secondary_region} (Replicas: {:?})",
                    now.replicas()
                        .iter()
                        .filter_map(|r| r.region_name())
                        .collect::<Vec<_>>()
                ));
            }
            None => unlisted += 1,
        }
        if !backoff.wait().await {
            return Err(format!(
                "replica in {secondary_region} not ACTIVE after {} minutes",
                REPLICA_LIMIT.as_secs() / 60
            ));
        }
    }

    changed |= super::replica_settings::ensure(secondary, app, short, table, claim).await?;
    Ok((changed, Verdict::Ok))
}

/// Reads that may still miss a just-requested replica before that is an error.
const UNLISTED_READS: u32 = 3;

/// Whether `deploy` asks for the secondary's replica (and `diff` says it
/// would): DynamoDB lists none in that region.
pub fn replica_wanted(described: &TableDescription, secondary_region: &str) -> bool {
    replica_status(described, secondary_region).is_none()
}

pub async fn describe(client: &Client, table: &str) -> Result<Option<TableDescription>, String> {
    match client.describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_message(&e)),
    }
}

fn replica_status<'a>(table: &'a TableDescription, region: &str) -> Option<&'a ReplicaStatus> {
    table
        .replicas()
        .iter()
        .find(|r| r.region_name() == Some(region))
        .and_then(|r| r.replica_status())
}

fn replica_description(table: &TableDescription, region: &str) -> String {
    table
        .replicas()
        .iter()
        .find(|r| r.region_name() == Some(region))
        .and_then(|r| r.replica_status_description())
        .unwrap_or("no description")
        .to_string()
}

pub async fn requested_before(
    primary: &Client,
    table: &TableDescription,
    region: &str,
) -> Result<bool, String> {
    let Some(arn) = table.table_arn() else {
        return Ok(false);
    };
    let tags = primary
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(tags
        .tags()
        .iter()
        .any(|t| t.key() == REPLICA_TAG && t.value() == region))
}
