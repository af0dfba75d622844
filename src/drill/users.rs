//! The recovery point of users: with Cognito's multi-Region replication the
//! primary's pool is the directory's only writer and its replica in the
//! secondary reads what replication has brought ("Multi-Region replication
//! for user pools", docs.aws.amazon.com/cognito/latest/developerguide/
//! user-pool-multi-region.html). A probe user is created in the primary
//! (no invitation is sent: MessageAction SUPPRESS), a marked `name` written
//! on it, and AdminGetUser in the secondary's replica polled until it reads
//! the mark; then the user is deleted. With users replicated by import
//! there is no replica to read: the figure is skipped.

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider as idp;
use idp::types::{AttributeType, MessageActionType};

use crate::aws::{Aws, sdk_message};
use crate::error::{MraaError, Result};
use crate::health::lag::ITEMS_OBJECTIVE_SECS;
use crate::names;

use super::probes::{Probes, poll};
use super::report::{Figure, Verdict};

/// AWS publishes no figure or objective for the directory's replication;
/// held to the items' objective, since a failover serves both.
pub const USERS_OBJECTIVE_SECS: f64 = ITEMS_OBJECTIVE_SECS;
const NAME: &str = "rpo-users";
/// How long the mark is waited for before the figure is missed.
const LIMIT: Duration = Duration::from_secs(5 * 60);

fn failed(region: &str, what: &str, cause: String) -> MraaError {
    crate::aws::aws_error("drill", region, what, cause)
}

fn attribute(name: &str, value: &str) -> Result<AttributeType> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|e| MraaError::Io(e.to_string()))
}

/// The primary's pool that has its replica in the secondary.
async fn replicated_pool(aws: &Aws, app: &str) -> std::result::Result<Option<String>, String> {
    let client = &aws.primary.cognito;
    for id in crate::discover::user_pools(client, &names::user_pool_name(app)).await? {
        if let Some(replica) = crate::pool_replica::secondary_of(client, &id).await?
            && replica.region == aws.secondary.region
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Times the mark's arrival in the replica; the probe user is deleted
/// whatever was measured.
pub async fn attribute_change(aws: &Aws, probes: &Probes, native: bool) -> Result<Figure> {
    if !native {
        return Ok(Figure::not_measured(
            NAME,
            Verdict::Skipped,
            USERS_OBJECTIVE_SECS,
            "users are replicated by import (each region's own pool): no replica to read".into(),
        ));
    }
    let primary = &aws.primary.region;
    let pool = match replicated_pool(aws, &probes.app).await {
        Ok(Some(pool)) => pool,
        Ok(None) => {
            let detail = format!(
                "no user pool in {primary} has its replica in {}",
                aws.secondary.region
            );
            return Ok(Figure::failed(NAME, USERS_OBJECTIVE_SECS, detail));
        }
        Err(cause) => return Err(failed(primary, "user pools", cause)),
    };
    let what = format!("user {} in {pool}", probes.user);
    aws.primary
        .cognito
        .admin_create_user()
        .user_pool_id(&pool)
        .username(&probes.user)
        .message_action(MessageActionType::Suppress)
        .user_attributes(attribute(
            "email",
            &format!("{}@example.invalid", probes.user),
        )?)
        .send()
        .await
        .map_err(|e| failed(primary, &what, sdk_message(&e)))?;
    let measured = measure(aws, probes, &pool).await;
    let removed = aws
        .primary
        .cognito
        .admin_delete_user()
        .user_pool_id(&pool)
        .username(&probes.user)
        .send()
        .await
        .map_err(|e| failed(primary, &what, sdk_message(&e)));
    let figure = measured?;
    removed?;
    Ok(figure)
}

async fn measure(aws: &Aws, probes: &Probes, pool: &str) -> Result<Figure> {
    let (from, to) = (&aws.primary, &aws.secondary);
    let mark = format!("mraa drill {}", probes.user);
    from.cognito
        .admin_update_user_attributes()
        .user_pool_id(pool)
        .username(&probes.user)
        .user_attributes(attribute("name", &mark)?)
        .send()
        .await
        .map_err(|e| failed(&from.region, &probes.user, sdk_message(&e)))?;
    let written = Instant::now();
    let what = format!(
        "a user attribute changed in {}, read in {}'s replica",
        from.region, to.region
    );
    let mut backoff = poll(aws.custom_endpoint, LIMIT);
    loop {
        let read = to
            .cognito
            .admin_get_user()
            .user_pool_id(pool)
            .username(&probes.user)
            .send()
            .await;
        match read {
            Ok(user) => {
                let arrived = user
                    .user_attributes()
                    .iter()
                    .any(|a| a.name() == "name" && a.value() == Some(mark.as_str()));
                if arrived {
                    let took = written.elapsed().as_secs_f64();
                    return Ok(Figure::measured(
                        NAME,
                        Some(took),
                        USERS_OBJECTIVE_SECS,
                        what,
                    ));
                }
            }
            // Not replicated yet: the replica does not know the user.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_user_not_found_exception()) => {}
            Err(e) => {
                let detail = format!(
                    "{what}: {} could not be read: {}",
                    to.region,
                    sdk_message(&e)
                );
                return Ok(Figure::failed(NAME, USERS_OBJECTIVE_SECS, detail));
            }
        }
        if !backoff.wait().await {
            let detail = format!("{what}: not there after {} min", LIMIT.as_secs() / 60);
            return Ok(Figure::failed(NAME, USERS_OBJECTIVE_SECS, detail));
        }
    }
}
