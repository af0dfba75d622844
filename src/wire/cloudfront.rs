//! The edge: the CloudFront distribution the edge stack made, checked through
//! the CloudFront API (origin group over both website buckets, default
//! behaviour targeting the group), and the website-bucket policies that admit
//! only that distribution.

use crate::aws::{aws_error, sdk_message};
use crate::context::{Ctx, Outputs};
use crate::error::{MraaError, Result};
use crate::names;
use crate::plan::Unit;

use super::Verdict;

pub const STEP: &str = "edge";
pub const POLICY_STEP: &str = "website-policy";

/// The distribution's domain (when known) and what could be verified.
pub async fn verify_distribution(
    ctx: &Ctx,
    outputs: &Outputs,
) -> Result<(Option<String>, Verdict)> {
    let region = &ctx.aws.primary.region;
    let Some(id) = outputs.get(Unit::Edge, region, "DistributionId") else {
        return Err(missing(
            ctx,
            "the edge stack has no DistributionId output: CloudFormation created no distribution",
        ));
    };
    let fail = |cause: String| aws_error(STEP, region, format!("distribution {id}"), cause);
    let out = ctx
        .aws
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| fail(sdk_message(&e)))?;
    let distribution = out
        .distribution()
        .ok_or_else(|| fail("no distribution returned".into()))?;
    let domain = distribution.domain_name().to_string();
    let config = distribution
        .distribution_config()
        .ok_or_else(|| fail("no configuration returned".into()))?;
    let groups = config
        .origin_groups()
        .map(|g| g.items())
        .unwrap_or_default();
    let target = config
        .default_cache_behavior()
        .map(|b| b.target_origin_id())
        .unwrap_or_default();
    let Some(group) = groups.iter().find(|g| g.id() == target) else {
        return Err(fail(format!(
            "the default behaviour targets `{target}`, not an origin group: no failover between regions"
        )));
    };
    let members: Vec<&str> = group
        .members()
        .map(|m| m.items().iter().map(|i| i.origin_id()).collect())
        .unwrap_or_default();
    let domains: Vec<&str> = config
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .filter(|o| members.contains(&o.id()))
        .map(|o| o.domain_name())
        .collect();
    for r in [&ctx.aws.primary.region, &ctx.aws.secondary.region] {
        let bucket = names::bucket_name(&ctx.app, "website", &ctx.account, r);
        if !domains.iter().any(|d| d.starts_with(&format!("{bucket}."))) {
            return Err(fail(format!(
                "the origin group does not include website bucket {bucket}"
            )));
        }
    }
    Ok((Some(domain), Verdict::Ok))
}

/// Each website bucket's policy names the distribution; an error otherwise.
pub async fn verify_website_policies(ctx: &Ctx, outputs: &Outputs) -> Result<()> {
    let Some(id) = outputs.get(Unit::Edge, &ctx.aws.primary.region, "DistributionId") else {
        return Err(missing(
            ctx,
            "no distribution to admit: the edge stack has no DistributionId output",
        ));
    };
    for clients in ctx.aws.regions() {
        let bucket = names::bucket_name(&ctx.app, "website", &ctx.account, &clients.region);
        let policy = clients.s3.get_bucket_policy().bucket(&bucket).send().await;
        let text = match policy {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            Err(e) => {
                return Err(aws_error(
                    POLICY_STEP,
                    &clients.region,
                    bucket,
                    sdk_message(&e),
                ));
            }
        };
        if !admits(&text, id) {
            return Err(aws_error(
                POLICY_STEP,
                &clients.region,
                bucket,
                format!("the bucket policy does not admit distribution {id}"),
            ));
        }
    }
    Ok(())
}

/// Whether a website bucket's policy admits the distribution: CloudFront's
/// service principal, restricted to that distribution's ARN ("Restricting
/// access to an Amazon S3 origin",
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html>).
pub fn admits(policy: &str, distribution_id: &str) -> bool {
    policy.contains(&format!("distribution/{distribution_id}"))
        && policy.contains("cloudfront.amazonaws.com")
}

/// A missing distribution is a failure: the edge stack makes it.
fn missing(ctx: &Ctx, reason: &str) -> MraaError {
    aws_error(STEP, &ctx.aws.primary.region, "edge stack", reason)
}
