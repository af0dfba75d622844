//! The run context a changing command works in (clients, account, app,
//! plan, reporter, lock), and the outcome types its steps return. Below the
//! commands: deploy's steps, the wiring and the state seed all take it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use serde::Serialize;

use aws_sdk_cloudformation::types::Stack;

use crate::aws::Aws;
use crate::plan::{Plan, Unit};
use crate::ui::progress::{Reporter, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// What deploying one unit did, and its stack outputs per region.
#[derive(Debug, Clone)]
pub struct UnitOutcome {
    pub change: Change,
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

/// Everything a deploy step needs, shared by the concurrent tasks.
pub struct Ctx {
    pub aws: Aws,
    pub account: String,
    /// Recorded with every state change.
    pub caller_arn: String,
    pub app: String,
    pub plan: Plan,
    /// Unique per run: change-set names and StackSet operation ids.
    pub run_id: String,
    pub reporter: Arc<Reporter>,
    /// Claimed before the run's first change; see [`crate::lock`].
    pub lock: crate::lock::LockSlot,
    /// What the run read before it started, so that no step reads it again.
    pub prefetched: Prefetched,
}

/// Read before the run: stacks (by region and name; each taken once, by the
/// step that deploys it) and API Gateway's account settings by region.
#[derive(Debug, Default)]
pub struct Prefetched {
    stacks: std::sync::Mutex<BTreeMap<(String, String), Option<Stack>>>,
    pub api_logging: BTreeMap<String, Option<String>>,
    /// Data kept by an earlier teardown that this run adopts.
    pub kept: crate::plan::changes::import::Kept,
    /// Kept data found only once a unit's deploy began (an adoption that an
    /// earlier run left half-way), checked with the rest afterwards.
    pub kept_later: std::sync::Mutex<Vec<crate::plan::changes::import::KeptResource>>,
}

impl Prefetched {
    pub fn new(api_logging: BTreeMap<String, Option<String>>) -> Prefetched {
        Prefetched {
            api_logging,
            ..Default::default()
        }
    }

    pub fn put_stack(&self, region: &str, name: &str, stack: Option<Stack>) {
        if let Ok(mut stacks) = self.stacks.lock() {
            stacks.insert((region.to_string(), name.to_string()), stack);
        }
    }

    /// `None`: not read before the run.
    pub fn take_stack(&self, region: &str, name: &str) -> Option<Option<Stack>> {
        self.stacks
            .lock()
            .ok()?
            .remove(&(region.to_string(), name.to_string()))
    }
}

impl Ctx {
    /// Takes the app's lock before a change (once per run).
    pub async fn claim(&self, operation: &str) -> crate::error::Result<()> {
        self.lock
            .claim(crate::lock::Claim {
                cfn: &self.aws.primary.cfn,
                region: &self.aws.primary.region,
                app: &self.app,
                operation,
                caller_arn: &self.caller_arn,
            })
            .await
    }

    pub fn report(&self, step: &str, region: &str, status: Status, detail: &str) {
        let detail = (!detail.is_empty()).then(|| detail.to_string());
        self.reporter.event(step, Some(region), status, detail);
    }

    pub fn admin_role_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role/mraa-{}-stackset-admin",
            self.account, self.app
        )
    }

    pub fn execution_role_name(&self) -> String {
        format!("mraa-{}-stackset-exec", self.app)
    }

    pub fn operation_id(&self, unit: &str, what: &str) -> String {
        format!("{}-{unit}-{what}", self.run_id)
    }
}

impl crate::lock::Claimer for Ctx {
    fn claim(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { Ctx::claim(self, "deploy").await.map_err(|e| e.to_string()) })
    }
}

/// Stack outputs of every deployed unit, by unit and region.
#[derive(Debug, Clone, Default)]
pub struct Outputs(HashMap<Unit, BTreeMap<String, BTreeMap<String, String>>>);

impl Outputs {
    pub fn insert(&mut self, unit: Unit, outputs: BTreeMap<String, BTreeMap<String, String>>) {
        self.0.insert(unit, outputs);
    }

    pub fn get(&self, unit: Unit, region: &str, key: &str) -> Option<&str> {
        self.0
            .get(&unit)?
            .get(region)?
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn of(&self, unit: Unit) -> Option<&BTreeMap<String, BTreeMap<String, String>>> {
        self.0.get(&unit)
    }

    /// The front end's `UserPoolId` or `UserPoolClientId` serving `region`:
    /// its own, or with Cognito's replication (where only the primary makes
    /// a pool) the primary's, which the secondary's replica shares.
    pub fn user_pool(&self, region: &str, key: &str) -> Option<&str> {
        self.get(Unit::Frontend, region, key).or_else(|| {
            if self.get(Unit::Frontend, region, "UserReplication") != Some("native") {
                return None;
            }
            self.of(Unit::Frontend)?
                .keys()
                .find_map(|other| self.get(Unit::Frontend, other, key))
        })
    }
}

/// The current time as AWS writes it (ISO 8601, UTC): state changes and
/// the lock record it.
pub fn now() -> String {
    DateTime::from(std::time::SystemTime::now())
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// Unique per run (to the microsecond): names change sets and StackSet
/// operations so that a re-run never collides with an earlier one.
/// `prefix`: `mraa` for deploy, `mraa-teardown` for teardown.
pub fn run_id(prefix: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{:04}",
        now.as_secs(),
        now.subsec_micros() % 10_000
    )
}
