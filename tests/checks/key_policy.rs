//! The users key (templates/bootstrap.yaml, primary) and its replica
//! (templates/object-store.yaml, secondary) let Cognito use them as Cognito's
//! "Data protection" page lists, and no more.
//!
//! The page's key policy for a user pool encrypted with a customer managed
//! key ("Set customer managed key policy",
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/data-protection.html>)
//! has four statements for Cognito beside the administrators'; the
//! multi-Region page asks the same key in every region that holds a replica
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-multi-region.html>),
//! and a key policy is regional, so each key carries them for its own region
//! (<https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-auth.html>).
//! Each statement must be there with the page's principals and exactly its
//! actions, under every condition key the page gives, with values no broader
//! than this account's pools in the key's region (the pool's id is not known
//! when the key is made); no other statement may allow anything.

use std::collections::BTreeSet;

use mraa::plan::{Kind, Unit};
use serde_yaml::Value;

use crate::cfn::{self, ACCOUNT, Instance, PARTITION, at, field, str_of};
use crate::iam::{self, Condition, wildcard};

const SERVICES: &[&str] = &["cognito-idp.amazonaws.com", "identitystore.amazonaws.com"];
const USE: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKeyWithoutPlaintext",
];
const SOURCE_ARN: &str = "aws:SourceArn";
const SOURCE_ACCOUNT: &str = "aws:SourceAccount";
const CONTEXT: &str = "kms:EncryptionContext:aws:cognito-idp:userpool-arn";
const VIA: &str = "kms:ViaService";

/// One key-policy statement, resolved.
#[derive(Debug)]
struct KeyStatement {
    sid: String,
    allow: bool,
    services: BTreeSet<String>,
    accounts: BTreeSet<String>,
    actions: BTreeSet<String>,
    conditions: Vec<Condition>,
}

/// A statement of the page: who, what, and the condition keys it gives with
/// the widest value each may take here.
struct Listed {
    what: &'static str,
    services: bool,
    actions: &'static [&'static str],
    conditions: Vec<(&'static str, String)>,
}

fn listed(region: &str) -> Vec<Listed> {
    let pools = format!("arn:{PARTITION}:cognito-idp:{region}:{ACCOUNT}:userpool/*");
    let via = format!("cognito-idp.{region}.amazonaws.com");
    vec![
        Listed {
            what: "Cognito's service principals encrypt and decrypt for a pool",
            services: true,
            actions: USE,
            conditions: vec![
                (SOURCE_ARN, pools.clone()),
                (SOURCE_ACCOUNT, ACCOUNT.into()),
                (CONTEXT, pools.clone()),
            ],
        },
        Listed {
            what: "Cognito's service principals describe the key for a pool",
            services: true,
            actions: &["kms:DescribeKey"],
            conditions: vec![
                (SOURCE_ARN, pools.clone()),
                (SOURCE_ACCOUNT, ACCOUNT.into()),
            ],
        },
        Listed {
            what: "principals describe the key through Cognito",
            services: false,
            actions: &["kms:DescribeKey"],
            conditions: vec![(VIA, via.clone())],
        },
        Listed {
            what: "principals encrypt and decrypt through Cognito, for a pool",
            services: false,
            actions: USE,
            conditions: vec![(VIA, via), (CONTEXT, pools)],
        },
    ]
}

fn lower(items: Vec<String>) -> BTreeSet<String> {
    items.into_iter().map(|a| a.to_ascii_lowercase()).collect()
}

fn key_statements(t: &Instance, key_id: &str) -> Vec<KeyStatement> {
    let key = t
        .resource(key_id)
        .unwrap_or_else(|| panic!("{}: no {key_id}", t.file()));
    let policy = at(key, "Properties.KeyPolicy")
        .and_then(|p| t.decide(p))
        .unwrap_or_else(|| panic!("{}: {key_id} has no KeyPolicy", t.file()));
    let list = match field(&policy, "Statement") {
        Some(Value::Sequence(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    list.iter()
        .map(|s| {
            let principal = field(s, "Principal");
            let of = |kind: &str| t.resolve_all(principal.and_then(|p| field(p, kind)));
            let mut accounts: BTreeSet<String> = of("AWS").into_iter().collect();
            if principal.and_then(str_of) == Some("*") {
                accounts.insert("*".into());
            }
            KeyStatement {
                sid: field(s, "Sid")
                    .and_then(str_of)
                    .unwrap_or("(no Sid)")
                    .into(),
                allow: field(s, "Effect").and_then(str_of) == Some("Allow"),
                services: of("Service").into_iter().collect(),
                accounts,
                actions: lower(t.resolve_all(field(s, "Action"))),
                conditions: iam::conditions(t, field(s, "Condition")),
            }
        })
        .collect()
}

const POSITIVE: &[&str] = &["StringEquals", "StringLike", "ArnEquals", "ArnLike"];

/// Why `s` is not the page's `l`, if it is not.
fn differs(s: &KeyStatement, l: &Listed) -> Option<String> {
    let services: BTreeSet<String> = if l.services {
        SERVICES.iter().map(|s| s.to_string()).collect()
    } else {
        BTreeSet::new()
    };
    let accounts: BTreeSet<String> = if l.services {
        BTreeSet::new()
    } else {
        ["*".to_string()].into()
    };
    if s.services != services || s.accounts != accounts {
        return Some(format!(
            "principals {:?} {:?}, the page's {:?} {:?}",
            s.services, s.accounts, services, accounts
        ));
    }
    let actions = lower(l.actions.iter().map(|a| a.to_string()).collect());
    if s.actions != actions {
        return Some(format!("actions {:?}, the page's {:?}", s.actions, actions));
    }
    for (key, widest) in &l.conditions {
        let on_key: Vec<&Condition> = s
            .conditions
            .iter()
            .filter(|c| c.key.eq_ignore_ascii_case(key))
            .collect();
        if on_key.is_empty() {
            return Some(format!("no {key} condition (the page gives one: {widest})"));
        }
        for c in on_key {
            if !POSITIVE.contains(&c.operator.as_str())
                || c.values.is_empty()
                || !c.values.iter().all(|v| wildcard(widest, v))
            {
                return Some(format!(
                    "{} {key} {:?} is broader than {widest}",
                    c.operator, c.values
                ));
            }
        }
    }
    None
}

fn is_administration(s: &KeyStatement) -> bool {
    s.services.is_empty()
        && s.accounts == [format!("arn:{PARTITION}:iam::{ACCOUNT}:root")].into()
        && s.actions == ["kms:*".to_string()].into()
        && s.conditions.is_empty()
}

/// What is wrong with `key_id`'s policy in `t`: a statement of the page
/// missing or broader, or a statement the page does not list.
fn problems(t: &Instance, key_id: &str) -> Vec<String> {
    let statements = key_statements(t, key_id);
    let listed = listed(&t.region);
    let mut problems = Vec::new();
    for l in &listed {
        if !statements
            .iter()
            .any(|s| s.allow && differs(s, l).is_none())
        {
            let near: Vec<String> = statements
                .iter()
                .filter_map(|s| differs(s, l).map(|why| format!("{}: {why}", s.sid)))
                .collect();
            problems.push(format!("{}: missing ({})", l.what, near.join("; ")));
        }
    }
    for s in statements.iter().filter(|s| s.allow) {
        if !is_administration(s) && !listed.iter().any(|l| differs(s, l).is_none()) {
            problems.push(format!("{}: allows what the page does not list", s.sid));
        }
    }
    problems
}

/// The users key and its replica of every scenario with native replication.
fn keys() -> Vec<(String, Instance, &'static str)> {
    let mut keys = Vec::new();
    for (scenario, plan) in cfn::scenarios() {
        for t in cfn::instances(&plan) {
            let id = match (t.unit, t.kind) {
                (Unit::Bootstrap, Kind::Stack) => "UsersKey",
                (Unit::ObjectStore, _) if t.region == plan.secondary => "UsersKeyReplica",
                _ => continue,
            };
            if t.resource(id).is_some() {
                keys.push((scenario.clone(), t, id));
            }
        }
    }
    keys
}

#[test]
fn the_users_keys_allow_cognito_what_its_pages_list_and_no_more() {
    let keys = keys();
    let scenarios: BTreeSet<&str> = keys.iter().map(|(s, _, _)| s.as_str()).collect();
    assert!(
        keys.len() >= 2 && keys.len() == 2 * scenarios.len(),
        "expected the users key and its replica in each scenario with native replication, \
         found {}",
        keys.len()
    );
    let report: Vec<String> = keys
        .iter()
        .flat_map(|(scenario, t, id)| {
            problems(t, id)
                .into_iter()
                .map(move |p| format!("{scenario}, {} {id} in {}: {p}", t.file(), t.region))
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// The statements of `id`'s key policy in `t`'s document, to change.
fn statement_list<'a>(t: &'a mut Instance, id: &str) -> &'a mut Vec<Value> {
    let list = t
        .doc
        .get_mut("Resources")
        .and_then(|r| r.get_mut(id))
        .and_then(|k| k.get_mut("Properties"))
        .and_then(|p| p.get_mut("KeyPolicy"))
        .and_then(|p| p.get_mut("Statement"));
    match list {
        Some(Value::Sequence(items)) => items,
        _ => panic!("{id}: no statement list"),
    }
}

#[test]
fn the_key_policy_check_refuses_a_missing_or_broader_statement() {
    let (_, t, id) = keys().into_iter().next().expect("a users key");
    let sid = |s: &Value| {
        field(s, "Sid")
            .and_then(str_of)
            .unwrap_or_default()
            .to_string()
    };
    let fresh = || {
        let (_, t, _) = keys().into_iter().next().expect("a users key");
        t
    };
    assert!(problems(&t, id).is_empty());

    // Without the service principals' statement.
    let mut without = fresh();
    statement_list(&mut without, id).retain(|s| sid(s) != "CognitoEncryption");
    assert!(!problems(&without, id).is_empty());

    // With the pool condition widened to every region.
    let mut wider = fresh();
    for s in statement_list(&mut wider, id)
        .iter_mut()
        .filter(|s| sid(s) == "CognitoEncryption")
    {
        let arn = "arn:aws:cognito-idp:*:123456789012:userpool/*";
        s["Condition"]["ArnLike"]["aws:SourceArn"] = Value::String(arn.into());
    }
    let found = problems(&wider, id).join("\n");
    assert!(found.contains("broader"), "{found}");

    // With an action the page does not give.
    let mut more = fresh();
    for s in statement_list(&mut more, id)
        .iter_mut()
        .filter(|s| sid(s) == "ThroughCognitoDescribeKey")
    {
        s["Action"] = Value::Sequence(vec!["kms:DescribeKey".into(), "kms:CreateGrant".into()]);
    }
    assert!(!problems(&more, id).is_empty());
}
