//! One CloudFormation stack, read: its status, outputs and parameters, the
//! wait until it is stable, and the event that explains a failure.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Parameter, Stack, StackEvent, StackStatus};

use crate::aws::{is_not_found, sdk_message};

use super::status::{is_failed, is_stable, starts_operation};
use super::wait::Backoff;

/// CloudFront distributions take the longest: up to ~15 minutes on AWS.
const STACK_LIMIT: Duration = Duration::from_secs(45 * 60);

pub async fn describe(cfn: &Client, name: &str) -> Result<Option<Stack>, String> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_message(&e)),
    }
}

pub fn outputs_of(stack: &Stack) -> BTreeMap<String, String> {
    stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect()
}

pub fn parameters(values: &BTreeMap<String, String>) -> Vec<Parameter> {
    values
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

/// Parameters as a key → value map (the form mraa compares and records).
pub fn parameter_map(parameters: &[Parameter]) -> BTreeMap<String, String> {
    parameters
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_string(),
                p.parameter_value()?.to_string(),
            ))
        })
        .collect()
}

/// The parameters a stack of template `body` deployed with `given` reports:
/// CloudFormation lists every template parameter, an omitted one at its
/// default, so that is what a deployed stack is compared with.
pub fn effective_parameters(
    body: &str,
    given: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let template: Option<serde_yaml::Value> = serde_yaml::from_str(body).ok();
    let scalar = |v: &serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut all: BTreeMap<String, String> = template
        .as_ref()
        .and_then(|t| t.get("Parameters"))
        .and_then(|p| p.as_mapping())
        .map(|parameters| {
            parameters
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar(v.get("Default")?)?)))
                .collect()
        })
        .unwrap_or_default();
    all.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// Polls until the stack is no longer in progress; `None` once it is gone.
pub async fn wait_for(
    cfn: &Client,
    custom_endpoint: bool,
    name: &str,
) -> Result<Option<StackStatus>, String> {
    let mut backoff = Backoff::for_operation(custom_endpoint, STACK_LIMIT);
    loop {
        let stack = describe(cfn, name).await?;
        let status = stack.and_then(|s| s.stack_status().cloned());
        match &status {
            None | Some(StackStatus::DeleteComplete) => return Ok(None),
            Some(s) if is_stable(s.as_str()) => return Ok(status),
            _ => {}
        }
        if !backoff.wait().await {
            return Err(format!(
                "still {status:?} after {} minutes",
                STACK_LIMIT.as_secs() / 60
            ));
        }
    }
}

/// The first resource failure of the latest operation, with its reason: the
/// event a user needs, not the cascade of cancellations after it.
pub async fn root_cause(cfn: &Client, stack: &str) -> String {
    let Ok(out) = cfn.describe_stack_events().stack_name(stack).send().await else {
        return "no stack events could be read".into();
    };
    first_failure(out.stack_events())
}

/// Events arrive newest first; the operation's own events run back to the
/// stack's event that started it (a create, an update or a delete).
pub fn first_failure(events: &[StackEvent]) -> String {
    let mut operation: Vec<_> = Vec::new();
    for event in events {
        let is_stack = event.resource_type() == Some("AWS::CloudFormation::Stack");
        let status = event
            .resource_status()
            .map(|s| s.as_str())
            .unwrap_or_default();
        operation.push(event);
        if is_stack && starts_operation(status) {
            break;
        }
    }
    operation
        .iter()
        .rev()
        .find(|e| {
            let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
            let reason = e.resource_status_reason().unwrap_or_default();
            is_failed(status)
                && !reason.contains("cancelled")
                && e.resource_type() != Some("AWS::CloudFormation::Stack")
        })
        .map(|e| {
            format!(
                "{} ({}): {}",
                e.logical_resource_id().unwrap_or("?"),
                e.resource_type().unwrap_or("?"),
                e.resource_status_reason().unwrap_or("no reason given")
            )
        })
        .unwrap_or_else(|| "no failed resource event; see the stack's events".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_parameters_count_at_their_default() {
        let body = "Parameters:\n  Mode:\n    Type: String\n    Default: active-passive\n  \
                    Minutes:\n    Type: Number\n    Default: 15\n  AppName:\n    Type: String\n\
                    Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      \
                    TopicName: !Ref AppName\n";
        let given = BTreeMap::from([("AppName".to_string(), "shop".to_string())]);
        let effective = effective_parameters(body, &given);
        assert_eq!(
            effective,
            BTreeMap::from([
                ("AppName".to_string(), "shop".to_string()),
                ("Minutes".to_string(), "15".to_string()),
                ("Mode".to_string(), "active-passive".to_string()),
            ])
        );
    }
}
