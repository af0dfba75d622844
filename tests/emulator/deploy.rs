//! `mraa deploy` against the emulator: the real binary, real SDK calls, and
//! every effect checked through the services' own APIs afterwards.

use std::collections::BTreeMap;

use crate::support::{ACCOUNT, Emulator, STACK_SET_UNITS, mraa, stderr_of, stdout_of};
use serde_json::Value;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";

fn deploy(emulator: &Emulator, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["deploy", "--secondary", SECONDARY];
    args.extend_from_slice(extra);
    let output = mraa(&args, &emulator.env_in(PRIMARY), None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "deploy failed:\nstdout:\n{}\nstderr:\n{}",
        stdout_of(&output),
        stderr_of(&output)
    );
    output
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_deploy_builds_and_wires_both_regions() {
    let emulator = Emulator::start("deploy_fresh");
    let dir = tempfile::tempdir().expect("temp dir");
    let outputs_file = dir.path().join("outputs.json");
    let output = deploy(
        &emulator,
        &[
            "--output",
            "json",
            "--outputs-file",
            &outputs_file.display().to_string(),
        ],
    );

    // --output json: one JSON object per line, events then a summary.
    let lines: Vec<Value> = stdout_of(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "events expected");
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["result"], "ok");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|e| e["type"] == "event")
    );

    check_stacks_and_stack_sets(&emulator).await;
    check_buckets_and_replication(&emulator).await;
    check_tables_and_state(&emulator).await;
    check_site(&emulator).await;
    check_replicas(&emulator).await;
    check_object_replication(&emulator).await;
    check_edge(&emulator).await;
    check_nothing_unverified(summary);
    // No region's account settings named a CloudWatch Logs role: the
    // bootstrap stack made one and mraa named it in both.
    let ours = format!("arn:aws:iam::{ACCOUNT}:role/mraa-{APP}-apigw-logs");
    assert_eq!(
        logging_roles(&emulator).await,
        [Some(ours.clone()), Some(ours)]
    );
    let role = emulator
        .cloudformation(PRIMARY)
        .describe_stack_resource()
        .stack_name(format!("mraa-{APP}-bootstrap"))
        .logical_resource_id("ApiGatewayLogsRole")
        .send()
        .await
        .expect("the bootstrap stack holds the logging role");
    assert_eq!(
        role.stack_resource_detail()
            .and_then(|d| d.physical_resource_id()),
        Some(format!("mraa-{APP}-apigw-logs").as_str())
    );

    // --outputs-file holds the endpoints.
    let endpoints: Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs_file).expect("outputs file"))
            .expect("outputs file is JSON");
    for region in [PRIMARY, SECONDARY] {
        let r = &endpoints["regions"][region];
        assert!(
            r["api_url"].as_str().is_some_and(|u| u.contains(region)),
            "{r}"
        );
        assert!(
            r["state_url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/prod/state/mraa")),
            "{r}"
        );
        assert_eq!(
            r["object_bucket"],
            format!("mraa-{APP}-objects-{ACCOUNT}-{region}").as_str()
        );
    }
}

async fn check_stacks_and_stack_sets(emulator: &Emulator) {
    let cfn = emulator.cloudformation(PRIMARY);
    for unit in ["bootstrap", "edge"] {
        let name = format!("mraa-{APP}-{unit}");
        let stacks = cfn
            .describe_stacks()
            .stack_name(&name)
            .send()
            .await
            .expect("stack");
        let status = stacks.stacks()[0]
            .stack_status()
            .map(|s| s.as_str().to_string());
        assert_eq!(status.as_deref(), Some("CREATE_COMPLETE"), "{name}");
    }
    for unit in STACK_SET_UNITS {
        let name = format!("mraa-{APP}-{unit}");
        assert_eq!(
            emulator.stack_set_regions(&name).await,
            [SECONDARY, PRIMARY],
            "{name}"
        );
        for region in [PRIMARY, SECONDARY] {
            assert_eq!(
                emulator
                    .instance_stack_status(region, &name)
                    .await
                    .as_deref(),
                Some("CREATE_COMPLETE"),
                "{name} in {region}"
            );
        }
    }
}

async fn check_buckets_and_replication(emulator: &Emulator) {
    for region in [PRIMARY, SECONDARY] {
        let bucket = format!("mraa-{APP}-objects-{ACCOUNT}-{region}");
        // The SDK cannot parse this emulator's GetBucketVersioning body; the
        // raw S3 answer is checked instead.
        let versioning = emulator.get(&format!("/{bucket}?versioning"));
        assert!(
            versioning.contains("<Status>Enabled</Status>"),
            "{bucket}: {versioning}"
        );
    }
    let source = format!("mraa-{APP}-objects-{ACCOUNT}-{PRIMARY}");
    let replication = emulator
        .s3(PRIMARY)
        .get_bucket_replication()
        .bucket(&source)
        .send()
        .await
        .expect("replication configuration");
    let config = replication
        .replication_configuration()
        .expect("configuration");
    assert_eq!(
        config.role(),
        format!("arn:aws:iam::{ACCOUNT}:role/mraa-{APP}-replication-{PRIMARY}")
    );
    let rule = &config.rules()[0];
    let destination = rule.destination().expect("destination");
    assert_eq!(
        destination.bucket(),
        format!("arn:aws:s3:::mraa-{APP}-objects-{ACCOUNT}-{SECONDARY}")
    );
    assert_eq!(
        destination.replication_time().map(|t| t.status().as_str()),
        Some("Enabled"),
        "Replication Time Control"
    );
    // Read back as stored: delete markers are replicated too.
    assert_eq!(
        rule.delete_marker_replication()
            .and_then(|d| d.status())
            .map(|s| s.as_str()),
        Some("Enabled")
    );
}

async fn check_tables_and_state(emulator: &Emulator) {
    let dynamodb = emulator.dynamodb(PRIMARY);
    // No users table: users are replicated by Cognito (tests/emulator/users.rs).
    for table in ["comments", "app-config"] {
        let name = format!("mraa-{APP}-{table}");
        let described = dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .expect(&name);
        let table = described.table().expect("table");
        assert_eq!(
            table.table_status().map(|s| s.as_str()),
            Some("ACTIVE"),
            "{name}"
        );
        assert_eq!(
            table
                .stream_specification()
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str()),
            Some("NEW_AND_OLD_IMAGES"),
            "{name} is ready for global tables"
        );
    }
    let item = emulator.state_item(PRIMARY, APP).await;
    let state = item
        .as_ref()
        .and_then(|i| i.get("state"))
        .and_then(|v| v.as_s().ok());
    assert_eq!(state.map(String::as_str), Some("active"));
}

async fn check_site(emulator: &Emulator) {
    for region in [PRIMARY, SECONDARY] {
        let s3 = emulator.s3(region);
        let bucket = format!("mraa-{APP}-website-{ACCOUNT}-{region}");
        let index = s3
            .get_object()
            .bucket(&bucket)
            .key("index.html")
            .send()
            .await
            .expect("index.html");
        assert_eq!(index.content_type(), Some("text/html; charset=utf-8"));
        let script = s3
            .head_object()
            .bucket(&bucket)
            .key("app.js")
            .send()
            .await
            .expect("app.js");
        assert_eq!(
            script.content_type(),
            Some("text/javascript; charset=utf-8")
        );
        let config = s3
            .get_object()
            .bucket(&bucket)
            .key("config.json")
            .send()
            .await
            .expect("config.json");
        assert_eq!(config.content_type(), Some("application/json"));
        let body = config.body.collect().await.expect("body").into_bytes();
        let config: Value = serde_json::from_slice(&body).expect("config.json is JSON");
        assert_eq!(config["primaryRegion"], PRIMARY);
        for named in [PRIMARY, SECONDARY] {
            let endpoints = &config["regions"][named];
            assert!(
                endpoints["apiUrl"]
                    .as_str()
                    .is_some_and(|u| u.contains(named)),
                "{config}"
            );
            assert!(
                endpoints["stateUrl"]
                    .as_str()
                    .is_some_and(|u| u.contains(named)),
                "{config}"
            );
        }
    }
}

/// The emulator shows every step of a deploy: none is unverified.
fn check_nothing_unverified(summary: &Value) {
    let unverified = summary["unverified"].as_array().expect("unverified list");
    assert!(unverified.is_empty(), "{summary}");
    for step in summary["steps"].as_array().expect("steps") {
        for check in step["checks"].as_array().expect("checks") {
            assert_eq!(check["status"], "ok", "{step}");
        }
    }
}

/// Each global table's replica: ACTIVE as the primary lists it, a protected
/// table in the secondary, holding what is written in the primary.
async fn check_replicas(emulator: &Emulator) {
    let (primary, secondary) = (emulator.dynamodb(PRIMARY), emulator.dynamodb(SECONDARY));
    for table in ["comments", "app-config"] {
        let name = format!("mraa-{APP}-{table}");
        let described = primary
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .expect(&name);
        let replicas: Vec<_> = described
            .table()
            .map(|t| t.replicas())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r.region_name().unwrap_or_default().to_string(),
                    r.replica_status().map(|s| s.as_str().to_string()),
                )
            })
            .collect();
        assert_eq!(
            replicas,
            [(SECONDARY.to_string(), Some("ACTIVE".to_string()))],
            "{name}"
        );
        let replica = secondary
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name} in {SECONDARY}: {e:?}"));
        let replica = replica.table().expect("replica table");
        assert_eq!(replica.table_status().map(|s| s.as_str()), Some("ACTIVE"));
        assert_eq!(replica.deletion_protection_enabled(), Some(true), "{name}");
    }
    // The state item seeded in the primary is read in the secondary.
    let item = emulator.state_item(SECONDARY, APP).await;
    let state = item.as_ref().and_then(|i| i.get("state"));
    assert_eq!(
        state.and_then(|v| v.as_s().ok()).map(String::as_str),
        Some("active")
    );
}

/// A new object in the primary bucket is copied to the secondary, and S3
/// says so on both sides.
async fn check_object_replication(emulator: &Emulator) {
    let source = format!("mraa-{APP}-objects-{ACCOUNT}-{PRIMARY}");
    let target = format!("mraa-{APP}-objects-{ACCOUNT}-{SECONDARY}");
    let key = "photos/replicated.jpg";
    emulator
        .s3(PRIMARY)
        .put_object()
        .bucket(&source)
        .key(key)
        .body(b"photo".to_vec().into())
        .send()
        .await
        .expect("put a photo");
    // S3's replication status of the key: REPLICA on the copy, COMPLETED on
    // the original.
    for (region, bucket, status) in [
        (SECONDARY, &target, "REPLICA"),
        (PRIMARY, &source, "COMPLETED"),
    ] {
        let head = emulator
            .s3(region)
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key} in {bucket}: {e:?}"));
        assert_eq!(
            head.replication_status().map(|s| s.as_str()),
            Some(status),
            "{bucket}"
        );
    }
}

/// The distribution the edge stack made: its default behaviour targets an
/// origin group over both website buckets, and each bucket's policy admits
/// that distribution only.
async fn check_edge(emulator: &Emulator) {
    let edge = emulator
        .cloudformation(PRIMARY)
        .describe_stacks()
        .stack_name(format!("mraa-{APP}-edge"))
        .send()
        .await
        .expect("edge stack");
    let id = edge.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("DistributionId"))
        .and_then(|o| o.output_value())
        .expect("a DistributionId output")
        .to_string();
    let cloudfront = aws_sdk_cloudfront::Client::new(&emulator.sdk_config("us-east-1"));
    let out = cloudfront
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect("the distribution");
    let config = out
        .distribution()
        .and_then(|d| d.distribution_config())
        .expect("its configuration");
    let target = config
        .default_cache_behavior()
        .map(|b| b.target_origin_id())
        .unwrap_or_default();
    let group = config
        .origin_groups()
        .map(|g| g.items())
        .unwrap_or_default()
        .iter()
        .find(|g| g.id() == target)
        .unwrap_or_else(|| panic!("the default behaviour targets {target}, no origin group"));
    let members: Vec<&str> = group
        .members()
        .map(|m| m.items().iter().map(|i| i.origin_id()).collect())
        .unwrap_or_default();
    let domains: Vec<&str> = config
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .filter(|o| members.contains(&o.id()))
        .map(|o| o.domain_name())
        .collect();
    for region in [PRIMARY, SECONDARY] {
        let bucket = format!("mraa-{APP}-website-{ACCOUNT}-{region}");
        assert!(
            domains.iter().any(|d| d.starts_with(&format!("{bucket}."))),
            "{bucket} in the origin group: {domains:?}"
        );
        let policy = emulator
            .s3(region)
            .get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .expect("website bucket policy");
        let policy = policy.policy().unwrap_or_default();
        assert!(
            policy.contains(&format!("distribution/{id}"))
                && policy.contains("cloudfront.amazonaws.com"),
            "{bucket}: {policy}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redeploy_without_changes_makes_no_mutating_call() {
    let emulator = Emulator::start("deploy_noop");
    deploy(&emulator, &[]);
    emulator.start_recording();
    let output = deploy(&emulator, &[]);
    let calls = emulator.recorded_calls();
    assert!(
        stdout_of(&output).contains("no changes"),
        "{}",
        stdout_of(&output)
    );
    assert!(
        calls.len() > 10,
        "the redeploy reads the world: {} calls",
        calls.len()
    );
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(
        mutating.is_empty(),
        "mutating calls on a no-op redeploy: {mutating:#?}"
    );

    // Without a TTY, progress is one timestamped line per event on stderr.
    let stderr = stderr_of(&output);
    let events: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" unchanged"))
        .collect();
    assert!(events.len() >= 7, "{stderr}");
    // Each line starts with an RFC 3339 time with its zone:
    // `2026-12-07T20:28:36.303Z` (digits where the pattern has `d`).
    for line in events {
        let time = line.split(' ').next().unwrap_or_default();
        let pattern = "dddd-dd-ddTdd:dd:dd";
        let fits = time.len() > pattern.len()
            && time.chars().zip(pattern.chars()).all(|(c, p)| match p {
                'd' => c.is_ascii_digit(),
                p => c == p,
            });
        let zoned = time.ends_with('Z') || time[pattern.len()..].contains(['+', '-']);
        assert!(fits && zoned, "{line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_setting_redeploys_only_the_units_it_affects() {
    let emulator = Emulator::start("deploy_change");
    deploy(&emulator, &[]);
    let before = served_deployments(&emulator).await;
    emulator.start_recording();
    deploy(
        &emulator,
        &["--allowed-origin", "https://photos.example.com"],
    );
    let calls = emulator.recorded_calls();
    let mut mutating: Vec<String> = calls
        .iter()
        .filter(|c| c.is_mutating())
        .map(|c| match c.operation.as_str() {
            "" => format!("{} {} {}", c.service, c.method, path_of(&c.url)),
            operation => operation.to_string(),
        })
        .collect();
    mutating.sort();
    // The CORS origin is a parameter of routing and application only: the
    // plan shown first previews each of their four instance stacks with a
    // change set, deleted again; the run takes the app's lock (a stack)
    // before its first change and releases it at the end. Each updated API
    // is deployed to its stage again, in both regions: API Gateway serves
    // snapshots.
    assert_eq!(
        mutating,
        [
            "CreateChangeSet",
            "CreateChangeSet",
            "CreateChangeSet",
            "CreateChangeSet",
            "CreateStack",
            "DeleteChangeSet",
            "DeleteChangeSet",
            "DeleteChangeSet",
            "DeleteChangeSet",
            "DeleteStack",
            "UpdateStackSet",
            "UpdateStackSet",
            "apigateway POST /restapis/*/deployments",
            "apigateway POST /restapis/*/deployments",
            "apigateway POST /restapis/*/deployments",
            "apigateway POST /restapis/*/deployments",
        ],
        "{calls:#?}"
    );
    // Read through API Gateway: every stage now serves a new deployment
    // that says which run made it.
    let after = served_deployments(&emulator).await;
    assert_eq!(after.len(), 4, "{after:?}");
    for (api, (id, description)) in &after {
        let (old_id, _) = &before[api];
        assert_ne!(id, old_id, "{api} still serves {old_id}");
        assert!(
            description.starts_with(&format!("mraa {APP}: ")),
            "{api}: {description}"
        );
    }
    let cfn = emulator.cloudformation(PRIMARY);
    for (unit, expected) in [
        ("routing", "https://photos.example.com"),
        ("application", "https://photos.example.com"),
    ] {
        let set = cfn
            .describe_stack_set()
            .stack_set_name(format!("mraa-{APP}-{unit}"))
            .send()
            .await
            .expect("stack set");
        let origin = set
            .stack_set()
            .map(|s| s.parameters())
            .unwrap_or_default()
            .iter()
            .find(|p| p.parameter_key() == Some("AllowedOrigin"))
            .and_then(|p| p.parameter_value());
        assert_eq!(origin, Some(expected), "{unit}");
    }
}

/// Data a teardown kept is adopted (tests/emulator/adopt.rs), but only the
/// app's own: a kept table whose `mraa:app` tag names another app is refused
/// with its name, before any change.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_over_kept_data_of_another_app_refuses_before_any_change() {
    let emulator = Emulator::start("deploy_over_kept_data");
    deploy(&emulator, &[]);
    let mut env = emulator.env_in(PRIMARY);
    env.push(("NO_COLOR".into(), "1".into()));
    let teardown = mraa(&["teardown", "--yes"], &env, None);
    assert_eq!(teardown.status.code(), Some(0), "{}", stderr_of(&teardown));
    let dynamodb = emulator.dynamodb(PRIMARY);
    let table = format!("mraa-{APP}-comments");
    let arn = dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe the kept table")
        .table()
        .and_then(|t| t.table_arn())
        .expect("table arn")
        .to_string();
    // Removed, then set: the emulator adds a second tag of the same key
    // where DynamoDB replaces it.
    dynamodb
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("mraa:app")
        .send()
        .await
        .expect("untag the table");
    dynamodb
        .tag_resource()
        .resource_arn(arn)
        .tags(
            aws_sdk_dynamodb::types::Tag::builder()
                .key("mraa:app")
                .value("other")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("tag the table as another app's");

    emulator.start_recording();
    let again = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    let calls = emulator.recorded_calls();
    let stderr = stderr_of(&again);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("table {table} (its mraa:app tag is `other`)")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(mutating.is_empty(), "{mutating:#?}");
}

/// A user pool kept by `teardown` (without `--delete-data`): Cognito would
/// take a second pool of the same name, so deploy refuses instead, naming
/// the pool and the two ways forward, before any change.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_over_a_kept_user_pool_refuses_before_any_change() {
    let emulator = Emulator::start("deploy_over_kept_pool");
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator.sdk_config(SECONDARY));
    let kept = cognito
        .create_user_pool()
        .pool_name(format!("mraa-{APP}-users"))
        .user_pool_tags("mraa:app", APP)
        .send()
        .await
        .expect("create user pool");
    let id = kept.user_pool().and_then(|p| p.id()).expect("pool id");
    let mut env = emulator.env_in(PRIMARY);
    env.push(("NO_COLOR".into(), "1".into()));

    emulator.start_recording();
    let again = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    let calls = emulator.recorded_calls();
    let stderr = stderr_of(&again);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    for needle in [
        format!("user pool mraa-{APP}-users ({id}) in {SECONDARY}"),
        "deploy under another --app".to_string(),
        "mraa teardown --delete-data --yes".to_string(),
        "nothing was changed".to_string(),
    ] {
        assert!(stderr.contains(&needle), "{needle:?} in {stderr}");
    }
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(mutating.is_empty(), "{mutating:#?}");
}

/// Every REST API in both regions → the deployment its `prod` stage serves
/// (id, description), read through API Gateway.
async fn served_deployments(emulator: &Emulator) -> BTreeMap<String, (String, String)> {
    let mut served = BTreeMap::new();
    for region in [PRIMARY, SECONDARY] {
        let client = aws_sdk_apigateway::Client::new(&emulator.sdk_config(region));
        let apis = client.get_rest_apis().send().await.expect("list REST APIs");
        for api in apis.items() {
            let id = api.id().unwrap_or_default();
            let stage = client
                .get_stage()
                .rest_api_id(id)
                .stage_name("prod")
                .send()
                .await
                .expect("stage prod");
            let deployment = stage.deployment_id().unwrap_or_default().to_string();
            let description = client
                .get_deployment()
                .rest_api_id(id)
                .deployment_id(&deployment)
                .send()
                .await
                .expect("the stage's deployment")
                .description()
                .unwrap_or_default()
                .to_string();
            served.insert(format!("{region}/{id}"), (deployment, description));
        }
    }
    served
}

/// A REST call's path with ids as `*` (`/restapis/abc/deployments` →
/// `/restapis/*/deployments`).
fn path_of(url: &str) -> String {
    let path = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .enumerate()
        .map(|(i, part)| if i > 0 && i % 2 == 0 { "*" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// What API Gateway's account settings name as the CloudWatch Logs role,
/// primary then secondary.
async fn logging_roles(emulator: &Emulator) -> Vec<Option<String>> {
    let mut roles = Vec::new();
    for region in [PRIMARY, SECONDARY] {
        let account = aws_sdk_apigateway::Client::new(&emulator.sdk_config(region))
            .get_account()
            .send()
            .await
            .expect("API Gateway account settings");
        roles.push(account.cloudwatch_role_arn().map(str::to_string));
    }
    roles
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_logging_role_set_by_someone_else_is_used_not_replaced() {
    let emulator = Emulator::start("deploy_account_role");
    let theirs = format!("arn:aws:iam::{ACCOUNT}:role/their-apigw-logs");
    for region in [PRIMARY, SECONDARY] {
        aws_sdk_apigateway::Client::new(&emulator.sdk_config(region))
            .update_account()
            .patch_operations(
                aws_sdk_apigateway::types::PatchOperation::builder()
                    .op(aws_sdk_apigateway::types::Op::Replace)
                    .path("/cloudwatchRoleArn")
                    .value(&theirs)
                    .build(),
            )
            .send()
            .await
            .expect("set the account's own role");
    }
    deploy(&emulator, &[]);
    assert_eq!(
        logging_roles(&emulator).await,
        [Some(theirs.clone()), Some(theirs)]
    );
    let bootstrap = emulator
        .cloudformation(PRIMARY)
        .describe_stacks()
        .stack_name(format!("mraa-{APP}-bootstrap"))
        .send()
        .await
        .expect("bootstrap stack");
    let logging = bootstrap
        .stacks()
        .first()
        .map(|s| s.parameters())
        .unwrap_or_default()
        .iter()
        .find(|p| p.parameter_key() == Some("ApiGatewayLogging"))
        .and_then(|p| p.parameter_value())
        .map(str::to_string);
    assert_eq!(
        logging.as_deref(),
        Some("account-role"),
        "no role of mraa's"
    );
}

/// A full teardown keeps the logging role (the account settings still name
/// it); the next deployment uses it instead of failing to create it again.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_after_a_full_teardown_uses_the_retained_logging_role() {
    let emulator = Emulator::start("deploy_after_teardown");
    deploy(&emulator, &[]);
    let teardown = mraa(
        &["teardown", "--delete-data", "--yes"],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(teardown.status.code(), Some(0), "{}", stderr_of(&teardown));
    assert!(
        stdout_of(&teardown).contains(&format!("mraa-{APP}-apigw-logs")),
        "the kept role is named: {}",
        stdout_of(&teardown)
    );
    deploy(&emulator, &[]);
    let ours = format!("arn:aws:iam::{ACCOUNT}:role/mraa-{APP}-apigw-logs");
    assert_eq!(
        logging_roles(&emulator).await,
        [Some(ours.clone()), Some(ours)]
    );
}
