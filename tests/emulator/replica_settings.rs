//! The settings of each global-table replica, which CloudFormation never
//! sees: after a deploy they are the template's in the secondary (read
//! through DynamoDB's API there); point-in-time recovery turned off in the
//! secondary behind mraa's back shows in `status` and `diff --drift`, and
//! the next `deploy` turns it on again.

use serde_json::Value;

use crate::support::{Emulator, mraa, run_ok, show, stdout_of};

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const TABLE: &str = "mraa-mraa-comments";

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout_of(output))
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", show(output)))
}

async fn pitr(client: &aws_sdk_dynamodb::Client, table: &str) -> String {
    client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .expect("describe continuous backups")
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

/// The `replica comments` row of `mraa status --output json`.
fn settings_row(emulator: &Emulator) -> (Option<i32>, Value) {
    let status = mraa(
        &["status", "--secondary", SECONDARY, "--output", "json"],
        &emulator.env_in(PRIMARY),
        None,
    );
    let report = json_of(&status);
    let row = report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "replica comments")
        .cloned()
        .unwrap_or_else(|| panic!("no replica row: {report:#}"));
    (status.status.code(), row)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_setting_changed_behind_mraas_back_shows_and_deploy_restores_it() {
    let emulator = Emulator::start("replica_settings");
    let env = emulator.env_in(PRIMARY);
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    let (east, tokyo) = (emulator.dynamodb(PRIMARY), emulator.dynamodb(SECONDARY));

    // Each replica as its template declares the table.
    for table in [TABLE, "mraa-mraa-app-config"] {
        // The primary's table, which the stack made: SSESpecification
        // SSEEnabled is KMS with the AWS managed key of its own region.
        let primary = east
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("describe the primary's table");
        let sse = primary
            .table()
            .and_then(|t| t.sse_description())
            .unwrap_or_else(|| panic!("{table} in {PRIMARY} is not encrypted with KMS"));
        assert_eq!(sse.status().map(|s| s.as_str()), Some("ENABLED"), "{table}");
        assert_eq!(sse.sse_type().map(|t| t.as_str()), Some("KMS"), "{table}");
        assert!(
            sse.kms_master_key_arn()
                .is_some_and(|k| k.starts_with(&format!("arn:aws:kms:{PRIMARY}:"))),
            "{table}: a key of the primary's region: {sse:?}"
        );
        assert_eq!(pitr(&tokyo, table).await, "ENABLED", "{table}");
        let replica = tokyo
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("describe replica");
        let replica = replica.table().expect("replica table");
        assert_eq!(replica.deletion_protection_enabled(), Some(true), "{table}");
        let sse = replica.sse_description().expect("replica encrypted");
        assert_eq!(sse.sse_type().map(|t| t.as_str()), Some("KMS"), "{table}");
        assert!(
            sse.kms_master_key_arn()
                .is_some_and(|k| k.contains(&format!(":{SECONDARY}:"))),
            "{table}: a key of the replica's region: {sse:?}"
        );
        let tags = tokyo
            .list_tags_of_resource()
            .resource_arn(replica.table_arn().expect("arn"))
            .send()
            .await
            .expect("tags");
        assert!(
            tags.tags()
                .iter()
                .any(|t| t.key() == "mraa:app" && t.value() == "mraa"),
            "{table}: {tags:?}"
        );
    }
    let (code, row) = settings_row(&emulator);
    assert_eq!(row["status"], "ok", "{row:#} (status exited {code:?})");
    assert_eq!(row["region"], SECONDARY);
    assert!(
        row["detail"]
            .as_str()
            .is_some_and(|d| d.contains("its settings are the template's")),
        "{row:#}"
    );

    // Point-in-time recovery off in the secondary, through DynamoDB's API;
    // the primary keeps its own.
    tokyo
        .update_continuous_backups()
        .table_name(TABLE)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("turn PITR off in the secondary");
    assert_eq!(pitr(&tokyo, TABLE).await, "DISABLED");
    assert_eq!(pitr(&east, TABLE).await, "ENABLED");

    let (code, row) = settings_row(&emulator);
    assert_eq!(code, Some(3), "{row:#}");
    assert_eq!(row["status"], "degraded", "{row:#}");
    assert_eq!(row["region"], SECONDARY, "{row:#}");
    let detail = row["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("point-in-time recovery is disabled, the template says enabled")
            && detail.contains(&format!("in {SECONDARY}")),
        "{detail}"
    );

    let diff = mraa(
        &[
            "diff",
            "--secondary",
            SECONDARY,
            "--drift",
            "--output",
            "json",
        ],
        &env,
        None,
    );
    assert_eq!(diff.status.code(), Some(2), "{}", show(&diff));
    let report = json_of(&diff);
    let drift = report["drift"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["stack"] == TABLE && d["region"] == SECONDARY)
        .unwrap_or_else(|| panic!("no drift of the replica: {report:#}"));
    let property = &drift["resources"][0]["properties"][0];
    assert_eq!(
        property["path"], "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        "{drift:#}"
    );
    assert_eq!(
        (&property["expected"], &property["actual"]),
        (&Value::from("enabled"), &Value::from("disabled")),
        "{drift:#}"
    );

    // And what the next deploy does about it.
    assert!(
        report["wiring"].as_array().into_iter().flatten().any(|w| {
            w["region"] == SECONDARY
                && w["change"].as_str().is_some_and(|c| {
                    c.contains("point-in-time recovery of the replica of mraa-mraa-comments")
                })
        }),
        "{report:#}"
    );

    // The next deploy sets it again, as DynamoDB reads it back.
    run_ok(&["deploy", "--secondary", SECONDARY], &env);
    assert_eq!(pitr(&tokyo, TABLE).await, "ENABLED");
    let (_, row) = settings_row(&emulator);
    assert_eq!(row["status"], "ok", "{row:#}");
}
