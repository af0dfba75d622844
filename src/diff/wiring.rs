//! The wiring steps a deploy would change, decided by the same reads and
//! the same "desired versus stored" functions `deploy` uses (`wire::*`).
//! Steps whose units a deploy would first create are left to that deploy:
//! what they wire does not exist yet.

use crate::aws::Aws;
use crate::context::Outputs;
use crate::error::Result;
use crate::names;
use crate::plan::Unit;
use crate::wire;

use super::report::WiringDiff;
use super::units::fail;

pub async fn compare(
    aws: &Aws,
    app: &str,
    account: &str,
    outputs: &Outputs,
) -> Result<Vec<WiringDiff>> {
    let mut found = Vec::new();
    let (primary, secondary) = (&aws.primary, &aws.secondary);
    // S3 replication: primary photos bucket to the secondary's.
    if let Some(role) = outputs.get(Unit::ObjectStore, &primary.region, "ReplicationRoleArn") {
        let step = wire::s3::STEP;
        let source = names::bucket_name(app, "objects", account, &primary.region);
        let target = names::bucket_name(app, "objects", account, &secondary.region);
        let desired = wire::s3::desired_configuration(role, &format!("arn:aws:s3:::{target}"))
            .map_err(|e| fail(step, &primary.region, &source, e))?;
        let current = wire::s3::current_configuration(&primary.s3, &source)
            .await
            .map_err(|e| fail(step, &primary.region, &source, e))?;
        if wire::s3::needs_put(current.as_ref(), &desired, aws.custom_endpoint) {
            found.push(WiringDiff {
                step: step.into(),
                region: primary.region.clone(),
                change: format!("put the replication rule {} on {source}", wire::s3::RULE_ID),
            });
        }
    }
    // DynamoDB replicas of every global table, once the tables exist.
    for table in names::GLOBAL_TABLES
        .iter()
        .map(|t| names::table_name(app, t))
    {
        let step = wire::dynamodb::STEP;
        let Some(described) = wire::dynamodb::describe(&primary.dynamodb, &table)
            .await
            .map_err(|e| fail(step, &primary.region, &table, e))?
        else {
            continue;
        };
        let requested =
            wire::dynamodb::requested_before(&primary.dynamodb, &described, &secondary.region)
                .await
                .map_err(|e| fail(step, &primary.region, &table, e))?;
        if wire::dynamodb::replica_wanted(
            &described,
            &secondary.region,
            requested,
            aws.custom_endpoint,
        ) {
            found.push(WiringDiff {
                step: step.into(),
                region: secondary.region.clone(),
                change: format!("create the replica of {table}"),
            });
        }
    }
    Ok(found)
}
