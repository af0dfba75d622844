//! S3 cross-region replication of the photos: primary bucket → secondary
//! bucket, delete markers included, with Replication Time Control (15-minute
//! SLA, the RPO of the original). Versioning is ensured on both buckets first.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination,
    Metrics, MetricsStatus, ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter,
    ReplicationRuleStatus, ReplicationTime, ReplicationTimeStatus, ReplicationTimeValue,
    VersioningConfiguration,
};

use crate::aws::{aws_error, is_not_found, sdk_message};
use crate::context::{Change, Ctx, Outputs};
use crate::error::Result;
use crate::names;
use crate::plan::Unit;

use super::{Verdict, WireOutcome};

pub const STEP: &str = "s3-replication";
pub const RULE_ID: &str = "mraa-primary-to-secondary";
/// Replication Time Control's only threshold.
const RTC_MINUTES: i32 = 15;

pub async fn wire(ctx: &Ctx, outputs: &Outputs) -> Result<WireOutcome> {
    let primary = &ctx.aws.primary;
    let secondary = &ctx.aws.secondary;
    let source = names::bucket_name(&ctx.app, "objects", &ctx.account, &primary.region);
    let target = names::bucket_name(&ctx.app, "objects", &ctx.account, &secondary.region);
    let role = outputs
        .get(Unit::ObjectStore, &primary.region, "ReplicationRoleArn")
        .ok_or_else(|| {
            aws_error(
                STEP,
                &primary.region,
                "object-store outputs",
                "no ReplicationRoleArn output",
            )
        })?
        .to_string();

    let mut outcome = WireOutcome::new(Change::Unchanged);
    let desired = desired_configuration(&role, &format!("arn:aws:s3:::{target}"))
        .map_err(|e| aws_error(STEP, &primary.region, &source, e))?;
    let current = current_configuration(&primary.s3, &source)
        .await
        .map_err(|e| aws_error(STEP, &primary.region, &source, e))?;
    if needs_put(current.as_ref(), &desired) {
        ctx.claim("deploy").await?;
        // Replication needs versioning on both sides (S3 refuses the rule
        // otherwise, and refuses to suspend versioning while it exists), so a
        // stored rule already proves it. CloudFormation enables it; this covers
        // a bucket changed by hand. Enabling is idempotent.
        for (clients, bucket) in [(secondary, &target), (primary, &source)] {
            enable_versioning(&clients.s3, bucket)
                .await
                .map_err(|e| aws_error(STEP, &clients.region, bucket.as_str(), e))?;
        }
        primary
            .s3
            .put_bucket_replication()
            .bucket(&source)
            .replication_configuration(desired.clone())
            .send()
            .await
            .map_err(|e| aws_error(STEP, &primary.region, &source, sdk_message(&e)))?;
        outcome.mark(true);
    }

    // Verify through S3 itself.
    let stored = current_configuration(&primary.s3, &source)
        .await
        .map_err(|e| aws_error(STEP, &primary.region, &source, e))?;
    let verdict = match stored {
        Some(config) if same_core(&config, &desired) && replicates_delete_markers(&config) => {
            Verdict::Ok
        }
        other => {
            return Err(aws_error(
                STEP,
                &primary.region,
                &source,
                format!("replication configuration did not take: S3 reports {other:?}"),
            ));
        }
    };
    outcome.check(&primary.region, verdict);
    Ok(outcome)
}

/// Whether the stored configuration differs from the desired one (what
/// `deploy` puts and `diff` reports). An endpoint that does not keep
/// delete-marker replication would be asked again on every run; `wire`
/// reports it as unverified instead.
pub fn needs_put(
    current: Option<&ReplicationConfiguration>,
    desired: &ReplicationConfiguration,
) -> bool {
    match current {
        None => true,
        Some(c) => !same_core(c, desired) || !replicates_delete_markers(c),
    }
}

async fn enable_versioning(s3: &Client, bucket: &str) -> Result<(), String> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(())
}

pub async fn current_configuration(
    s3: &Client,
    bucket: &str,
) -> Result<Option<ReplicationConfiguration>, String> {
    match s3.get_bucket_replication().bucket(bucket).send().await {
        Ok(out) => Ok(out.replication_configuration().cloned()),
        Err(e) if is_not_found(&e) || e.code() == Some("ReplicationConfigurationNotFoundError") => {
            Ok(None)
        }
        Err(e) => Err(sdk_message(&e)),
    }
}

use aws_sdk_s3::error::ProvideErrorMetadata;

pub fn desired_configuration(
    role: &str,
    target_arn: &str,
) -> Result<ReplicationConfiguration, String> {
    let minutes = || ReplicationTimeValue::builder().minutes(RTC_MINUTES).build();
    let destination = Destination::builder()
        .bucket(target_arn)
        .replication_time(
            ReplicationTime::builder()
                .status(ReplicationTimeStatus::Enabled)
                .time(minutes())
                .build()
                .map_err(|e| e.to_string())?,
        )
        .metrics(
            Metrics::builder()
                .status(MetricsStatus::Enabled)
                .event_threshold(minutes())
                .build()
                .map_err(|e| e.to_string())?,
        )
        .build()
        .map_err(|e| e.to_string())?;
    let rule = ReplicationRule::builder()
        .id(RULE_ID)
        .priority(1)
        .filter(ReplicationRuleFilter::builder().prefix("").build())
        .status(ReplicationRuleStatus::Enabled)
        .delete_marker_replication(
            DeleteMarkerReplication::builder()
                .status(DeleteMarkerReplicationStatus::Enabled)
                .build(),
        )
        .destination(destination)
        .build()
        .map_err(|e| e.to_string())?;
    ReplicationConfiguration::builder()
        .role(role)
        .rules(rule)
        .build()
        .map_err(|e| e.to_string())
}

fn mraa_rule(c: &ReplicationConfiguration) -> Option<&ReplicationRule> {
    c.rules().iter().find(|r| r.id() == Some(RULE_ID))
}

pub fn replicates_delete_markers(c: &ReplicationConfiguration) -> bool {
    mraa_rule(c)
        .and_then(|r| r.delete_marker_replication())
        .and_then(|d| d.status())
        == Some(&DeleteMarkerReplicationStatus::Enabled)
}

/// The parts that matter: role, and mraa's rule enabled towards the target
/// with RTC. (Whole-struct equality would trip over fields S3 fills in.)
pub fn same_core(a: &ReplicationConfiguration, b: &ReplicationConfiguration) -> bool {
    let rule = |c: &ReplicationConfiguration| {
        mraa_rule(c).map(|r| {
            (
                r.status().clone(),
                r.destination().map(|d| d.bucket().to_string()),
                r.destination()
                    .and_then(|d| d.replication_time())
                    .map(|t| t.status().clone()),
            )
        })
    };
    a.role() == b.role()
        && rule(a).is_some()
        && rule(a) == rule(b)
        && a.rules().len() == b.rules().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desired_configuration_has_rtc_and_delete_markers() {
        let config =
            desired_configuration("arn:aws:iam::1:role/r", "arn:aws:s3:::t").expect("builds");
        let rule = &config.rules()[0];
        assert_eq!(rule.id(), Some(RULE_ID));
        let destination = rule.destination().expect("destination");
        assert_eq!(destination.bucket(), "arn:aws:s3:::t");
        assert_eq!(
            destination.replication_time().map(|t| t.status()),
            Some(&ReplicationTimeStatus::Enabled)
        );
        assert!(same_core(&config, &config));
        assert!(replicates_delete_markers(&config));
        let other = desired_configuration("arn:aws:iam::1:role/r", "arn:aws:s3:::elsewhere")
            .expect("builds");
        assert!(!same_core(&config, &other));
    }
}
