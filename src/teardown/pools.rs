//! Cognito user pools: the front end's pool is retained with deletion
//! protection (its users are data). Found by name in each region, claimed
//! with the app tag, and with `--delete-data` unprotected and deleted.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::DeletionProtectionType;

use crate::aws::{is_not_found, sdk_message};
use crate::names::APP_TAG;

/// (ARN, value of the app tag) of a pool; `None` once it is gone.
/// A pool as teardown reads it: its ARN, its `mraa:app` tag, and the
/// customer managed key that encrypts it (the users key, which outlives the
/// bootstrap stack that made it).
pub struct Described {
    pub arn: Option<String>,
    pub tag: Option<String>,
    pub key: Option<String>,
}

pub async fn describe(client: &Client, id: &str) -> Result<Option<Described>, String> {
    match client.describe_user_pool().user_pool_id(id).send().await {
        Ok(out) => Ok(out.user_pool().map(|p| Described {
            arn: p.arn().map(str::to_string),
            tag: p.user_pool_tags().and_then(|t| t.get(APP_TAG).cloned()),
            key: p
                .key_configuration()
                .and_then(|k| k.kms_key_arn())
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        })),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_message(&e)),
    }
}

pub async fn claim(client: &Client, arn: &str, app: &str) -> Result<(), String> {
    client
        .tag_resource()
        .resource_arn(arn)
        .tags(APP_TAG, app)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(())
}

/// Turns deletion protection off, deletes the pool and checks it is gone.
/// (UpdateUserPool resets what it is not given; the pool is deleted right
/// after, so only deletion protection is sent.)
pub async fn remove(client: &Client, id: &str) -> Result<(), String> {
    match client
        .update_user_pool()
        .user_pool_id(id)
        .deletion_protection(DeletionProtectionType::Inactive)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(sdk_message(&e)),
    }
    match client.delete_user_pool().user_pool_id(id).send().await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) if e.code() == Some("InvalidParameterException") => {
            return Err(format!(
                "{} (a pool with a domain must have it deleted first)",
                sdk_message(&e)
            ));
        }
        Err(e) => return Err(sdk_message(&e)),
    }
    if describe(client, id).await?.is_some() {
        return Err("Cognito still has the pool after deleting it".into());
    }
    Ok(())
}
