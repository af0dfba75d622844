//! `mraa drill` against the emulator: on AWS's clock (scaled) with a custom
//! domain it measures the recovery point (a probe item, object and user
//! attribute) and the recovery time (state, health checks, DNS) and returns
//! to `active`; with items, objects or users stalled (the lag control) it
//! exits 3 naming the objective it missed. Either way no probe is left, read
//! through DynamoDB's, S3's and Cognito's own APIs.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::domain::create_zone;
use crate::support::{ACCOUNT, Emulator, mraa, show, stderr_of, stdout_of};

const PRIMARY: &str = "eu-west-1";
const SECONDARY: &str = "ap-northeast-1";
const APP: &str = "mraa";
const DOMAIN: &str = "app.example.test";
/// AWS's clock divided by 60, as in the domain tests: a 30 s RequestInterval
/// is half a second.
const SCALE: f64 = 60.0;

fn figures_of(output: &std::process::Output) -> Vec<Value> {
    let report: Value = serde_json::from_str(&stdout_of(output))
        .unwrap_or_else(|e| panic!("drill JSON ({e}): {}", show(output)));
    report["figures"].as_array().cloned().unwrap_or_default()
}

fn figure<'a>(figures: &'a [Value], name: &str) -> &'a Value {
    figures
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no figure {name}: {figures:#?}"))
}

fn seconds(figure: &Value) -> f64 {
    figure["seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("a measured figure: {figure}"))
}

/// The app-config items of a drill, and the object versions and delete
/// markers under `mraa-drill/`, in both regions.
async fn probes_left(emulator: &Emulator) -> Vec<String> {
    let mut left = Vec::new();
    for region in [PRIMARY, SECONDARY] {
        let items = emulator
            .dynamodb(region)
            .scan()
            .table_name(format!("mraa-{APP}-app-config"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan app-config in {region}: {e:?}"));
        for item in items.items() {
            if let Some(AttributeValue::S(key)) = item.get("appId")
                && key.contains("#drill")
            {
                left.push(format!("{region} item {key}"));
            }
        }
        let bucket = format!("mraa-{APP}-objects-{ACCOUNT}-{region}");
        let versions = emulator
            .s3(region)
            .list_object_versions()
            .bucket(&bucket)
            .prefix("mraa-drill/")
            .send()
            .await
            .unwrap_or_else(|e| panic!("list versions of {bucket}: {e:?}"));
        for key in versions
            .versions()
            .iter()
            .filter_map(|v| v.key())
            .chain(versions.delete_markers().iter().filter_map(|m| m.key()))
        {
            left.push(format!("{bucket} {key}"));
        }
    }
    // The probe user, in the primary's pool (the replica shares its directory).
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator.sdk_config(PRIMARY));
    let pools = cognito
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list user pools");
    for pool in pools.user_pools() {
        if pool.name() != Some(&format!("mraa-{APP}-users")) {
            continue;
        }
        let id = pool.id().unwrap_or_default();
        let users = cognito
            .list_users()
            .user_pool_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list users of {id}: {e:?}"));
        for user in users.users() {
            let name = user.username().unwrap_or_default();
            if name.starts_with("mraa-drill-") {
                left.push(format!("{id} user {name}"));
            }
        }
    }
    left
}

/// A drill (JSON report) with the stand-ins' lags set to `lags`: it exits 3.
fn stalled_drill(
    emulator: &Emulator,
    env: &[(String, String)],
    lags: &str,
) -> std::process::Output {
    emulator.control("POST", "/moto-api/mraa/replication-lag", lags);
    let output = mraa(
        &["drill", "--reason", "rehearsal", "--output", "json"],
        env,
        None,
    );
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    output
}

async fn state_in(emulator: &Emulator, region: &str) -> Option<String> {
    emulator
        .state_item(region, APP)
        .await
        .and_then(|item| item.get("state").and_then(|s| s.as_s().ok()).cloned())
}

#[tokio::test(flavor = "multi_thread")]
async fn drill_failover_on_the_clock_measures_rpo_and_rto_and_puts_everything_back() {
    // The default lag on the clock: a second between a write and its copy.
    let emulator = Emulator::start_with(
        "drill_on_the_clock",
        &[("MRAA_EMULATOR_TIME_SCALE", &SCALE.to_string())],
    );
    create_zone(&emulator, DOMAIN).await;
    let env = emulator.env_in(PRIMARY);
    let deployed = mraa(
        &["deploy", "--secondary", SECONDARY, "--domain", DOMAIN],
        &env,
        None,
    );
    assert_eq!(deployed.status.code(), Some(0), "{}", show(&deployed));

    let output = mraa(
        &[
            "drill",
            "--failover",
            "--reason",
            "rehearsal",
            "--output",
            "json",
        ],
        &env,
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let figures = figures_of(&output);
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&figures).unwrap_or_default()
    );
    for name in [
        "rpo-items",
        "rpo-objects",
        "rpo-users",
        "rto-state",
        "rto-health-checks",
        "rto-dns",
        "return-state",
        "return-health-checks",
        "return-dns",
    ] {
        let found = figure(&figures, name);
        assert_eq!(found["verdict"], "ok", "{found}");
        assert!(
            seconds(found) <= found["objective_seconds"].as_f64().unwrap_or_default(),
            "{found}"
        );
    }
    // Measured, not assumed: the item took the stand-in's lag (a second),
    // and the state reached the other region after it too.
    assert!(
        seconds(figure(&figures, "rpo-items")) >= 0.9,
        "{figures:#?}"
    );
    assert!(
        seconds(figure(&figures, "rto-state")) >= 0.9,
        "{figures:#?}"
    );
    // DNS moved only once the primary's check failed FailureThreshold (3)
    // rounds of RequestInterval (0.5 s here): two rounds at least.
    let interval = f64::from(mraa::wire::route53::REQUEST_INTERVAL) / SCALE;
    let rounds = f64::from(mraa::wire::route53::FAILURE_THRESHOLD - 1);
    for name in ["rto-dns", "return-dns", "rto-health-checks"] {
        assert!(
            seconds(figure(&figures, name)) >= interval * rounds,
            "{name} before {rounds} rounds: {figures:#?}"
        );
    }
    // The emulator cannot call an API: said so, never ok.
    for name in ["rto-api", "return-api"] {
        assert_eq!(figure(&figures, name)["verdict"], "unverified");
    }

    // Put back: active in both regions, no probe left.
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("active")
    );
    assert_eq!(
        state_in(&emulator, SECONDARY).await.as_deref(),
        Some("active")
    );
    assert_eq!(probes_left(&emulator).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn drill_with_replication_stalled_exits_3_naming_the_missed_objective() {
    let emulator = Emulator::start("drill_stalled");
    let env = emulator.env_in(PRIMARY);
    let deployed = mraa(&["deploy", "--secondary", SECONDARY], &env, None);
    assert_eq!(deployed.status.code(), Some(0), "{}", show(&deployed));

    // The state commands' guard: without a terminal, a reason or --yes.
    let refused = mraa(&["drill"], &env, None);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert!(
        stderr_of(&refused).contains("needs --reason"),
        "{}",
        show(&refused)
    );

    // Items stalled past their 5 s objective.
    emulator.control("POST", "/moto-api/mraa/replication-lag", r#"{"items": 7}"#);
    let output = mraa(
        &["drill", "--reason", "rehearsal", "--output", "markdown"],
        &env,
        None,
    );
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    let said = stderr_of(&output);
    assert!(
        said.contains("missed 1 objective(s): rpo-items"),
        "{}",
        show(&output)
    );
    let table = stdout_of(&output);
    let row = table
        .lines()
        .find(|l| l.starts_with("| rpo-items |"))
        .unwrap_or_else(|| panic!("an rpo-items row: {table}"));
    assert!(row.contains("| missed |"), "{row}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("| rpo-objects |") && l.contains("| ok |")),
        "{table}"
    );
    assert_eq!(probes_left(&emulator).await, Vec::<String>::new());
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("active")
    );
    // Objects stalled past S3 RTC's 15 minutes: the probe stays PENDING and
    // S3's published latency says so; the drill names rpo-objects.
    let output = stalled_drill(&emulator, &env, r#"{"items": 0.5, "objects": 1200}"#);
    let said = stderr_of(&output);
    assert!(
        said.contains("missed 1 objective(s): rpo-objects"),
        "{}",
        show(&output)
    );
    let figures = figures_of(&output);
    let objects = figure(&figures, "rpo-objects");
    assert_eq!(objects["verdict"], "missed", "{objects}");
    assert!(
        objects["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("still PENDING"),
        "{objects}"
    );
    assert_eq!(figure(&figures, "rpo-items")["verdict"], "ok");
    assert_eq!(probes_left(&emulator).await, Vec::<String>::new());

    // Users stalled: the replica reads the probe's attribute only after 7 s.
    let output = stalled_drill(&emulator, &env, r#"{"objects": 0, "users": 7}"#);
    let users = figure(&figures_of(&output), "rpo-users").clone();
    assert_eq!(users["verdict"], "missed", "{users}");
    assert!(seconds(&users) >= 6.5, "{users}");
    assert_eq!(
        state_in(&emulator, PRIMARY).await.as_deref(),
        Some("active")
    );
}
