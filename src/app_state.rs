//! The application state of the original — active, fenced, failover — kept
//! as one item of the app-config global table, keyed by the app name. Read
//! by status, teardown and the state commands; seeded by deploy.
//!
//! Beside it, in the same table, the deployment record: which regions are
//! the primary and the secondary. The bootstrap stack records them too, but
//! only in the primary; DynamoDB replicates a write to one replica of a
//! global table to all the others ("Global tables core concepts", DynamoDB
//! Developer Guide,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-CoreConcepts.html>),
//! so a command can learn the secondary there while the primary is down. It is an
//! item of its own (key `<app>#deployment`, which no app name can be, as
//! names have no `#`) so that the state item, its conditional writes and the
//! APIs that read it stay as they are.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::aws::{aws_error, sdk_message};
use crate::context::{Change, Ctx, now};
use crate::error::{MraaError, Result};
use crate::names;
use crate::wire::{Verdict, WireOutcome};

pub const SEED_STEP: &str = "app-state";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppState {
    Active,
    Fenced,
    Failover,
}

impl AppState {
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Active => "active",
            AppState::Fenced => "fenced",
            AppState::Failover => "failover",
        }
    }

    /// The command that sets this state.
    pub fn verb(self) -> &'static str {
        match self {
            AppState::Active => "activate",
            AppState::Fenced => "fence",
            AppState::Failover => "failover",
        }
    }

    pub fn parse(text: &str) -> Option<AppState> {
        match text.trim().to_ascii_lowercase().as_str() {
            "active" => Some(AppState::Active),
            "fenced" => Some(AppState::Fenced),
            "failover" => Some(AppState::Failover),
            _ => None,
        }
    }
}

/// The state item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateRecord {
    pub state: Option<AppState>,
    pub raw_state: Option<String>,
    pub previous_state: Option<String>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
    pub reason: Option<String>,
    /// Active-active: the Regions drained (not serving), as the string set
    /// `drained` holds them.
    pub drained: Vec<String>,
}

impl StateRecord {
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> StateRecord {
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let raw_state = text("state");
        StateRecord {
            state: raw_state.as_deref().and_then(AppState::parse),
            raw_state,
            previous_state: text("previousState"),
            updated_at: text("updatedAt"),
            updated_by: text("updatedBy"),
            reason: text("reason"),
            drained: item
                .get("drained")
                .and_then(|v| v.as_ss().ok())
                .cloned()
                .unwrap_or_default(),
        }
    }
}

pub async fn read(client: &Client, app: &str) -> Result<Option<StateRecord>, String> {
    Ok(get(client, app, app)
        .await?
        .as_ref()
        .map(StateRecord::from_item))
}

/// One item of the app's app-config table, read consistently.
async fn get(
    client: &Client,
    app: &str,
    key: &str,
) -> Result<Option<HashMap<String, AttributeValue>>, String> {
    let out = client
        .get_item()
        .table_name(names::table_name(app, "app-config"))
        .key("appId", AttributeValue::S(key.to_string()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(out.item().cloned())
}

/// The deployment's regions and mode, as its record in the app-config
/// table holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionsRecord {
    pub primary: String,
    pub secondary: String,
    /// `None`: a record written before modes (active-passive), or one with
    /// an unknown value.
    pub mode: Option<crate::plan::Mode>,
}

/// The key of the deployment record.
pub fn record_key(app: &str) -> String {
    format!("{app}#deployment")
}

impl RegionsRecord {
    fn from_item(item: &HashMap<String, AttributeValue>) -> Option<RegionsRecord> {
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        Some(RegionsRecord {
            primary: text("primaryRegion")?,
            secondary: text("secondaryRegion")?,
            mode: text("mode").and_then(|m| crate::plan::Mode::from_recorded(Some(&m))),
        })
    }
}

/// The deployment record as `client`'s region holds it. `Ok(None)`: no
/// record there (or one without both regions).
pub async fn read_record(client: &Client, app: &str) -> Result<Option<RegionsRecord>, String> {
    Ok(get(client, app, &record_key(app))
        .await?
        .as_ref()
        .and_then(RegionsRecord::from_item))
}

/// Seeds `active` when no state exists; never overwrites one.
pub async fn seed(ctx: &Ctx) -> Result<WireOutcome> {
    let clients = &ctx.aws.primary;
    let table = names::table_name(&ctx.app, "app-config");
    let fail = |cause: String| aws_error(SEED_STEP, &clients.region, table.as_str(), cause);
    let mut outcome = WireOutcome::new(Change::Unchanged);
    if read(&clients.dynamodb, &ctx.app)
        .await
        .map_err(fail)?
        .is_none()
    {
        let item = HashMap::from([
            ("appId".to_string(), AttributeValue::S(ctx.app.clone())),
            (
                "state".to_string(),
                AttributeValue::S(AppState::Active.as_str().into()),
            ),
            ("updatedAt".to_string(), AttributeValue::S(now())),
            (
                "updatedBy".to_string(),
                AttributeValue::S(ctx.caller_arn.clone()),
            ),
            (
                "reason".to_string(),
                AttributeValue::S("initial deployment".into()),
            ),
        ]);
        ctx.claim("deploy").await?;
        let put = clients
            .dynamodb
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(appId)")
            .send()
            .await;
        match put {
            Ok(_) => outcome.mark(true),
            // Written concurrently by someone else: theirs stands.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(fail(sdk_message(&e))),
        }
    }
    match read(&clients.dynamodb, &ctx.app).await.map_err(fail)? {
        Some(record) if record.state.is_some() => {}
        other => {
            return Err(fail(format!(
                "the state item is not readable back: {other:?}"
            )));
        }
    }
    let record = write_record(ctx, &fail).await?;
    outcome.mark(record.is_some());
    outcome.check(&clients.region, Verdict::Ok);
    let secondary = &ctx.aws.secondary;
    let wanted = record.unwrap_or_else(|| RegionsRecord {
        primary: clients.region.clone(),
        secondary: secondary.region.clone(),
        mode: Some(ctx.plan.mode),
    });
    replicated(
        &secondary.dynamodb,
        &ctx.app,
        &wanted,
        ctx.aws.custom_endpoint,
    )
    .await
    .map_err(|cause| aws_error(SEED_STEP, &secondary.region, table.as_str(), cause))?;
    outcome.check(&secondary.region, Verdict::Ok);
    Ok(outcome)
}

/// Replication between regions takes about a second on AWS (CloudWatch's
/// ReplicationLatency, "Monitoring global tables", DynamoDB Developer Guide,
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html>);
/// a read-back in another region waits this long at most.
pub const REPLICATION_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Polling for a replicated write: a second's lag is the norm, so polls start
/// short and stay under a couple of seconds (a custom endpoint's clock may
/// be scaled down: its polls are shorter still).
pub fn replication_backoff(custom_endpoint: bool) -> crate::cfn::wait::Backoff {
    use std::time::Duration;
    if custom_endpoint {
        crate::cfn::wait::Backoff::new(
            Duration::from_millis(50),
            Duration::from_millis(250),
            REPLICATION_LIMIT,
        )
    } else {
        crate::cfn::wait::Backoff::new(
            Duration::from_millis(250),
            Duration::from_secs(2),
            REPLICATION_LIMIT,
        )
    }
}

/// Waits until the secondary's replica holds the state item and the
/// deployment record: the write went to the primary, and a global table
/// copies it asynchronously, so the secondary reads nothing at first. A
/// failover learns its regions from that record and reads that state.
async fn replicated(
    client: &Client,
    app: &str,
    wanted: &RegionsRecord,
    custom_endpoint: bool,
) -> Result<(), String> {
    let mut backoff = replication_backoff(custom_endpoint);
    loop {
        let state = read(client, app).await?;
        let record = read_record(client, app).await?;
        if state.is_some() && record.as_ref() == Some(wanted) {
            return Ok(());
        }
        if !backoff.wait().await {
            return Err(format!(
                "the state item and the deployment record written in {} have not reached this                  region's replica after {} s (it reads state {}, record {}): replication lags;                  run `mraa status` to see both regions, then `mraa deploy` again",
                wanted.primary,
                REPLICATION_LIMIT.as_secs(),
                state.and_then(|s| s.raw_state).as_deref().unwrap_or("none"),
                if record.is_some() {
                    "different"
                } else {
                    "none"
                },
            ));
        }
    }
}

/// Writes the deployment record in the primary (replication carries it to
/// the secondary) unless it already names these regions. Returns the record
/// when it was written.
async fn write_record(
    ctx: &Ctx,
    fail: &(dyn Fn(String) -> MraaError + Sync),
) -> Result<Option<RegionsRecord>> {
    let clients = &ctx.aws.primary;
    let wanted = RegionsRecord {
        primary: clients.region.clone(),
        secondary: ctx.aws.secondary.region.clone(),
        mode: Some(ctx.plan.mode),
    };
    if read_record(&clients.dynamodb, &ctx.app)
        .await
        .map_err(fail)?
        == Some(wanted.clone())
    {
        return Ok(None);
    }
    ctx.claim("deploy").await?;
    clients
        .dynamodb
        .put_item()
        .table_name(names::table_name(&ctx.app, "app-config"))
        .item("appId", AttributeValue::S(record_key(&ctx.app)))
        .item("primaryRegion", AttributeValue::S(wanted.primary.clone()))
        .item(
            "secondaryRegion",
            AttributeValue::S(wanted.secondary.clone()),
        )
        .item("mode", AttributeValue::S(ctx.plan.mode.id().into()))
        .item("updatedAt", AttributeValue::S(now()))
        .item("updatedBy", AttributeValue::S(ctx.caller_arn.clone()))
        .send()
        .await
        .map_err(|e| fail(sdk_message(&e)))?;
    match read_record(&clients.dynamodb, &ctx.app)
        .await
        .map_err(fail)?
    {
        Some(found) if found == wanted => Ok(Some(found)),
        other => Err(fail(format!(
            "the deployment record is not readable back: {other:?}"
        ))),
    }
}
