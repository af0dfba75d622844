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
//! - each command's policy fits an IAM inline role policy: "Role policy
//!   size cannot exceed 10,240 characters", whitespace not counted
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>),
//!   and the policy of all of them for app names up to a known length;
//! - one app's policy grants nothing on another app's bucket, table, stack,
//!   StackSet instance, StackSet or role, however alike their names.

use mraa::permissions::{Purpose, Scope, policy};
use mraa::plan::Kind;
use serde_json::Value as Json;

use crate::aws_data::{self, Action, HANDLERS};
use crate::cfn::{self, type_of};
use crate::handler_permissions::{excuses, handler_needs, refusal};
use crate::iam::{granting, json_statements, wildcard};

const PURPOSES: [Purpose; 5] = [
    Purpose::Deploy,
    Purpose::Status,
    Purpose::State,
    Purpose::Teardown,
    Purpose::All,
];

fn demo() -> Scope {
    Scope::new("demo", "us-east-1", "ap-northeast-1")
}

/// Scoped actions that a call may still be authorized for on `"*"`, and why.
const ON_EVERYTHING: &[(&str, &str)] = &[
    (
        "cloudformation:DescribeStacks",
        "called without a stack name (finding instance stacks), it is authorized on \"*\"",
    ),
    (
        "cloudwatch:GetMetricData",
        "metrics have no ARN: IAM's data lists only the optional `dataset` type, and CloudWatch's \
         permissions reference (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/\
         permissions-reference-cw.html) grants its API actions on \"*\"",
    ),
];

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
    let all = policy(Purpose::All, &demo());
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
    let mut missing = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (scenario, plan) in cfn::scenarios() {
        let scope = Scope::new(&plan.app, &plan.primary, &plan.secondary);
        let deploy = json_statements(&policy(Purpose::Deploy, &scope));
        let teardown = json_statements(&policy(Purpose::Teardown, &scope));
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
        let statements = json_statements(&policy(purpose, &demo()));
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

/// The size IAM counts: "Role policy size cannot exceed 10,240
/// characters", whitespace not counted.
fn size(purpose: Purpose, scope: &Scope) -> usize {
    let text = policy(purpose, scope).to_string();
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// The longest app name with the longest region codes and an account: each
/// command's policy fits an inline role policy; the policy of every command
/// together (`--for all`), which names each stack, StackSet, bucket, table
/// and role of the app in full, is larger than one inline role policy for
/// any app name, as the README says ("Permissions"): a role gets the policy
/// of the commands it runs.
#[test]
fn every_policy_fits_an_inline_role_policy() {
    let scope = |app: &str| {
        Scope::new(app, "ap-southeast-2", "ap-northeast-1")
            .with_account(Some("123456789012".into()))
    };
    let app = longest_app();
    for purpose in PURPOSES.into_iter().filter(|p| *p != Purpose::All) {
        let size = size(purpose, &scope(&app));
        assert!(
            size <= 10_240,
            "{purpose:?} for app {app}: {size} characters; an inline role policy takes 10,240"
        );
    }
    let all = size(Purpose::All, &scope("a"));
    assert!(
        all > 10_240,
        "`--for all` takes {all} characters for app `a`: it fits an inline role policy now, \
         and the README says it does not"
    );
}

/// The resources of app `app` in `region` that a policy names by name: a
/// bucket, a table, a stack, a StackSet instance's stack, a StackSet and a
/// role, as AWS names them.
fn named_resources(app: &str, region: &str, account: &str) -> Vec<(&'static str, String)> {
    let id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    let stack = |name: &str| format!("arn:aws:cloudformation:{region}:{account}:stack/{name}/{id}");
    let set = mraa::names::stack_name(app, "routing");
    vec![
        (
            "bucket",
            format!(
                "arn:aws:s3:::{}",
                mraa::names::bucket_name(app, "objects", account, region)
            ),
        ),
        (
            "table",
            format!(
                "arn:aws:dynamodb:{region}:{account}:table/{}",
                mraa::names::table_name(app, "comments")
            ),
        ),
        ("stack", stack(&mraa::names::stack_name(app, "bootstrap"))),
        ("instance stack", stack(&format!("StackSet-{set}-{id}"))),
        (
            "StackSet",
            format!("arn:aws:cloudformation:{region}:{account}:stackset/{set}:{id}"),
        ),
        (
            "role",
            format!("arn:aws:iam::{account}:role/mraa-{app}-stackset-admin"),
        ),
    ]
}

/// Issue 22: `mraa-shop-*` granted app `shop`'s role everything of app
/// `shop-dev`. Each action the policy of app `shop` grants on one of its
/// own resources is refused on the same resource of another app whose
/// name starts like it: `shop-dev`, apps named after a kind of resource,
/// and one long enough to put twelve characters where the account id goes.
#[test]
fn an_apps_policy_grants_nothing_on_another_apps_resources() {
    let account = "123456789012";
    for (app, others) in [
        (
            "shop",
            &["shop-dev", "shop-objects", "shop-routing", "shop-bootstrap"][..],
        ),
        ("s", &["s-objects-abcdefghijkl", "s-dev"][..]),
    ] {
        for scope in [
            Scope::new(app, "us-east-1", "eu-west-1"),
            Scope::new(app, "us-east-1", "eu-west-1").with_account(Some(account.into())),
        ] {
            // Actions IAM cannot scope (Resource "*") reach every app's
            // resources by nature; the names are what is checked here.
            let statements: Vec<_> = json_statements(&policy(Purpose::All, &scope))
                .into_iter()
                .filter(|s| !s.resources.iter().any(|r| r == "*"))
                .collect();
            let actions: std::collections::BTreeSet<String> = statements
                .iter()
                .filter(|s| s.allow)
                .flat_map(|s| s.actions.clone())
                .collect();
            let own = named_resources(app, "eu-west-1", account);
            for other in others {
                let theirs = named_resources(other, "eu-west-1", account);
                for ((kind, mine), (_, their)) in own.iter().zip(&theirs) {
                    let granted: Vec<&String> = actions
                        .iter()
                        .filter(|a| matches!(granting(&statements, a, mine), Ok(Some(_))))
                        .collect();
                    assert!(
                        !granted.is_empty(),
                        "app {app}: nothing granted on its {kind} {mine}"
                    );
                    for action in granted {
                        if let Ok(Some(statement)) = granting(&statements, action, their) {
                            panic!(
                                "app {app}'s policy (account {:?}) grants {action} on app {other}'s \
                                 {kind} {their} (statement {})",
                                scope.account, statement.sid
                            );
                        }
                    }
                }
            }
        }
    }
}
