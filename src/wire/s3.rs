//! S3 cross-region replication of the photos: primary bucket → secondary
//! bucket, delete markers included, with Replication Time Control (15-minute
//! SLA, the RPO of the original). Versioning is ensured on both buckets first.
//!
//! In active-active both Regions take uploads, so a second rule on the
//! secondary's bucket replicates back to the primary's, and both rules sync
//! replica modifications: S3 then keeps the metadata of an object and its
//! replica the same whichever side changes it, and never replicates a
//! replica again, so two rules make no loop ("Replicating metadata changes
//! with replica modification sync",
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-for-metadata-changes.html>;
//! "Replicating delete markers between buckets",
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html>).
//! Back in active-passive the reverse rule is removed; the objects it
//! copied stay where they are.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketVersioningStatus, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination,
    Metrics, MetricsStatus, ReplicaModifications, ReplicaModificationsStatus,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus,
    ReplicationTime, ReplicationTimeStatus, ReplicationTimeValue, SourceSelectionCriteria,
    VersioningConfiguration,
};

use crate::aws::{aws_error, is_not_found, sdk_message};
use crate::context::{Change, Ctx, Outputs};
use crate::error::Result;
use crate::names;
use crate::plan::{Mode, RegionRole, Unit};

use super::{Verdict, WireOutcome};

pub const STEP: &str = "s3-replication";
pub const RULE_ID: &str = "mraa-primary-to-secondary";
/// Replication Time Control's only threshold.
const RTC_MINUTES: i32 = 15;

/// The rule on the secondary's bucket back to the primary's (active-active).
pub const REVERSE_RULE_ID: &str = "mraa-secondary-to-primary";

/// One direction of replication: the rule on `from`'s bucket towards `to`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    pub rule_id: &'static str,
    pub from: RegionRole,
    pub to: RegionRole,
    /// Replica modification sync, which two-way replication needs on both
    /// rules.
    pub sync: bool,
}

/// The rules a mode wants: one way in active-passive, both ways in
/// active-active.
pub fn directions(mode: Mode) -> Vec<Direction> {
    let forward = Direction {
        rule_id: RULE_ID,
        from: RegionRole::Primary,
        to: RegionRole::Secondary,
        sync: mode == Mode::ActiveActive,
    };
    match mode {
        Mode::ActivePassive => vec![forward],
        Mode::ActiveActive => vec![
            forward,
            Direction {
                rule_id: REVERSE_RULE_ID,
                from: RegionRole::Secondary,
                to: RegionRole::Primary,
                sync: true,
            },
        ],
    }
}

pub async fn wire(ctx: &Ctx, outputs: &Outputs) -> Result<WireOutcome> {
    let mut outcome = WireOutcome::new(Change::Unchanged);
    for direction in directions(ctx.plan.mode) {
        wire_direction(ctx, outputs, direction, &mut outcome).await?;
    }
    if ctx.plan.mode == Mode::ActivePassive {
        remove_reverse_rule(ctx, &mut outcome).await?;
    }
    Ok(outcome)
}

/// The region and bucket of one side of the replication.
fn side(ctx: &Ctx, role: RegionRole) -> (&crate::aws::RegionClients, String) {
    let clients = match role {
        RegionRole::Primary => &ctx.aws.primary,
        RegionRole::Secondary => &ctx.aws.secondary,
    };
    let bucket = names::bucket_name(&ctx.app, "objects", &ctx.account, &clients.region);
    (clients, bucket)
}

async fn wire_direction(
    ctx: &Ctx,
    outputs: &Outputs,
    direction: Direction,
    outcome: &mut WireOutcome,
) -> Result<()> {
    let (here, source) = side(ctx, direction.from);
    let (there, target) = side(ctx, direction.to);
    let region = here.region.as_str();
    let role = outputs
        .get(Unit::ObjectStore, region, "ReplicationRoleArn")
        .ok_or_else(|| {
            aws_error(
                STEP,
                region,
                "object-store outputs",
                "no ReplicationRoleArn output: run `mraa deploy` again to update the object store",
            )
        })?
        .to_string();

    let desired = desired_rule(&role, &format!("arn:aws:s3:::{target}"), direction)
        .map_err(|e| aws_error(STEP, region, &source, e))?;
    let current = current_configuration(&here.s3, &source)
        .await
        .map_err(|e| aws_error(STEP, region, &source, e))?;
    if needs_put(current.as_ref(), &desired) {
        ctx.claim("deploy").await?;
        // Replication needs versioning on both sides (S3 refuses the rule
        // otherwise, and refuses to suspend versioning while it exists), so a
        // stored rule already proves it. CloudFormation enables it; this covers
        // a bucket changed by hand. Enabling is idempotent.
        for (clients, bucket) in [(there, &target), (here, &source)] {
            enable_versioning(&clients.s3, bucket)
                .await
                .map_err(|e| aws_error(STEP, &clients.region, bucket.as_str(), e))?;
        }
        here.s3
            .put_bucket_replication()
            .bucket(&source)
            .replication_configuration(desired.clone())
            .send()
            .await
            .map_err(|e| aws_error(STEP, region, &source, sdk_message(&e)))?;
        outcome.mark(true);
    }

    // Verify through S3 itself.
    let stored = current_configuration(&here.s3, &source)
        .await
        .map_err(|e| aws_error(STEP, region, &source, e))?;
    match stored {
        Some(config) if !needs_put(Some(&config), &desired) => {
            outcome.check(region, Verdict::Ok);
            Ok(())
        }
        other => Err(aws_error(
            STEP,
            region,
            &source,
            format!("replication configuration did not take: S3 reports {other:?}"),
        )),
    }
}

/// Back in active-passive: the secondary's bucket loses mraa's reverse
/// rule (its other rules, if any, stay). The objects stay too.
async fn remove_reverse_rule(ctx: &Ctx, outcome: &mut WireOutcome) -> Result<()> {
    let (here, bucket) = side(ctx, RegionRole::Secondary);
    let region = here.region.as_str();
    let fail = |e: String| aws_error(STEP, region, &bucket, e);
    let Some(current) = current_configuration(&here.s3, &bucket)
        .await
        .map_err(fail)?
    else {
        return Ok(());
    };
    if !has_reverse_rule(&current) {
        return Ok(());
    }
    ctx.claim("deploy").await?;
    let others: Vec<ReplicationRule> = current
        .rules()
        .iter()
        .filter(|r| r.id() != Some(REVERSE_RULE_ID))
        .cloned()
        .collect();
    if others.is_empty() {
        here.s3
            .delete_bucket_replication()
            .bucket(&bucket)
            .send()
            .await
            .map_err(|e| fail(sdk_message(&e)))?;
    } else {
        let kept = ReplicationConfiguration::builder()
            .role(current.role())
            .set_rules(Some(others))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        here.s3
            .put_bucket_replication()
            .bucket(&bucket)
            .replication_configuration(kept)
            .send()
            .await
            .map_err(|e| fail(sdk_message(&e)))?;
    }
    outcome.mark(true);
    let stored = current_configuration(&here.s3, &bucket)
        .await
        .map_err(fail)?;
    if stored
        .as_ref()
        .is_some_and(|c| rule_of(c, REVERSE_RULE_ID).is_some())
    {
        return Err(fail(format!(
            "the rule {REVERSE_RULE_ID} is still stored after its removal"
        )));
    }
    outcome.check(region, Verdict::Ok);
    Ok(())
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
        Some(c) => {
            !same_core(c, desired)
                || !replicates_delete_markers(c)
                || syncs_replica_modifications(c) != syncs_replica_modifications(desired)
        }
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

/// The active-passive rule: primary to secondary.
pub fn desired_configuration(
    role: &str,
    target_arn: &str,
) -> Result<ReplicationConfiguration, String> {
    desired_rule(role, target_arn, directions(Mode::ActivePassive)[0])
}

/// The configuration of one direction's bucket: its one rule.
pub fn desired_rule(
    role: &str,
    target_arn: &str,
    direction: Direction,
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
    let mut rule = ReplicationRule::builder();
    if direction.sync {
        rule = rule.source_selection_criteria(
            SourceSelectionCriteria::builder()
                .replica_modifications(
                    ReplicaModifications::builder()
                        .status(ReplicaModificationsStatus::Enabled)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .build(),
        );
    }
    let rule = rule
        .id(direction.rule_id)
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

fn rule_of<'a>(c: &'a ReplicationConfiguration, id: &str) -> Option<&'a ReplicationRule> {
    c.rules().iter().find(|r| r.id() == Some(id))
}

/// mraa's rule of a configuration: the forward one, or the reverse one on
/// the secondary's bucket.
fn mraa_rule(c: &ReplicationConfiguration) -> Option<&ReplicationRule> {
    rule_of(c, RULE_ID).or_else(|| rule_of(c, REVERSE_RULE_ID))
}

/// Whether a configuration holds mraa's reverse rule (active-active's).
pub fn has_reverse_rule(c: &ReplicationConfiguration) -> bool {
    rule_of(c, REVERSE_RULE_ID).is_some()
}

/// A rule as `status` shows it (`Enabled → bucket, RTC on`), and whether
/// Replication Time Control is on.
pub fn rule_summary(rule: &ReplicationRule) -> (String, bool) {
    let destination = rule.destination().map(|d| d.bucket()).unwrap_or_default();
    let rtc = rule
        .destination()
        .and_then(|d| d.replication_time())
        .is_some_and(|t| t.status() == &ReplicationTimeStatus::Enabled);
    let detail = format!(
        "{} → {}, RTC {}",
        rule.status().as_str(),
        destination.trim_start_matches("arn:aws:s3:::"),
        if rtc { "on" } else { "off" }
    );
    (detail, rtc)
}

/// Whether mraa's rule syncs replica modifications (two-way replication).
pub fn syncs_replica_modifications(c: &ReplicationConfiguration) -> bool {
    mraa_rule(c)
        .and_then(|r| r.source_selection_criteria())
        .and_then(|s| s.replica_modifications())
        .map(|m| m.status())
        == Some(&ReplicaModificationsStatus::Enabled)
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
                r.id().map(str::to_string),
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

    #[test]
    fn active_active_replicates_back_with_replica_modification_sync() {
        let [forward, reverse] = directions(Mode::ActiveActive)[..] else {
            panic!("two directions in active-active");
        };
        assert_eq!(
            (forward.from, forward.to),
            (RegionRole::Primary, RegionRole::Secondary)
        );
        assert_eq!(
            (reverse.from, reverse.to),
            (RegionRole::Secondary, RegionRole::Primary)
        );
        let role = "arn:aws:iam::1:role/r";
        let back = desired_rule(role, "arn:aws:s3:::p", reverse).expect("builds");
        assert_eq!(back.rules()[0].id(), Some(REVERSE_RULE_ID));
        assert!(syncs_replica_modifications(&back));
        assert!(replicates_delete_markers(&back));
        let one_way = desired_configuration(role, "arn:aws:s3:::s").expect("builds");
        let two_way = desired_rule(role, "arn:aws:s3:::s", forward).expect("builds");
        assert!(!syncs_replica_modifications(&one_way));
        // A mode change is a change of the forward rule too.
        assert!(needs_put(Some(&one_way), &two_way));
        assert!(needs_put(Some(&two_way), &one_way));
        assert!(!needs_put(Some(&two_way), &two_way));
        assert_eq!(directions(Mode::ActivePassive), vec![forward_only()]);
    }

    fn forward_only() -> Direction {
        Direction {
            rule_id: RULE_ID,
            from: RegionRole::Primary,
            to: RegionRole::Secondary,
            sync: false,
        }
    }
}
