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
        let Some(Ok(Some(held))) = self.claimed.get() else {
            return;
        };
        hold(None);
        if let Err(e) = held.cfn.delete_stack().stack_name(&held.name).send().await {
            tracing::warn!(
                "could not release the lock {}: {}; delete that stack once no mraa command runs",
                held.name,
                sdk_message(&e)
            );
        }
    }
}

/// The lock this process holds, if any: a run dropped on Ctrl-C no longer
/// has its slot, and its lock is released from here.
static HELD: std::sync::Mutex<Option<Held>> = std::sync::Mutex::new(None);

fn hold(held: Option<Held>) {
    if let Ok(mut slot) = HELD.lock() {
        *slot = held;
    }
}

/// How releasing the lock after an interruption went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// This process held no lock.
    NotHeld,
    /// The lock stack `name` is deleted (CloudFormation says so).
    Released { name: String },
    /// The lock stack `name` could not be deleted, or its deletion did not
    /// finish in time: `why`.
    Left { name: String, why: String },
}

/// Releases the lock this process holds, waiting (bounded, with backoff)
/// until CloudFormation reports the stack deleted: for Ctrl-C, when the
/// run that claimed it is gone.
pub async fn release_held(limit: std::time::Duration) -> Released {
    let held = HELD.lock().ok().and_then(|mut slot| slot.take());
    let Some(Held { cfn, name }) = held else {
        return Released::NotHeld;
    };
    let left = |why: String| Released::Left {
        name: name.clone(),
        why,
    };
    if let Err(e) = cfn.delete_stack().stack_name(&name).send().await {
        return left(sdk_message(&e));
    }
    // A stack of one wait-condition handle is deleted in seconds on AWS:
    // polled at most once a second.
    let mut backoff = crate::cfn::wait::Backoff::new(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_secs(1),
        limit,
    );
    loop {
        // DescribeStacks by name answers "does not exist" once a stack is
        // deleted (AWS CloudFormation API reference, DescribeStacks).
        match cfn.describe_stacks().stack_name(&name).send().await {
            Err(e) if is_not_found(&e) => return Released::Released { name },
            Err(e) => return left(sdk_message(&e)),
            Ok(out) => {
                let status = out
                    .stacks()
                    .first()
                    .and_then(|s| s.stack_status())
                    .map(|s| s.as_str().to_string());
                match status.as_deref() {
                    None | Some("DELETE_COMPLETE") => return Released::Released { name },
                    Some("DELETE_FAILED") => return left("its deletion failed".into()),
                    _ => {}
                }
            }
        }
        if !backoff.wait().await {
            return left(format!("still being deleted after {}s", limit.as_secs()));
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
                let held = Held {
                    cfn: claim.cfn.clone(),
                    name,
                };
                hold(Some(held.clone()));
                return Ok(held);
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
