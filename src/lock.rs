//! One changing operation at a time per app. The lock is a stack,
//! `mraa-<app>-lock`, in the primary region: creating a stack of a given name
//! is atomic in CloudFormation, it needs no local state, and its tags say who
//! holds it. It holds one free resource (a wait-condition handle).
//!
//! A command claims the lock only before its first change, so a run with
//! nothing to change makes no mutating call at all.

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::Tag;
use tokio::sync::OnceCell;

use crate::aws::{is_not_found, sdk_message};
use crate::error::{MraaError, Result};
use crate::names::{self, APP_TAG};

pub const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "mraa operation lock: while this stack exists, an mraa command is changing this app",
  "Resources": { "Lock": { "Type": "AWS::CloudFormation::WaitConditionHandle" } }
}"#;

const OPERATION_TAG: &str = "mraa:lock-operation";
const HOLDER_TAG: &str = "mraa:lock-holder";
const SINCE_TAG: &str = "mraa:lock-since";
const BY_TAG: &str = "mraa:lock-by";

/// Something that takes the lock before a change: the deploy context, or
/// [`NoClaim`] where the caller handles locking itself.
pub trait Claimer: Sync {
    fn claim(&self) -> futures::future::BoxFuture<'_, Result<(), String>>;
}

/// Takes no lock.
pub struct NoClaim;

impl Claimer for NoClaim {
    fn claim(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// The lock of one command run: claimed on first need, released at the end.
#[derive(Debug, Default)]
pub struct LockSlot {
    claimed: OnceCell<Result<Option<Held>, String>>,
}

#[derive(Debug, Clone)]
struct Held {
    cfn: Client,
    name: String,
}

/// Who claims and where.
pub struct Claim<'a> {
    pub cfn: &'a Client,
    pub region: &'a str,
    pub app: &'a str,
    pub operation: &'a str,
    pub caller_arn: &'a str,
}

impl LockSlot {
    /// A slot that never takes a lock: for callers that already hold one, or
    /// that drive the steps themselves (tests with scripted responses).
    pub fn not_needed() -> LockSlot {
        let claimed = OnceCell::new();
        let _ = claimed.set(Ok(None));
        LockSlot { claimed }
    }

    /// Claims the lock once per run; later calls return the first result.
    pub async fn claim(&self, claim: Claim<'_>) -> Result<()> {
        let result = self
            .claimed
            .get_or_init(|| async { acquire(&claim).await.map(Some) })
            .await;
        result
            .as_ref()
            .map(|_| ())
            .map_err(|e| MraaError::Busy(e.clone()))
    }

    /// Releases the lock if this run holds it.
    pub async fn release(&self) {
        if let Some(Ok(Some(held))) = self.claimed.get()
            && let Err(e) = held.cfn.delete_stack().stack_name(&held.name).send().await
        {
            tracing::warn!(
                "could not release the lock {}: {}; delete that stack once no mraa command runs",
                held.name,
                sdk_message(&e)
            );
        }
    }
}

async fn acquire(claim: &Claim<'_>) -> Result<Held, String> {
    let name = names::stack_name(claim.app, "lock");
    let holder = holder();
    for _ in 0..3 {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        let created = claim
            .cfn
            .create_stack()
            .stack_name(&name)
            .template_body(TEMPLATE)
            .tags(tag(APP_TAG, claim.app))
            .tags(tag(OPERATION_TAG, claim.operation))
            .tags(tag(HOLDER_TAG, &holder))
            .tags(tag(SINCE_TAG, &crate::context::now()))
            .tags(tag(BY_TAG, claim.caller_arn))
            .send()
            .await;
        let err = match created {
            Ok(_) => {
                return Ok(Held {
                    cfn: claim.cfn.clone(),
                    name,
                });
            }
            Err(e) => e,
        };
        if err.code() != Some("AlreadyExistsException") {
            return Err(format!(
                "cannot take the lock {name}: {}",
                sdk_message(&err)
            ));
        }
        let stack = match claim.cfn.describe_stacks().stack_name(&name).send().await {
            Ok(out) => out.stacks().first().cloned(),
            Err(e) if is_not_found(&e) => None,
            Err(e) => return Err(format!("cannot read the lock {name}: {}", sdk_message(&e))),
        };
        let Some(stack) = stack else { continue };
        let tag = |key: &str| {
            stack
                .tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .unwrap_or("?")
                .to_string()
        };
        let status = stack.stack_status().map(|s| s.as_str()).unwrap_or_default();
        if status.starts_with("DELETE") {
            // Being released right now: try again.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            continue;
        }
        let their_holder = tag(HOLDER_TAG);
        if is_stale(&their_holder) {
            tracing::warn!("taking over the lock of {their_holder}, which no longer runs");
            let _ = claim.cfn.delete_stack().stack_name(&name).send().await;
            continue;
        }
        return Err(format!(
            "app {} is busy: `mraa {}` by {} on {} since {}; if no mraa runs there any more, release it with `aws cloudformation delete-stack --stack-name {name} --region {}`",
            claim.app,
            tag(OPERATION_TAG),
            tag(BY_TAG),
            their_holder,
            tag(SINCE_TAG),
            claim.region,
        ));
    }
    Err(format!(
        "could not take the lock {name}: it kept changing hands"
    ))
}

/// `host:pid` of this process.
fn holder() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A holder on this host whose process is gone (killed, crashed). On other
/// hosts nothing can be known: their lock stands until released.
fn is_stale(holder: &str) -> bool {
    let Some((host, pid)) = holder.rsplit_once(':') else {
        return false;
    };
    host == hostname()
        && cfg!(target_os = "linux")
        && pid.parse::<u32>().is_ok_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_on_this_host_that_is_gone_is_stale() {
        let me = holder();
        assert!(!is_stale(&me), "this process is alive");
        let gone = format!("{}:{}", hostname(), u32::MAX - 1);
        assert_eq!(is_stale(&gone), cfg!(target_os = "linux"));
        assert!(!is_stale("another-host:1"));
        assert!(!is_stale("garbage"));
    }
}
