//! The user pool's replica in the secondary region (Cognito's multi-Region
//! replication): one pool id in both regions. Status reads it, failover
//! makes sure it serves, teardown retires it.
//!
//! Rules from "Multi-Region replication for user pools"
//! (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-multi-region.html)
//! and the API Reference of ListUserPoolReplicas, UpdateUserPoolReplica and
//! DeleteUserPoolReplica: a new replica is CREATING, then INACTIVE, and
//! serves no sign-in until it is ACTIVE; its status can be set from either
//! region, and changes after the call returns; only an INACTIVE replica can
//! be deleted, from the primary region.

use aws_sdk_cognitoidentityprovider as idp;
use idp::types::{ReplicaRoleType, ReplicaStatusType, UpdateReplicaStatusType};

use crate::aws::sdk_message;

/// The secondary replica of a pool, as ListUserPoolReplicas reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub region: String,
    /// CREATING, ACTIVE, INACTIVE or DELETING.
    pub status: String,
}

impl Replica {
    pub fn is_active(&self) -> bool {
        self.status == ReplicaStatusType::Active.as_str()
    }
}

/// The pool's secondary replica, if any. `client` may be of either region.
pub async fn secondary_of(client: &idp::Client, pool_id: &str) -> Result<Option<Replica>, String> {
    let out = client
        .list_user_pool_replicas()
        .user_pool_id(pool_id)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(out
        .user_pool_replicas()
        .iter()
        .find(|r| r.role() == Some(&ReplicaRoleType::Secondary))
        .map(|r| Replica {
            region: r.region_name().unwrap_or_default().to_string(),
            status: r
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        }))
}

/// Sets the replica in `replica_region` ACTIVE or INACTIVE; `client` may be
/// of either region, so a failover asks only the secondary.
pub async fn set_active(
    client: &idp::Client,
    pool_id: &str,
    replica_region: &str,
    active: bool,
) -> Result<(), String> {
    let status = if active {
        UpdateReplicaStatusType::Active
    } else {
        UpdateReplicaStatusType::Inactive
    };
    client
        .update_user_pool_replica()
        .user_pool_id(pool_id)
        .region_name(replica_region)
        .status(status)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_message(&e))
}

/// Waits until the replica in `replica_region` reads `wanted` (ACTIVE or
/// INACTIVE): UpdateUserPoolReplica returns before the status changes, and a
/// new replica is CREATING first (UserPoolReplicaType, Cognito API
/// Reference). Returns how long it took.
pub async fn wait_for_status(
    client: &idp::Client,
    pool_id: &str,
    replica_region: &str,
    wanted: ReplicaStatusType,
    custom_endpoint: bool,
) -> Result<std::time::Duration, String> {
    let started = std::time::Instant::now();
    let mut backoff = crate::cfn::wait::Backoff::for_operation(custom_endpoint, STATUS_LIMIT);
    loop {
        let status = match secondary_of(client, pool_id).await? {
            Some(replica) if replica.region == replica_region => replica.status,
            _ => {
                return Err(format!(
                    "the user pool {pool_id} has no replica in {replica_region}"
                ));
            }
        };
        if status == wanted.as_str() {
            return Ok(started.elapsed());
        }
        if !backoff.wait().await {
            return Err(format!(
                "the replica of {pool_id} in {replica_region} is still {status}, not {}, after {} minutes; \
                 check it with `aws cognito-idp list-user-pool-replicas --user-pool-id {pool_id}`",
                wanted.as_str(),
                STATUS_LIMIT.as_secs() / 60
            ));
        }
    }
}

/// AWS publishes no duration for a replica's status change; minutes at
/// most is what the creation of other replicas takes, so past this
/// something is wrong.
const STATUS_LIMIT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Deletes the replica and waits until Cognito no longer lists it (the
/// pool itself can be deleted only then): deactivated first, and deleted
/// only once it reads INACTIVE, as "You can only delete replicas that are in
/// the INACTIVE status" (DeleteUserPoolReplica, Cognito API Reference) and
/// the status changes asynchronously. `primary` is the primary region's
/// client.
pub async fn delete(
    primary: &idp::Client,
    pool_id: &str,
    replica_region: &str,
    custom_endpoint: bool,
) -> Result<(), String> {
    set_active(primary, pool_id, replica_region, false).await?;
    wait_for_status(
        primary,
        pool_id,
        replica_region,
        ReplicaStatusType::Inactive,
        custom_endpoint,
    )
    .await?;
    primary
        .delete_user_pool_replica()
        .user_pool_id(pool_id)
        .region_name(replica_region)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let mut backoff = crate::cfn::wait::Backoff::for_operation(custom_endpoint, DELETE_LIMIT);
    loop {
        match secondary_of(primary, pool_id).await? {
            None => return Ok(()),
            Some(replica) if !backoff.wait().await => {
                return Err(format!(
                    "the replica in {} is still {} after {} minutes",
                    replica.region,
                    replica.status,
                    DELETE_LIMIT.as_secs() / 60
                ));
            }
            Some(_) => {}
        }
    }
}

/// A replica is deleted in minutes; past this, something is wrong.
const DELETE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);
