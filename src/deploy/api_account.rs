//! API Gateway writes access logs only through the CloudWatch Logs role its
//! account settings name: one setting per account and region, shared by
//! every API there, which cannot be cleared once set. mraa never overwrites
//! it. Where a region's setting names a role, that role is used as it is;
//! where none is named, the bootstrap stack creates `mraa-<app>-apigw-logs`
//! and mraa names it there. The role is retained on teardown (the setting
//! keeps pointing at it), and a later deployment finds the setting made and
//! creates nothing.

use std::time::Duration;

use aws_sdk_apigateway::types::{Op, PatchOperation};

use crate::aws::{aws_error, sdk_message};
pub use crate::discover::api_logging_settings as settings;
use crate::discover::role_named;
use crate::error::Result;
use crate::names::api_logging_role as role_name;
pub use crate::plan::api_logging::{
    PARAMETER, bootstrap_holds_role, creates_role, parameter_value, role_arn,
};
use crate::ui::progress::Status;
use crate::wire::Verdict;

use super::summary::Check;
use crate::cfn::wait::Backoff;
use crate::context::Ctx;

const STEP: &str = "bootstrap";
const SETTING: &str = "/cloudwatchRoleArn";

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
