//! The administrator user of the original solution: created in the primary
//! user pool when an e-mail is given (Cognito mails a temporary password),
//! never changed once it exists. The scheduled import copies it to the
//! secondary like any other user.

use aws_sdk_cognitoidentityprovider::types::AttributeType;

use crate::aws::{aws_error, sdk_message};
use crate::config::Admin;
use crate::context::{Change, Ctx, Outputs};
use crate::error::Result;
use crate::plan::Unit;

use super::{Verdict, WireOutcome};

pub const STEP: &str = "admin-user";

/// The username: the admin's name made safe (the pool uses e-mail as an
/// alias, so the username itself must not look like an address).
pub fn username(admin: &Admin) -> String {
    let name: String = admin
        .name
        .as_deref()
        .unwrap_or("admin")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        "admin".into()
    } else {
        name.to_string()
    }
}

pub async fn wire(ctx: &Ctx, outputs: &Outputs, admin: &Admin) -> Result<WireOutcome> {
    let region = &ctx.aws.primary.region;
    let Some(email) = &admin.email else {
        return Ok(WireOutcome::new(Change::Unchanged));
    };
    let mut outcome = WireOutcome::new(Change::Unchanged);
    let Some(pool) = outputs.get(Unit::Frontend, region, "UserPoolId") else {
        return Err(aws_error(
            STEP,
            region,
            "frontend outputs",
            "no UserPoolId output",
        ));
    };
    let cognito = &ctx.aws.primary.cognito;
    let user = username(admin);
    let fail = |cause: String| aws_error(STEP, region, format!("user {user} in {pool}"), cause);
    match cognito
        .admin_get_user()
        .user_pool_id(pool)
        .username(&user)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_user_not_found_exception()) =>
        {
            let mut attributes = vec![
                AttributeType::builder()
                    .name("email")
                    .value(email)
                    .build()
                    .map_err(|e| fail(e.to_string()))?,
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()
                    .map_err(|e| fail(e.to_string()))?,
            ];
            if let Some(name) = &admin.name {
                attributes.push(
                    AttributeType::builder()
                        .name("name")
                        .value(name)
                        .build()
                        .map_err(|e| fail(e.to_string()))?,
                );
            }
            if let Some(phone) = &admin.phone {
                attributes.push(
                    AttributeType::builder()
                        .name("phone_number")
                        .value(phone)
                        .build()
                        .map_err(|e| fail(e.to_string()))?,
                );
            }
            ctx.claim("deploy").await?;
            cognito
                .admin_create_user()
                .user_pool_id(pool)
                .username(&user)
                .set_user_attributes(Some(attributes))
                .desired_delivery_mediums(
                    aws_sdk_cognitoidentityprovider::types::DeliveryMediumType::Email,
                )
                .send()
                .await
                .map_err(|e| fail(sdk_message(&e)))?;
            outcome.change = Change::Created;
        }
        Err(e) => return Err(fail(sdk_message(&e))),
    }
    cognito
        .admin_get_user()
        .user_pool_id(pool)
        .username(&user)
        .send()
        .await
        .map_err(|e| fail(format!("not readable back: {}", sdk_message(&e))))?;
    outcome.check(region, Verdict::Ok);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_safe_and_never_addresses() {
        let admin = |name: Option<&str>| Admin {
            name: name.map(str::to_string),
            email: Some("jane@example.com".into()),
            phone: None,
        };
        assert_eq!(username(&admin(Some("Jane Operator"))), "jane-operator");
        assert_eq!(username(&admin(None)), "admin");
        assert_eq!(username(&admin(Some("   "))), "admin");
    }
}
