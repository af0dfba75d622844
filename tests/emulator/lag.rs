//! Replication lag in `mraa status` and `mraa activate` against the
//! emulator: the figures are the ones its stand-ins publish in CloudWatch
//! (scripts/emulator_metrics.py) as DynamoDB and S3 do, and a stand-in lag
//! set past the objective makes the rows `degraded` and `status` exit 3.

use crate::support::{ACCOUNT, Emulator, mraa, run_ok, show, stderr_of, stdout_of};
use serde_json::Value;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "eu-west-1";

/// The status report's rows of `kind` (`lag`, `alarm`).
fn rows_of(output: &std::process::Output, kind: &str) -> Vec<Value> {
    let report: Value = serde_json::from_str(&stdout_of(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", show(output)));
    report["checks"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["kind"] == kind).cloned().collect())
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
    let rows = rows_of(&output, "lag");
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
    let rows = rows_of(&output, "lag");
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

/// The alarms of `region` as CloudWatch holds them: (name, state, actions).
async fn alarms_in(emulator: &Emulator, region: &str) -> Vec<(String, String, Vec<String>)> {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&emulator.sdk_config(region));
    let found = cloudwatch
        .describe_alarms()
        .alarm_name_prefix("mraa-mraa-")
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeAlarms in {region}: {e:?}"));
    let mut alarms: Vec<_> = found
        .metric_alarms()
        .iter()
        .map(|a| {
            (
                a.alarm_name().unwrap_or_default().to_string(),
                a.state_value()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                a.alarm_actions().to_vec(),
            )
        })
        .collect();
    alarms.sort();
    alarms
}

/// The app's alarms topic in `region` with its key and subscribed endpoints.
async fn topic_in(emulator: &Emulator, region: &str) -> Option<(String, String, Vec<String>)> {
    let sns = aws_sdk_sns::Client::new(&emulator.sdk_config(region));
    let topics = sns.list_topics().send().await.expect("ListTopics");
    let arn = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|arn| arn.ends_with(":mraa-mraa-alarms"))?
        .to_string();
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(&arn)
        .send()
        .await
        .expect("GetTopicAttributes");
    let key = attributes
        .attributes()
        .and_then(|a| a.get("KmsMasterKeyId"))
        .cloned()
        .unwrap_or_default();
    let subscriptions = sns
        .list_subscriptions_by_topic()
        .topic_arn(&arn)
        .send()
        .await
        .expect("ListSubscriptionsByTopic");
    let endpoints = subscriptions
        .subscriptions()
        .iter()
        .filter(|s| s.protocol() == Some("email"))
        .filter_map(|s| s.endpoint().map(str::to_string))
        .collect();
    Some((arn, key, endpoints))
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_makes_alarms_that_fire_past_the_objective_and_teardown_removes_them() {
    let emulator = Emulator::start("alarms");
    let env = emulator.env_in(PRIMARY);
    run_ok(
        &[
            "deploy",
            "--secondary",
            SECONDARY,
            "--notify",
            "ops@example.test",
        ],
        &env,
    );

    // In each Region: the topic, encrypted, with the address subscribed, and
    // the alarms notifying it; objects' alarms only where S3 publishes them.
    for (region, other) in [(PRIMARY, SECONDARY), (SECONDARY, PRIMARY)] {
        let (topic, key, endpoints) = topic_in(&emulator, region)
            .await
            .unwrap_or_else(|| panic!("no alarms topic in {region}"));
        assert!(!key.is_empty(), "the topic in {region} is not encrypted");
        assert_eq!(endpoints, ["ops@example.test"], "{region}");
        let alarms = alarms_in(&emulator, region).await;
        let mut expected = vec![
            format!("mraa-mraa-items-app-config-to-{other}"),
            format!("mraa-mraa-items-comments-to-{other}"),
        ];
        if region == PRIMARY {
            expected.extend([
                "mraa-mraa-objects-failed".into(),
                "mraa-mraa-objects-latency".into(),
            ]);
        }
        let names: Vec<&String> = alarms.iter().map(|a| &a.0).collect();
        assert_eq!(names, expected.iter().collect::<Vec<_>>(), "{region}");
        for (name, _, actions) in &alarms {
            assert_eq!(actions, std::slice::from_ref(&topic), "{name} in {region}");
        }
    }
    emulator.control(
        "POST",
        "/moto-api/mraa/replication-lag",
        r#"{"items": 0.5, "objects": 2}"#,
    );
    replicate_something(&emulator, "a").await;
    let output = mraa(&["status", "--output", "json"], &env, None);
    let rows = rows_of(&output, "alarm");
    let (topics, alarms): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r["name"] == "alarm-topic");
    assert_eq!(alarms.len(), 6, "{rows:#?}");
    assert!(alarms.iter().all(|r| r["status"] == "ok"), "{rows:#?}");
    // Nobody followed AWS's confirmation link: the topics wake no one yet,
    // which status says without claiming otherwise.
    assert_eq!(topics.len(), 2, "{rows:#?}");
    for topic in topics {
        assert_eq!(topic["status"], "unverified", "{topic}");
        assert!(
            topic["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("no confirmed subscription (1 pending)"),
            "{topic}"
        );
    }

    // Items past their objective: CloudWatch puts the latency alarm in ALARM,
    // and status shows it.
    emulator.control("POST", "/moto-api/mraa/replication-lag", r#"{"items": 60}"#);
    replicate_something(&emulator, "b").await;
    let comments = format!("mraa-mraa-items-comments-to-{SECONDARY}");
    let alarms = alarms_in(&emulator, PRIMARY).await;
    let state = alarms
        .iter()
        .find(|a| a.0 == comments)
        .map(|a| a.1.as_str());
    assert_eq!(state, Some("ALARM"), "{alarms:?}");
    let output = mraa(&["status", "--output", "json"], &env, None);
    let rows = rows_of(&output, "alarm");
    let fired = row(&rows, &comments, PRIMARY);
    assert_eq!(fired["status"], "degraded", "{fired}");
    assert!(
        fired["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("ALARM"),
        "{fired}"
    );
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));

    run_ok(&["teardown", "--yes"], &env);
    for region in [PRIMARY, SECONDARY] {
        assert_eq!(alarms_in(&emulator, region).await, [], "{region}");
        assert_eq!(topic_in(&emulator, region).await, None, "{region}");
    }
}
