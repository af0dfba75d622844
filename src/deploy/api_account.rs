//! API Gateway writes access logs only through the CloudWatch Logs role its
//! account settings name: one setting per account and region, shared by
//! every API there, which cannot be cleared once set. mraa never overwrites
//! it. Where a region's setting names a role, that role is used as it is;
//! where none is named, the bootstrap stack creates `mraa-<app>-apigw-logs`
//! and mraa names it there. The role is retained on teardown (the setting
//! keeps pointing at it), and a later deployment finds the setting made and
//! creates nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_apigateway::types::{Op, PatchOperation};

use crate::aws::{Aws, aws_error, sdk_message};
use crate::error::Result;
use crate::names::api_logging_role as role_name;
pub use crate::plan::api_logging::{PARAMETER, bootstrap_holds_role, parameter_value};
use crate::ui::progress::Status;
use crate::wire::Verdict;

use super::summary::Check;
use crate::cfn::wait::Backoff;
use crate::context::Ctx;

const STEP: &str = "bootstrap";
const SETTING: &str = "/cloudwatchRoleArn";

/// The role's ARN, in the caller's partition (`arn:aws:...`, `arn:aws-cn:...`).
pub fn role_arn(caller_arn: &str, account: &str, app: &str) -> String {
    let partition = caller_arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:iam::{account}:role/{}", role_name(app))
}

/// Each region's setting: the role it names, if any. Read only.
pub async fn settings(aws: &Aws) -> Result<BTreeMap<String, Option<String>>> {
    let mut found = BTreeMap::new();
    for clients in aws.regions() {
        let role = role_named(&clients.apigateway)
            .await
            .map_err(|e| aws_error(STEP, &clients.region, "API Gateway account settings", e))?;
        found.insert(clients.region.clone(), role);
    }
    Ok(found)
}

/// The role one region's account settings name, if any.
async fn role_named(
    client: &aws_sdk_apigateway::Client,
) -> std::result::Result<Option<String>, String> {
    let account = client
        .get_account()
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(account
        .cloudwatch_role_arn()
        .filter(|r| !r.is_empty())
        .map(str::to_string))
}

/// Whether the bootstrap stack must hold the role: it already does (a
/// deployment that made it keeps it, so a re-run changes nothing), or a
/// region names no role and none of them names this app's (which would be
/// one retained from an earlier deployment, there to be used again).
pub fn creates_role(
    bootstrap_creates_it: bool,
    settings: &BTreeMap<String, Option<String>>,
    ours: &str,
) -> bool {
    bootstrap_creates_it
        || (settings.values().any(Option::is_none)
            && !settings.values().any(|r| r.as_deref() == Some(ours)))
}

/// After the bootstrap stack: names this app's role in every region whose
/// setting names none, and reads each setting back. One check per region.
pub async fn ensure(ctx: &Ctx) -> Result<Vec<Check>> {
    let ours = role_arn(&ctx.caller_arn, &ctx.account, &ctx.app);
    let mut checks = Vec::new();
    for (region, role) in ctx.prefetched.api_logging.clone() {
        let fail = |cause: String| aws_error(STEP, &region, "API Gateway account settings", cause);
        if role.is_none() {
            ctx.report(
                STEP,
                &region,
                Status::Waiting,
                &format!(
                    "naming {} in API Gateway's account settings",
                    role_name(&ctx.app)
                ),
            );
            ctx.claim("deploy").await?;
            set_role(ctx, &region, &ours).await.map_err(fail)?;
        }
        if role_named(&ctx.aws.region(&region).apigateway)
            .await
            .map_err(fail)?
            .is_none()
        {
            return Err(fail(format!(
                "{ours} was set as the CloudWatch Logs role but the setting reads back empty"
            )));
        }
        checks.push(Check {
            region: region.clone(),
            verdict: Verdict::Ok,
        });
    }
    Ok(checks)
}

/// API Gateway checks that it may assume the role; a role the bootstrap
/// stack has just created can take a while to propagate through IAM, so
/// that refusal is retried within a bound.
async fn set_role(ctx: &Ctx, region: &str, role: &str) -> std::result::Result<(), String> {
    let client = &ctx.aws.region(region).apigateway;
    let mut backoff = Backoff::for_operation(ctx.aws.custom_endpoint, Duration::from_secs(120));
    loop {
        let patch = PatchOperation::builder()
            .op(Op::Replace)
            .path(SETTING)
            .value(role)
            .build();
        match client.update_account().patch_operations(patch).send().await {
            Ok(_) => return Ok(()),
            Err(e) => {
                let message = sdk_message(&e);
                let propagating = e
                    .as_service_error()
                    .is_some_and(|s| s.is_bad_request_exception())
                    && message.to_ascii_lowercase().contains("permission");
                if !propagating || !backoff.wait().await {
                    return Err(format!(
                        "setting {role} as the CloudWatch Logs role: {message}"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "arn:aws:iam::123456789012:role/mraa-demo-apigw-logs";

    fn settings(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(r, role)| (r.to_string(), role.map(str::to_string)))
            .collect()
    }

    #[test]
    fn the_role_is_made_only_where_no_setting_names_one() {
        let empty = settings(&[("us-east-1", None), ("eu-west-1", None)]);
        assert!(creates_role(false, &empty, OURS));
        let theirs = settings(&[
            ("us-east-1", Some("arn:aws:iam::123456789012:role/theirs")),
            ("eu-west-1", Some("arn:aws:iam::123456789012:role/theirs")),
        ]);
        assert!(!creates_role(false, &theirs, OURS));
        // Retained by an earlier teardown: used again, not created again.
        let retained = settings(&[("us-east-1", Some(OURS)), ("eu-west-1", None)]);
        assert!(!creates_role(false, &retained, OURS));
        // A deployment whose bootstrap holds the role keeps holding it.
        let set = settings(&[("us-east-1", Some(OURS)), ("eu-west-1", Some(OURS))]);
        assert!(creates_role(true, &set, OURS));
    }

    #[test]
    fn the_role_arn_is_in_the_callers_partition() {
        assert_eq!(
            role_arn(
                "arn:aws-cn:sts::123456789012:assumed-role/x/y",
                "123456789012",
                "demo"
            ),
            "arn:aws-cn:iam::123456789012:role/mraa-demo-apigw-logs"
        );
    }
}
