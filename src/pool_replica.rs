//! The user pool's replica in the secondary region (Cognito's multi-Region
//! replication): one pool id in both regions. Status reads it, failover
//! makes sure it serves, teardown retires it.
//!
//! Rules from "Multi-Region replication for user pools"
//! (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-multi-region.html)
//! and the API Reference of ListUserPoolReplicas, UpdateUserPoolReplica and
//! DeleteUserPoolReplica: a new replica starts INACTIVE and serves no
//! sign-in until it is ACTIVE; its status can be set from either region;
//! only an INACTIVE replica can be deleted, from the primary region.

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

/// Deletes the replica and waits until Cognito no longer lists it (the
/// pool itself can be deleted only then): deactivated first, as Cognito
/// deletes only an INACTIVE one. `primary` is the primary region's client.
pub async fn delete(
    primary: &idp::Client,
    pool_id: &str,
    replica_region: &str,
    custom_endpoint: bool,
) -> Result<(), String> {
    set_active(primary, pool_id, replica_region, false).await?;
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
