//! What this run set going in CloudFormation, so that Ctrl-C can say what
//! still runs there without mraa. Every stack and StackSet operation the run
//! started is noted as its request leaves (by the endpoint watch,
//! src/ui/silence.rs); after the interruption, CloudFormation itself is asked
//! which of them are still in progress.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_cloudformation::Client;

use crate::cfn::stack_set::{busy_operations, describe_operation};

/// What an operation works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Stack,
    StackSet,
}

/// One stack or StackSet this run changed, in the Region it was asked in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Started {
    target: Target,
    name: String,
    region: String,
}

/// A stack or StackSet operation CloudFormation still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// `stack` or `StackSet`.
    pub kind: &'static str,
    pub name: String,
    pub region: String,
    /// Its status (a stack's) or its operation (a StackSet's).
    pub what: String,
}

static STARTED: Mutex<Vec<Started>> = Mutex::new(Vec::new());
static CLIENTS: Mutex<Vec<(String, Client)>> = Mutex::new(Vec::new());

/// The CloudFormation client of `region`, for asking after an interruption.
pub fn keep_client(region: &str, client: &Client) {
    if let Ok(mut clients) = CLIENTS.lock()
        && !clients.iter().any(|(r, _)| r == region)
    {
        clients.push((region.to_string(), client.clone()));
    }
}

/// Notes a CloudFormation request (query protocol: `Action=...&StackName=...`)
/// that starts an operation on a stack or a StackSet. The run's lock stack is
/// not noted: its release is told on its own.
pub(super) fn note_request(region: &str, body: &[u8]) {
    let body = String::from_utf8_lossy(body);
    let field = |key: &str| {
        body.split('&')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .map(url_decoded)
    };
    let target = match field("Action").as_deref() {
        Some(
            "CreateStackInstances"
            | "UpdateStackInstances"
            | "DeleteStackInstances"
            | "UpdateStackSet"
            | "ImportStacksToStackSet",
        ) => Target::StackSet,
        Some("CreateStack" | "UpdateStack" | "DeleteStack" | "ExecuteChangeSet") => Target::Stack,
        _ => return,
    };
    let name = match target {
        Target::StackSet => field("StackSetName"),
        Target::Stack => field("StackName"),
    };
    let Some(name) = name.filter(|n| !n.ends_with("-lock")) else {
        return;
    };
    let started = Started {
        target,
        name,
        region: region.to_string(),
    };
    if let Ok(mut all) = STARTED.lock()
        && !all.contains(&started)
    {
        all.push(started);
    }
}

fn url_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Of what this run started, what CloudFormation says is still in progress;
/// `Err` when it could not be asked within `limit`.
pub async fn still_running(limit: Duration) -> Result<Vec<Running>, String> {
    let started = STARTED.lock().map(|s| s.clone()).unwrap_or_default();
    let clients = CLIENTS.lock().map(|c| c.clone()).unwrap_or_default();
    let asks = started.into_iter().filter_map(|s| {
        let client = clients.iter().find(|(r, _)| *r == s.region)?.1.clone();
        Some(async move { ask(&client, s).await })
    });
    let answers = tokio::time::timeout(limit, futures::future::join_all(asks))
        .await
        .map_err(|_| format!("CloudFormation did not answer within {}s", limit.as_secs()))?;
    let mut running = Vec::new();
    for answer in answers {
        running.extend(answer?);
    }
    Ok(running)
}

async fn ask(cfn: &Client, started: Started) -> Result<Vec<Running>, String> {
    let running = |kind, what| Running {
        kind,
        name: started.name.clone(),
        region: started.region.clone(),
        what,
    };
    match started.target {
        Target::StackSet => Ok(busy_operations(cfn, &started.name)
            .await?
            .iter()
            .map(|o| running("StackSet", describe_operation(o)))
            .collect()),
        Target::Stack => {
            let stack = crate::cfn::stack::describe(cfn, &started.name).await?;
            Ok(stack
                .and_then(|s| s.stack_status().map(|s| s.as_str().to_string()))
                .filter(|s| s.ends_with("_IN_PROGRESS"))
                .map(|s| running("stack", s))
                .into_iter()
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_on_stacks_and_stack_sets_are_noted_by_name_and_region() {
        note_request(
            "us-east-1",
            b"Action=CreateStackInstances&Version=2010-05-15&StackSetName=mraa-t1-object-store&Regions.member.1=eu-west-1",
        );
        note_request(
            "us-east-1",
            b"Action=ExecuteChangeSet&ChangeSetName=mraa-1&StackName=mraa-t1-edge",
        );
        note_request("us-east-1", b"Action=CreateStack&StackName=mraa-t1-lock");
        note_request("us-east-1", b"Action=DescribeStacks&StackName=mraa-t1-edge");
        note_request(
            "us-east-1",
            b"Action=DeleteStack&StackName=arn%3Aaws%3Acloudformation%3Aus-east-1%3A1%3Astack%2Fmraa-t1-x%2Fid",
        );
        let noted = STARTED.lock().expect("lock").clone();
        let ours: Vec<_> = noted
            .iter()
            .filter(|s| s.name.contains("mraa-t1-"))
            .map(|s| (s.target, s.name.as_str(), s.region.as_str()))
            .collect();
        assert_eq!(
            ours,
            vec![
                (Target::StackSet, "mraa-t1-object-store", "us-east-1"),
                (Target::Stack, "mraa-t1-edge", "us-east-1"),
                (
                    Target::Stack,
                    "arn:aws:cloudformation:us-east-1:1:stack/mraa-t1-x/id",
                    "us-east-1"
                ),
            ]
        );
    }
}
