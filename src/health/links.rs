//! Checks of the cross-region links, each through the service's own API:
//! S3 replication, DynamoDB replicas, the CloudFront distribution and the
//! website-bucket policies that admit it.

use aws_sdk_dynamodb::types::ReplicaStatus;

use crate::aws::{Aws, is_not_found, is_unreachable, sdk_message};
use crate::names;
use crate::wire::s3::{RULE_ID, replicates_delete_markers};

use super::{Check, Health};

/// The S3 replication rule of the primary objects bucket.
pub async fn s3_replication(aws: &Aws, app: &str, account: &str) -> Check {
    let primary = &aws.primary.region;
    let source = names::bucket_name(app, "objects", account, primary);
    let target = names::bucket_name(app, "objects", account, &aws.secondary.region);
    let check = |health, detail: String| Check::link("s3-replication", primary, health, detail);
    let config = match crate::wire::s3::current_configuration(&aws.primary.s3, &source).await {
        Ok(Some(config)) => config,
        Ok(None) => return check(Health::Missing, format!("{source} has no replication rule")),
        Err(e) => return check(Health::Degraded, e),
    };
    let Some(rule) = config.rules().iter().find(|r| r.id() == Some(RULE_ID)) else {
        return check(Health::Missing, format!("no rule {RULE_ID} on {source}"));
    };
    let destination = rule.destination().map(|d| d.bucket()).unwrap_or_default();
    let (detail, rtc) = crate::wire::s3::rule_summary(rule);
    if rule.status().as_str() != "Enabled" {
        return check(Health::Degraded, detail);
    }
    if destination != format!("arn:aws:s3:::{target}") || !rtc {
        return check(Health::Degraded, detail);
    }
    if !replicates_delete_markers(&config) {
        return check(
            Health::Degraded,
            format!("{detail}; delete markers are not replicated"),
        );
    }
    check(Health::Ok, detail)
}

/// Each global table's replica in the secondary region (`tables`: as
/// `names::global_tables` gives them for the deployment's user replication).
pub async fn dynamodb_replicas(aws: &Aws, app: &str, tables: &[&'static str]) -> Vec<Check> {
    let tables: Vec<(&str, String)> = tables
        .iter()
        .map(|t| (*t, names::table_name(app, t)))
        .collect();
    let secondary = &aws.secondary.region;
    let described = futures::future::join_all(
        tables
            .iter()
            .map(|(_, t)| aws.primary.dynamodb.describe_table().table_name(t).send()),
    )
    .await;
    tables
        .iter()
        .zip(described)
        .map(|((short, table), result)| {
            let check = |health, detail: String| {
                Check::link(&format!("replica {short}"), secondary, health, detail)
            };
            let description = match result {
                Ok(out) => out.table().cloned(),
                Err(e) if is_not_found(&e) => None,
                Err(e) if is_unreachable(&e) => {
                    return Check::link(
                        &format!("replica {short}"),
                        &aws.primary.region,
                        Health::Unreachable,
                        sdk_message(&e),
                    );
                }
                Err(e) => return check(Health::Degraded, sdk_message(&e)),
            };
            let Some(description) = description else {
                return check(
                    Health::Missing,
                    format!("{table} is missing in the primary"),
                );
            };
            let replica = description
                .replicas()
                .iter()
                .find(|r| r.region_name() == Some(secondary.as_str()));
            match replica.and_then(|r| r.replica_status()) {
                Some(ReplicaStatus::Active) => check(Health::Ok, "ACTIVE".into()),
                Some(other) => check(
                    Health::Degraded,
                    format!(
                        "{}{}",
                        other.as_str(),
                        replica
                            .and_then(|r| r.replica_status_description())
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    ),
                ),
                None => check(Health::Missing, format!("no replica in {secondary}")),
            }
        })
        .collect()
}

/// The distribution: deployed, with an origin group over both website
/// buckets as its default target. Returns the check and the domain.
pub async fn distribution(
    aws: &Aws,
    app: &str,
    account: &str,
    id: Option<&str>,
) -> (Check, Option<String>) {
    let primary = &aws.primary.region;
    let check = |health, detail: String| Check::link("cloudfront", "global", health, detail);
    let Some(id) = id else {
        return (
            check(
                Health::Missing,
                "the edge stack has no DistributionId output".into(),
            ),
            None,
        );
    };
    let out = match aws.cloudfront.get_distribution().id(id).send().await {
        Ok(out) => out,
        Err(e) if is_unreachable(&e) => return (check(Health::Unreachable, sdk_message(&e)), None),
        Err(e) if is_not_found(&e) => {
            return (
                check(Health::Missing, format!("distribution {id} not found")),
                None,
            );
        }
        Err(e) => return (check(Health::Degraded, sdk_message(&e)), None),
    };
    let Some(distribution) = out.distribution() else {
        return (
            check(Health::Degraded, "no distribution returned".into()),
            None,
        );
    };
    let domain = distribution.domain_name().to_string();
    let config = distribution.distribution_config();
    let groups = config
        .and_then(|c| c.origin_groups())
        .map(|g| g.items())
        .unwrap_or_default();
    let target = config
        .and_then(|c| c.default_cache_behavior())
        .map(|b| b.target_origin_id())
        .unwrap_or_default();
    let Some(group) = groups.iter().find(|g| g.id() == target) else {
        return (
            check(
                Health::Degraded,
                format!("{domain}: default behaviour targets `{target}`, not an origin group"),
            ),
            Some(domain),
        );
    };
    let members: Vec<&str> = group
        .members()
        .map(|m| m.items().iter().map(|i| i.origin_id()).collect())
        .unwrap_or_default();
    let codes: Vec<String> = group
        .failover_criteria()
        .and_then(|f| f.status_codes())
        .map(|s| s.items().iter().map(|c| c.to_string()).collect())
        .unwrap_or_default();
    let buckets_ok = [primary, &aws.secondary.region].iter().all(|region| {
        let bucket = names::bucket_name(app, "website", account, region);
        config
            .and_then(|c| c.origins())
            .map(|o| o.items())
            .unwrap_or_default()
            .iter()
            .any(|o| {
                members.contains(&o.id()) && o.domain_name().starts_with(&format!("{bucket}."))
            })
    });
    let detail = format!(
        "{domain} {}; group {} fails over on {}",
        distribution.status(),
        members.join(" → "),
        codes.join(",")
    );
    let health = if !buckets_ok {
        Health::Degraded
    } else if distribution.status() == "Deployed" {
        Health::Ok
    } else {
        Health::Degraded
    };
    (check(health, detail), Some(domain))
}

/// Each website bucket's policy admits the distribution.
pub async fn website_policies(aws: &Aws, app: &str, account: &str, id: Option<&str>) -> Vec<Check> {
    let mut checks = Vec::new();
    for clients in aws.regions() {
        let bucket = names::bucket_name(app, "website", account, &clients.region);
        let check =
            |health, detail: String| Check::link("website-policy", &clients.region, health, detail);
        let Some(id) = id else {
            checks.push(check(Health::Missing, "no distribution to admit".into()));
            continue;
        };
        checks.push(
            match clients.s3.get_bucket_policy().bucket(&bucket).send().await {
                Ok(out)
                    if out
                        .policy()
                        .is_some_and(|p| p.contains(&format!("distribution/{id}"))) =>
                {
                    check(Health::Ok, format!("{bucket} admits distribution {id}"))
                }
                Ok(_) => check(
                    Health::Degraded,
                    format!("{bucket} does not admit distribution {id}"),
                ),
                Err(e) if is_unreachable(&e) => check(Health::Unreachable, sdk_message(&e)),
                Err(e) => check(Health::Missing, sdk_message(&e)),
            },
        );
    }
    checks
}

/// What stands between the deployment and "replication is known to be
/// healthy": used before activating the primary again.
/// `tables`: the deployment's global tables (`names::global_tables`).
pub async fn replication_problems(aws: &Aws, app: &str, tables: &[&'static str]) -> Vec<String> {
    let account = match aws.caller_in(&aws.secondary.region).await {
        Ok(caller) => caller.account,
        Err(e) => return vec![format!("cannot tell the account: {e}")],
    };
    let mut checks = vec![s3_replication(aws, app, &account).await];
    checks.extend(dynamodb_replicas(aws, app, tables).await);
    checks
        .into_iter()
        .filter(|c| c.status != Health::Ok)
        .map(|c| format!("{} {}", c.name, c.status.as_str()))
        .collect()
}
