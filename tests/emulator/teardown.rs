//! `mraa teardown` against the emulator: the real binary after a real deploy,
//! and what is left checked through the services' own APIs afterwards.

use crate::support::proxy::{Action, Proxy};
use crate::support::{ACCOUNT, Emulator, json_lines, mraa, stderr_of, stdout_of, with_var};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const STACK_SETS: [&str; 5] = [
    "object-store",
    "kv-store",
    "routing",
    "frontend",
    "application",
];
// The global tables of a deployment whose users Cognito replicates.
const TABLES: [&str; 2] = ["comments", "app-config"];

/// The emulator's environment, calls going to `endpoint` (the emulator or a
/// proxy in front of it).
fn env(endpoint: &str, emulator: &Emulator) -> Vec<(String, String)> {
    with_var(emulator.env_in(PRIMARY), "AWS_ENDPOINT_URL", endpoint)
}

fn run(emulator: &Emulator, args: &[&str]) -> std::process::Output {
    mraa(args, &env(&emulator.endpoint, emulator), None)
}

fn expect_code(output: &std::process::Output, code: i32, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}:\nstdout:\n{}\nstderr:\n{}",
        stdout_of(output),
        stderr_of(output)
    );
}

fn deploy(emulator: &Emulator) {
    let output = run(emulator, &["deploy", "--secondary", SECONDARY]);
    expect_code(&output, 0, "deploy");
}

fn bucket(kind: &str, region: &str) -> String {
    format!("mraa-{APP}-{kind}-{ACCOUNT}-{region}")
}

/// Three objects with three versions each, a delete marker on one, and an
/// unfinished multipart upload, in both object-store buckets.
/// Photo versions and a delete marker in the primary, which replication
/// copies to the secondary; a multipart upload in progress in each.
async fn put_photos(emulator: &Emulator) {
    let s3 = emulator.s3(PRIMARY);
    let name = bucket("objects", PRIMARY);
    for key in ["photos/a.jpg", "photos/b.jpg", "photos/c.jpg"] {
        for version in 0..3 {
            s3.put_object()
                .bucket(&name)
                .key(key)
                .body(ByteStream::from(format!("{key} v{version}").into_bytes()))
                .send()
                .await
                .expect("put a photo version");
        }
    }
    s3.delete_object()
        .bucket(&name)
        .key("photos/a.jpg")
        .send()
        .await
        .expect("delete marker");
    for region in [PRIMARY, SECONDARY] {
        emulator
            .s3(region)
            .create_multipart_upload()
            .bucket(bucket("objects", region))
            .key("photos/big.jpg")
            .send()
            .await
            .expect("multipart upload");
    }
}

/// (object versions, delete markers, multipart uploads) of a bucket.
async fn contents(emulator: &Emulator, region: &str, name: &str) -> (usize, usize, usize) {
    let s3 = emulator.s3(region);
    let versions = s3
        .list_object_versions()
        .bucket(name)
        .send()
        .await
        .expect("list object versions");
    let uploads = s3
        .list_multipart_uploads()
        .bucket(name)
        .send()
        .await
        .expect("list multipart uploads");
    (
        versions.versions().len(),
        versions.delete_markers().len(),
        uploads.uploads().len(),
    )
}

/// The front end's user pool as AWS CloudFormation makes it (the emulator
/// skips Cognito resources in templates): named for the app, deletion
/// protection on, and tagged by the stack's tags when `tagged`.
async fn make_pool(emulator: &Emulator, region: &str, tagged: bool) -> String {
    use aws_sdk_cognitoidentityprovider::types::DeletionProtectionType;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator.sdk_config(region));
    let mut create = cognito
        .create_user_pool()
        .pool_name(format!("mraa-{APP}-users"))
        .deletion_protection(DeletionProtectionType::Active);
    if tagged {
        create = create.user_pool_tags("mraa:app", APP);
    }
    let pool = create.send().await.expect("create user pool");
    pool.user_pool()
        .and_then(|p| p.id())
        .expect("pool id")
        .to_string()
}

/// Everything of the app that exists, by kind, read through the SDK.
#[derive(Debug, Default)]
pub(crate) struct Left {
    pub(crate) pools: Vec<String>,
    pub(crate) stacks: Vec<String>,
    pub(crate) stack_sets: Vec<String>,
    pub(crate) buckets: Vec<String>,
    pub(crate) tables: Vec<String>,
    pub(crate) distributions: Vec<String>,
}

pub(crate) async fn what_is_left(emulator: &Emulator) -> Left {
    let mut left = Left::default();
    let ours = |name: &str| {
        name.starts_with(&format!("mraa-{APP}-"))
            || name.starts_with(&format!("StackSet:mraa-{APP}-"))
            || name.starts_with(&format!("StackSet-mraa-{APP}-"))
    };
    for region in [PRIMARY, SECONDARY] {
        let cfn = emulator.cloudformation(region);
        let stacks = cfn.list_stacks().send().await.expect("list stacks");
        for stack in stacks.stack_summaries() {
            let name = stack.stack_name().unwrap_or_default();
            let status = stack.stack_status().map(|s| s.as_str()).unwrap_or_default();
            if ours(name) && status != "DELETE_COMPLETE" {
                left.stacks.push(format!("{name} ({region}, {status})"));
            }
        }
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator.sdk_config(region));
        let pools = cognito
            .list_user_pools()
            .max_results(60)
            .send()
            .await
            .expect("list user pools");
        for pool in pools.user_pools() {
            if pool.name().is_some_and(ours) {
                left.pools
                    .push(format!("{} ({region})", pool.id().unwrap_or_default()));
            }
        }
        let dynamodb = emulator.dynamodb(region);
        let tables = dynamodb.list_tables().send().await.expect("list tables");
        for table in tables.table_names() {
            if ours(table) {
                left.tables.push(format!("{table} ({region})"));
            }
        }
    }
    let cfn = emulator.cloudformation(PRIMARY);
    for unit in STACK_SETS {
        let name = format!("mraa-{APP}-{unit}");
        if let Ok(out) = cfn.describe_stack_set().stack_set_name(&name).send().await
            && out
                .stack_set()
                .and_then(|s| s.status())
                .is_some_and(|s| s.as_str() != "DELETED")
        {
            left.stack_sets.push(name);
        }
    }
    // The emulator lists every region's buckets in every region.
    let buckets = emulator
        .s3(PRIMARY)
        .list_buckets()
        .send()
        .await
        .expect("list buckets");
    left.buckets = buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .filter(|n| ours(n))
        .map(str::to_string)
        .collect();
    left.buckets.sort();
    let cloudfront = aws_sdk_cloudfront::Client::new(&emulator.sdk_config(PRIMARY));
    let distributions = cloudfront
        .list_distributions()
        .send()
        .await
        .expect("list distributions");
    left.distributions = distributions
        .distribution_list()
        .map(|l| l.items())
        .unwrap_or_default()
        .iter()
        .filter(|d| d.comment().contains(&format!("mraa {APP}")))
        .map(|d| d.id().to_string())
        .collect();
    left
}

fn names_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_data_leaves_nothing_of_the_app_in_either_region() {
    let emulator = Emulator::start("teardown_delete_data");
    deploy(&emulator);
    put_photos(&emulator).await;
    assert_eq!(
        contents(&emulator, PRIMARY, &bucket("objects", PRIMARY)).await,
        (9, 1, 1)
    );
    let pools = [
        make_pool(&emulator, PRIMARY, true).await,
        make_pool(&emulator, SECONDARY, true).await,
    ];

    let output = run(
        &emulator,
        &["teardown", "--delete-data", "--yes", "--output", "json"],
    );
    expect_code(&output, 0, "teardown --delete-data");
    let lines = json_lines(&output);
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(summary["result"], "ok", "{summary}");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|e| e["type"] == "event")
    );
    assert_eq!(summary["failed"], serde_json::json!([]), "{summary}");
    let deleted = names_of(&summary["deleted"]);
    for region in [PRIMARY, SECONDARY] {
        for kind in ["objects", "logs", "website"] {
            assert!(deleted.contains(&bucket(kind, region)), "{deleted:?}");
        }
    }
    for unit in ["bootstrap", "edge"] {
        assert!(
            deleted.contains(&format!("mraa-{APP}-{unit}")),
            "{deleted:?}"
        );
    }
    for pool in &pools {
        assert!(deleted.contains(pool), "{deleted:?}");
    }
    // The object bucket's count covers every version and the delete marker.
    let objects = summary["deleted"]
        .as_array()
        .expect("deleted")
        .iter()
        .find(|i| i["kind"] == "bucket" && i["name"] == bucket("objects", PRIMARY).as_str())
        .expect("the primary object bucket");
    assert!(
        objects["detail"]
            .as_str()
            .is_some_and(|d| d.contains("10 object versions")),
        "{objects}"
    );
    // The distribution and the replicas the deploy made are gone too, each
    // seen gone; nothing is left unverified.
    let unverified = summary["unverified"].as_array().expect("unverified");
    assert!(unverified.is_empty(), "{summary}");
    let kinds: Vec<&str> = summary["deleted"]
        .as_array()
        .expect("deleted")
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"distribution"), "{summary}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "replica").count(),
        TABLES.len(),
        "{summary}"
    );

    let left = what_is_left(&emulator).await;
    assert!(left.stacks.is_empty(), "{left:?}");
    assert!(left.stack_sets.is_empty(), "{left:?}");
    assert!(left.buckets.is_empty(), "{left:?}");
    assert!(left.tables.is_empty(), "{left:?}");
    assert!(left.distributions.is_empty(), "{left:?}");
    assert!(left.pools.is_empty(), "{left:?}");

    // Again: nothing left to do.
    let again = run(&emulator, &["teardown", "--delete-data", "--yes"]);
    expect_code(&again, 0, "second teardown");
    assert!(
        stdout_of(&again).contains(&format!("nothing to tear down for app {APP}")),
        "{}",
        stdout_of(&again)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_delete_data_exactly_the_data_stores_remain_intact() {
    let emulator = Emulator::start("teardown_keep_data");
    deploy(&emulator);
    put_photos(&emulator).await;
    let pool = make_pool(&emulator, PRIMARY, true).await;

    let output = run(&emulator, &["teardown", "--yes"]);
    expect_code(&output, 0, "teardown");
    let stdout = stdout_of(&output);
    let command = format!(
        "mraa teardown --delete-data --yes --app {APP} --primary {PRIMARY} --secondary {SECONDARY}"
    );
    assert!(stdout.contains(&command), "{stdout}");
    for region in [PRIMARY, SECONDARY] {
        for kind in ["objects", "logs"] {
            let name = bucket(kind, region);
            assert!(
                stdout
                    .lines()
                    .any(|l| l.trim_start().starts_with("kept") && l.contains(&name)),
                "{name} listed as kept: {stdout}"
            );
        }
    }
    for name in TABLES
        .iter()
        .map(|t| format!("mraa-{APP}-{t}"))
        .chain([pool.clone()])
    {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with("kept") && l.contains(&name)),
            "{name}: {stdout}"
        );
    }

    // The users key stays with the pool it encrypts, and says how to go.
    assert!(
        stdout.lines().any(|l| l.trim_start().starts_with("kept")
            && l.contains("kms-key")
            && l.contains("mrk-")),
        "the users key listed as kept: {stdout}"
    );

    // Exactly the data stores remain, their contents intact.
    let left = what_is_left(&emulator).await;
    assert!(left.stacks.is_empty(), "{left:?}");
    assert!(left.stack_sets.is_empty(), "{left:?}");
    let mut expected: Vec<String> = [PRIMARY, SECONDARY]
        .iter()
        .flat_map(|r| [bucket("objects", r), bucket("logs", r)])
        .collect();
    expected.sort();
    assert_eq!(left.buckets, expected);
    // Each table and its replica.
    let mut tables: Vec<String> = TABLES
        .iter()
        .flat_map(|t| [PRIMARY, SECONDARY].map(|r| format!("mraa-{APP}-{t} ({r})")))
        .collect();
    tables.sort();
    let mut found = left.tables.clone();
    found.sort();
    assert_eq!(found, tables);
    // The test's pool, and the front end's pool in each region, with its users.
    assert!(
        left.pools.contains(&format!("{pool} ({PRIMARY})")),
        "{left:?}"
    );
    for (region, count) in [(PRIMARY, 2), (SECONDARY, 1)] {
        let here = left
            .pools
            .iter()
            .filter(|p| p.ends_with(&format!("({region})")));
        assert_eq!(here.count(), count, "{left:?}");
    }
    for region in [PRIMARY, SECONDARY] {
        assert_eq!(
            contents(&emulator, region, &bucket("objects", region)).await,
            (9, 1, 1),
            "{region}"
        );
    }
    assert!(
        emulator.state_item(PRIMARY, APP).await.is_some(),
        "the state item is kept"
    );
    // Replication is wiring, not data: removed with the object store's role.
    let replication = emulator
        .s3(PRIMARY)
        .get_bucket_replication()
        .bucket(bucket("objects", PRIMARY))
        .send()
        .await;
    assert!(replication.is_err(), "{replication:?}");

    // A re-run (the bootstrap record is gone) finds the kept data in both
    // regions and has nothing to do.
    let again = run(&emulator, &["teardown", "--yes"]);
    expect_code(&again, 0, "second teardown");
    let again_out = stdout_of(&again);
    assert!(
        again_out.contains(&format!("nothing to tear down for app {APP}")),
        "{again_out}"
    );
    assert!(again_out.contains(&command), "{again_out}");

    // The printed command removes the rest.
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let delete = run(&emulator, &args);
    expect_code(&delete, 0, "the printed --delete-data command");
    // With the bootstrap stack gone, the users key (read from the pool it
    // encrypts) and the logs role (read from API Gateway's account
    // settings) are still named, with what to do about them.
    let key = stdout
        .split_whitespace()
        .find(|w| w.starts_with("mrk-"))
        .expect("the first teardown named the users key")
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
    let deleted_out = stdout_of(&delete);
    assert!(
        deleted_out.lines().any(|l| l.contains("kms-key")
            && l.contains(key)
            && l.contains("schedule-key-deletion")),
        "the users key {key} named after the bootstrap stack went:\n{deleted_out}"
    );
    let role = format!("mraa-{APP}-apigw-logs");
    assert!(
        deleted_out
            .lines()
            .any(|l| l.contains("iam-role") && l.contains(&role)),
        "the logs role named after the bootstrap stack went:\n{deleted_out}"
    );
    // As API Gateway has it: its account settings name that role.
    let account = aws_sdk_apigateway::Client::new(&emulator.sdk_config(PRIMARY))
        .get_account()
        .send()
        .await
        .expect("API Gateway's account settings");
    assert!(
        account
            .cloudwatch_role_arn()
            .is_some_and(|arn| arn.ends_with(&format!(":role/{role}"))),
        "{account:?}"
    );
    let left = what_is_left(&emulator).await;
    assert!(left.buckets.is_empty(), "{left:?}");
    assert!(left.tables.is_empty(), "{left:?}");
    assert!(left.stacks.is_empty(), "{left:?}");
    assert!(left.pools.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teardown_stopped_by_an_unreachable_region_finishes_when_run_again() {
    let emulator = Emulator::start("teardown_interrupted");
    deploy(&emulator);
    put_photos(&emulator).await;

    // Once the edge stack is being deleted, the secondary stops answering.
    let proxy = Proxy::start(emulator.port);
    let blocked = proxy.blocked();
    proxy.set_hook(move |request| {
        let body = String::from_utf8_lossy(&request.body);
        if request.operation() == "DeleteStack" && body.contains(&format!("mraa-{APP}-edge")) {
            blocked
                .lock()
                .expect("blocked regions")
                .insert(SECONDARY.to_string());
        }
        Action::Forward
    });
    let output = mraa(
        &["teardown", "--delete-data", "--yes"],
        &env(&proxy.endpoint, &emulator),
        None,
    );
    // Exit code 4: a region did not answer.
    expect_code(&output, 4, "teardown with the secondary down");
    let stderr = stderr_of(&output);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("an error line: {stderr}"));
    assert!(
        error.contains(SECONDARY) && error.contains("does not answer"),
        "{error}"
    );
    assert!(
        stderr.contains("next: ") && stderr.contains("mraa teardown --delete-data --yes"),
        "{stderr}"
    );
    // Stopped half-way: the edge is gone, the layers and the record are not.
    let half = what_is_left(&emulator).await;
    assert!(!half.stacks.iter().any(|s| s.contains("-edge")), "{half:?}");
    assert!(
        half.stacks.iter().any(|s| s.contains("-bootstrap")),
        "{half:?}"
    );
    assert_eq!(half.stack_sets.len(), 5, "{half:?}");

    // The region answers again: the same command finishes the job.
    proxy.unblock(SECONDARY);
    proxy.clear_hook();
    let rerun = mraa(
        &["teardown", "--delete-data", "--yes"],
        &env(&proxy.endpoint, &emulator),
        None,
    );
    expect_code(&rerun, 0, "re-run");
    let left = what_is_left(&emulator).await;
    assert!(left.stacks.is_empty(), "{left:?}");
    assert!(left.stack_sets.is_empty(), "{left:?}");
    assert!(left.buckets.is_empty(), "{left:?}");
    assert!(left.tables.is_empty(), "{left:?}");

    let clean = run(&emulator, &["teardown", "--yes"]);
    expect_code(&clean, 0, "teardown of a clean account");
    assert!(
        stdout_of(&clean).contains(&format!("nothing to tear down for app {APP}")),
        "{}",
        stdout_of(&clean)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_or_yes_it_refuses_and_changes_nothing() {
    let emulator = Emulator::start("teardown_refuse");
    deploy(&emulator);
    emulator.start_recording();
    let output = run(&emulator, &["teardown", "--delete-data"]);
    let calls = emulator.recorded_calls();
    expect_code(&output, 2, "teardown without --yes");
    let stderr = stderr_of(&output);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", stderr_of(&output));
    assert!(errors[0].contains("--yes"), "{}", errors[0]);
    // The plan was shown: what would go and what would stay.
    assert!(
        stderr_of(&output).contains(&format!("delete  stack mraa-{APP}-bootstrap")),
        "{}",
        stderr_of(&output)
    );
    assert!(calls.len() > 10, "it read the world: {} calls", calls.len());
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(mutating.is_empty(), "mutating calls: {mutating:#?}");

    // In JSON, the refusal is a summary too.
    let json = run(&emulator, &["teardown", "--output", "json"]);
    expect_code(&json, 2, "teardown --output json without --yes");
    let summary = json_lines(&json).pop().expect("a summary");
    assert_eq!(summary["result"], "refused", "{summary}");
    assert!(
        names_of(&summary["planned"]["keep"]).contains(&bucket("objects", PRIMARY)),
        "{summary}"
    );
    let left = what_is_left(&emulator).await;
    assert_eq!(left.stack_sets.len(), 5, "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_account_has_nothing_to_tear_down() {
    let emulator = Emulator::start("teardown_clean");
    let output = run(&emulator, &["teardown", "--delete-data"]);
    expect_code(&output, 0, "teardown of a clean account");
    assert!(
        stdout_of(&output).contains(&format!("nothing to tear down for app {APP}")),
        "{}",
        stdout_of(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn same_named_stores_without_the_app_tag_are_refused_not_deleted() {
    let emulator = Emulator::start("teardown_foreign");
    let s3 = emulator.s3(PRIMARY);
    let name = bucket("objects", PRIMARY);
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    s3.put_object()
        .bucket(&name)
        .key("theirs.txt")
        .body(ByteStream::from_static(b"not mraa's"))
        .send()
        .await
        .expect("put object");
    let dynamodb = emulator.dynamodb(PRIMARY);
    let table = format!("mraa-{APP}-comments");
    dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("commentId")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("commentId")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create table");
    let pool = make_pool(&emulator, PRIMARY, false).await;

    let output = run(&emulator, &["teardown", "--delete-data", "--yes"]);
    expect_code(&output, 1, "teardown with foreign stores");
    let stdout = stdout_of(&output);
    for refused in [&name, &table, &pool] {
        assert!(
            stdout.lines().any(|l| l.contains("failed")
                && l.contains(refused.as_str())
                && l.contains("refused")),
            "{refused}: {stdout}"
        );
    }
    assert!(
        stdout.contains("mraa:app"),
        "the reason names the tag: {stdout}"
    );
    let left = what_is_left(&emulator).await;
    assert_eq!(left.buckets, vec![name.clone()]);
    assert_eq!(left.tables, [format!("{table} ({PRIMARY})")]);
    assert_eq!(left.pools, [format!("{pool} ({PRIMARY})")]);
    let object = s3.get_object().bucket(&name).key("theirs.txt").send().await;
    assert!(object.is_ok(), "their object is untouched");
}

// ---------------------------------------------------------------------------
// The custom domain's certificate and its ACM validation record
// ---------------------------------------------------------------------------

/// Not us-east-1: the site certificate's stack is then in a third region.
const DOMAIN_PRIMARY: &str = "eu-west-1";
const DOMAIN: &str = "app.example.test";
const CERTIFICATE_STACK: &str = "mraa-mraa-site-certificate";

fn domain_env(endpoint: &str, emulator: &Emulator) -> Vec<(String, String)> {
    with_var(env(endpoint, emulator), "AWS_REGION", DOMAIN_PRIMARY)
}

/// Every record set of the zone, as comparable text.
async fn zone_records(emulator: &Emulator, zone: &str) -> Vec<String> {
    let out = emulator
        .route53()
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("list the zone's records");
    let mut records: Vec<String> = out
        .resource_record_sets()
        .iter()
        .map(|r| {
            let values: Vec<&str> = r.resource_records().iter().map(|v| v.value()).collect();
            format!("{} {} {values:?}", r.name(), r.r#type().as_str())
        })
        .collect();
    records.sort();
    records
}

/// The certificates for `name` in `region`.
async fn certificates_for(emulator: &Emulator, region: &str, name: &str) -> Vec<String> {
    let listed = emulator
        .acm(region)
        .list_certificates()
        .send()
        .await
        .expect("list certificates");
    listed
        .certificate_summary_list()
        .iter()
        .filter(|c| c.domain_name() == Some(name))
        .filter_map(|c| c.certificate_arn().map(str::to_string))
        .collect()
}

/// The site-certificate stack as deploy makes it: CloudFormation (the
/// emulator's model of it) requests the certificate and writes its
/// validation record into the zone.
async fn certificate_stack(emulator: &Emulator, zone: &str) {
    use aws_sdk_cloudformation::types::{Parameter, Tag};
    let template = std::fs::read_to_string(
        crate::support::repo_root().join("templates/site-certificate.yaml"),
    )
    .expect("the site-certificate template");
    let parameter = |k: &str, v: &str| {
        Parameter::builder()
            .parameter_key(k)
            .parameter_value(v)
            .build()
    };
    emulator
        .cloudformation("us-east-1")
        .create_stack()
        .stack_name(CERTIFICATE_STACK)
        .template_body(template)
        .parameters(parameter("AppName", APP))
        .parameters(parameter("PrimaryRegion", DOMAIN_PRIMARY))
        .parameters(parameter("SecondaryRegion", SECONDARY))
        .parameters(parameter("SiteDomain", DOMAIN))
        .parameters(parameter("HostedZoneId", zone))
        .tags(Tag::builder().key("mraa:app").value(APP).build())
        .send()
        .await
        .expect("create the site-certificate stack");
}

async fn certificate_stack_status(emulator: &Emulator) -> Option<String> {
    let out = emulator
        .cloudformation("us-east-1")
        .describe_stacks()
        .stack_name(CERTIFICATE_STACK)
        .send()
        .await
        .ok()?;
    out.stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map(|s| s.as_str().to_string())
        .filter(|s| s != "DELETE_COMPLETE")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_validation_record_goes_with_the_certificate_unless_another_needs_it() {
    let emulator = Emulator::start("teardown_certificates");
    let r53 = emulator.route53();
    let zone = r53
        .create_hosted_zone()
        .name(DOMAIN)
        .caller_reference("teardown-certificates")
        .send()
        .await
        .expect("create the hosted zone")
        .hosted_zone()
        .expect("a zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let before = zone_records(&emulator, &zone).await;

    // Someone else's certificate, in the deployment's secondary region: a
    // wildcard validates through its base name's record, the one mraa's
    // certificate asks for.
    let theirs = emulator
        .acm(SECONDARY)
        .request_certificate()
        .domain_name(format!("*.{DOMAIN}"))
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .send()
        .await
        .expect("request their certificate")
        .certificate_arn()
        .expect("an ARN")
        .to_string();
    certificate_stack(&emulator, &zone).await;
    let with_record = zone_records(&emulator, &zone).await;
    assert_eq!(with_record.len(), before.len() + 1, "{with_record:?}");
    let record = with_record
        .iter()
        .find(|r| !before.contains(r))
        .and_then(|r| r.split(' ').next())
        .expect("the validation record")
        .trim_end_matches('.')
        .to_string();

    let run_teardown = |endpoint: &str| {
        mraa(
            &[
                "teardown",
                "--secondary",
                SECONDARY,
                "--yes",
                "--output",
                "json",
            ],
            &domain_env(endpoint, &emulator),
            None,
        )
    };
    let output = run_teardown(&emulator.endpoint);
    expect_code(&output, 0, "teardown with a shared validation record");
    let summary = json_lines(&output).pop().expect("a summary");
    assert!(
        names_of(&summary["deleted"]).contains(&CERTIFICATE_STACK.to_string()),
        "{summary}"
    );
    let kept = summary["kept"]
        .as_array()
        .expect("kept")
        .iter()
        .find(|i| i["kind"] == "validation-record")
        .unwrap_or_else(|| panic!("the shared record is listed as kept: {summary}"));
    assert_eq!(kept["name"], record.as_str(), "{kept}");
    assert!(
        kept["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&theirs) && d.contains("renew")),
        "{kept}"
    );
    assert_eq!(certificate_stack_status(&emulator).await, None);
    assert!(
        certificates_for(&emulator, "us-east-1", DOMAIN)
            .await
            .is_empty()
    );
    assert_eq!(zone_records(&emulator, &zone).await, with_record);
    assert_eq!(
        certificates_for(&emulator, SECONDARY, &format!("*.{DOMAIN}")).await,
        std::slice::from_ref(&theirs)
    );

    // Theirs is gone; mraa's certificate is made again. A teardown stopped
    // before the certificate's stack has already deleted the record (while
    // the certificate still names it), and the same command finishes.
    emulator
        .acm(SECONDARY)
        .delete_certificate()
        .certificate_arn(&theirs)
        .send()
        .await
        .expect("delete their certificate");
    certificate_stack(&emulator, &zone).await;
    assert_eq!(zone_records(&emulator, &zone).await, with_record);
    let proxy = Proxy::start(emulator.port);
    proxy.set_hook(|request| {
        let body = String::from_utf8_lossy(&request.body);
        if request.operation() == "DeleteStack" && body.contains(CERTIFICATE_STACK) {
            Action::Respond {
                status: 403,
                headers: vec![("Content-Type".into(), "text/xml".into())],
                body: "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                       <Message>not now</Message></Error></ErrorResponse>"
                    .into(),
            }
        } else {
            Action::Forward
        }
    });
    let stopped = run_teardown(&proxy.endpoint);
    // AccessDenied is the access exit code (5), not a plain failure.
    expect_code(
        &stopped,
        5,
        "teardown refused the certificate stack's deletion",
    );
    let summary = json_lines(&stopped).pop().expect("a summary");
    assert!(
        summary["deleted"]
            .as_array()
            .expect("deleted")
            .iter()
            .any(|i| i["kind"] == "validation-record" && i["name"] == record.as_str()),
        "{summary}"
    );
    assert_eq!(zone_records(&emulator, &zone).await, before);
    assert!(certificate_stack_status(&emulator).await.is_some());

    proxy.clear_hook();
    let rerun = run_teardown(&proxy.endpoint);
    expect_code(&rerun, 0, "re-run");
    assert_eq!(certificate_stack_status(&emulator).await, None);
    assert!(
        certificates_for(&emulator, "us-east-1", DOMAIN)
            .await
            .is_empty()
    );
    assert_eq!(zone_records(&emulator, &zone).await, before);

    let clean = mraa(
        &["teardown", "--secondary", SECONDARY, "--yes"],
        &domain_env(&emulator.endpoint, &emulator),
        None,
    );
    expect_code(&clean, 0, "teardown with nothing left");
    assert!(
        stdout_of(&clean).contains(&format!("nothing to tear down for app {APP}")),
        "{}",
        stdout_of(&clean)
    );
}
