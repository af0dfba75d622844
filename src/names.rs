//! Deterministic names of everything mraa creates. AWS is the source of truth:
//! any machine finds a deployment again from these names alone, so they are
//! defined once, here, and mirrored by the templates' `!Sub` expressions.

/// The tag every mraa resource carries, with the app name as its value.
/// API Gateway's CloudWatch Logs role, where the bootstrap stack makes it.
pub fn api_logging_role(app: &str) -> String {
    format!("mraa-{app}-apigw-logs")
}

pub const APP_TAG: &str = "mraa:app";

/// Unit names as they appear in stack and StackSet names.
pub fn stack_name(app: &str, unit: &str) -> String {
    format!("mraa-{app}-{unit}")
}

/// Kinds of bucket mraa makes per region; the longest one bounds the app name.
pub const BUCKET_KINDS: &[&str] = &["objects", "website", "logs"];

/// Bucket names carry account and region because S3 names are global.
pub fn bucket_name(app: &str, kind: &str, account: &str, region: &str) -> String {
    format!("mraa-{app}-{kind}-{account}-{region}")
}

/// The longest bucket name mraa would make for `app` in `region`, measured
/// with a 12-digit account id.
pub fn longest_bucket_name(app: &str, region: &str) -> String {
    BUCKET_KINDS
        .iter()
        .map(|kind| bucket_name(app, kind, "123456789012", region))
        .max_by_key(String::len)
        .unwrap_or_default()
}

pub const S3_MAX_BUCKET_NAME: usize = 63;

/// The name the front end gives its Cognito user pool (templates/frontend.yaml).
pub fn user_pool_name(app: &str) -> String {
    format!("mraa-{app}-users")
}

pub fn table_name(app: &str, table: &str) -> String {
    format!("mraa-{app}-{table}")
}

/// The global tables of a deployment: created in the primary by the layers,
/// replicated to the secondary by wiring. The users table records who to
/// import, so only users replicated by import have one.
/// Every table that is global in either mode: what teardown looks for.
pub const ALL_GLOBAL_TABLES: &[&str] = &["comments", "app-config", "users"];

pub fn global_tables(users: crate::plan::UserReplication) -> &'static [&'static str] {
    match users {
        crate::plan::UserReplication::Native => &["comments", "app-config"],
        crate::plan::UserReplication::Import => ALL_GLOBAL_TABLES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_template_conventions() {
        assert_eq!(stack_name("shop", "routing"), "mraa-shop-routing");
        assert_eq!(
            bucket_name("shop", "objects", "111122223333", "eu-west-1"),
            "mraa-shop-objects-111122223333-eu-west-1"
        );
        assert_eq!(table_name("shop", "app-config"), "mraa-shop-app-config");
    }

    #[test]
    fn the_website_bucket_is_the_longest_name() {
        assert_eq!(
            longest_bucket_name("a", "ap-southeast-2"),
            "mraa-a-website-123456789012-ap-southeast-2"
        );
    }
}
