//! The bootstrap parameter that says whether the bootstrap stack holds
//! API Gateway's logging role (see `deploy::api_account` for why it may or
//! may not): part of the plan, read back by teardown.

use std::collections::BTreeMap;

use crate::names::api_logging_role as role_name;

/// The bootstrap parameter that says whether its stack holds the role, and
/// its two values.
pub const PARAMETER: &str = "ApiGatewayLogging";
const CREATES: &str = "create-role";
const USES_ACCOUNTS: &str = "account-role";

pub fn parameter_value(creates_role: bool) -> &'static str {
    if creates_role { CREATES } else { USES_ACCOUNTS }
}

/// Whether a bootstrap stack with these parameters holds the role.
pub fn bootstrap_holds_role(parameters: &BTreeMap<String, String>) -> bool {
    parameters.get(PARAMETER).is_some_and(|v| v == CREATES)
}

/// The role's ARN, in the caller's partition (`arn:aws:...`, `arn:aws-cn:...`).
pub fn role_arn(caller_arn: &str, account: &str, app: &str) -> String {
    let partition = caller_arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:iam::{account}:role/{}", role_name(app))
}

/// Whether the bootstrap stack must hold the role: it already does (a
/// deployment that made it keeps it, so a re-run changes nothing), or a
/// region names no role and none of them names this app's (which would be
/// one retained from an earlier deployment, there to be used again).
pub fn creates_role(
    bootstrap_creates_it: bool,
    settings: &BTreeMap<String, Option<String>>,
    ours: &str,
) -> bool {
    bootstrap_creates_it
        || (settings.values().any(Option::is_none)
            && !settings.values().any(|r| r.as_deref() == Some(ours)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "arn:aws:iam::123456789012:role/mraa-demo-apigw-logs";

    fn settings(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(r, role)| (r.to_string(), role.map(str::to_string)))
            .collect()
    }

    #[test]
    fn the_role_is_made_only_where_no_setting_names_one() {
        let empty = settings(&[("us-east-1", None), ("eu-west-1", None)]);
        assert!(creates_role(false, &empty, OURS));
        let theirs = settings(&[
            ("us-east-1", Some("arn:aws:iam::123456789012:role/theirs")),
            ("eu-west-1", Some("arn:aws:iam::123456789012:role/theirs")),
        ]);
        assert!(!creates_role(false, &theirs, OURS));
        // Retained by an earlier teardown: used again, not created again.
        let retained = settings(&[("us-east-1", Some(OURS)), ("eu-west-1", None)]);
        assert!(!creates_role(false, &retained, OURS));
        // A deployment whose bootstrap holds the role keeps holding it.
        let set = settings(&[("us-east-1", Some(OURS)), ("eu-west-1", Some(OURS))]);
        assert!(creates_role(true, &set, OURS));
    }

    #[test]
    fn the_role_arn_is_in_the_callers_partition() {
        assert_eq!(
            role_arn(
                "arn:aws-cn:sts::123456789012:assumed-role/x/y",
                "123456789012",
                "demo"
            ),
            "arn:aws-cn:iam::123456789012:role/mraa-demo-apigw-logs"
        );
    }
}
