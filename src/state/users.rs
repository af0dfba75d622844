//! On failover, users must be able to sign in where the application now
//! runs: with Cognito's replication that is the replica pool in the
//! secondary, which serves sign-ins only while ACTIVE. Deploy activates it;
//! failover makes sure, asking only the secondary's Cognito (either region
//! may set a replica's status, per UpdateUserPoolReplica in the Cognito API
//! Reference), so a primary that does not answer costs nothing here.

use aws_sdk_cognitoidentityprovider::types::ReplicaStatusType;

use crate::aws::Aws;
use crate::pool_replica;

/// What was found, or done, for the secondary's user pool; `None` when the
/// secondary holds no replica (users replicated by import).
pub async fn ready_for_failover(aws: &Aws, app: &str) -> Option<Result<String, String>> {
    let secondary = &aws.secondary;
    let name = crate::names::user_pool_name(app);
    let ids = match crate::discover::user_pools(&secondary.cognito, &name).await {
        Ok(ids) => ids,
        Err(e) => return Some(Err(format!("the user pools cannot be listed: {e}"))),
    };
    for id in ids {
        let replica = match pool_replica::secondary_of(&secondary.cognito, &id).await {
            Ok(Some(replica)) if replica.region == secondary.region => replica,
            Ok(_) => continue,
            Err(e) => return Some(Err(format!("the replica of {id} cannot be read: {e}"))),
        };
        if replica.is_active() {
            return Some(Ok(format!("user pool replica {id} is ACTIVE")));
        }
        if let Err(e) =
            pool_replica::set_active(&secondary.cognito, &id, &secondary.region, true).await
        {
            return Some(Err(format!(
                "user pool replica {id} is {} and could not be activated: {e}",
                replica.status
            )));
        }
        // The status changes after the call returns: users sign in only once
        // the replica reads ACTIVE.
        return Some(
            match pool_replica::wait_for_status(
                &secondary.cognito,
                &id,
                &secondary.region,
                ReplicaStatusType::Active,
                aws.custom_endpoint,
            )
            .await
            {
                Ok(took) => Ok(format!(
                    "user pool replica {id} was {}: activated, ACTIVE after {:.1} s",
                    replica.status,
                    took.as_secs_f64()
                )),
                Err(e) => Err(format!("user pool replica {id} was asked to activate: {e}")),
            },
        );
    }
    None
}
