//! Change sets: what a stack's next operation would change, computed before
//! anything changes. Deploy executes them; a later `diff` only reads them.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Tag};

use crate::aws::sdk_message;
use crate::names::APP_TAG;

use super::stack::parameters;
use super::wait::Backoff;

/// A change set to make: on `stack`, from this template and parameters.
pub struct ChangeSetSpec<'a> {
    pub stack: &'a str,
    pub name: &'a str,
    pub kind: ChangeSetType,
    pub body: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
    pub app: &'a str,
    /// The service role CloudFormation acts as; the caller's credentials
    /// when `None` (or the role the stack already holds).
    pub role: Option<&'a str>,
}

/// Creates the change set (IAM resources with custom names allowed; the
/// stack tagged with its app). It is computed asynchronously: see
/// [`wait_ready`].
pub async fn create(cfn: &Client, spec: &ChangeSetSpec<'_>) -> Result<(), String> {
    cfn.create_change_set()
        .stack_name(spec.stack)
        .change_set_name(spec.name)
        .change_set_type(spec.kind.clone())
        .template_body(spec.body)
        .set_parameters(Some(parameters(spec.parameters)))
        .capabilities(Capability::CapabilityNamedIam)
        .tags(Tag::builder().key(APP_TAG).value(spec.app).build())
        .set_role_arn(spec.role.map(str::to_string))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_message(&e))
}

/// Waits for the change set to be computed. `Ok(false)`: it holds no change.
pub async fn wait_ready(
    cfn: &Client,
    custom_endpoint: bool,
    stack: &str,
    name: &str,
) -> Result<bool, String> {
    let mut backoff = Backoff::for_operation(custom_endpoint, Duration::from_secs(600));
    loop {
        let out = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        match out.status() {
            Some(ChangeSetStatus::CreateComplete) => return Ok(true),
            Some(ChangeSetStatus::Failed) => {
                let reason = out.status_reason().unwrap_or_default();
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    return Ok(false);
                }
                return Err(format!("change set {name} failed: {reason}"));
            }
            _ => {}
        }
        if !backoff.wait().await {
            return Err(format!("change set {name} was not ready in time"));
        }
    }
}

pub async fn execute(cfn: &Client, stack: &str, name: &str) -> Result<(), String> {
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_message(&e))
}

/// Best effort: a change set left behind only clutters the stack's list.
pub async fn delete(cfn: &Client, stack: &str, name: &str) {
    let _ = cfn
        .delete_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await;
}
