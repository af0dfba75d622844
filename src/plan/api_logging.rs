//! The bootstrap parameter that says whether the bootstrap stack holds
//! API Gateway's logging role (see `deploy::api_account` for why it may or
//! may not): part of the plan, read back by teardown.

use std::collections::BTreeMap;

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
