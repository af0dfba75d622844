//! The application state of the original — active, fenced, failover — kept
//! as one item of the app-config global table, keyed by the app name. Read
//! by status, teardown and the state commands; seeded by deploy.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::aws::{aws_error, sdk_message};
use crate::context::{Change, Ctx, now};
use crate::error::Result;
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
        }
    }
}

pub async fn read(client: &Client, app: &str) -> Result<Option<StateRecord>, String> {
    let out = client
        .get_item()
        .table_name(names::table_name(app, "app-config"))
        .key("appId", AttributeValue::S(app.to_string()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(out.item().map(StateRecord::from_item))
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
        Some(record) if record.state.is_some() => outcome.check(&clients.region, Verdict::Ok),
        other => {
            return Err(fail(format!(
                "the state item is not readable back: {other:?}"
            )));
        }
    }
    Ok(outcome)
}
