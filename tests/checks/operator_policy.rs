//! The operator policy `mraa permissions` prints, read against AWS's own data:
//!
//! - every action is one IAM knows (`Policies.json`, from the Service
//!   Authorization Reference), and each Resource fits the ARN format of one of
//!   the resource types the action can be scoped to, or is `"*"` where the
//!   action takes none (a statement naming an ARN for such an action grants
//!   nothing);
//! - the resource handlers of the stacks mraa deploys with the caller's own
//!   credentials (bootstrap, edge, site certificate, and the lock stack) are
//!   allowed by the deploy policy, and those that delete by the teardown
//!   policy, with the excuses of `handler_permissions_excused.txt`;
//! - the whole policy fits an IAM inline role policy: "Role policy size
//!   cannot exceed 10,240 characters", whitespace not counted
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>).

use mraa::permissions::{Purpose, policy};
use mraa::plan::Kind;
use serde_json::Value as Json;

use crate::aws_data::{self, Action, HANDLERS};
use crate::cfn::{self, type_of};
use crate::handler_permissions::{excuses, handler_needs, refusal};
use crate::iam::{json_statements, wildcard};

const PURPOSES: [Purpose; 5] = [
    Purpose::Deploy,
    Purpose::Status,
    Purpose::State,
    Purpose::Teardown,
    Purpose::All,
];

/// Scoped actions that a call may still be authorized for on `"*"`, and why.
const ON_EVERYTHING: &[(&str, &str)] = &[(
    "cloudformation:DescribeStacks",
    "called without a stack name (finding instance stacks), it is authorized on \"*\"",
)];

/// Why an action and resource of the policy grant nothing, if they do not.
fn misfit(action: &str, resource: &str) -> Option<String> {
    if resource == "*" && ON_EVERYTHING.iter().any(|(a, _)| *a == action) {
        return None;
    }
    match aws_data::action(action) {
        Action::Unknown => Some("IAM has no such action".into()),
        Action::Unscoped if resource == "*" => None,
        Action::Unscoped => Some("the action takes no resource: it needs \"*\"".into()),
        Action::Scoped(types) => {
            let service = action.split(':').next().unwrap_or_default();
            let formats: Vec<String> = types
                .iter()
                .flat_map(|t| aws_data::arn_formats(service, t))
                .collect();
            if formats.iter().any(|f| wildcard(f, resource)) {
                None
            } else {
                Some(format!(
                    "fits none of the ARN formats of {}: {}",
                    types.join(", "),
                    formats.join(", ")
                ))
            }
        }
    }
}

#[test]
fn every_action_is_iams_and_every_resource_fits_its_arn_format() {
    let all = policy(Purpose::All, "demo");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for statement in json_statements(&all) {
        for action in &statement.actions {
            for resource in &statement.resources {
                checked += 1;
                if let Some(why) = misfit(action, resource) {
                    wrong.push(format!("{} {action} on {resource}: {why}", statement.sid));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "src/permissions/grants.rs grants what IAM would not match:\n{}",
        wrong.join("\n")
    );
    assert!(checked > 100, "only {checked} pairs checked");
}

#[test]
fn the_stacks_deployed_with_the_callers_credentials_are_allowed_their_handlers() {
    let excuses = excuses();
    let deploy = json_statements(&policy(Purpose::Deploy, "demo"));
    let teardown = json_statements(&policy(Purpose::Teardown, "demo"));
    let mut missing = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (scenario, plan) in cfn::scenarios() {
        // (unit, logical id, excuse line) where the stack sets the excused
        // property: the permission is needed there after all.
        let mut unexcused = std::collections::BTreeSet::new();
        for t in cfn::instances(&plan)
            .iter()
            .filter(|t| t.kind == Kind::Stack)
        {
            for (id, resource) in t.resources() {
                for excuse in excuses.iter().filter(|e| e.type_name == type_of(resource)) {
                    if excuse.set_in(t, resource).is_some() {
                        unexcused.insert((t.unit, id.to_string(), excuse.line));
                    }
                }
            }
        }
        for need in handler_needs(&plan, |t| t.kind == Kind::Stack) {
            let excused = excuses.iter().any(|e| {
                e.covers(&need)
                    && !unexcused.contains(&(need.unit, need.logical_id.clone(), e.line))
            });
            if excused {
                continue;
            }
            checked += 1;
            // A failed create rolls back through the delete handler, so the
            // deploy policy needs all four; teardown reads and deletes.
            let mut policies = vec![("deploy", &deploy)];
            if matches!(need.handler, "delete" | "read") {
                policies.push(("teardown", &teardown));
            }
            for (purpose, statements) in policies {
                if let Some(why) = refusal(statements, &need) {
                    missing.insert(format!(
                        "{purpose}: {} {} ({} handler of {} {} in {}, {scenario}): {why}",
                        need.type_name,
                        need.permission,
                        need.handler,
                        need.unit,
                        need.logical_id,
                        need.region
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "src/permissions/grants.rs misses handler permissions:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    assert!(checked > 50, "only {checked} permissions checked");
}

#[test]
fn the_lock_stacks_resources_need_no_permission_the_policies_lack() {
    let template: Json = serde_json::from_str(mraa::lock::TEMPLATE).expect("the lock template");
    let resources = template["Resources"].as_object().expect("resources");
    for purpose in [Purpose::Deploy, Purpose::State, Purpose::Teardown] {
        let statements = json_statements(&policy(purpose, "demo"));
        for resource in resources.values() {
            let type_name = resource["Type"].as_str().unwrap_or_default();
            for handler in HANDLERS {
                for permission in aws_data::handler_permissions("us-east-1", type_name, handler) {
                    let allowed = statements.iter().any(|s| {
                        s.allow
                            && s.actions.iter().any(|a| {
                                wildcard(&a.to_ascii_lowercase(), &permission.to_ascii_lowercase())
                            })
                    });
                    assert!(
                        allowed,
                        "{purpose:?}: {type_name} {handler} needs {permission}"
                    );
                }
            }
        }
    }
}

/// The longest app name whose bucket names fit S3's 63 characters in every
/// region (the configuration refuses longer ones).
fn longest_app() -> String {
    (1..64)
        .rev()
        .map(|n| "a".repeat(n))
        .find(|app| {
            mraa::regions::KNOWN_REGIONS.iter().all(|r| {
                mraa::names::longest_bucket_name(app, r).len() <= mraa::names::S3_MAX_BUCKET_NAME
            })
        })
        .expect("some app name fits")
}

#[test]
fn every_policy_fits_an_inline_role_policy() {
    let app = longest_app();
    for purpose in PURPOSES {
        let text = policy(purpose, &app).to_string();
        let size = text.chars().filter(|c| !c.is_whitespace()).count();
        assert!(
            size <= 10_240,
            "{purpose:?} for app {app}: {size} characters; an inline role policy takes 10,240"
        );
    }
}
