//! `mraa permissions` is complete: every AWS request each command makes
//! (moto's request recorder) is allowed by the policy `mraa permissions`
//! prints for that command. Each request is mapped to its IAM action(s) —
//! by `X-Amz-Target` or `Action=` for the JSON and query services, by
//! method and path for the REST ones — and, for CloudFormation, DynamoDB, S3
//! and API Gateway, to the resource ARN IAM evaluates. A request the table
//! below cannot map fails the test: a new call needs its row, not a pass.
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>)
//!
//! Conditions are evaluated, not assumed: each request carries the
//! condition-key values it would carry on AWS ([`context`]), and a role ARN
//! it names is a PassRole of its own, to the service that takes the role
//! ([`passes`]).

use mraa::permissions::{Purpose, Scope, policy};

use crate::support::iam::{Context, Statement, granting_in, json_statements};
use crate::support::proxy::Proxy;
use crate::support::{ACCOUNT, Call, Emulator, mraa, show, with_var};

const PRIMARY: &str = "eu-west-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const DOMAIN: &str = "app.example.test";

/// What IAM authorizes for one request.
#[derive(Debug)]
struct Authorized {
    actions: Vec<String>,
    /// The resource ARN, or `None` where this check does not derive one (the
    /// action must then be allowed on some resource).
    resource: Option<String>,
    /// The condition-key values the request carries.
    context: Context,
    /// The roles the request passes: (role ARN, service it is passed to).
    passes: Vec<(String, &'static str)>,
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The emulator names a StackSet's instance stacks `StackSet:<set>`; AWS
/// names them `StackSet-<set>-<id>`, which is what the policy names.
fn aws_instance_name(stack_arn: &str) -> String {
    match stack_arn.split_once(":stack/StackSet:") {
        Some((head, rest)) => {
            let (set, id) = rest.split_once('/').unwrap_or((rest, ""));
            format!("{head}:stack/StackSet-{set}-{id}/{id}")
        }
        None => stack_arn.to_string(),
    }
}

/// A field of a form-encoded (query protocol) or JSON body.
fn field(call: &Call, name: &str) -> Option<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&call.body) {
        return json[name].as_str().map(str::to_string);
    }
    call.body
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .map(decode)
}

/// (path segments, query) of the request URL.
fn path_and_query(call: &Call) -> (Vec<String>, String) {
    let after_host = call
        .url
        .split_once("://")
        .map_or(call.url.as_str(), |(_, rest)| rest);
    let path = after_host.find('/').map_or("/", |i| &after_host[i..]);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    (segments, query.to_string())
}

fn has(query: &str, key: &str) -> bool {
    query
        .split('&')
        .any(|kv| kv == key || kv.starts_with(&format!("{key}=")))
}

fn authorized(call: &Call) -> Result<Authorized, String> {
    let unmapped = || {
        Err(format!(
            "no row maps {} {} ({})",
            call.method, call.url, call.service
        ))
    };
    let one = |action: &str, resource: Option<String>| {
        Ok(Authorized {
            actions: vec![action.to_string()],
            resource,
            context: context(call),
            passes: passes(call),
        })
    };
    let (region, account) = (&call.region, ACCOUNT);
    match call.service.as_str() {
        "cloudformation" => {
            let action = format!("cloudformation:{}", call.operation);
            let resource = if let Some(set) = field(call, "StackSetName") {
                Some(format!(
                    "arn:aws:cloudformation:{region}:{account}:stackset/{set}:0a1b2c3d"
                ))
            } else if let Some(stack) = field(call, "StackName") {
                Some(if stack.starts_with("arn:") {
                    aws_instance_name(&stack)
                } else {
                    format!("arn:aws:cloudformation:{region}:{account}:stack/{stack}/0a1b2c3d")
                })
            } else if call.operation == "DescribeStacks" || call.operation.starts_with("List") {
                Some("*".to_string())
            } else {
                return unmapped();
            };
            one(&action, resource)
        }
        "dynamodb" => {
            let action = format!("dynamodb:{}", call.operation);
            let resource = field(call, "TableName")
                .map(|t| format!("arn:aws:dynamodb:{region}:{account}:table/{t}"))
                .or_else(|| field(call, "ResourceArn"))
                .or_else(|| (call.operation == "ListTables").then(|| "*".to_string()));
            match resource {
                Some(r) => one(&action, Some(r)),
                None => unmapped(),
            }
        }
        "s3" => s3(call, unmapped),
        "apigateway" => {
            let (segments, _) = path_and_query(call);
            let resource = format!("arn:aws:apigateway:{region}::/{}", segments.join("/"));
            one(&format!("apigateway:{}", call.method), Some(resource))
        }
        "cloudfront" => cloudfront(call).map_or_else(unmapped, |a| one(&a, None)),
        "route53" => route53(call).map_or_else(unmapped, |a| one(&a, None)),
        // CloudWatch signs as `monitoring`; its actions are `cloudwatch:`.
        "monitoring" if !call.operation.is_empty() => {
            one(&format!("cloudwatch:{}", call.operation), None)
        }
        "sts" | "acm" | "cognito-idp" | "iam" | "kms" | "lambda" | "logs" | "sns"
            if !call.operation.is_empty() =>
        {
            one(&format!("{}:{}", call.service, call.operation), None)
        }
        _ => unmapped(),
    }
}

fn s3(
    call: &Call,
    unmapped: impl Fn() -> Result<Authorized, String>,
) -> Result<Authorized, String> {
    let (segments, query) = path_and_query(call);
    let method = call.method.as_str();
    let Some(bucket) = segments.first() else {
        return match method {
            "GET" => Ok(Authorized {
                actions: vec!["s3:ListAllMyBuckets".into()],
                resource: Some("*".into()),
                context: Context::new(),
                passes: Vec::new(),
            }),
            _ => unmapped(),
        };
    };
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let key = segments[1..].join("/");
    // Sub-resources of a bucket: (query key, action by method).
    const BUCKET: &[(&str, &str, &str)] = &[
        ("versioning", "GET", "s3:GetBucketVersioning"),
        ("versioning", "PUT", "s3:PutBucketVersioning"),
        ("policy", "GET", "s3:GetBucketPolicy"),
        ("policy", "PUT", "s3:PutBucketPolicy"),
        ("policy", "DELETE", "s3:DeleteBucketPolicy"),
        ("replication", "GET", "s3:GetReplicationConfiguration"),
        ("replication", "PUT", "s3:PutReplicationConfiguration"),
        // "DeleteBucketReplication" is authorized as PutReplicationConfiguration.
        ("replication", "DELETE", "s3:PutReplicationConfiguration"),
        ("tagging", "GET", "s3:GetBucketTagging"),
        ("tagging", "PUT", "s3:PutBucketTagging"),
        ("tagging", "DELETE", "s3:PutBucketTagging"),
        ("publicAccessBlock", "GET", "s3:GetBucketPublicAccessBlock"),
        ("encryption", "GET", "s3:GetEncryptionConfiguration"),
        ("website", "GET", "s3:GetBucketWebsite"),
        ("location", "GET", "s3:GetBucketLocation"),
        ("versions", "GET", "s3:ListBucketVersions"),
        ("uploads", "GET", "s3:ListBucketMultipartUploads"),
        ("ownershipControls", "GET", "s3:GetBucketOwnershipControls"),
        ("lifecycle", "GET", "s3:GetLifecycleConfiguration"),
        ("logging", "GET", "s3:GetBucketLogging"),
        ("cors", "GET", "s3:GetBucketCORS"),
        ("acl", "GET", "s3:GetBucketAcl"),
    ];
    let found = |table: &[(&str, &str, &str)]| {
        table
            .iter()
            .find(|(sub, m, _)| *m == method && has(&query, sub))
            .map(|(_, _, action)| action.to_string())
    };
    let (actions, resource) = if key.is_empty() {
        let action = if method == "POST" && has(&query, "delete") {
            // DeleteObjects: each key is authorized as DeleteObject, a version
            // as DeleteObjectVersion.
            let mut actions = vec!["s3:DeleteObject".to_string()];
            if call.body.contains("<VersionId>") {
                actions.push("s3:DeleteObjectVersion".into());
            }
            return Ok(Authorized {
                actions,
                resource: Some(format!("{bucket_arn}/*")),
                context: Context::new(),
                passes: Vec::new(),
            });
        } else if let Some(action) = found(BUCKET) {
            action
        } else if query.is_empty() || has(&query, "list-type") || has(&query, "prefix") {
            match method {
                "GET" | "HEAD" => "s3:ListBucket".into(),
                "PUT" => "s3:CreateBucket".into(),
                "DELETE" => "s3:DeleteBucket".into(),
                _ => return unmapped(),
            }
        } else {
            return unmapped();
        };
        (vec![action], bucket_arn)
    } else {
        let versioned = has(&query, "versionId");
        let action = match (method, versioned) {
            _ if has(&query, "tagging") => match method {
                "GET" => "s3:GetObjectTagging",
                "PUT" => "s3:PutObjectTagging",
                _ => return unmapped(),
            },
            ("PUT" | "POST", _) => "s3:PutObject",
            ("GET" | "HEAD", false) => "s3:GetObject",
            ("GET" | "HEAD", true) => "s3:GetObjectVersion",
            ("DELETE", _) if has(&query, "uploadId") => "s3:AbortMultipartUpload",
            ("DELETE", false) => "s3:DeleteObject",
            ("DELETE", true) => "s3:DeleteObjectVersion",
            _ => return unmapped(),
        };
        (vec![action.to_string()], format!("{bucket_arn}/{key}"))
    };
    Ok(Authorized {
        actions,
        resource: Some(resource),
        context: Context::new(),
        passes: passes(call),
    })
}

/// CloudFront's REST paths (`/2020-05-31/...`) to actions.
fn cloudfront(call: &Call) -> Option<String> {
    let (segments, query) = path_and_query(call);
    let parts: Vec<&str> = segments.iter().skip(1).map(String::as_str).collect();
    let m = call.method.as_str();
    let action = match (m, parts.as_slice()) {
        ("POST", ["distribution"]) => "CreateDistribution",
        ("GET", ["distribution"]) => "ListDistributions",
        ("GET", ["distribution", _]) => "GetDistribution",
        ("DELETE", ["distribution", _]) => "DeleteDistribution",
        ("GET", ["distribution", _, "config"]) => "GetDistributionConfig",
        ("PUT", ["distribution", _, "config"]) => "UpdateDistribution",
        ("POST", ["distribution", _, "invalidation"]) => "CreateInvalidation",
        ("POST", ["origin-access-control"]) => "CreateOriginAccessControl",
        ("GET", ["origin-access-control"]) => "ListOriginAccessControls",
        ("GET", ["origin-access-control", _]) => "GetOriginAccessControl",
        ("DELETE", ["origin-access-control", _]) => "DeleteOriginAccessControl",
        ("GET", ["tagging"]) => "ListTagsForResource",
        ("POST", ["tagging"]) if query.contains("Operation=Tag") => "TagResource",
        ("POST", ["tagging"]) if query.contains("Operation=Untag") => "UntagResource",
        _ => return None,
    };
    Some(format!("cloudfront:{action}"))
}

/// Route 53's REST paths (`/2013-04-01/...`) to actions.
fn route53(call: &Call) -> Option<String> {
    let (segments, _) = path_and_query(call);
    let parts: Vec<&str> = segments.iter().skip(1).map(String::as_str).collect();
    let action = match (call.method.as_str(), parts.as_slice()) {
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["change", _]) => "GetChange",
        ("POST", ["healthcheck"]) => "CreateHealthCheck",
        ("GET", ["healthcheck"]) => "ListHealthChecks",
        ("GET", ["healthcheck", _]) => "GetHealthCheck",
        ("POST", ["healthcheck", _]) => "UpdateHealthCheck",
        ("DELETE", ["healthcheck", _]) => "DeleteHealthCheck",
        ("GET", ["healthcheck", _, "status"]) => "GetHealthCheckStatus",
        ("POST", ["tags", _, _]) => "ChangeTagsForResource",
        ("GET", ["tags", _, _]) => "ListTagsForResource",
        ("POST", ["tags", _]) => "ListTagsForResources",
        ("GET", ["testdnsanswer"]) => "TestDNSAnswer",
        _ => return None,
    };
    Some(format!("route53:{action}"))
}

/// The tags a request sets: query-protocol `Tags.member.N.Key/Value`, or a
/// JSON `Tags` list of `{Key, Value}` or map.
fn request_tags(call: &Call) -> Vec<(String, String)> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&call.body) {
        return match &json["Tags"] {
            serde_json::Value::Array(tags) => tags
                .iter()
                .filter_map(|t| Some((t["Key"].as_str()?.into(), t["Value"].as_str()?.into())))
                .collect(),
            serde_json::Value::Object(tags) => tags
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.into())))
                .collect(),
            _ => Vec::new(),
        };
    }
    (1..)
        .map_while(|n| {
            let key = field(call, &format!("Tags.member.{n}.Key"))?;
            Some((
                key,
                field(call, &format!("Tags.member.{n}.Value")).unwrap_or_default(),
            ))
        })
        .collect()
}

/// The condition-key values a request carries on AWS, for the keys the
/// printed policies use: `aws:RequestTag/<key>` and `aws:TagKeys` on the
/// calls that set tags, `iam:AWSServiceName` on CreateServiceLinkedRole,
/// `kms:MultiRegion` on CreateKey (the service authorization reference of
/// each service lists its keys per action:
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html>,
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>,
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html>).
fn context(call: &Call) -> Context {
    let mut context = Context::new();
    let tags = request_tags(call);
    if !tags.is_empty() {
        for (key, value) in &tags {
            context = context.with(&format!("aws:RequestTag/{key}"), &[value]);
        }
        let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
        context = context.with("aws:TagKeys", &keys);
    }
    match (call.service.as_str(), call.operation.as_str()) {
        ("iam", "CreateServiceLinkedRole") => {
            if let Some(service) = field(call, "AWSServiceName") {
                context = context.with("iam:AWSServiceName", &[&service]);
            }
        }
        ("kms", "CreateKey") => {
            // Absent, MultiRegion is false: the key is a single-Region key.
            let multi = serde_json::from_str::<serde_json::Value>(&call.body)
                .ok()
                .and_then(|b| b["MultiRegion"].as_bool())
                .unwrap_or(false);
            context = context.with("kms:MultiRegion", &[&multi.to_string()]);
        }
        _ => {}
    }
    context
}

/// The roles a request passes, each to the service that will assume it: a
/// PassRole of its own, with `iam:PassedToService` naming that service
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html>).
fn passes(call: &Call) -> Vec<(String, &'static str)> {
    let found = |role: Option<String>, service: &'static str| {
        role.filter(|r| r.starts_with("arn:"))
            .map(|r| vec![(r, service)])
            .unwrap_or_default()
    };
    match (call.service.as_str(), call.operation.as_str()) {
        // StackSets assume the administration role; a stack, its service role.
        ("cloudformation", "CreateStackSet" | "UpdateStackSet") => found(
            field(call, "AdministrationRoleARN"),
            "cloudformation.amazonaws.com",
        ),
        ("cloudformation", "CreateStack" | "UpdateStack" | "CreateChangeSet") => {
            found(field(call, "RoleARN"), "cloudformation.amazonaws.com")
        }
        ("lambda", "CreateFunction" | "UpdateFunctionConfiguration") => {
            found(field(call, "Role"), "lambda.amazonaws.com")
        }
        // S3 replication acts as the rule's role (PutBucketReplication's
        // <Role>); API Gateway logs as the account's CloudWatch role
        // (UpdateAccount's /cloudwatchRoleArn patch).
        ("s3", _) if call.method == "PUT" && call.url.contains("replication") => found(
            call.body
                .split_once("<Role>")
                .and_then(|(_, rest)| rest.split_once("</Role>"))
                .map(|(role, _)| role.to_string()),
            "s3.amazonaws.com",
        ),
        ("apigateway", _) if call.method == "PATCH" && call.url.ends_with("/account") => {
            let patch = serde_json::from_str::<serde_json::Value>(&call.body).unwrap_or_default();
            found(
                patch["patchOperations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|op| op["path"] == "/cloudwatchRoleArn")
                    .and_then(|op| op["value"].as_str())
                    .map(str::to_string),
                "apigateway.amazonaws.com",
            )
        }
        _ => Vec::new(),
    }
}

/// Whether `statements` allow `action` for a call carrying `context`: on
/// `resource`, or, where none is derived, on some resource.
fn allows(
    statements: &[Statement],
    action: &str,
    resource: Option<&str>,
    context: &Context,
) -> bool {
    match resource {
        Some(resource) => matches!(
            granting_in(statements, action, resource, context),
            Ok(Some(_))
        ),
        None => statements
            .iter()
            .any(|s| s.allow && s.names(action) && s.holds(context)),
    }
}

/// Why `policy` does not allow `call`, if it does not.
pub(crate) fn refused(statements: &[Statement], call: &Call) -> Option<String> {
    let authorized = match authorized(call) {
        Ok(a) => a,
        Err(why) => return Some(why),
    };
    let mut why = Vec::new();
    let resource = authorized.resource.as_deref();
    for action in &authorized.actions {
        if !allows(statements, action, resource, &authorized.context) {
            why.push(format!(
                "{action} on {} with {}",
                resource.unwrap_or("any resource"),
                authorized.context.describe()
            ));
        }
    }
    for (role, service) in &authorized.passes {
        let context = Context::new().with("iam:PassedToService", &[service]);
        if !allows(statements, "iam:PassRole", Some(role), &context) {
            why.push(format!(
                "iam:PassRole on {role} with {}",
                context.describe()
            ));
        }
    }
    (!why.is_empty()).then(|| format!("{} {}: {}", call.method, call.url, why.join(", ")))
}

/// Runs `args`, recording, and lists what the policy of `purpose` refuses.
fn check(emulator: &Emulator, purpose: Purpose, args: &[&str]) -> Vec<String> {
    check_in(emulator, purpose, args, &emulator.env_in(PRIMARY), 0).0
}

/// The same with `env`, expecting exit `code`; also returns the calls.
fn check_in(
    emulator: &Emulator,
    purpose: Purpose,
    args: &[&str],
    env: &[(String, String)],
    code: i32,
) -> (Vec<String>, Vec<Call>) {
    let statements = json_statements(&policy(purpose, &Scope::new(APP, PRIMARY, SECONDARY)));
    emulator.start_recording();
    let output = mraa(args, env, None);
    assert_eq!(
        output.status.code(),
        Some(code),
        "mraa {args:?}: {}",
        show(&output)
    );
    let calls = emulator.recorded_calls();
    assert!(!calls.is_empty(), "mraa {args:?} made no recorded call");
    let mut refusals: Vec<String> = calls
        .iter()
        // Unsigned requests (a public API's invoke URL) are not IAM's.
        .filter(|c| !c.service.is_empty())
        .filter_map(|c| refused(&statements, c))
        .map(|why| format!("{purpose:?} (mraa {}): {why}", args.join(" ")))
        .collect();
    refusals.sort();
    refusals.dedup();
    (refusals, calls)
}

/// With the primary down and no secondary given, `status` and `failover`
/// search the other regions for the deployment record: those calls too.
fn check_primary_down(emulator: &Emulator) -> Vec<String> {
    let proxy = Proxy::start(emulator.port);
    proxy.block(PRIMARY);
    let env = with_var(
        emulator.env_in(PRIMARY),
        "AWS_ENDPOINT_URL",
        &proxy.endpoint,
    );
    let mut refusals = Vec::new();
    for (purpose, args, code) in [
        (Purpose::Status, &["status"][..], 4),
        (Purpose::State, &["failover", "--reason", "drill"][..], 0),
    ] {
        let (found, calls) = check_in(emulator, purpose, args, &env, code);
        let searched = |region: &str| {
            calls
                .iter()
                .any(|c| c.service == "dynamodb" && c.operation == "GetItem" && c.region == region)
        };
        // The secondary was asked. (Which other regions were asked before
        // its answer ended the search depends on timing: every call that
        // was made is checked against the policy all the same.)
        assert!(searched(SECONDARY), "{calls:#?}");
        refusals.extend(found);
    }
    refusals
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_of_every_command_is_allowed_by_the_policy_printed_for_it() {
    let emulator = Emulator::start("permissions_complete");
    let zone = emulator
        .route53()
        .create_hosted_zone()
        .name(DOMAIN)
        .caller_reference(format!("test-{}", std::process::id()))
        .send()
        .await
        .expect("create the hosted zone");
    assert!(zone.hosted_zone().is_some());
    let mut refusals = check(
        &emulator,
        Purpose::Deploy,
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--domain",
            DOMAIN,
            "--notify",
            "ops@example.test",
        ],
    );
    refusals.extend(check(&emulator, Purpose::Status, &["status"]));
    refusals.extend(check(
        &emulator,
        Purpose::State,
        &["fence", "--reason", "drill"],
    ));
    refusals.extend(check(
        &emulator,
        Purpose::State,
        &["failover", "--reason", "drill"],
    ));
    refusals.extend(check(&emulator, Purpose::State, &["activate", "--yes"]));
    refusals.extend(check(
        &emulator,
        Purpose::Drill,
        &["drill", "--failover", "--reason", "drill"],
    ));
    refusals.extend(check_primary_down(&emulator));
    refusals.extend(check(&emulator, Purpose::State, &["activate", "--yes"]));
    refusals.extend(check(
        &emulator,
        Purpose::Teardown,
        &["teardown", "--delete-data", "--yes"],
    ));
    assert!(
        refusals.is_empty(),
        "`mraa permissions --for <command>` does not allow {} call(s) the command made \
         (add the action to src/permissions/grants.rs, scoped as tightly as IAM allows, \
         or map the request in tests/emulator/permissions.rs):\n{}",
        refusals.len(),
        refusals.join("\n")
    );
}

/// Deploy adopting what a teardown kept (tests/emulator/adopt.rs): the
/// Regions' stacks imported and updated as the StackSet execution role,
/// joined to their sets, and the kept stores found and counted, all within
/// the deploy policy. The change sets pass the role (a PassRole of their
/// own, to CloudFormation), so the policy needs none of the layers' handler
/// permissions.
#[tokio::test(flavor = "multi_thread")]
async fn adopting_kept_data_is_allowed_by_the_deploy_policy() {
    let emulator = Emulator::start("permissions_adopt");
    let env = emulator.env_in(PRIMARY);
    let first = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let mut refusals = check(&emulator, Purpose::Teardown, &["teardown", "--yes"]);
    let (found, calls) = check_in(
        &emulator,
        Purpose::Deploy,
        &["deploy", "--secondary", SECONDARY],
        &env,
        0,
    );
    refusals.extend(found);
    // The run adopted, the Regions' stacks as the execution role (the
    // bootstrap stack, which makes that role, as the caller): the import
    // change sets and the set's import were among its calls.
    let role = format!("arn:aws:iam::{ACCOUNT}:role/mraa-{APP}-stackset-exec");
    let imports = calls
        .iter()
        .filter(|c| c.operation == "CreateChangeSet" && c.body.contains("ChangeSetType=IMPORT"))
        .filter(|c| field(c, "StackName").is_some_and(|s| s.starts_with("StackSet-")))
        .collect::<Vec<_>>();
    assert!(!imports.is_empty(), "no import change set");
    for call in &imports {
        assert_eq!(
            field(call, "RoleARN").as_deref(),
            Some(role.as_str()),
            "{call:?}"
        );
    }
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "ImportStacksToStackSet"),
        "no stack joined its set"
    );
    assert!(
        refusals.is_empty(),
        "`mraa permissions --for <command>` does not allow {} call(s) of an adoption \
         (add the action to src/permissions/adopt.rs, scoped as tightly as IAM allows):\n{}",
        refusals.len(),
        refusals.join("\n")
    );
}
