//! Replication lag in `mraa status` and `mraa activate` against the
//! emulator: the figures are the ones its stand-ins publish in CloudWatch
//! (scripts/emulator_metrics.py) as DynamoDB and S3 do, and a stand-in lag
//! set past the objective makes the rows `degraded` and `status` exit 3.

use crate::support::{ACCOUNT, Emulator, mraa, run_ok, show, stderr_of, stdout_of};
use serde_json::Value;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "eu-west-1";

fn lag_rows(output: &std::process::Output) -> Vec<Value> {
    let report: Value = serde_json::from_str(&stdout_of(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", show(output)));
    report["checks"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["kind"] == "lag").cloned().collect())
        .unwrap_or_default()
}

fn row<'a>(rows: &'a [Value], name: &str, region: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["name"] == name && r["region"] == region)
        .unwrap_or_else(|| panic!("no row {name} in {region}: {rows:#?}"))
}

/// Writes an item in `region` and an object in the primary: what makes
/// DynamoDB and S3 publish a figure.
async fn replicate_something(emulator: &Emulator, key: &str) {
    for region in [PRIMARY, SECONDARY] {
        emulator
            .dynamodb(region)
            .put_item()
            .table_name("mraa-mraa-comments")
            .item(
                "commentId",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("{key}-{region}")),
            )
            .item(
                "photoId",
                aws_sdk_dynamodb::types::AttributeValue::S("p".into()),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("put_item in {region}: {e:?}"));
    }
    emulator
        .s3(PRIMARY)
        .put_object()
        .bucket(format!("mraa-mraa-objects-{ACCOUNT}-{PRIMARY}"))
        .key(key)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect("put an object");
}

#[tokio::test(flavor = "multi_thread")]
async fn lag_rows_hold_figures_to_their_objectives() {
    let emulator = Emulator::start("lag");
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);

    // Caught up: items 0.5 s, objects 2 s; both directions for items.
    emulator.control(
        "POST",
        "/moto-api/mraa/replication-lag",
        r#"{"items": 0.5, "objects": 2}"#,
    );
    replicate_something(&emulator, "a").await;
    let output = mraa(&["status", "--output", "json"], &env, None);
    let rows = lag_rows(&output);
    for (region, to) in [(PRIMARY, SECONDARY), (SECONDARY, PRIMARY)] {
        let items = row(&rows, "items comments", region);
        assert_eq!(items["status"], "ok", "{items}");
        let detail = items["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&format!("{region} → {to}: 0.5 s")),
            "{detail}"
        );
        assert!(detail.contains("objective 5.0 s"), "{detail}");
    }
    let objects = row(&rows, "objects", PRIMARY);
    assert_eq!(objects["status"], "ok", "{objects}");
    assert!(
        objects["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("objective 15 min"),
        "{objects}"
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));

    // activate states the figures, and asks about none of them.
    run_ok(&["fence", "--yes"], &env);
    let activated = run_ok(&["activate", "--reason", "caught up"], &env);
    let said = stderr_of(&activated);
    assert!(
        said.contains("replication lag: items comments us-east-1 → eu-west-1: 0.5 s"),
        "{said}"
    );
    assert!(
        said.contains("replication lag: items comments eu-west-1 → us-east-1: 0.5 s"),
        "{said}"
    );

    // Stalled: past both objectives, the rows are degraded and status exits 3.
    emulator.control(
        "POST",
        "/moto-api/mraa/replication-lag",
        r#"{"items": 60, "objects": 1200}"#,
    );
    replicate_something(&emulator, "b").await;
    let output = mraa(&["status", "--output", "json"], &env, None);
    let rows = lag_rows(&output);
    let items = row(&rows, "items comments", PRIMARY);
    assert_eq!(items["status"], "degraded", "{items}");
    assert!(
        items["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("60 s"),
        "{items}"
    );
    let objects = row(&rows, "objects", PRIMARY);
    assert_eq!(objects["status"], "degraded", "{objects}");
    assert!(
        objects["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("20 min"),
        "{objects}"
    );
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));

    // activate now names the figure and, without a terminal, needs --yes.
    run_ok(&["fence", "--yes"], &env);
    let refused = mraa(&["activate", "--reason", "stalled"], &env, None);
    assert_ne!(refused.status.code(), Some(0), "{}", show(&refused));
    let why = stderr_of(&refused);
    assert!(
        why.contains("refusing to activate") && why.contains("20 min"),
        "{why}"
    );
}
