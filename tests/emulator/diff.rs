//! `mraa diff` against the emulator: after a deploy, nothing (and no drift);
//! what a changed input would do, drift, a site file changed behind mraa's
//! back, a table a deploy would replace, the custom domain's records and
//! health checks changed behind mraa's back, and a deployment made before the
//! region markers; the recorder proves diff
//! changes nothing but its own change sets and drift detection.

use serde_json::Value;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_route53::types::{ChangeAction, HealthCheckRegion, ResourceRecordSet, RrType};
use aws_sdk_s3::primitives::ByteStream;

use crate::support::{ACCOUNT, Emulator, mraa, repo_root, show, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";

fn diff(emulator: &Emulator, extra: &[&str]) -> std::process::Output {
    run_in(emulator, "diff", extra)
}

fn run_in(emulator: &Emulator, command: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![command, "--secondary", SECONDARY];
    args.extend_from_slice(extra);
    mraa(&args, &emulator.env_in(PRIMARY), None)
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout_of(output))
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", show(output)))
}

/// The mutating calls recorded, other than those diff is allowed: its own
/// change sets, made and deleted, and drift detection.
fn forbidden_calls(emulator: &Emulator) -> Vec<String> {
    emulator
        .mutating_calls()
        .into_iter()
        .filter(|c| {
            !matches!(
                c.operation.as_str(),
                "CreateChangeSet" | "DeleteChangeSet" | "DetectStackDrift"
            )
        })
        .map(|c| format!("{} {} {}", c.service, c.operation, c.url))
        .collect()
}

/// Two fields of each entry of `list` whose `key` is `value`, in order.
fn pairs(
    report: &Value,
    list: &str,
    (key, value): (&str, &str),
    (a, b): (&str, &str),
) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    report[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e[key] == value)
        .map(|e| (text(&e[a]), text(&e[b])))
        .collect()
}

/// (unit, region) of each unit diff reports as `change`.
fn units_with(report: &Value, change: &str) -> Vec<(String, String)> {
    let mut found = pairs(report, "units", ("change", change), ("unit", "region"));
    found.sort();
    found
}

async fn instance_stack(emulator: &Emulator, region: &str, set: &str) -> String {
    let stacks = emulator
        .cloudformation(region)
        .describe_stacks()
        .send()
        .await
        .expect("describe stacks");
    stacks
        .stacks()
        .iter()
        .filter_map(|s| s.stack_name())
        .find(|n| *n == format!("StackSet:{set}") || n.starts_with(&format!("StackSet-{set}-")))
        .unwrap_or_else(|| panic!("no instance stack of {set} in {region}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_reports_changes_and_drift_and_changes_nothing() {
    let emulator = Emulator::start("diff");
    // Every unit deployed, the site uploaded.
    let deployed = mraa(
        &["deploy", "--secondary", SECONDARY],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(deployed.status.code(), Some(0), "{}", show(&deployed));

    // Right after a deploy: nothing to do, no drift (point-in-time recovery
    // included), and not one mutating call but drift detection.
    emulator.start_recording();
    let same = diff(&emulator, &["--drift"]);
    assert_eq!(same.status.code(), Some(0), "{}", show(&same));
    assert!(stdout_of(&same).contains("no changes"), "{}", show(&same));
    assert!(
        stdout_of(&same).contains("none: every stack matches its template"),
        "{}",
        show(&same)
    );
    assert_eq!(forbidden_calls(&emulator), Vec::<String>::new());

    // Another allowed origin: the units that take it, in both regions.
    emulator.start_recording();
    let origin = diff(
        &emulator,
        &[
            "--allowed-origin",
            "https://photos.example.com",
            "--output",
            "json",
        ],
    );
    let forbidden = forbidden_calls(&emulator);
    assert_eq!(origin.status.code(), Some(2), "{}", show(&origin));
    let report = json_of(&origin);
    let both = |unit: &str| {
        [
            (unit.to_string(), PRIMARY.to_string()),
            (unit.to_string(), SECONDARY.to_string()),
        ]
    };
    let mut expected: Vec<(String, String)> = both("application")
        .into_iter()
        .chain(both("routing"))
        .collect();
    expected.sort();
    assert_eq!(units_with(&report, "updated"), expected, "{report:#}");
    let routing = &report["units"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["unit"] == "routing"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        routing["parameters"][0]["key"], "AllowedOrigin",
        "{routing:#}"
    );
    assert_eq!(routing["parameters"][0]["to"], "https://photos.example.com");
    assert_eq!(report["dangers"], serde_json::json!([]));
    assert_eq!(forbidden, Vec::<String>::new());
    // Its change sets are gone again.
    let stack = instance_stack(&emulator, PRIMARY, "mraa-mraa-routing").await;
    let left = emulator
        .cloudformation(PRIMARY)
        .list_change_sets()
        .stack_name(&stack)
        .send()
        .await
        .expect("list change sets");
    let ours: Vec<_> = left
        .summaries()
        .iter()
        .filter_map(|c| c.change_set_name())
        .filter(|n| n.starts_with("mraa-diff-"))
        .collect();
    assert!(ours.is_empty(), "{ours:?}");

    // A Lambda function's timeout changed behind mraa's back: drift.
    let python = repo_root().join(".venv/bin/python");
    let changed = std::process::Command::new(python)
        .args([
            "-c",
            "import boto3, sys; boto3.client('lambda', endpoint_url=sys.argv[1], \
             region_name='us-east-1', aws_access_key_id='testing', \
             aws_secret_access_key='testing').update_function_configuration(\
             FunctionName='mraa-mraa-state-updater', Timeout=42)",
            &emulator.endpoint,
        ])
        .status()
        .expect("run boto3");
    assert!(changed.success());
    emulator.start_recording();
    let drifted = diff(&emulator, &["--drift", "--output", "json"]);
    let forbidden = forbidden_calls(&emulator);
    assert_eq!(drifted.status.code(), Some(2), "{}", show(&drifted));
    let report = json_of(&drifted);
    assert_eq!(report["changes"], false, "{report:#}");
    let resource = report["drift"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["unit"] == "routing" && s["region"] == PRIMARY)
        .flat_map(|s| s["resources"].as_array().cloned().unwrap_or_default())
        .find(|r| r["logical_id"] == "StateUpdaterFunction")
        .unwrap_or_else(|| panic!("no drift of the state updater: {report:#}"));
    assert_eq!(resource["resource_type"], "AWS::Lambda::Function");
    assert_eq!(resource["status"], "modified");
    assert_eq!(
        resource["properties"][0],
        serde_json::json!({"path": "/Timeout", "expected": "15", "actual": "42",
                           "difference": "not_equal"})
    );
    assert_eq!(forbidden, Vec::<String>::new());

    site_file_changed_behind_mraas_back(&emulator).await;
    table_a_deploy_would_replace(&emulator).await;
}

/// A file of the web site changed in the primary's website bucket: the
/// site upload would send it again there, and only there.
async fn site_file_changed_behind_mraas_back(emulator: &Emulator) {
    let bucket = format!("mraa-mraa-website-{ACCOUNT}-{PRIMARY}");
    emulator
        .s3(PRIMARY)
        .put_object()
        .bucket(&bucket)
        .key("index.html")
        .body(ByteStream::from_static(b"<html>defaced</html>"))
        .send()
        .await
        .expect("put index.html");
    emulator.start_recording();
    let output = diff(emulator, &["--output", "json"]);
    let forbidden = forbidden_calls(emulator);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let report = json_of(&output);
    assert_eq!(
        report["wiring"],
        serde_json::json!([{"step": "site-upload", "region": PRIMARY,
                            "change": format!("upload index.html in {bucket}")}]),
        "{report:#}"
    );
    assert_eq!(units_with(&report, "updated"), Vec::new(), "{report:#}");
    assert_eq!(forbidden, Vec::<String>::new());
}

/// The kv-store's stack as an earlier deployment left it, with another
/// table name (a create-only property): a deploy would replace the table.
async fn table_a_deploy_would_replace(emulator: &Emulator) {
    kv_store_with_another_table_name(emulator, PRIMARY).await;
    emulator.start_recording();
    let output = diff(emulator, &["--output", "json"]);
    let forbidden = forbidden_calls(emulator);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let report = json_of(&output);
    assert_eq!(
        report["dangers"],
        serde_json::json!([{"unit": "kv-store", "region": PRIMARY,
                            "logical_id": "CommentsTable",
                            "resource_type": "AWS::DynamoDB::Table", "replacement": "true"}]),
        "{report:#}"
    );
    let kv = report["units"]
        .as_array()
        .and_then(|u| {
            u.iter()
                .find(|u| u["unit"] == "kv-store" && u["region"] == PRIMARY)
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(kv["change"], "updated", "{kv:#}");
    assert_eq!(kv["resources"][0]["logical_id"], "CommentsTable", "{kv:#}");
    assert_eq!(kv["resources"][0]["danger"], true, "{kv:#}");
    assert_eq!(forbidden, Vec::<String>::new());

    // In text, the danger comes first.
    let text = diff(emulator, &[]);
    assert_eq!(text.status.code(), Some(2), "{}", show(&text));
    assert!(
        stdout_of(&text).starts_with(&format!(
            "DATA STORES A DEPLOY WOULD REPLACE\n  kv-store CommentsTable in {PRIMARY} \
             (AWS::DynamoDB::Table): replacement true\n"
        )),
        "{}",
        show(&text)
    );
}

/// Puts the kv-store's instance stack in `region` back to a template that
/// names its table differently (a create-only property), as an earlier
/// deployment would have left it: a deploy would replace the table.
pub(crate) async fn kv_store_with_another_table_name(emulator: &Emulator, region: &str) {
    let cfn = emulator.cloudformation(region);
    let stack = instance_stack(emulator, region, "mraa-mraa-kv-store").await;
    let template = cfn
        .get_template()
        .stack_name(&stack)
        .send()
        .await
        .expect("get template");
    let body = template.template_body().unwrap_or_default();
    let earlier = body.replace(
        "TableName: !Sub 'mraa-${AppName}-comments'",
        "TableName: !Sub 'mraa-${AppName}-comments-v0'",
    );
    assert_ne!(
        earlier, body,
        "the kv-store template names its table differently"
    );
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .expect("describe the kv-store stack");
    let keys: Vec<String> = described
        .stacks()
        .iter()
        .flat_map(|s| s.parameters())
        .filter_map(|p| p.parameter_key().map(str::to_string))
        .collect();
    let mut update = cfn
        .update_stack()
        .stack_name(&stack)
        .template_body(earlier)
        .capabilities(Capability::CapabilityNamedIam);
    for key in keys {
        update = update.parameters(
            Parameter::builder()
                .parameter_key(key)
                .use_previous_value(true)
                .build(),
        );
    }
    update.send().await.expect("update the kv-store stack");
    let mut status = None;
    for _ in 0..100 {
        let now = cfn
            .describe_stacks()
            .stack_name(&stack)
            .send()
            .await
            .expect("describe the kv-store stack");
        status = now.stacks().first().and_then(|s| s.stack_status()).cloned();
        if status != Some(StackStatus::UpdateInProgress) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, Some(StackStatus::UpdateComplete));
}

const DOMAIN: &str = "app.example.test";

/// The wiring changes of one step in a JSON report, as (region, change).
fn wiring_of(report: &Value, step: &str) -> Vec<(String, String)> {
    pairs(report, "wiring", ("step", step), ("region", "change"))
}

/// The Route 53 calls recorded that change something.
fn route53_mutations(emulator: &Emulator) -> Vec<String> {
    emulator
        .mutating_calls()
        .into_iter()
        .filter(|c| c.service == "route53")
        .map(|c| format!("{} {}", c.method, c.url))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_names_dns_records_and_health_checks_changed_behind_mraas_back() {
    let emulator = Emulator::start("diff_domain");
    let zone = crate::domain::create_zone(&emulator, DOMAIN).await;
    let deployed = run_in(&emulator, "deploy", &["--domain", DOMAIN]);
    assert_eq!(deployed.status.code(), Some(0), "{}", show(&deployed));

    // Right after the deploy: no DNS change, and not one mutating call.
    emulator.start_recording();
    let same = diff(&emulator, &["--domain", DOMAIN, "--output", "json"]);
    let forbidden = forbidden_calls(&emulator);
    assert_eq!(same.status.code(), Some(0), "{}", show(&same));
    assert_eq!(json_of(&same)["wiring"], serde_json::json!([]));
    assert_eq!(forbidden, Vec::<String>::new());

    // Behind mraa's back: the primary's failover record carries the
    // secondary's check, and the secondary's check searches for another
    // string.
    let checks = crate::domain::app_checks(&emulator).await;
    let (Some(primary_check), Some(secondary_check)) = (checks.get(PRIMARY), checks.get(SECONDARY))
    else {
        panic!("a health check per region: {checks:?}");
    };
    let api = format!("api.{DOMAIN}");
    let record = crate::domain::records_named(&emulator, &zone, &api)
        .await
        .into_iter()
        .find(|r| r.set_identifier() == Some("mraa-mraa-primary") && r.r#type() == &RrType::A)
        .expect("the primary's failover record");
    assert_eq!(record.health_check_id(), Some(primary_check.id()));
    let moved = ResourceRecordSet::builder()
        .name(record.name())
        .r#type(RrType::A)
        .set_set_identifier(record.set_identifier().map(str::to_string))
        .set_failover(record.failover().cloned())
        .set_alias_target(record.alias_target().cloned())
        .health_check_id(secondary_check.id())
        .build()
        .expect("record");
    crate::domain::upsert(&emulator, &zone, moved).await;
    let config = secondary_check
        .health_check_config()
        .expect("the check's settings");
    let mut update = emulator
        .route53()
        .update_health_check()
        .health_check_id(secondary_check.id())
        .search_string("\"serving\": false");
    for region in config.regions() {
        update = update.regions(HealthCheckRegion::from(region.as_str()));
    }
    update.send().await.expect("change the secondary's check");

    // Without --domain: the deployed domain is kept, as deploy keeps it.
    emulator.start_recording();
    let changed = diff(&emulator, &["--output", "json"]);
    let mutations = route53_mutations(&emulator);
    assert_eq!(changed.status.code(), Some(2), "{}", show(&changed));
    let report = json_of(&changed);
    assert_eq!(
        wiring_of(&report, "dns"),
        [
            (
                SECONDARY.to_string(),
                format!(
                    "update the health check {}: search string",
                    secondary_check.id()
                )
            ),
            (
                PRIMARY.to_string(),
                format!(
                    "write the record {api} A (mraa-mraa-primary): health check {} → {}",
                    secondary_check.id(),
                    primary_check.id()
                )
            ),
        ],
        "{report:#}"
    );
    assert_eq!(mutations, Vec::<String>::new());

    // In text too, and still nothing changed.
    emulator.start_recording();
    let text = diff(&emulator, &[]);
    let mutations = route53_mutations(&emulator);
    assert_eq!(text.status.code(), Some(2), "{}", show(&text));
    assert!(
        stdout_of(&text).contains("search string"),
        "{}",
        show(&text)
    );
    assert_eq!(mutations, Vec::<String>::new());

    markers_missing_are_records_to_write(&emulator, &zone).await;
}

/// A deployment made before the region markers (the aliases only): diff
/// names each marker as a record to write, and the next deploy writes them.
async fn markers_missing_are_records_to_write(emulator: &Emulator, zone: &str) {
    let deployed = run_in(emulator, "deploy", &[]);
    assert_eq!(deployed.status.code(), Some(0), "{}", show(&deployed));
    let api = format!("api.{DOMAIN}");
    for record in crate::domain::records_named(emulator, zone, &api).await {
        if record.r#type() == &RrType::Txt {
            crate::domain::change(emulator, zone, ChangeAction::Delete, record).await;
        }
    }
    emulator.start_recording();
    let changed = diff(emulator, &["--output", "json"]);
    assert_eq!(changed.status.code(), Some(2), "{}", show(&changed));
    assert_eq!(route53_mutations(emulator), Vec::<String>::new());
    let report = json_of(&changed);
    assert_eq!(
        wiring_of(&report, "dns"),
        [PRIMARY, SECONDARY].map(|region| {
            let role = if region == PRIMARY {
                "primary"
            } else {
                "secondary"
            };
            (
                region.to_string(),
                format!("write the record {api} TXT (mraa-mraa-{role}-marker): new"),
            )
        }),
        "{report:#}"
    );
    let deployed = run_in(emulator, "deploy", &[]);
    assert_eq!(deployed.status.code(), Some(0), "{}", show(&deployed));
    let markers: Vec<ResourceRecordSet> = crate::domain::records_named(emulator, zone, &api)
        .await
        .into_iter()
        .filter(|r| r.r#type() == &RrType::Txt)
        .collect();
    assert_eq!(markers.len(), 2, "{markers:?}");
    let same = diff(emulator, &["--output", "json"]);
    assert_eq!(same.status.code(), Some(0), "{}", show(&same));
    assert_eq!(json_of(&same)["wiring"], serde_json::json!([]));
}
