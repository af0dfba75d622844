//! `mraa permissions`: the least-privilege IAM policy an operator or a CI role
//! needs to run mraa, built offline from its tables: [`grants::GRANTS`],
//! the endpoints' [`endpoints::GRANTS`], the drill's [`drill::GRANTS`], and
//! what adopting kept data adds, [`adopt::GRANTS`].
//! Its completeness is proved by the emulator suite, which records every call
//! each command makes and checks it against the policy printed for it
//! (tests/emulator/permissions.rs), and by checks against IAM's own action
//! list and the handlers of the stacks deployed with the caller's credentials
//! (tests/checks/operator_policy.rs).

pub mod adopt;
mod command;
pub mod drill;
pub mod endpoints;
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
    /// `mraa failover`, `fence` and `activate`, and `drain` and `return`
    /// (the same reads and one conditional write of the state item).
    State,
    /// `mraa teardown`, `--delete-data` included.
    Teardown,
    /// `mraa diff`, `--drift` included: reads, and its own change sets and
    /// drift detections.
    Diff,
    /// `mraa drill`, `--failover` included: its probes, the state switch,
    /// and the reads that time the recovery.
    Drill,
    /// Every command.
    All,
}

impl Purpose {
    fn covers(self, grant: &grants::Grant) -> bool {
        self == Purpose::All || grant.purposes.contains(&self)
    }
}

/// Whose resources a policy names: one app, deployed to two regions, in
/// one account when given. Names are matched whole or anchored on their
/// kind and region, so that no other app's names fit (app `shop`'s policy
/// does not reach app `shop-dev`'s bucket, table, stack, StackSet or role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub app: String,
    pub primary: String,
    pub secondary: String,
    /// The 12-digit account id; any account when `None`.
    pub account: Option<String>,
}

/// An account id in a bucket name where the account is not given: IAM's
/// `?` matches one character, so the name keeps its length and its anchors.
const ANY_ACCOUNT_ID: &str = "????????????";

/// The id CloudFormation appends to a StackSet instance's stack name
/// (`StackSet-<set name>-<UUID>`): a UUID, 36 characters.
const ANY_UUID: &str = "????????-????-????-????-????????????";

impl Scope {
    pub fn new(app: &str, primary: &str, secondary: &str) -> Scope {
        Scope {
            app: app.into(),
            primary: primary.into(),
            secondary: secondary.into(),
            account: None,
        }
    }

    pub fn with_account(mut self, account: Option<String>) -> Scope {
        self.account = account;
        self
    }

    /// The regions requests may go to: the deployment's two, and us-east-1,
    /// where CloudFront's certificate (the site-certificate stack) lives
    /// and where the global services (IAM, CloudFront, Route 53) answer.
    pub fn regions(&self) -> Vec<&str> {
        let mut regions = vec![self.primary.as_str(), self.secondary.as_str()];
        if !regions.contains(&crate::plan::CERTIFICATE_REGION) {
            regions.push(crate::plan::CERTIFICATE_REGION);
        }
        regions
    }

    /// The values a `{token}` of a grant's resource stands for.
    fn values(&self, token: &str) -> Vec<String> {
        use crate::names;
        use crate::plan::{Kind, Unit};
        let app = self.app.as_str();
        let units = |kind: Kind| {
            Unit::ALL
                .into_iter()
                .filter(move |u| u.kind() == kind)
                .map(|u| names::stack_name(app, u.id()))
        };
        let account = self.account.as_deref().unwrap_or(ANY_ACCOUNT_ID);
        let buckets = |kinds: &[&str]| -> Vec<String> {
            [&self.primary, &self.secondary]
                .iter()
                .flat_map(|region| {
                    kinds
                        .iter()
                        .map(|kind| names::bucket_name(app, kind, account, region))
                })
                .collect()
        };
        match token {
            "app" => vec![app.to_string()],
            "account" => vec![self.account.clone().unwrap_or_else(|| "*".into())],
            // The stacks, the lock stack, and each StackSet's instances.
            "stack" => units(Kind::Stack)
                .chain([names::stack_name(app, "lock")])
                .chain(units(Kind::StackSet).map(|set| format!("StackSet-{set}-{ANY_UUID}")))
                .collect(),
            "stackset" => units(Kind::StackSet).collect(),
            "bucket" => buckets(names::BUCKET_KINDS),
            "website-bucket" => buckets(&["website"]),
            "objects-bucket" => buckets(&["objects"]),
            "table" => names::ALL_GLOBAL_TABLES
                .iter()
                .map(|t| names::table_name(app, t))
                .collect(),
            // The bootstrap stack's roles (made with the caller's
            // credentials) and the roles mraa passes to a service: the
            // administration role, the S3 replication role, the API logging role.
            "bootstrap-role" => ["stackset-admin", "stackset-exec", "apigw-logs"]
                .map(|r| format!("mraa-{app}-{r}"))
                .to_vec(),
            "passed-role" => vec![
                format!("mraa-{app}-stackset-admin"),
                format!("mraa-{app}-apigw-logs"),
                format!("mraa-{app}-replication-{}", self.primary),
            ],
            other => vec![format!("{{{other}}}")],
        }
    }

    /// A grant's resource with every `{token}` filled in: one resource per
    /// combination of values.
    fn expand(&self, template: &str) -> Vec<String> {
        let Some((head, rest)) = template.split_once('{') else {
            return vec![template.to_string()];
        };
        let Some((token, tail)) = rest.split_once('}') else {
            return vec![template.to_string()];
        };
        let tails = self.expand(tail);
        self.values(token)
            .iter()
            .flat_map(|value| tails.iter().map(move |t| format!("{head}{value}{t}")))
            .collect()
    }
}

/// The IAM policy document for `purpose`, with the app's names filled in,
/// and a last statement that denies requests to any other region.
/// Statements keep the table's order; an action granted twice is listed
/// once, and grants on the same resources are one statement.
pub fn policy(purpose: Purpose, scope: &Scope) -> Value {
    let fill = |s: &str| {
        scope
            .expand(s)
            .into_iter()
            .next()
            .unwrap_or_else(|| s.to_string())
    };
    // (sid, actions, resources, condition); an action already granted on
    // the same or more resources is not granted again, and grants on the
    // same resources share one statement: the policy stays within an
    // inline role policy's size.
    let mut statements: Vec<(&str, Vec<&str>, Vec<String>, Value)> = Vec::new();
    for grant in grants::GRANTS
        .iter()
        .chain(endpoints::GRANTS)
        .chain(drill::GRANTS)
        .chain(adopt::GRANTS)
        .filter(|g| purpose.covers(g))
    {
        let resources: Vec<String> = grant
            .resources
            .iter()
            .flat_map(|r| scope.expand(r))
            .collect();
        let condition = condition(grant, &fill);
        let actions: Vec<&str> = grant
            .actions
            .iter()
            .copied()
            .filter(|action| {
                !statements.iter().any(|(_, granted, on, when)| {
                    granted.contains(action)
                        && (*when == condition || (when.is_null() && covers_all(on)))
                        && resources.iter().all(|r| covers_all(on) || on.contains(r))
                })
            })
            .collect();
        if actions.is_empty() {
            continue;
        }
        match statements
            .iter_mut()
            .find(|(_, _, on, when)| *on == resources && *when == condition)
        {
            Some((_, granted, _, _)) => granted.extend(actions),
            None => statements.push((grant.sid, actions, resources, condition)),
        }
    }
    // An action granted on every resource without a condition needs no
    // narrower grant, whichever came first in the table.
    let everywhere: Vec<&str> = statements
        .iter()
        .filter(|(_, _, on, when)| when.is_null() && covers_all(on))
        .flat_map(|(_, granted, _, _)| granted.iter().copied())
        .collect();
    for (_, granted, on, _) in statements.iter_mut() {
        if !covers_all(on) {
            granted.retain(|action| !everywhere.contains(action));
        }
    }
    statements.retain(|(_, granted, _, _)| !granted.is_empty());
    let mut statements: Vec<Value> = statements
        .into_iter()
        .map(|(sid, actions, resources, condition)| {
            // No Sid: with each app's names spelled out, the policy needs
            // every character of an inline role policy (the grants table
            // names each statement).
            let _ = sid;
            let mut statement = json!({
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            });
            if !condition.is_null() {
                statement["Condition"] = condition;
            }
            statement
        })
        .collect();
    statements.push(other_regions_denied(scope));
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A grant on `*` covers every resource.
fn covers_all(resources: &[String]) -> bool {
    resources.iter().any(|r| r == "*")
}

/// Every request outside the scope's regions is denied, except to the
/// global services, whose requests all go to us-east-1: AWS's own pattern
/// ("AWS: Denies access to AWS based on the requested Region", IAM User
/// Guide,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html>).
fn other_regions_denied(scope: &Scope) -> Value {
    json!({
        "Sid": "OnlyTheDeploymentsRegions",
        "Effect": "Deny",
        "NotAction": grants::GLOBAL_SERVICES,
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": scope.regions()}},
    })
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

    fn shop() -> Scope {
        Scope::new("shop", "us-east-1", "eu-west-1")
    }

    #[test]
    fn names_are_the_apps_whole_or_anchored_on_their_kind_and_region() {
        let text = policy(Purpose::All, &shop()).to_string();
        for name in [
            "stack/mraa-shop-bootstrap/*",
            "stack/StackSet-mraa-shop-routing-????????-????-????-????-????????????/*",
            "stackset/mraa-shop-routing:*",
            "arn:aws:s3:::mraa-shop-objects-????????????-eu-west-1",
            "table/mraa-shop-comments\"",
            "role/mraa-shop-stackset-admin\"",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
        assert!(!text.contains("mraa-shop-*"), "{text}");
        let unfilled: Vec<&str> = text
            .split('"')
            .filter(|r| r.starts_with("arn:") && r.contains('{'))
            .collect();
        assert!(unfilled.is_empty(), "{unfilled:?}");
        let scoped = Scope {
            account: Some("123456789012".into()),
            ..shop()
        };
        let text = policy(Purpose::All, &scoped).to_string();
        assert!(text.contains("arn:aws:cloudformation:*:123456789012:stack/mraa-shop-edge/*"));
        assert!(text.contains("arn:aws:s3:::mraa-shop-logs-123456789012-us-east-1"));
        // Only a StackSet's targets and AWS's own resource types are named
        // without the account.
        let unscoped: Vec<&str> = text
            .split('"')
            .filter(|r| r.contains(":*:*:"))
            .filter(|r| !r.contains(":stackset-target/") && !r.contains(":type/resource/"))
            .collect();
        assert!(unscoped.is_empty(), "{unscoped:?}");
    }

    #[test]
    fn requests_to_other_regions_are_denied() {
        let document = policy(Purpose::Status, &shop());
        let deny = document["Statement"]
            .as_array()
            .and_then(|s| s.last())
            .cloned()
            .unwrap_or_default();
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(
            deny["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
            json!(["us-east-1", "eu-west-1"])
        );
        let far = Scope::new("shop", "eu-west-1", "ap-southeast-2");
        assert_eq!(far.regions(), ["eu-west-1", "ap-southeast-2", "us-east-1"]);
    }

    #[test]
    fn status_changes_nothing() {
        let status = actions(&policy(Purpose::Status, &shop()));
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
        let diff = actions(&policy(Purpose::Diff, &shop()));
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
    fn an_action_granted_on_every_resource_is_granted_nowhere_else() {
        for purpose in [Purpose::Deploy, Purpose::All] {
            let doc = policy(purpose, &shop());
            let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
            let allows = statements.iter().filter(|s| s["Effect"] == "Allow");
            let listed = |s: &Value| -> Vec<String> {
                s["Action"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let everywhere: Vec<String> = allows
                .clone()
                .filter(|s| s["Resource"] == json!(["*"]) && s.get("Condition").is_none())
                .flat_map(listed)
                .collect();
            assert!(everywhere.contains(&"cloudformation:DescribeStacks".to_string()));
            for statement in allows.filter(|s| s["Resource"] != json!(["*"])) {
                for action in listed(statement) {
                    assert!(
                        !everywhere.contains(&action),
                        "{purpose:?}: {action} is granted on * and again on {}",
                        statement["Resource"]
                    );
                }
            }
        }
    }

    #[test]
    fn each_purpose_is_within_all() {
        let all = actions(&policy(Purpose::All, &shop()));
        for purpose in [
            Purpose::Deploy,
            Purpose::Status,
            Purpose::State,
            Purpose::Teardown,
            Purpose::Diff,
            Purpose::Drill,
        ] {
            for action in actions(&policy(purpose, &shop())) {
                assert!(all.contains(&action), "{purpose:?}: {action}");
            }
        }
    }

    #[test]
    fn state_commands_write_only_the_state_item() {
        let state = policy(Purpose::State, &shop());
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
