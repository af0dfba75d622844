//! `mraa deploy --mode active-active` against the emulator: both Regions
//! take writes (items through each Region's table, objects into each
//! Region's bucket) and read the other's; `drain` and `return` change a
//! Region's serving state through the Region that stays, read back in
//! both, with no Route 53 call; active-passive refuses them. Everything is
//! checked through DynamoDB, S3 and the emulator's call recorder.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::support::proxy::Proxy;
use crate::support::{ACCOUNT, Emulator, mraa, run_ok, show, stderr_of, with_var};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "eu-west-1";
const APP: &str = "mraa";

fn bucket(region: &str) -> String {
    format!("mraa-{APP}-objects-{ACCOUNT}-{region}")
}

/// Polls `read` until it holds (replication is asynchronous), bounded.
async fn eventually<F, Fut>(what: &str, mut read: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pause = Duration::from_millis(50);
    while !read().await {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

async fn item_in(emulator: &Emulator, region: &str, id: &str) -> bool {
    emulator
        .dynamodb(region)
        .get_item()
        .table_name(format!("mraa-{APP}-comments"))
        .key("commentId", AttributeValue::S(id.into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_item in {region}: {e:?}"))
        .item()
        .is_some()
}

async fn object_in(emulator: &Emulator, region: &str, key: &str) -> bool {
    emulator
        .s3(region)
        .head_object()
        .bucket(bucket(region))
        .key(key)
        .send()
        .await
        .is_ok()
}

/// A comment `<tag>-<region>` and its photo written in `region`.
async fn put_comment_and_photo(emulator: &Emulator, region: &str, tag: &str) {
    let id = format!("{tag}-{region}");
    emulator
        .dynamodb(region)
        .put_item()
        .table_name(format!("mraa-{APP}-comments"))
        .item("commentId", AttributeValue::S(id.clone()))
        .item("photoId", AttributeValue::S("p".into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_item in {region}: {e:?}"));
    emulator
        .s3(region)
        .put_object()
        .bucket(bucket(region))
        .key(format!("photos/{id}.jpg"))
        .body(b"jpeg".to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_object in {region}: {e:?}"));
}

/// A comment and a photo written in each Region, readable in both.
async fn written_in_each_region_read_in_both(emulator: &Emulator, tag: &str) {
    for region in [PRIMARY, SECONDARY] {
        put_comment_and_photo(emulator, region, tag).await;
    }
    for written in [PRIMARY, SECONDARY] {
        let id = format!("{tag}-{written}");
        for read in [PRIMARY, SECONDARY] {
            eventually(&format!("comment {id} in {read}"), || {
                item_in(emulator, read, &id)
            })
            .await;
            let key = format!("photos/{id}.jpg");
            eventually(&format!("object {key} in {read}"), || {
                object_in(emulator, read, &key)
            })
            .await;
        }
    }
}

/// `mraa status --output json`: exit code 0, and the row `name` in `region`
/// (`None`: no such row).
fn status_ok_with_row(emulator: &Emulator, name: &str, region: &str) -> Option<serde_json::Value> {
    let output = mraa(
        &["status", "--output", "json"],
        &emulator.env_in(PRIMARY),
        None,
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("status JSON ({e}): {}", show(&output)));
    let bad: Vec<_> = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] != "ok" && c["status"] != "unverified")
        .collect();
    assert_eq!(output.status.code(), Some(0), "status not ok: {bad:#?}");
    report["checks"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["name"] == name && c["region"] == region)
        })
        .cloned()
}

/// `mraa deploy --mode MODE` (and `extra`), which must succeed.
fn deploy_mode(emulator: &Emulator, mode: &str, extra: &[&str]) {
    let mut args = vec!["deploy", "--secondary", SECONDARY, "--mode", mode];
    args.extend_from_slice(extra);
    run_ok(&args, &emulator.env_in(PRIMARY));
}

/// Every call is allowed by `mraa permissions --for state`, which covers
/// drain and return.
fn allowed_for_state(calls: &[crate::support::Call]) {
    use mraa::permissions::{Purpose, Scope, policy};
    let statements = crate::support::iam::json_statements(&policy(
        Purpose::State,
        &Scope::new(APP, PRIMARY, SECONDARY),
    ));
    let refusals: Vec<String> = calls
        .iter()
        .filter(|c| !c.service.is_empty())
        .filter_map(|c| crate::permissions::refused(&statements, c))
        .collect();
    assert!(
        refusals.is_empty(),
        "refused by the state policy: {refusals:#?}"
    );
}

/// The drained set of the state item as `region` reads it.
async fn drained_in(emulator: &Emulator, region: &str) -> Vec<String> {
    let mut drained = emulator
        .state_item(region, APP)
        .await
        .and_then(|item| item.get("drained").and_then(|v| v.as_ss().ok()).cloned())
        .unwrap_or_default();
    drained.sort();
    drained
}

#[tokio::test(flavor = "multi_thread")]
async fn both_regions_take_writes_and_a_region_is_drained_and_returned_on_the_data_plane() {
    let emulator = Emulator::start("active_active");
    let env = emulator.env_in(PRIMARY);
    // Active-passive first, holding data written in the primary.
    deploy_mode(&emulator, "active-passive", &[]);
    put_comment_and_photo(&emulator, PRIMARY, "ap").await;
    status_ok_with_row(&emulator, "app-state", PRIMARY).expect("a state row");
    deploy_mode(&emulator, "active-active", &[]);

    // The mode, as the deployment records it (DynamoDB and CloudFormation).
    let record = emulator
        .dynamodb(SECONDARY)
        .get_item()
        .table_name(format!("mraa-{APP}-app-config"))
        .key("appId", AttributeValue::S(format!("{APP}#deployment")))
        .send()
        .await
        .expect("the deployment record")
        .item()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        record
            .get("mode")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("active-active"),
        "{record:?}"
    );
    // Replication both ways, as S3 stores it.
    for (region, rule) in [
        (PRIMARY, "mraa-primary-to-secondary"),
        (SECONDARY, "mraa-secondary-to-primary"),
    ] {
        let stored = emulator
            .s3(region)
            .get_bucket_replication()
            .bucket(bucket(region))
            .send()
            .await
            .unwrap_or_else(|e| panic!("replication of {region}: {e:?}"));
        let config = stored.replication_configuration().expect("a configuration");
        let found = config
            .rules()
            .iter()
            .find(|r| r.id() == Some(rule))
            .unwrap_or_else(|| panic!("{region}: rule {rule} in {config:?}"));
        let sync = found
            .source_selection_criteria()
            .and_then(|s| s.replica_modifications())
            .map(|m| m.status().as_str());
        assert_eq!(sync, Some("Enabled"), "{region}: replica modification sync");
    }
    written_in_each_region_read_in_both(&emulator, "aa").await;
    // A deploy that names no mode keeps the deployment's, and changes nothing.
    emulator.start_recording();
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    let mutating = emulator.mutating_calls();
    assert!(
        mutating.is_empty(),
        "a no-op redeploy changed: {mutating:#?}"
    );
    // Nothing to change in its own mode; a change of mode, per unit, Region
    // and rule, before any deploy.
    let same = mraa(&["diff"], &env, None);
    assert_eq!(same.status.code(), Some(0), "{}", show(&same));
    let other = mraa(&["diff", "--mode", "active-passive"], &env, None);
    assert_eq!(other.status.code(), Some(2), "{}", show(&other));
    let said = String::from_utf8_lossy(&other.stdout);
    for expected in [
        "Mode",
        "routing",
        "application",
        "mraa-secondary-to-primary",
    ] {
        assert!(said.contains(expected), "diff names {expected}: {said}");
    }
    let reverse = status_ok_with_row(&emulator, "s3-replication", SECONDARY)
        .expect("a reverse replication row");
    assert!(
        reverse["detail"]
            .as_str()
            .is_some_and(|d| d.contains("replica modification sync on")),
        "{reverse}"
    );

    // Drain the secondary: through the primary, read back in both Regions,
    // and not one Route 53 call.
    emulator.start_recording();
    let drained = run_ok(
        &[
            "drain",
            SECONDARY,
            "--reason",
            "maintenance",
            "--output",
            "json",
        ],
        &env,
    );
    let calls = emulator.recorded_calls();
    let route53: Vec<_> = calls.iter().filter(|c| c.service == "route53").collect();
    assert!(route53.is_empty(), "drain called Route 53: {route53:?}");
    allowed_for_state(&calls);
    let writes: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(
        !writes.is_empty() && writes.iter().all(|c| c.region == PRIMARY),
        "drain writes only through the Region that stays: {writes:?}"
    );
    let outcome: serde_json::Value = serde_json::from_slice(&drained.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", show(&drained)));
    assert_eq!(outcome["written_in"], PRIMARY, "{outcome}");
    for region in [PRIMARY, SECONDARY] {
        assert_eq!(drained_in(&emulator, region).await, [SECONDARY], "{region}");
    }
    let serving = status_ok_with_row(&emulator, "serving", SECONDARY).expect("a serving row");
    assert!(
        serving["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("drained (maintenance)")),
        "{serving}"
    );
    // The other Region cannot be drained while this one is.
    let refused = mraa(&["drain", PRIMARY, "--reason", "x"], &env, None);
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains(&format!("run `mraa return {SECONDARY}` first")),
        "{}",
        show(&refused)
    );
    assert_eq!(drained_in(&emulator, SECONDARY).await, [SECONDARY]);

    // Failover is active-passive's: refused, naming drain.
    let refused = mraa(&["failover", "--reason", "x"], &env, None);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains(&format!("run `mraa drain {PRIMARY}`")),
        "{}",
        show(&refused)
    );

    // A drill's failover is active-passive's too: refused before any write.
    emulator.start_recording();
    let refused = mraa(&["drill", "--failover", "--reason", "x"], &env, None);
    let calls = emulator.recorded_calls();
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains(&format!(
            "`mraa drain {PRIMARY}` then `mraa return {PRIMARY}`"
        )),
        "{}",
        show(&refused)
    );
    let writes: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(writes.is_empty(), "the refused drill wrote: {writes:?}");

    // Return it: both Regions serve again.
    emulator.start_recording();
    run_ok(&["return", SECONDARY, "--reason", "done"], &env);
    let calls = emulator.recorded_calls();
    let route53 = calls.iter().filter(|c| c.service == "route53").count();
    assert_eq!(route53, 0, "return called Route 53");
    allowed_for_state(&calls);
    for region in [PRIMARY, SECONDARY] {
        assert!(drained_in(&emulator, region).await.is_empty(), "{region}");
    }
    let state = emulator.state_item(PRIMARY, APP).await.unwrap_or_default();
    assert_eq!(
        state
            .get("state")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("active")
    );

    // With the primary down, status reads the mode from the deployment
    // record's replica in the secondary and shows both serving rows.
    let proxy = Proxy::start(emulator.port);
    proxy.block(PRIMARY);
    let down_env = with_var(env.clone(), "AWS_ENDPOINT_URL", &proxy.endpoint);
    let down = mraa(
        &["status", "--secondary", SECONDARY, "--output", "json"],
        &down_env,
        None,
    );
    assert_eq!(down.status.code(), Some(4), "{}", show(&down));
    let report: serde_json::Value =
        serde_json::from_slice(&down.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&down)));
    assert_eq!(report["mode"], "active-active", "{report}");
    let serving: Vec<_> = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["name"] == "serving")
        .filter_map(|c| c["region"].as_str())
        .collect();
    assert_eq!(serving, [PRIMARY, SECONDARY], "{report}");
    drop(proxy);

    // Back to active-passive: the reverse rule goes, the objects stay, and
    // drain is refused naming failover.
    deploy_mode(&emulator, "active-passive", &[]);
    let bootstrap = emulator
        .cloudformation(PRIMARY)
        .describe_stacks()
        .stack_name(format!("mraa-{APP}-bootstrap"))
        .send()
        .await
        .expect("the bootstrap stack");
    let recorded: Vec<_> = bootstrap.stacks()[0]
        .parameters()
        .iter()
        .filter(|p| p.parameter_key() == Some("Mode"))
        .map(|p| p.parameter_value().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        recorded,
        ["active-passive"],
        "the bootstrap records the new mode"
    );
    // Its output, which discovery reads, changes with no resource changing.
    let output: Vec<_> = bootstrap.stacks()[0]
        .outputs()
        .iter()
        .filter(|o| o.output_key() == Some("Mode"))
        .filter_map(|o| o.output_value())
        .collect();
    assert_eq!(output, ["active-passive"], "the bootstrap's Mode output");
    let reverse = emulator
        .s3(SECONDARY)
        .get_bucket_replication()
        .bucket(bucket(SECONDARY))
        .send()
        .await;
    let rules: Vec<String> = reverse
        .ok()
        .and_then(|r| r.replication_configuration().cloned())
        .map(|c| {
            c.rules()
                .iter()
                .filter_map(|r| r.id().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(rules.is_empty(), "the reverse rule is removed: {rules:?}");
    // Nothing lost: what each mode took reads in both Regions.
    let ids = ["ap", "aa"].map(|tag| format!("{tag}-{PRIMARY}"));
    for region in [PRIMARY, SECONDARY] {
        for id in ids.iter().cloned().chain([format!("aa-{SECONDARY}")]) {
            let key = format!("photos/{id}.jpg");
            assert!(
                object_in(&emulator, region, &key).await,
                "{key} kept in {region}"
            );
            assert!(
                item_in(&emulator, region, &id).await,
                "{id} kept in {region}"
            );
        }
    }
    assert!(
        status_ok_with_row(&emulator, "s3-replication", SECONDARY).is_none(),
        "no reverse rule, no row"
    );
    // The objects the secondary took while active-active are named by
    // status (not the replicas the primary sent it).
    let taken = status_ok_with_row(&emulator, "secondary-objects", SECONDARY)
        .expect("a secondary-objects row");
    let detail = taken["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("1 object written in {SECONDARY} kept in "))
            && detail.contains(&format!("photos/aa-{SECONDARY}.jpg"))
            && detail.ends_with(&format!("{PRIMARY} holds 1 as replicas, 0 not at all")),
        "{taken}"
    );
    assert!(status_ok_with_row(&emulator, "serving", SECONDARY).is_none());
    let refused = mraa(&["drain", SECONDARY, "--reason", "x"], &env, None);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains("`mraa failover`"),
        "{}",
        show(&refused)
    );
    assert!(drained_in(&emulator, PRIMARY).await.is_empty());
}

const DOMAIN: &str = "aa.example.test";
const API: &str = "api.aa.example.test";

/// A client address the emulator places in `region` (its latency map:
/// 198.18.<n>.0/24 for the n-th Region of scripts/emulator_route53.py's
/// LATENCY_REGIONS).
fn client_near(region: &str) -> &'static str {
    match region {
        PRIMARY => "198.18.0.10",
        SECONDARY => "198.18.6.10",
        other => panic!("no test address for {other}"),
    }
}

/// The Region whose marker Route 53 answers a client near `near` with.
async fn answer_near(emulator: &Emulator, zone: &str, near: &str) -> Vec<String> {
    let out = emulator
        .route53()
        .test_dns_answer()
        .hosted_zone_id(zone)
        .record_name(API)
        .record_type(aws_sdk_route53::types::RrType::Txt)
        .edns0_client_subnet_ip(client_near(near))
        .send()
        .await
        .expect("TestDNSAnswer");
    assert_eq!(out.response_code(), "NOERROR", "{out:?}");
    out.record_data()
        .iter()
        .map(|m| {
            m.trim_matches('"')
                .trim_start_matches("mraa-mraa region=")
                .to_string()
        })
        .collect()
}

/// Polls TestDNSAnswer (one evaluation round per call with the emulator's
/// clock off) until a client near `near` is answered `region`: Route 53
/// moves an answer only after a check's FailureThreshold. Bounded.
async fn answered(emulator: &Emulator, zone: &str, near: &str, region: &str) {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let answer = answer_near(emulator, zone, near).await;
        if answer == [region] {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a client near {near} is answered {answer:?}, not {region}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Deploys active-active with a custom domain; returns the zone id.
async fn deploy_with_domain(emulator: &Emulator) -> String {
    let zone = crate::domain::create_zone(emulator, DOMAIN).await;
    deploy_mode(emulator, "active-active", &["--domain", DOMAIN]);
    zone
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_domain_each_region_answers_the_clients_near_it() {
    let emulator = Emulator::start("active_active_dns");
    let zone = deploy_with_domain(&emulator).await;
    // Latency records, one per Region with its own check; no failover ones.
    let records = crate::domain::records_named(&emulator, &zone, API).await;
    assert!(
        records.iter().all(|r| r.failover().is_none()),
        "{records:#?}"
    );
    for region in [PRIMARY, SECONDARY] {
        let of_region: Vec<_> = records
            .iter()
            .filter(|r| r.region().map(|r| r.as_str()) == Some(region))
            .collect();
        assert_eq!(
            of_region.len(),
            2,
            "alias and marker in {region}: {records:#?}"
        );
        assert!(of_region.iter().all(|r| r.health_check_id().is_some()));
        assert_eq!(
            of_region[0].health_check_id(),
            of_region[1].health_check_id()
        );
    }
    for region in [PRIMARY, SECONDARY] {
        answered(&emulator, &zone, region, region).await;
    }
    let answer = status_ok_with_row(&emulator, "dns-answer", "global").expect("a dns-answer row");
    assert_eq!(answer["status"], "ok", "{answer}");

    // Back to active-passive: failover records again, the latency ones gone.
    deploy_mode(&emulator, "active-passive", &[]);
    let records = crate::domain::records_named(&emulator, &zone, API).await;
    assert_eq!(records.len(), 4, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r.region().is_none() && r.failover().is_some())
    );
    answered(&emulator, &zone, SECONDARY, PRIMARY).await;
}

/// The state API reports a drained Region as not serving (templates/routing.yaml),
/// so its health check fails and its latency records stop answering.
#[tokio::test(flavor = "multi_thread")]
async fn draining_a_region_moves_its_clients_with_no_route53_call() {
    let emulator = Emulator::start("active_active_drain_dns");
    let zone = deploy_with_domain(&emulator).await;
    let env = emulator.env_in(PRIMARY);
    answered(&emulator, &zone, SECONDARY, SECONDARY).await;
    emulator.start_recording();
    run_ok(&["drain", SECONDARY, "--reason", "drill"], &env);
    let calls = emulator.recorded_calls();
    assert!(
        calls.iter().all(|c| c.service != "route53"),
        "drain called Route 53"
    );
    answered(&emulator, &zone, SECONDARY, PRIMARY).await;
    answered(&emulator, &zone, PRIMARY, PRIMARY).await;
    run_ok(&["return", SECONDARY, "--reason", "drill done"], &env);
    answered(&emulator, &zone, SECONDARY, SECONDARY).await;
    answered(&emulator, &zone, PRIMARY, PRIMARY).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn teardown_removes_both_replication_rules_and_the_latency_records() {
    let emulator = Emulator::start("active_active_teardown");
    let zone = deploy_with_domain(&emulator).await;
    run_ok(&["teardown", "--yes"], &emulator.env_in(PRIMARY));
    // The photos buckets are data, kept; neither replicates any more.
    for region in [PRIMARY, SECONDARY] {
        let stored = emulator
            .s3(region)
            .get_bucket_replication()
            .bucket(bucket(region))
            .send()
            .await;
        assert!(
            stored.is_err(),
            "{region} still replicates: {:?}",
            stored
                .ok()
                .and_then(|s| s.replication_configuration().cloned())
        );
    }
    let records = crate::domain::records_named(&emulator, &zone, API).await;
    assert!(records.is_empty(), "{records:#?}");
}
