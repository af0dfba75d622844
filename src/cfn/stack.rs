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
    let mut stream = EventStream::default();
    loop {
        stream.show_new(cfn, name, name).await;
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

/// With `-v`, a stack's events as they arrive, oldest first, from the start
/// of the operation being waited for; one DescribeStackEvents per poll, and
/// none at all without `-v`.
#[derive(Default)]
pub struct EventStream {
    seen: std::collections::HashSet<String>,
    /// A StackSet instance's stack: its operation starts with the stack's
    /// create or update; a delete after it is StackSets removing a stack
    /// whose creation failed, and the failure comes before it.
    instance: bool,
}

/// Whether `-v` asks for stack events.
pub fn streams_events() -> bool {
    tracing::enabled!(tracing::Level::INFO)
}

impl EventStream {
    pub fn for_instance() -> EventStream {
        EventStream {
            instance: true,
            ..EventStream::default()
        }
    }

    /// The events of `stack` (a name or id) not shown yet, each as a line
    /// naming `label` (the stack or StackSet's name) and the client's Region.
    pub async fn show_new(&mut self, cfn: &Client, stack: &str, label: &str) {
        if !streams_events() {
            return;
        }
        let Ok(out) = cfn.describe_stack_events().stack_name(stack).send().await else {
            return;
        };
        let first = self.seen.is_empty();
        let mut new = Vec::new();
        for event in out.stack_events() {
            let Some(id) = event.event_id() else { continue };
            if !self.seen.insert(id.to_string()) {
                break;
            }
            new.push(event);
            let status = event
                .resource_status()
                .map(|s| s.as_str())
                .unwrap_or_default();
            // The first time, only the operation's own events.
            let starts = match self.instance {
                true => matches!(status, "CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS"),
                false => starts_operation(status),
            };
            if first && event.resource_type() == Some("AWS::CloudFormation::Stack") && starts {
                break;
            }
        }
        let region = cfn.config().region().map(|r| r.to_string());
        for event in new.iter().rev() {
            tracing::info!(
                "{}",
                describe_event(label, region.as_deref().unwrap_or("?"), event)
            );
        }
    }
}

/// One stack event as a line: time, stack (or StackSet), Region, resource,
/// type, status, reason.
pub fn describe_event(stack: &str, region: &str, event: &StackEvent) -> String {
    use aws_sdk_cloudformation::primitives::DateTimeFormat;
    let time = event
        .timestamp()
        .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
        .unwrap_or_default();
    let mut line = format!(
        "{time} {stack} {region} {} ({}) {}",
        event.logical_resource_id().unwrap_or("?"),
        event.resource_type().unwrap_or("?"),
        event.resource_status().map(|s| s.as_str()).unwrap_or("?"),
    );
    if let Some(reason) = event.resource_status_reason().filter(|r| !r.is_empty()) {
        line.push_str(&format!(": {reason}"));
    }
    line
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
/// stack's event that started it (a create, an update or a delete). A delete
/// right after ROLLBACK_COMPLETE is StackSets' cleanup of a failed creation
/// ("the stack ... will have a status of DELETED (for failed create
/// operations)", "Troubleshooting CloudFormation StackSets"): the failure is
/// in the creation before it.
pub fn first_failure(events: &[StackEvent]) -> String {
    let is_stack = |e: &StackEvent| e.resource_type() == Some("AWS::CloudFormation::Stack");
    let status = |e: &StackEvent| {
        e.resource_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    };
    let mut operation: Vec<_> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        operation.push(event);
        let cleanup = status(event) == "DELETE_IN_PROGRESS"
            && events
                .get(i + 1)
                .is_some_and(|older| is_stack(older) && status(older) == "ROLLBACK_COMPLETE");
        if is_stack(event) && starts_operation(&status(event)) && !cleanup {
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
            // The physical id names what stood in the way (a bucket's name);
            // CloudFormation leaves it empty for a resource never made.
            let physical = e
                .physical_resource_id()
                .filter(|id| !id.is_empty())
                .map(|id| format!(" `{id}`"))
                .unwrap_or_default();
            format!(
                "{} ({}{physical}) {}: {}",
                e.logical_resource_id().unwrap_or("?"),
                e.resource_type().unwrap_or("?"),
                e.resource_status().map(|s| s.as_str()).unwrap_or("?"),
                e.resource_status_reason().unwrap_or("no reason given")
            )
        })
        .unwrap_or_else(|| "no failed resource event; see the stack's events".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::ResourceStatus;

    fn event(
        logical: &str,
        kind: &str,
        physical: &str,
        status: ResourceStatus,
        why: &str,
    ) -> StackEvent {
        StackEvent::builder()
            .logical_resource_id(logical)
            .resource_type(kind)
            .physical_resource_id(physical)
            .resource_status(status)
            .resource_status_reason(why)
            .build()
    }

    #[test]
    fn the_first_failure_names_the_resource_its_physical_id_and_reason() {
        use ResourceStatus as S;
        const STACK: &str = "AWS::CloudFormation::Stack";
        // Newest first, as DescribeStackEvents answers.
        let events = [
            event("StackSet-x", STACK, "arn:stack", S::RollbackComplete, ""),
            event(
                "SiteBucket",
                "AWS::S3::Bucket",
                "mraa-fail-website-eu-west-1",
                S::DeleteComplete,
                "",
            ),
            event(
                "Pool",
                "AWS::Cognito::UserPool",
                "",
                S::CreateFailed,
                "Resource creation cancelled",
            ),
            event(
                "StackSet-x",
                STACK,
                "arn:stack",
                S::RollbackInProgress,
                "The following resource(s) failed to create: [SiteBucket].",
            ),
            event(
                "SiteBucket",
                "AWS::S3::Bucket",
                "mraa-fail-website-eu-west-1",
                S::CreateFailed,
                "mraa-fail-website-eu-west-1 already exists",
            ),
            event("SiteBucket", "AWS::S3::Bucket", "", S::CreateInProgress, ""),
            event(
                "StackSet-x",
                STACK,
                "arn:stack",
                S::CreateInProgress,
                "User Initiated",
            ),
            // An earlier operation's failure is not this one's.
            event("Old", "AWS::S3::Bucket", "old", S::CreateFailed, "earlier"),
        ];
        assert_eq!(
            first_failure(&events),
            "SiteBucket (AWS::S3::Bucket `mraa-fail-website-eu-west-1`) CREATE_FAILED: \
             mraa-fail-website-eu-west-1 already exists"
        );
        // StackSets then deletes the rolled-back stack: the cause is still
        // the creation's.
        let mut deleted = vec![
            event("StackSet-x", STACK, "arn:stack", S::DeleteComplete, ""),
            event("StackSet-x", STACK, "arn:stack", S::DeleteInProgress, ""),
        ];
        deleted.extend(events.iter().cloned());
        assert_eq!(first_failure(&deleted), first_failure(&events));
        // A delete the user asked for later is an operation of its own.
        let mut later = deleted.clone();
        later.insert(
            2,
            event("StackSet-x", STACK, "arn:stack", S::CreateComplete, ""),
        );
        assert!(first_failure(&later).starts_with("no failed resource event"));
    }

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
