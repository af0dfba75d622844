//! The settings of each global-table replica that CloudFormation never sees.
//! A table is declared once, in the primary's stack, and made global by
//! `UpdateTable` (`wire::dynamodb`); so the replica in the secondary belongs
//! to no stack, and mraa keeps its settings equal to what the template
//! declares for the table.
//!
//! Which settings a replica keeps for itself (global tables version
//! 2019.11.21, same account):
//! - point-in-time recovery, deletion protection, tags and the encryption
//!   key are per replica: "You must enable deletion protection on each
//!   replica" ("Best practices for global tables",
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-bestpractices.html>);
//!   CloudFormation's own global table declares them per replica
//!   (`AWS::DynamoDB::GlobalTable` `ReplicaSpecification`: PITR, deletion
//!   protection, tags; `ReplicaSSESpecification`: a key in the replica's
//!   region, by default `alias/aws/dynamodb`). mraa applies these.
//! - time to live and the stream are one setting for the whole table
//!   (`AWS::DynamoDB::GlobalTable` `TimeToLiveSpecification`: "All replicas
//!   will have the same time to live configuration"; replication itself runs
//!   on the NEW_AND_OLD_IMAGES stream). DynamoDB keeps them equal; mraa only
//!   reads them, applies the time to live if a replica ever differs, and
//!   refuses to touch a stream.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    PointInTimeRecoverySpecification, SseSpecification, SseStatus, SseType, Tag,
    TimeToLiveSpecification, TimeToLiveStatus,
};

use crate::aws::sdk_message;
use crate::lock::Claimer;
use crate::names::APP_TAG;

/// Where each global table is declared: its short name, template and
/// logical id (templates/*.yaml).
const DECLARED: &[(&str, &str, &str)] = &[
    ("comments", "kv-store.yaml", "CommentsTable"),
    ("app-config", "routing.yaml", "AppConfigTable"),
    ("users", "frontend.yaml", "UsersTable"),
];

/// The settings a replica must share with its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSettings {
    pub pitr: bool,
    pub deletion_protection: bool,
    /// Encrypted with a KMS key (the AWS managed `aws/dynamodb` of its
    /// region unless another is named); otherwise the AWS owned key.
    pub kms_encryption: bool,
    /// The stream's view type, when it is on.
    pub stream: Option<String>,
    /// The time-to-live attribute, when it is on.
    pub ttl: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// One setting of a replica that differs from its table's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// For people: `point-in-time recovery`, `tag mraa:app`...
    pub setting: String,
    /// The template's property path, as drift detection names it.
    pub path: String,
    pub expected: String,
    pub actual: String,
}

/// The template's logical id of a global table (`comments` → `CommentsTable`).
pub fn logical_id(short: &str) -> Option<&'static str> {
    DECLARED
        .iter()
        .find(|(name, _, _)| *name == short)
        .map(|(_, _, id)| *id)
}

/// What the template declares for table `short`, plus the `mraa:app` tag
/// that its StackSet gives every resource it makes.
pub fn desired(app: &str, short: &str) -> Result<ReplicaSettings, String> {
    let (_, file, id) = DECLARED
        .iter()
        .find(|(name, _, _)| *name == short)
        .ok_or_else(|| format!("no template declares the table {short}"))?;
    let body = crate::render::assets::template(file)
        .ok_or_else(|| format!("template {file} is not built into this mraa binary"))?;
    from_template(body, id, app)
}

fn from_template(body: &str, id: &str, app: &str) -> Result<ReplicaSettings, String> {
    let template: serde_yaml::Value =
        serde_yaml::from_str(body).map_err(|e| format!("template of {id}: {e}"))?;
    let props = template
        .get("Resources")
        .and_then(|r| r.get(id))
        .and_then(|r| r.get("Properties"))
        .ok_or_else(|| format!("the template declares no properties for {id}"))?;
    let at = |path: &[&str]| path.iter().try_fold(props, |v, key| v.get(*key));
    let flag = |path: &[&str]| {
        at(path).is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
    };
    let text = |path: &[&str]| at(path).and_then(|v| v.as_str()).map(str::to_string);
    let mut tags = BTreeMap::from([(APP_TAG.to_string(), app.to_string())]);
    for tag in at(&["Tags"])
        .and_then(|t| t.as_sequence())
        .into_iter()
        .flatten()
    {
        match (
            tag.get("Key").and_then(|k| k.as_str()),
            tag.get("Value").and_then(|v| v.as_str()),
        ) {
            (Some(k), Some(v)) => tags.insert(k.to_string(), v.to_string()),
            _ => return Err(format!("{id}: a tag that is not a plain key and value")),
        };
    }
    Ok(ReplicaSettings {
        pitr: flag(&[
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ]),
        deletion_protection: flag(&["DeletionProtectionEnabled"]),
        kms_encryption: flag(&["SSESpecification", "SSEEnabled"]),
        stream: text(&["StreamSpecification", "StreamViewType"]),
        ttl: flag(&["TimeToLiveSpecification", "Enabled"])
            .then(|| text(&["TimeToLiveSpecification", "AttributeName"]))
            .flatten(),
        tags,
    })
}

/// A replica as DynamoDB describes it, with its ARN; `None` when there is
/// no table of that name in the client's region.
pub async fn read(
    client: &Client,
    table: &str,
) -> Result<Option<(String, ReplicaSettings)>, String> {
    let Some(described) = super::dynamodb::describe(client, table).await? else {
        return Ok(None);
    };
    let arn = described
        .table_arn()
        .ok_or_else(|| format!("DynamoDB describes {table} without an ARN"))?
        .to_string();
    // One after the other: four small reads, in an order scripted tests can
    // follow.
    let backups = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let tags = all_tags(client, &arn).await?;
    let sse = described.sse_description();
    let stream = described.stream_specification();
    let ttl = ttl.time_to_live_description();
    Ok(Some((
        arn,
        ReplicaSettings {
            pitr: backups
                .continuous_backups_description()
                .and_then(|d| d.point_in_time_recovery_description())
                .and_then(|p| p.point_in_time_recovery_status())
                .is_some_and(|s| s.as_str() == "ENABLED"),
            deletion_protection: described.deletion_protection_enabled() == Some(true),
            kms_encryption: sse.is_some_and(|s| {
                matches!(s.status(), Some(SseStatus::Enabled | SseStatus::Enabling))
                    && s.sse_type() == Some(&SseType::Kms)
            }),
            stream: stream
                .filter(|s| s.stream_enabled())
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str().to_string()),
            // ENABLING already answers for the setting: the change is made.
            ttl: ttl
                .filter(|t| {
                    matches!(
                        t.time_to_live_status(),
                        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                    )
                })
                .and_then(|t| t.attribute_name())
                .map(str::to_string),
            tags,
        },
    )))
}

async fn all_tags(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, String> {
    let mut tags = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        for tag in page.tags() {
            tags.insert(tag.key().to_string(), tag.value().to_string());
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(tags);
        }
    }
}

fn on_off(on: bool) -> String {
    if on { "enabled" } else { "disabled" }.to_string()
}

fn or_off(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "disabled".to_string())
}

/// What differs, in a fixed order. Tags the replica has beyond the
/// table's are someone else's and left alone.
pub fn differences(want: &ReplicaSettings, have: &ReplicaSettings) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut differ = |setting: &str, path: &str, expected: String, actual: String| {
        if expected != actual {
            found.push(Difference {
                setting: setting.to_string(),
                path: path.to_string(),
                expected,
                actual,
            });
        }
    };
    differ(
        "point-in-time recovery",
        "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        on_off(want.pitr),
        on_off(have.pitr),
    );
    differ(
        "deletion protection",
        "/DeletionProtectionEnabled",
        on_off(want.deletion_protection),
        on_off(have.deletion_protection),
    );
    let key = |kms: bool| if kms { "KMS key" } else { "AWS owned key" }.to_string();
    differ(
        "encryption",
        "/SSESpecification/SSEEnabled",
        key(want.kms_encryption),
        key(have.kms_encryption),
    );
    differ(
        "time to live",
        "/TimeToLiveSpecification",
        or_off(&want.ttl),
        or_off(&have.ttl),
    );
    differ(
        "stream",
        "/StreamSpecification/StreamViewType",
        or_off(&want.stream),
        or_off(&have.stream),
    );
    for (k, v) in &want.tags {
        differ(
            &format!("tag {k}"),
            &format!("/Tags/{k}"),
            v.clone(),
            have.tags.get(k).cloned().unwrap_or_else(|| "absent".into()),
        );
    }
    found
}

/// Reads the replica of `table` (short name `short`) through `replica`, the
/// client of its region, and makes each differing setting equal to the
/// template's, then reads it back. `Ok(true)` when anything was changed.
pub async fn ensure(
    replica: &Client,
    app: &str,
    short: &str,
    table: &str,
    claim: &dyn Claimer,
) -> Result<bool, String> {
    let want = desired(app, short)?;
    let (arn, have) = read(replica, table)
        .await?
        .ok_or_else(|| format!("replica table {table} not found in its region"))?;
    let differ = differences(&want, &have);
    if differ.is_empty() {
        return Ok(false);
    }
    if let Some(stream) = differ.iter().find(|d| d.setting == "stream") {
        // DynamoDB replicates through the stream: it is the table's, never
        // one replica's to change.
        return Err(format!(
            "the replica's stream is {}, the table's {}: DynamoDB keeps a global table's stream \
             on every replica, so mraa does not change it; remove the replica \
             (aws dynamodb update-table --table-name {table} --replica-updates \
             'Delete={{RegionName=<region>}}' in the primary) and deploy again",
            stream.actual, stream.expected
        ));
    }
    claim.claim().await?;
    for d in &differ {
        apply(replica, table, &arn, &want, &have, d).await?;
    }
    let (_, now) = read(replica, table)
        .await?
        .ok_or_else(|| format!("replica table {table} disappeared from its region"))?;
    let left = differences(&want, &now);
    if let Some(d) = left.first() {
        return Err(format!(
            "{} of the replica is still {} after mraa set it to {}",
            d.setting, d.actual, d.expected
        ));
    }
    Ok(true)
}

async fn apply(
    client: &Client,
    table: &str,
    arn: &str,
    want: &ReplicaSettings,
    have: &ReplicaSettings,
    d: &Difference,
) -> Result<(), String> {
    match d.setting.as_str() {
        "point-in-time recovery" => client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(want.pitr)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_message(&e)),
        "deletion protection" => client
            .update_table()
            .table_name(table)
            .deletion_protection_enabled(want.deletion_protection)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_message(&e)),
        // Without a key named, DynamoDB uses alias/aws/dynamodb of the
        // replica's region, as the template's SSEEnabled does for the table.
        "encryption" => {
            let spec = SseSpecification::builder().enabled(want.kms_encryption);
            let spec = if want.kms_encryption {
                spec.sse_type(SseType::Kms)
            } else {
                spec
            };
            client
                .update_table()
                .table_name(table)
                .sse_specification(spec.build())
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_message(&e))
        }
        // DynamoDB takes one attribute at a time: the one on is turned off
        // first (and the change reaches every replica).
        "time to live" => {
            if let Some(attribute) = &have.ttl {
                update_ttl(client, table, attribute, false).await?;
            }
            match &want.ttl {
                Some(attribute) => update_ttl(client, table, attribute, true).await,
                None => Ok(()),
            }
        }
        _ => {
            let Some(key) = d.setting.strip_prefix("tag ") else {
                return Err(format!("mraa cannot set {} on a replica", d.setting));
            };
            client
                .tag_resource()
                .resource_arn(arn)
                .tags(
                    Tag::builder()
                        .key(key)
                        .value(&d.expected)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_message(&e))
        }
    }
}

async fn update_ttl(client: &Client, table: &str, attribute: &str, on: bool) -> Result<(), String> {
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(on)
                .attribute_name(attribute)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map(drop)
        .map_err(|e| sdk_message(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_global_table_is_declared_with_its_protection() {
        for short in crate::names::ALL_GLOBAL_TABLES {
            let want = desired("demo", short).expect("declared");
            assert!(
                want.pitr && want.deletion_protection && want.kms_encryption,
                "{short}"
            );
            assert_eq!(
                want.stream.as_deref(),
                Some("NEW_AND_OLD_IMAGES"),
                "{short}"
            );
            assert_eq!(want.tags.get(APP_TAG).map(String::as_str), Some("demo"));
        }
    }

    #[test]
    fn a_replica_without_pitr_differs_by_that_setting_alone() {
        let want = desired("demo", "comments").expect("declared");
        let mut have = want.clone();
        have.pitr = false;
        have.tags.insert("owner".into(), "someone".into());
        let found = differences(&want, &have);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].setting, "point-in-time recovery");
        assert_eq!(
            (found[0].expected.as_str(), found[0].actual.as_str()),
            ("enabled", "disabled")
        );
        assert!(differences(&want, &want).is_empty());
    }

    #[test]
    fn template_tags_and_time_to_live_are_read() {
        let body = "Resources:\n  T:\n    Properties:\n      TimeToLiveSpecification:\n        \
                    Enabled: true\n        AttributeName: expires\n      Tags:\n        - Key: team\n          \
                    Value: photos\n";
        let want = from_template(body, "T", "demo").expect("parsed");
        assert_eq!(want.ttl.as_deref(), Some("expires"));
        assert_eq!(want.tags.get("team").map(String::as_str), Some("photos"));
        assert!(!want.pitr && !want.kms_encryption && want.stream.is_none());
    }
}
