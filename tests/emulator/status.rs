//! `mraa status` and `mraa failover` / `fence` / `activate` against the
//! emulator: the real binary after a real `mraa deploy`, every state change
//! checked by reading the item through the SDK, and a primary region made
//! unreachable by a loopback proxy that drops its requests.
//!
//! The emulator makes the global tables' replicas and replicates their items
//! as DynamoDB does: a state written in one region is read in the other.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::proxy::Proxy;
use crate::support::{
    ACCOUNT, Emulator, STACK_SET_UNITS, mraa, run_ok, show, stderr_of, stdout_of, with_var,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const TABLE: &str = "mraa-mraa-app-config";
/// How long `status` may take with a region down (it must not hang).
const UNREACHABLE_BOUND: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The same environment, with every call going through the proxy.
fn proxied_env(emulator: &Emulator, proxy: &Proxy) -> Vec<(String, String)> {
    with_var(
        emulator.env_in(PRIMARY),
        "AWS_ENDPOINT_URL",
        &proxy.endpoint,
    )
}

/// Runs mraa, returning its output and how long it took.
fn timed(args: &[&str], env: &[(String, String)]) -> (Output, Duration) {
    let started = Instant::now();
    let output = mraa(args, env, None);
    (output, started.elapsed())
}

fn deploy(emulator: &Emulator) {
    run_ok(
        &["deploy", "--secondary", SECONDARY],
        &emulator.env_in(PRIMARY),
    );
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout_of(output))
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", show(output)))
}

/// The state item as `region`'s table holds it.
async fn item_in(emulator: &Emulator, region: &str) -> HashMap<String, AttributeValue> {
    emulator
        .dynamodb(region)
        .get_item()
        .table_name(TABLE)
        .key("appId", AttributeValue::S(APP.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_item in {region}: {e:?}"))
        .item()
        .cloned()
        .unwrap_or_else(|| panic!("no state item in {region}"))
}

fn text(item: &HashMap<String, AttributeValue>, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

async fn state_in(emulator: &Emulator, region: &str) -> Option<String> {
    text(&item_in(emulator, region).await, "state")
}

/// Waits, bounded, until `done` holds: a write in one region reaches the
/// other only after the global table's replication lag.
async fn replicated<F, Fut>(done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not replicated within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The secondary's state item says failover, written there; returned for
/// further checks.
async fn failover_written_in_secondary(emulator: &Emulator) -> HashMap<String, AttributeValue> {
    let item = item_in(emulator, SECONDARY).await;
    assert_eq!(
        text(&item, "state").as_deref(),
        Some("failover"),
        "{item:?}"
    );
    assert_eq!(
        text(&item, "updatedIn").as_deref(),
        Some(SECONDARY),
        "{item:?}"
    );
    item
}

/// Without a terminal no line carries a terminal escape and none is cut:
/// a pipe or a CI log gets every detail whole (a terminal's width applies
/// only on a terminal, `src/status/report.rs`).
fn assert_plain_and_whole(output: &Output) {
    let stdout = stdout_of(output);
    assert!(!stdout.contains('\x1b'), "ANSI escape on stdout: {stdout}");
    let stderr = stderr_of(output);
    assert!(!stderr.contains('\x1b'), "ANSI escape on stderr: {stderr}");
    for line in stdout.lines() {
        assert!(!line.ends_with('…'), "cut: {line}\n{stdout}");
    }
}

/// The dropped requests since the proxy's log was cleared, by operation,
/// with when each attempt came: where an unreachable region's time goes.
fn drops(proxy: &Proxy) -> String {
    let mut by_call: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for seen in proxy.seen().iter().filter(|s| s.action == "drop") {
        let call = if seen.operation.is_empty() {
            format!("{} {} {}", seen.service, seen.method, seen.target)
        } else {
            format!("{} {}", seen.service, seen.operation)
        };
        by_call
            .entry(call)
            .or_default()
            .push(format!("{:.1}", seen.at.as_secs_f64()));
    }
    let calls: Vec<String> = by_call
        .iter()
        .map(|(call, at)| format!("{call} ×{} at [{}] s", at.len(), at.join(", ")))
        .collect();
    format!("dropped: {}", calls.join("; "))
}

/// `(kind, name, region)` → `(status, detail)` of the report's checks; no
/// check appears twice.
fn checks_of(report: &Value) -> BTreeMap<(String, String, String), (String, String)> {
    let mut checks = BTreeMap::new();
    for check in report["checks"].as_array().expect("checks") {
        let s = |k: &str| check[k].as_str().unwrap_or_default().to_string();
        let previous = checks.insert(
            (s("kind"), s("name"), s("region")),
            (s("status"), s("detail")),
        );
        assert!(previous.is_none(), "check listed twice: {check}");
    }
    checks
}

fn key(kind: &str, name: &str, region: &str) -> (String, String, String) {
    (kind.into(), name.into(), region.into())
}

/// The state change command's JSON answer; `regions` as region → state.
fn read_back(outcome: &Value) -> BTreeMap<String, (Option<String>, Option<String>)> {
    outcome["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap_or_default().to_string(),
                (
                    r["state"].as_str().map(str::to_string),
                    r["error"].as_str().map(str::to_string),
                ),
            )
        })
        .collect()
}

/// The report says the primary did not answer: overall and its bootstrap.
fn assert_primary_unreachable(report: &Value) {
    assert_eq!(report["overall"], "unreachable", "{report}");
    assert_eq!(
        checks_of(report)[&key("unit", "bootstrap", PRIMARY)].0,
        "unreachable",
        "{report:#}"
    );
}

/// With the primary down, the secondary is shown as it is: every unit ok,
/// and the state its item holds.
fn assert_secondary_shown(report: &Value, state: &str) {
    let checks = checks_of(report);
    for unit in STACK_SET_UNITS {
        assert_eq!(
            checks[&key("unit", unit, SECONDARY)].0,
            "ok",
            "{unit} in {SECONDARY}: {report:#}"
        );
    }
    assert_eq!(
        checks[&key("state", "app-state", SECONDARY)],
        ("ok".to_string(), state.to_string()),
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------
// Done means 1: every unit × region and every link, nothing unseen is ok
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn status_after_a_deploy_lists_everything_and_claims_nothing_the_emulator_did_not_do() {
    let emulator = Emulator::start("status_after_deploy");
    deploy(&emulator);

    let output = mraa(
        &["status", "--output", "json"],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let report = json_of(&output);
    assert_eq!(report["schema_version"], 1, "{report}");
    assert_eq!(report["app"], APP);
    assert_eq!(report["primary"], PRIMARY);
    assert_eq!(report["secondary"], SECONDARY);
    assert_eq!(report["mode"], "active-passive");
    assert_eq!(report["endpoint"], "custom");
    assert_eq!(report["overall"], "ok", "{report}");
    assert_eq!(report["exit_code"], 0);

    // Every unit, link and state is ok, each as the service reports it.
    let ok = |kind: &str, name: &str, region: &str, why: &str| {
        (key(kind, name, region), why.to_string())
    };
    let mut expected: BTreeMap<_, _> = [
        ok("unit", "bootstrap", PRIMARY, "CREATE_COMPLETE"),
        ok("unit", "edge", PRIMARY, "CREATE_COMPLETE"),
        ok("unit", "user-pool", PRIMARY, &format!("{PRIMARY}_")),
        // The replica: the primary's pool id, ACTIVE in the secondary.
        ok("unit", "user-pool", SECONDARY, &format!("{PRIMARY}_")),
        ok("link", "s3-replication", PRIMARY, "RTC on"),
        ok("link", "replica comments", SECONDARY, "ACTIVE"),
        ok("link", "replica app-config", SECONDARY, "ACTIVE"),
        ok("link", "cloudfront", "global", "Deployed"),
        ok("link", "website-policy", PRIMARY, "admits distribution"),
        ok("link", "website-policy", SECONDARY, "admits distribution"),
        ok("state", "app-state", PRIMARY, "active"),
        ok("state", "app-state", SECONDARY, "active"),
        // What deploy promised, read back (src/status/promises.rs).
        ok(
            "link",
            "site-domain",
            "global",
            "serves its cloudfront.net name only",
        ),
        ok("link", "site-config", PRIMARY, "names this deployment"),
        ok("link", "site-config", SECONDARY, "names this deployment"),
        ok("link", "cors-origin", PRIMARY, "APIs allow origin *"),
        ok("link", "cors-origin", SECONDARY, "APIs allow origin *"),
        // Replication lag as CloudWatch publishes it, held to its objective
        // (src/status/lag.rs): items both ways, objects from the primary.
        ok("lag", "items comments", PRIMARY, "objective"),
        ok("lag", "items comments", SECONDARY, "objective"),
        ok("lag", "items app-config", PRIMARY, "objective"),
        ok("lag", "items app-config", SECONDARY, "objective"),
        ok("lag", "objects", PRIMARY, "objective"),
    ]
    .into_iter()
    .collect();
    for unit in STACK_SET_UNITS {
        for region in [PRIMARY, SECONDARY] {
            expected.insert(key("unit", unit, region), "CREATE_COMPLETE".into());
        }
    }
    let checks = checks_of(&report);
    assert_eq!(
        checks.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>(),
        "every unit × region and every link, nothing else: {report:#}"
    );
    for (key, (status, detail)) in &checks {
        assert_eq!(status, "ok", "{key:?}: {detail}");
        assert!(
            detail.contains(&expected[key]),
            "{key:?}: `{}` expected in {detail}",
            expected[key]
        );
    }
    for unit in ["bootstrap", "edge"].into_iter().chain(STACK_SET_UNITS) {
        for region in [PRIMARY, SECONDARY] {
            if let Some((_, detail)) = checks.get(&key("unit", unit, region)) {
                assert_eq!(detail, "CREATE_COMPLETE", "{unit} in {region}");
            }
        }
    }
    let unit_updates = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "unit" && c["name"] != "user-pool");
    for check in unit_updates {
        assert!(
            check["updated"]
                .as_str()
                .is_some_and(|t| t.starts_with("20")),
            "a stack's last update time: {check}"
        );
    }
    let (_, replication) = &checks[&key("link", "s3-replication", PRIMARY)];
    assert!(
        replication.contains(&format!("mraa-{APP}-objects-{ACCOUNT}-{SECONDARY}"))
            && replication.contains("RTC on"),
        "{replication}"
    );

    // The state, with when, by whom and why.
    let state = &report["state"];
    assert_eq!(state["state"], "active", "{state}");
    assert_eq!(state["reason"], "initial deployment", "{state}");
    assert!(
        state["updated_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{state}"
    );
    assert!(
        state["updated_by"]
            .as_str()
            .is_some_and(|b| b.contains(ACCOUNT)),
        "{state}"
    );
    // The per-region API URLs.
    for region in [PRIMARY, SECONDARY] {
        let endpoints = &report["endpoints"]["regions"][region];
        assert!(
            endpoints["api_url"]
                .as_str()
                .is_some_and(|u| u.contains(region)),
            "{endpoints}"
        );
        assert!(
            endpoints["state_url"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/{APP}"))),
            "{endpoints}"
        );
    }

    // Text: colour off and nothing cut without a terminal, even when
    // NO_COLOR is not set.
    let plain_env: Vec<_> = emulator
        .env_in(PRIMARY)
        .into_iter()
        .filter(|(k, _)| k != "NO_COLOR")
        .collect();
    let output = mraa(&["status"], &plain_env, None);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert_plain_and_whole(&output);
    let text = stdout_of(&output);
    for (kind, name, region) in checks.keys() {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name.as_str()) && l.contains(region.as_str())),
            "{kind} {name} in {region} is not in the table:\n{text}"
        );
    }
    assert!(text.contains("state active"), "{text}");
    assert!(text.contains("overall ok (exit 0)"), "{text}");
}

// ---------------------------------------------------------------------------
// Done means 2: failover → fence → activate, each checked through the SDK
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn failover_fence_and_activate_round_trip() {
    let emulator = Emulator::start("status_round_trip");
    deploy(&emulator);
    let env = emulator.env_in(PRIMARY);

    // failover writes through the secondary.
    let output = run_ok(&["failover", "--reason", "drill", "--output", "json"], &env);
    let outcome = json_of(&output);
    assert_eq!(outcome["before"], "active", "{outcome}");
    assert_eq!(outcome["after"], "failover");
    assert_eq!(outcome["changed"], true);
    assert_eq!(outcome["written_in"], SECONDARY);
    let item = failover_written_in_secondary(&emulator).await;
    assert_eq!(
        text(&item, "previousState").as_deref(),
        Some("active"),
        "{item:?}"
    );
    assert_eq!(text(&item, "reason").as_deref(), Some("drill"), "{item:?}");
    assert!(
        text(&item, "updatedBy").is_some_and(|b| b.contains(ACCOUNT)),
        "{item:?}"
    );
    assert!(
        text(&item, "updatedAt").is_some_and(|t| t.starts_with("20")),
        "{item:?}"
    );
    // The read-back shows each region: the primary has the state by
    // replication.
    let regions = read_back(&outcome);
    assert_eq!(
        regions[SECONDARY].0.as_deref(),
        Some("failover"),
        "{outcome}"
    );
    assert_eq!(regions[PRIMARY].0.as_deref(), Some("failover"), "{outcome}");
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("failover")
    );

    // fence writes through the primary.
    let output = run_ok(&["fence", "--yes"], &env);
    let said = stdout_of(&output);
    assert!(said.contains("failover → fenced"), "{said}");
    assert!(said.contains(&format!("written in {PRIMARY}")), "{said}");
    let item = item_in(&emulator, PRIMARY).await;
    assert_eq!(text(&item, "state").as_deref(), Some("fenced"), "{item:?}");
    assert_eq!(
        text(&item, "previousState").as_deref(),
        Some("failover"),
        "{item:?}"
    );
    assert_eq!(
        text(&item, "reason"),
        None,
        "no --reason, no stale reason: {item:?}"
    );
    assert!(text(&item, "updatedBy").is_some(), "{item:?}");
    assert_eq!(
        state_in(&emulator, SECONDARY).await.as_deref(),
        Some("fenced")
    );

    // activate: with replication not confirmed healthy (the object
    // bucket's rule removed behind mraa's back), without --yes (and without
    // a terminal) it refuses, says why, and changes nothing.
    let objects = format!("mraa-{APP}-objects-{ACCOUNT}-{PRIMARY}");
    let s3 = emulator.s3(PRIMARY);
    let rule = s3
        .get_bucket_replication()
        .bucket(&objects)
        .send()
        .await
        .expect("the replication rule");
    s3.delete_bucket_replication()
        .bucket(&objects)
        .send()
        .await
        .expect("remove the replication rule");
    emulator.start_recording();
    let (refused, _) = timed(&["activate", "--reason", "primary back"], &env);
    let calls = emulator.recorded_calls();
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    let why = stderr_of(&refused);
    assert!(why.contains("refusing to activate"), "{why}");
    assert!(why.contains("replication"), "{why}");
    assert!(why.contains("--yes"), "{why}");
    assert!(!calls.is_empty(), "the guard reads the links");
    let mutating: Vec<_> = calls.iter().filter(|c| c.is_mutating()).collect();
    assert!(
        mutating.is_empty(),
        "mutating calls by a refused activate: {mutating:#?}"
    );
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("fenced")
    );
    s3.put_bucket_replication()
        .bucket(&objects)
        .set_replication_configuration(rule.replication_configuration().cloned())
        .send()
        .await
        .expect("put the replication rule back");

    // Replication healthy again: activate needs no confirmation.
    let output = run_ok(
        &["activate", "--reason", "primary back", "--output", "json"],
        &env,
    );
    let outcome = json_of(&output);
    assert_eq!(outcome["before"], "fenced", "{outcome}");
    assert_eq!(outcome["written_in"], PRIMARY, "{outcome}");
    let item = item_in(&emulator, PRIMARY).await;
    assert_eq!(text(&item, "state").as_deref(), Some("active"), "{item:?}");
    assert_eq!(
        text(&item, "previousState").as_deref(),
        Some("fenced"),
        "{item:?}"
    );

    // Asking for the state it already has: a message, exit 0, no write.
    emulator.start_recording();
    let output = run_ok(&["activate", "--yes"], &env);
    let calls = emulator.recorded_calls();
    let said = stdout_of(&output);
    assert!(said.contains("already active"), "{said}");
    assert!(
        calls.iter().all(|c| !c.is_mutating()),
        "a repeated state writes nothing: {calls:#?}"
    );
    assert_eq!(
        text(&item_in(&emulator, PRIMARY).await, "previousState").as_deref(),
        Some("fenced")
    );
    let output = run_ok(&["fence", "--reason", "drill", "--output", "json"], &env);
    assert_eq!(json_of(&output)["changed"], true);
    let output = run_ok(&["fence", "--reason", "drill", "--output", "json"], &env);
    let outcome = json_of(&output);
    assert_eq!(outcome["changed"], false, "{outcome}");
    assert_eq!(outcome["before"], "fenced", "{outcome}");
}

/// Activating an app that is already active activates nothing: no
/// confirmation to ask for, "already", exit 0, as for the other states.
/// A second of replication lag, as AWS shows between distant regions: long
/// enough that a read right after a write comes before the copy.
const LAG: &str = "1.0";

/// Global tables copy a write to the other region asynchronously: read
/// there right after, the item is still the old one. `failover` writes in
/// the secondary and reads back in both regions: it waits for the primary to
/// read the new state, and says how long replication took.
#[tokio::test(flavor = "multi_thread")]
async fn failover_reads_back_after_the_replication_lag() {
    let emulator = Emulator::start_with(
        "status_replication_lag",
        &[("MRAA_EMULATOR_REPLICATION_LAG", LAG)],
    );
    deploy(&emulator);
    let lag = Duration::from_secs_f64(LAG.parse().expect("a number of seconds"));

    // The emulator's lag, through DynamoDB's API: a write in the primary is
    // not yet readable in the secondary, even with a consistent read.
    let written = Instant::now();
    emulator
        .dynamodb(PRIMARY)
        .update_item()
        .table_name(TABLE)
        .key("appId", AttributeValue::S(APP.into()))
        .update_expression("SET reason = :why")
        .expression_attribute_values(":why", AttributeValue::S("lag probe".into()))
        .send()
        .await
        .expect("write in the primary");
    let secondary_reads = text(&item_in(&emulator, SECONDARY).await, "reason");
    assert!(
        written.elapsed() < lag,
        "the read came too late to see the lag"
    );
    assert_ne!(secondary_reads.as_deref(), Some("lag probe"));

    // failover writes in the secondary; its read-back in the primary waits
    // for the copy (without the wait it would print the old state).
    let (output, took) = timed(
        &["failover", "--reason", "drill", "--output", "json"],
        &emulator.env_in(PRIMARY),
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let outcome = json_of(&output);
    assert_eq!(outcome["written_in"], SECONDARY, "{outcome}");
    let primary = outcome["regions"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["region"] == PRIMARY))
        .cloned()
        .unwrap_or_else(|| panic!("the primary's read-back: {outcome}"));
    assert_eq!(primary["state"], "failover", "{outcome}");
    assert!(primary["error"].is_null(), "{outcome}");
    let after = primary["replicated_after_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("the lag the read-back saw: {outcome}"));
    assert!(
        Duration::from_millis(after) >= lag.mul_f64(0.9) && took >= lag,
        "the primary read failover {after} ms after the write, with a {lag:?} lag: {outcome}"
    );
    // What mraa printed holds: the primary's table says failover.
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("failover")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn activate_when_already_active_needs_no_confirmation() {
    let emulator = Emulator::start("status_already_active");
    deploy(&emulator);
    let output = mraa(
        &["activate", "--reason", "drill"],
        &emulator.env_in(PRIMARY),
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        stdout_of(&output).contains("already active"),
        "{}",
        show(&output)
    );
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("active")
    );
}

// ---------------------------------------------------------------------------
// Done means 3: the primary unreachable
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn with_the_primary_unreachable_failover_succeeds_and_status_exits_4() {
    let emulator = Emulator::start("status_primary_down");
    deploy(&emulator);
    let proxy = Proxy::start(emulator.port);
    let env = proxied_env(&emulator, &proxy);

    // Through the proxy with nothing blocked, status is what it is directly.
    let output = mraa(&["status", "--output", "json"], &env, None);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(proxy.seen().iter().all(|s| s.action == "forward"));

    proxy.block(PRIMARY);
    proxy.clear_seen();
    let (output, failover_took) = timed(
        &[
            "failover",
            "--secondary",
            SECONDARY,
            "--reason",
            "primary down",
            "--output",
            "json",
        ],
        &env,
    );
    eprintln!(
        "failover with {PRIMARY} unreachable took {failover_took:?}; {}",
        drops(&proxy)
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let outcome = json_of(&output);
    assert_eq!(outcome["written_in"], SECONDARY, "{outcome}");
    assert_eq!(outcome["before"], "active", "{outcome}");
    let regions = read_back(&outcome);
    assert_eq!(
        regions[SECONDARY].0.as_deref(),
        Some("failover"),
        "{outcome}"
    );
    let (state, error) = &regions[PRIMARY];
    assert_eq!(state, &None, "{outcome}");
    assert!(
        error.is_some(),
        "the primary could not be read, and says so: {outcome}"
    );
    // Checked directly at the emulator: written in the secondary.
    let item = failover_written_in_secondary(&emulator).await;
    assert_eq!(
        text(&item, "reason").as_deref(),
        Some("primary down"),
        "{item:?}"
    );
    // Only mraa's way to the primary is cut, not the emulator's replication:
    // the primary has the state too, once replication has copied it, as
    // AWS's would once it is back.
    replicated(|| async { state_in(&emulator, PRIMARY).await == Some("failover".into()) }).await;
    let seen = proxy.seen();
    assert!(
        seen.iter()
            .any(|s| s.region == PRIMARY && s.action == "drop"),
        "the primary was tried: {seen:#?}"
    );
    assert!(
        seen.iter()
            .all(|s| s.region != PRIMARY || s.action == "drop"),
        "nothing reached the primary: {seen:#?}"
    );

    proxy.clear_seen();
    let (output, status_took) = timed(
        &["status", "--secondary", SECONDARY, "--output", "json"],
        &env,
    );
    eprintln!(
        "status with {PRIMARY} unreachable took {status_took:?}; {}",
        drops(&proxy)
    );
    assert_eq!(output.status.code(), Some(4), "{}", show(&output));
    assert!(
        status_took < UNREACHABLE_BOUND,
        "status took {status_took:?} with the primary down"
    );
    let report = json_of(&output);
    assert_eq!(report["overall"], "unreachable", "{report}");
    assert_eq!(report["exit_code"], 4);
    let checks = checks_of(&report);
    // Every check of the primary is unreachable, and there is one for each
    // unit and link there.
    for ((kind, name, region), (status, detail)) in &checks {
        if region == PRIMARY || region == "global" {
            assert_eq!(status, "unreachable", "{kind} {name} in {region}: {detail}");
            assert!(!detail.is_empty(), "{kind} {name} in {region}");
        }
    }
    let primary_names: BTreeSet<&str> = checks
        .keys()
        .filter(|(_, _, region)| region == PRIMARY)
        .map(|(_, name, _)| name.as_str())
        .collect();
    for name in [
        "bootstrap",
        "edge",
        "user-pool",
        "app-state",
        "s3-replication",
        "website-policy",
    ]
    .into_iter()
    .chain(STACK_SET_UNITS)
    {
        assert!(
            primary_names.contains(name),
            "no {name} check in {PRIMARY}: {report:#}"
        );
    }
    assert!(
        checks.contains_key(&key("link", "cloudfront", "global")),
        "{report:#}"
    );
    assert_secondary_shown(&report, "failover");
    assert_eq!(report["state"]["state"], "failover", "{report}");
    assert_eq!(report["state"]["reason"], "primary down", "{report}");

    // fence falls back to the secondary, with a warning.
    let output = run_ok(
        &[
            "fence",
            "--secondary",
            SECONDARY,
            "--reason",
            "drill",
            "--output",
            "json",
        ],
        &env,
    );
    assert!(
        stderr_of(&output).contains(&format!("the primary region {PRIMARY} does not answer")),
        "{}",
        show(&output)
    );
    assert_eq!(json_of(&output)["written_in"], SECONDARY);
    assert_eq!(
        state_in(&emulator, SECONDARY).await.as_deref(),
        Some("fenced")
    );

    // Back up: the primary answers again through the same proxy.
    proxy.unblock(PRIMARY);
    let output = mraa(&["status", "--output", "json"], &env, None);
    assert_ne!(output.status.code(), Some(4), "{}", show(&output));
}

/// A primary that accepts connections and never answers costs each command
/// one bounded probe: `status` and `failover` each finish within 30 s.
#[tokio::test(flavor = "multi_thread")]
async fn with_a_hanging_primary_status_and_failover_finish_within_30_seconds() {
    const BOUND: Duration = Duration::from_secs(30);
    let emulator = Emulator::start("status_primary_hangs");
    deploy(&emulator);
    let proxy = Proxy::start(emulator.port);
    let env = proxied_env(&emulator, &proxy);
    // us-east-1 hangs whole: the region's services and Route 53's and
    // CloudFront's control planes with it.
    proxy.hang(PRIMARY);

    let (output, status_took) = timed(
        &["status", "--secondary", SECONDARY, "--output", "json"],
        &env,
    );
    eprintln!("status with {PRIMARY} hanging took {status_took:?}");
    assert_eq!(output.status.code(), Some(4), "{}", show(&output));
    assert!(status_took <= BOUND, "status took {status_took:?}");
    let report = json_of(&output);
    assert_primary_unreachable(&report);
    assert_eq!(
        checks_of(&report)[&key("state", "app-state", SECONDARY)].0,
        "ok",
        "{report:#}"
    );

    proxy.clear_seen();
    let (output, failover_took) = timed(
        &[
            "failover",
            "--secondary",
            SECONDARY,
            "--reason",
            "drill",
            "--output",
            "json",
        ],
        &env,
    );
    eprintln!("failover with {PRIMARY} hanging took {failover_took:?}");
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(failover_took <= BOUND, "failover took {failover_took:?}");
    let outcome = json_of(&output);
    assert_eq!(outcome["written_in"], SECONDARY, "{outcome}");
    assert!(
        read_back(&outcome)[PRIMARY].1.is_some(),
        "the primary is said not to answer: {outcome}"
    );
    assert_eq!(
        state_in(&emulator, SECONDARY).await.as_deref(),
        Some("failover")
    );
    assert!(
        proxy
            .seen()
            .iter()
            .any(|s| s.region == PRIMARY && s.action == "hang"),
        "the primary was asked and held the connection"
    );
}

// ---------------------------------------------------------------------------
// The primary down and the secondary named nowhere: the deployment record
// ---------------------------------------------------------------------------

/// The deployment record (`<app>#deployment` in the app-config table) as
/// `region`'s table holds it: (primary, secondary).
async fn record_in(emulator: &Emulator, region: &str) -> Option<(String, String)> {
    let item = emulator
        .dynamodb(region)
        .get_item()
        .table_name(TABLE)
        .key("appId", AttributeValue::S(format!("{APP}#deployment")))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_item in {region}: {e:?}"))
        .item()
        .cloned()?;
    Some((
        text(&item, "primaryRegion")?,
        text(&item, "secondaryRegion")?,
    ))
}

/// What a command says when nothing names the secondary: every source, and
/// that the record was looked for.
fn assert_names_the_sources(output: &Output) {
    assert_eq!(output.status.code(), Some(4), "{}", show(output));
    let said = stderr_of(output);
    for source in [
        "--secondary",
        "MRAA_SECONDARY",
        "configuration file",
        "deployment record",
    ] {
        assert!(said.contains(source), "{source} not named: {said}");
    }
}

/// With the primary hanging and no `--secondary`, `MRAA_SECONDARY` or
/// config file, failover and status learn the secondary from the deployment
/// record that deploy wrote in the primary and replication carried to the
/// secondary; each still finishes within 30 s.
#[tokio::test(flavor = "multi_thread")]
async fn with_the_primary_hanging_and_no_secondary_given_the_record_names_it() {
    const BOUND: Duration = Duration::from_secs(30);
    let found =
        format!("found the secondary {SECONDARY} from the deployment record in {SECONDARY}");
    let emulator = Emulator::start("status_secondary_from_record");
    deploy(&emulator);
    let both = Some((PRIMARY.to_string(), SECONDARY.to_string()));
    assert_eq!(
        record_in(&emulator, PRIMARY).await,
        both,
        "written by deploy"
    );
    assert_eq!(record_in(&emulator, SECONDARY).await, both, "replicated");
    let proxy = Proxy::start(emulator.port);
    let env = proxied_env(&emulator, &proxy);
    assert!(!env.iter().any(|(k, _)| k == "MRAA_SECONDARY"));
    proxy.hang(PRIMARY);

    let (output, failover_took) =
        timed(&["failover", "--reason", "drill", "--output", "json"], &env);
    eprintln!("failover with {PRIMARY} hanging, no secondary given, took {failover_took:?}");
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(failover_took <= BOUND, "failover took {failover_took:?}");
    assert!(stderr_of(&output).contains(&found), "{}", show(&output));
    assert_eq!(json_of(&output)["written_in"], SECONDARY);
    // Checked at the emulator: the secondary's state item says failover.
    failover_written_in_secondary(&emulator).await;
    // The search asked the secondary's DynamoDB for the record (which other
    // regions it reached before that answer ended it depends on timing),
    // and never the primary's.
    let seen = proxy.seen();
    assert!(
        seen.iter()
            .any(|s| s.service == "dynamodb" && s.operation == "GetItem" && s.region == SECONDARY),
        "{seen:#?}"
    );
    assert!(
        !seen
            .iter()
            .any(|s| s.region == PRIMARY && s.service == "dynamodb"),
        "{seen:#?}"
    );

    let (output, status_took) = timed(&["status", "--output", "json"], &env);
    eprintln!("status with {PRIMARY} hanging, no secondary given, took {status_took:?}");
    assert_eq!(output.status.code(), Some(4), "{}", show(&output));
    assert!(status_took <= BOUND, "status took {status_took:?}");
    assert!(stderr_of(&output).contains(&found), "{}", show(&output));
    let report = json_of(&output);
    assert_eq!(report["secondary"], SECONDARY, "{report}");
    assert_primary_unreachable(&report);
    assert_secondary_shown(&report, "failover");

    // A deployment made before the record existed: nothing names the
    // secondary, and both commands say where it could come from.
    emulator
        .dynamodb(PRIMARY)
        .delete_item()
        .table_name(TABLE)
        .key("appId", AttributeValue::S(format!("{APP}#deployment")))
        .send()
        .await
        .expect("delete the record");
    replicated(|| async { record_in(&emulator, SECONDARY).await.is_none() }).await;
    let (output, took) = timed(&["status"], &env);
    assert!(took <= BOUND, "status took {took:?}");
    assert_names_the_sources(&output);
    let (output, took) = timed(&["failover", "--reason", "drill"], &env);
    assert!(took <= BOUND, "failover took {took:?}");
    assert_names_the_sources(&output);
}

/// No record anywhere (nothing deployed): with the primary down, the error
/// names every source of the secondary and says the record was looked for.
#[test]
fn with_the_primary_down_and_no_record_anywhere_the_error_names_the_sources() {
    let emulator = Emulator::start("status_no_record");
    let proxy = Proxy::start(emulator.port);
    proxy.block(PRIMARY);
    let env = proxied_env(&emulator, &proxy);
    for command in [&["status"][..], &["failover", "--reason", "drill"]] {
        let output = mraa(command, &env, None);
        assert_names_the_sources(&output);
    }
    // Every other region was asked, and answered (no table there).
    let asked: BTreeSet<String> = proxy
        .seen()
        .iter()
        .filter(|s| s.service == "dynamodb" && s.action == "forward")
        .map(|s| s.region.clone())
        .collect();
    assert_eq!(
        asked.len(),
        mraa::regions::KNOWN_REGIONS.len() - 1,
        "{asked:?}"
    );
    assert!(!asked.contains(PRIMARY));
}

/// The text table with the primary down: plain, with the cause whole.
#[tokio::test(flavor = "multi_thread")]
async fn status_text_with_the_primary_unreachable_is_plain_and_whole() {
    let emulator = Emulator::start("status_primary_down_text");
    deploy(&emulator);
    let proxy = Proxy::start(emulator.port);
    proxy.block(PRIMARY);
    let (output, took) = timed(
        &["status", "--secondary", SECONDARY],
        &proxied_env(&emulator, &proxy),
    );
    eprintln!("text status with {PRIMARY} unreachable took {took:?}");
    assert_eq!(output.status.code(), Some(4), "{}", show(&output));
    assert!(took < UNREACHABLE_BOUND, "{took:?}");
    assert!(
        stdout_of(&output).contains("overall unreachable (exit 4)"),
        "{}",
        show(&output)
    );
    assert_plain_and_whole(&output);
}

// ---------------------------------------------------------------------------
// No deployment
// ---------------------------------------------------------------------------

#[test]
fn status_without_a_deployment_says_so_and_exits_3() {
    let emulator = Emulator::start("status_nothing");
    let env = emulator.env_in(PRIMARY);
    let output = mraa(&["status"], &env, None);
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    let said = stderr_of(&output);
    assert!(said.contains("no deployment of app mraa"), "{said}");
    assert!(said.contains(PRIMARY), "{said}");
    let output = mraa(&["failover", "--reason", "drill"], &env, None);
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    assert!(
        stderr_of(&output).contains("no deployment"),
        "{}",
        show(&output)
    );
}

// ---------------------------------------------------------------------------
// S3 replication acts as its role: the deployed role may replicate, a role
// stripped of s3:ReplicateObject leaves new objects FAILED
// ---------------------------------------------------------------------------

/// Percent-encoding for a form body (RFC 3986 unreserved characters kept).
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An IAM query-API call to the emulator (the tests link no IAM SDK);
/// returns the HTTP status line and body.
fn iam_call(emulator: &Emulator, params: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let body = params
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", emulator.port)).expect("connect to emulator");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: iam.amazonaws.com\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20200101/us-east-1/iam/aws4_request, \
         SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the IAM request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the IAM response");
    response
}

/// What HeadObject reports for `key` in the primary's photo bucket, and
/// whether the secondary's bucket has it.
async fn replication_of(emulator: &Emulator, key: &str) -> (Option<String>, bool) {
    let bucket = |region: &str| format!("mraa-{APP}-objects-{ACCOUNT}-{region}");
    emulator
        .s3(PRIMARY)
        .put_object()
        .bucket(bucket(PRIMARY))
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"photo"))
        .send()
        .await
        .expect("put a photo");
    let head = emulator
        .s3(PRIMARY)
        .head_object()
        .bucket(bucket(PRIMARY))
        .key(key)
        .send()
        .await
        .expect("head the photo");
    let copied = emulator
        .s3(SECONDARY)
        .head_object()
        .bucket(bucket(SECONDARY))
        .key(key)
        .send()
        .await
        .is_ok();
    (
        head.replication_status().map(|s| s.as_str().to_string()),
        copied,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_replicates_as_the_deployed_role_and_fails_without_replicate_object() {
    let emulator = Emulator::start("status_replication_role");
    deploy(&emulator);
    // The role the object-store template makes lets S3 replicate.
    assert_eq!(
        replication_of(&emulator, "photos/before.jpg").await,
        (Some("COMPLETED".into()), true)
    );

    // Behind mraa's back, the role loses s3:ReplicateObject (the other
    // statements as the template writes them).
    let source = format!("arn:aws:s3:::mraa-{APP}-objects-{ACCOUNT}-{PRIMARY}");
    let destination = format!("arn:aws:s3:::mraa-{APP}-objects-{ACCOUNT}-{SECONDARY}/*");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
             "Resource": source},
            {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication",
             "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
             "Resource": format!("{source}/*")},
            {"Effect": "Allow", "Action": ["s3:ReplicateDelete", "s3:ReplicateTags"],
             "Resource": destination},
        ],
    });
    let role = format!("mraa-{APP}-replication-{PRIMARY}");
    let answer = iam_call(
        &emulator,
        &[
            ("Action", "PutRolePolicy"),
            ("Version", "2010-05-08"),
            ("RoleName", &role),
            ("PolicyName", "replicate-photos"),
            ("PolicyDocument", &policy.to_string()),
        ],
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A new object is not copied, and S3 says FAILED.
    assert_eq!(
        replication_of(&emulator, "photos/after.jpg").await,
        (Some("FAILED".into()), false)
    );
}
