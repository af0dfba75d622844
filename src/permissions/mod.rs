//! `mraa permissions`: the least-privilege IAM policy an operator or a CI role
//! needs to run mraa, built offline from one table ([`grants::GRANTS`]).
//! Its completeness is proved by the emulator suite, which records every call
//! each command makes and checks it against the policy printed for it
//! (tests/emulator/permissions.rs), and by checks against IAM's own action
//! list and the handlers of the stacks deployed with the caller's credentials
//! (tests/checks/operator_policy.rs).

mod command;
pub mod grants;

pub use command::{PermissionsArgs, run};

use serde_json::{Map, Value, json};

/// Which commands the policy must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// `mraa deploy` (and `render`, which needs no AWS access).
    Deploy,
    /// `mraa status`.
    Status,
    /// `mraa failover`, `fence` and `activate`.
    State,
    /// `mraa teardown`, `--delete-data` included.
    Teardown,
    /// `mraa diff`, `--drift` included: reads, and its own change sets and
    /// drift detections.
    Diff,
    /// Every command.
    All,
}

impl Purpose {
    fn covers(self, grant: &grants::Grant) -> bool {
        self == Purpose::All || grant.purposes.contains(&self)
    }
}

/// The IAM policy document for `purpose`, with the app's names filled in.
/// Statements keep the table's order; an action granted twice on the same
/// resources is listed once.
pub fn policy(purpose: Purpose, app: &str) -> Value {
    let fill = |s: &str| s.replace("{app}", app);
    let mut statements: Vec<Value> = Vec::new();
    let mut seen: Vec<(String, Vec<String>, Value)> = Vec::new();
    for grant in grants::GRANTS.iter().filter(|g| purpose.covers(g)) {
        let resources: Vec<String> = grant.resources.iter().map(|r| fill(r)).collect();
        let condition = condition(grant, &fill);
        let actions: Vec<&str> = grant
            .actions
            .iter()
            .copied()
            .filter(|action| {
                let key = (action.to_string(), resources.clone(), condition.clone());
                let new = !seen.contains(&key);
                if new {
                    seen.push(key);
                }
                new
            })
            .collect();
        if actions.is_empty() {
            continue;
        }
        let mut statement = json!({
            "Sid": grant.sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
        });
        if !condition.is_null() {
            statement["Condition"] = condition;
        }
        statements.push(statement);
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn condition(grant: &grants::Grant, fill: &dyn Fn(&str) -> String) -> Value {
    if grant.string_equals.is_empty() {
        return Value::Null;
    }
    let mut equals = Map::new();
    for (key, values) in grant.string_equals {
        let values: Vec<String> = values.iter().map(|v| fill(v)).collect();
        let value = match values.as_slice() {
            [one] => Value::String(one.clone()),
            _ => json!(values),
        };
        equals.insert(key.to_string(), value);
    }
    json!({ "StringEquals": equals })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(policy: &Value) -> Vec<String> {
        policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn names_are_the_apps() {
        let text = policy(Purpose::All, "shop").to_string();
        assert!(text.contains("stack/mraa-shop-*/*"), "{text}");
        assert!(text.contains("arn:aws:s3:::mraa-shop-*"), "{text}");
        assert!(!text.contains("{app}"), "{text}");
    }

    #[test]
    fn status_changes_nothing() {
        let status = actions(&policy(Purpose::Status, "shop"));
        for action in &status {
            let verb = action.split(':').nth(1).unwrap_or_default();
            assert!(
                ["Get", "Describe", "List", "Test"]
                    .iter()
                    .any(|read| verb.starts_with(read))
                    || action == "apigateway:GET",
                "status may only read, but is granted {action}"
            );
        }
        assert!(status.contains(&"cloudformation:DescribeStacks".to_string()));
    }

    #[test]
    fn diff_reads_route53_as_deploy_does_and_changes_none_of_it() {
        let diff = actions(&policy(Purpose::Diff, "shop"));
        for read in [
            "route53:ListHostedZonesByName",
            "route53:GetHostedZone",
            "route53:ListResourceRecordSets",
            "route53:ListHealthChecks",
            "route53:ListTagsForResources",
        ] {
            assert!(diff.iter().any(|a| a == read), "diff lacks {read}");
        }
        for action in diff.iter().filter(|a| a.starts_with("route53:")) {
            let verb = action.split(':').nth(1).unwrap_or_default();
            assert!(
                verb.starts_with("Get") || verb.starts_with("List"),
                "diff may only read Route 53, but is granted {action}"
            );
        }
    }

    #[test]
    fn each_purpose_is_within_all() {
        let all = actions(&policy(Purpose::All, "shop"));
        for purpose in [
            Purpose::Deploy,
            Purpose::Status,
            Purpose::State,
            Purpose::Teardown,
            Purpose::Diff,
        ] {
            for action in actions(&policy(purpose, "shop")) {
                assert!(all.contains(&action), "{purpose:?}: {action}");
            }
        }
    }

    #[test]
    fn state_commands_write_only_the_state_item() {
        let state = policy(Purpose::State, "shop");
        for statement in state["Statement"].as_array().into_iter().flatten() {
            let writes = statement["Action"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a == "dynamodb:UpdateItem" || a == "dynamodb:PutItem");
            if writes {
                assert_eq!(
                    statement["Resource"],
                    json!(["arn:aws:dynamodb:*:*:table/mraa-shop-app-config"])
                );
            }
        }
    }
}
