//! The wiring steps a deploy would change (the custom domain's in `dns`),
//! decided by the same reads and the same "desired versus stored" functions
//! `deploy` uses (`wire::*`).
//! Steps whose units a deploy would first create are left to that deploy:
//! what they wire does not exist yet.

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::aws::{Aws, sdk_message};
use crate::context::Outputs;
use crate::error::Result;
use crate::names;
use crate::plan::{Plan, Unit};
use crate::wire;

use super::report::WiringDiff;
use super::units::fail;

pub async fn compare(
    aws: &Aws,
    plan: &Plan,
    account: &str,
    outputs: &Outputs,
) -> Result<Vec<WiringDiff>> {
    let app = plan.app.as_str();
    let mut found = Vec::new();
    let (primary, secondary) = (&aws.primary, &aws.secondary);
    // S3 replication: each direction the mode wants, and in active-passive a
    // reverse rule left from active-active.
    let step = wire::s3::STEP;
    for direction in wire::s3::directions(plan.mode) {
        let (here, there) = match direction.from {
            crate::plan::RegionRole::Primary => (primary, secondary),
            crate::plan::RegionRole::Secondary => (secondary, primary),
        };
        let Some(role) = outputs.get(Unit::ObjectStore, &here.region, "ReplicationRoleArn") else {
            continue;
        };
        let source = names::bucket_name(app, "objects", account, &here.region);
        let target = names::bucket_name(app, "objects", account, &there.region);
        let desired = wire::s3::desired_rule(role, &format!("arn:aws:s3:::{target}"), direction)
            .map_err(|e| fail(step, &here.region, &source, e))?;
        let current = wire::s3::current_configuration(&here.s3, &source)
            .await
            .map_err(|e| fail(step, &here.region, &source, e))?;
        if wire::s3::needs_put(current.as_ref(), &desired) {
            found.push(WiringDiff {
                step: step.into(),
                region: here.region.clone(),
                change: format!("put the replication rule {} on {source}", direction.rule_id),
            });
        }
    }
    if plan.mode == crate::plan::Mode::ActivePassive {
        let source = names::bucket_name(app, "objects", account, &secondary.region);
        let current = wire::s3::current_configuration(&secondary.s3, &source)
            .await
            .map_err(|e| fail(step, &secondary.region, &source, e))?;
        if current.as_ref().is_some_and(wire::s3::has_reverse_rule) {
            found.push(WiringDiff {
                step: step.into(),
                region: secondary.region.clone(),
                change: format!(
                    "remove the replication rule {} from {source} (objects stay)",
                    wire::s3::REVERSE_RULE_ID
                ),
            });
        }
    }
    // DynamoDB replicas of every global table, once the tables exist.
    for short in names::global_tables(plan.user_replication) {
        let table = names::table_name(app, short);
        let step = wire::dynamodb::STEP;
        let Some(described) = wire::dynamodb::describe(&primary.dynamodb, &table)
            .await
            .map_err(|e| fail(step, &primary.region, &table, e))?
        else {
            continue;
        };
        if wire::dynamodb::replica_wanted(&described, &secondary.region) {
            found.push(WiringDiff {
                step: step.into(),
                region: secondary.region.clone(),
                change: format!("create the replica of {table}"),
            });
            continue;
        }
        // The replica's own settings, which deploy sets to the template's.
        let want = wire::replica_settings::desired(app, short)
            .map_err(|e| fail(step, &secondary.region, &table, e))?;
        if let Some((_, have)) = wire::replica_settings::read(&secondary.dynamodb, &table)
            .await
            .map_err(|e| fail(step, &secondary.region, &table, e))?
        {
            for d in wire::replica_settings::differences(&want, &have) {
                found.push(WiringDiff {
                    step: step.into(),
                    region: secondary.region.clone(),
                    change: format!(
                        "set {} of the replica of {table} to {} (it is {})",
                        d.setting, d.expected, d.actual
                    ),
                });
            }
        }
    }
    found.extend(website_policies(aws, app, account, outputs).await?);
    found.extend(site_files(aws, plan, account, outputs).await?);
    found.extend(super::dns::compare(aws, plan, outputs).await?);
    Ok(found)
}

/// The regions where the front end (its website bucket) is deployed.
fn frontend_regions<'a>(aws: &'a Aws, outputs: &Outputs) -> Vec<&'a crate::aws::RegionClients> {
    let deployed = outputs.of(Unit::Frontend);
    aws.regions()
        .into_iter()
        .filter(|c| deployed.is_some_and(|d| d.contains_key(&c.region)))
        .collect()
}

/// Each website bucket's policy admits the edge's distribution, as deploy
/// verifies after the website-policy unit, whose stacks hold it; one
/// that does not admit the distribution was changed outside mraa.
async fn website_policies(
    aws: &Aws,
    app: &str,
    account: &str,
    outputs: &Outputs,
) -> Result<Vec<WiringDiff>> {
    let step = wire::cloudfront::POLICY_STEP;
    let Some(id) = outputs.get(Unit::Edge, &aws.primary.region, "DistributionId") else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for clients in frontend_regions(aws, outputs) {
        let bucket = names::bucket_name(app, "website", account, &clients.region);
        let policy = match clients.s3.get_bucket_policy().bucket(&bucket).send().await {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => String::new(),
            Err(e) => return Err(fail(step, &clients.region, &bucket, sdk_message(&e))),
        };
        if !wire::cloudfront::admits(&policy, id) {
            found.push(WiringDiff {
                step: step.into(),
                region: clients.region.clone(),
                change: format!(
                    "the policy of {bucket} does not admit distribution {id} (changed outside \
                     mraa): deploy stops there; a deploy of the website-policy unit restores it"
                ),
            });
        }
    }
    Ok(found)
}

/// The site's files in each website bucket against what deploy would
/// upload (`wire::site::files`), compared by ETag as deploy compares them.
async fn site_files(
    aws: &Aws,
    plan: &Plan,
    account: &str,
    outputs: &Outputs,
) -> Result<Vec<WiringDiff>> {
    let step = wire::site::STEP;
    let site = wire::site::Site {
        app: &plan.app,
        primary: &aws.primary.region,
        secondary: &aws.secondary.region,
        domain: plan.domain.as_ref().map(|d| d.name.as_str()),
        mode: plan.mode,
    };
    let files = wire::site::files(&site, outputs)
        .map_err(|e| fail(step, &aws.primary.region, "config.json", e))?;
    let mut found = Vec::new();
    for clients in frontend_regions(aws, outputs) {
        let bucket = names::bucket_name(&plan.app, "website", account, &clients.region);
        let existing = wire::site::list_etags(&clients.s3, &bucket)
            .await
            .map_err(|e| fail(step, &clients.region, &bucket, e))?;
        let changes = wire::site::changes(&existing, &files);
        let mut said = Vec::new();
        if !changes.upload.is_empty() {
            said.push(format!("upload {}", changes.upload.join(", ")));
        }
        if !changes.remove.is_empty() {
            said.push(format!("remove {}", changes.remove.join(", ")));
        }
        if !said.is_empty() {
            found.push(WiringDiff {
                step: step.into(),
                region: clients.region.clone(),
                change: format!("{} in {bucket}", said.join("; ")),
            });
        }
    }
    Ok(found)
}
