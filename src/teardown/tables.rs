//! Tables: claimed with the app tag, their replicas removed (deletion
//! protection off first: replicas get their own), then deletion protection
//! turned off and the table deleted, each step waited for and checked.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    DeleteReplicationGroupMemberAction, ReplicationGroupUpdate, TableDescription, TableStatus, Tag,
};

use crate::aws::{is_not_found, sdk_message};
use crate::cfn::wait::Backoff;
use crate::names::APP_TAG;

/// Removing a replica deletes a whole table copy: minutes on AWS.
const REPLICA_LIMIT: Duration = Duration::from_secs(60 * 60);
const TABLE_LIMIT: Duration = Duration::from_secs(20 * 60);

pub async fn claim(client: &Client, arn: &str, app: &str) -> Result<(), String> {
    client
        .tag_resource()
        .resource_arn(arn)
        .tags(
            Tag::builder()
                .key(APP_TAG)
                .value(app)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(())
}

pub async fn describe(client: &Client, table: &str) -> Result<Option<TableDescription>, String> {
    match client.describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(sdk_message(&e)),
    }
}

fn backoff(custom_endpoint: bool, limit: Duration) -> Backoff {
    if custom_endpoint {
        // Bounds for a scaled clock (see `Backoff::for_operation`).
        Backoff::for_operation(true, limit)
    } else {
        Backoff::new(Duration::from_secs(3), Duration::from_secs(20), limit)
    }
}

/// Waits until the table is ACTIVE (not being updated); `None` once gone.
async fn settled(
    client: &Client,
    table: &str,
    custom_endpoint: bool,
) -> Result<Option<TableDescription>, String> {
    let mut wait = backoff(custom_endpoint, TABLE_LIMIT);
    loop {
        let Some(now) = describe(client, table).await? else {
            return Ok(None);
        };
        if matches!(now.table_status(), Some(TableStatus::Active) | None) {
            return Ok(Some(now));
        }
        if !wait.wait().await {
            return Err(format!(
                "still {} after {} minutes",
                now.table_status().map(|s| s.as_str()).unwrap_or("?"),
                TABLE_LIMIT.as_secs() / 60
            ));
        }
    }
}

/// Turns deletion protection off. `Ok(true)` when it was on.
pub async fn unprotect(
    client: &Client,
    table: &str,
    custom_endpoint: bool,
) -> Result<bool, String> {
    let Some(now) = settled(client, table, custom_endpoint).await? else {
        return Ok(false);
    };
    if now.deletion_protection_enabled() != Some(true) {
        return Ok(false);
    }
    client
        .update_table()
        .table_name(table)
        .deletion_protection_enabled(false)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let after = settled(client, table, custom_endpoint).await?;
    if after.is_some_and(|t| t.deletion_protection_enabled() == Some(true)) {
        return Err("deletion protection is still on after turning it off".into());
    }
    Ok(true)
}

/// Removes the replica in `region` through the primary table and waits until
/// DynamoDB no longer lists it.
pub async fn remove_replica(
    primary: &Client,
    replica: Option<&Client>,
    table: &str,
    region: &str,
    custom_endpoint: bool,
) -> Result<(), String> {
    if let Some(replica) = replica {
        unprotect(replica, table, custom_endpoint).await?;
    }
    settled(primary, table, custom_endpoint).await?;
    let request = primary
        .update_table()
        .table_name(table)
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .build(),
        )
        .send()
        .await;
    match request {
        Ok(_) => {}
        // Already being removed or gone: wait for the listing below.
        Err(e) if is_not_found(&e) || e.code() == Some("ResourceInUseException") => {}
        Err(e) => return Err(sdk_message(&e)),
    }
    let mut wait = backoff(custom_endpoint, REPLICA_LIMIT);
    loop {
        let now = describe(primary, table)
            .await?
            .ok_or_else(|| format!("table {table} disappeared while removing its replica"))?;
        let listed = now
            .replicas()
            .iter()
            .any(|r| r.region_name() == Some(region));
        if !listed && now.table_status() == Some(&TableStatus::Active) {
            return Ok(());
        }
        if !wait.wait().await {
            return Err(format!(
                "the replica in {region} is still listed after {} minutes",
                REPLICA_LIMIT.as_secs() / 60
            ));
        }
    }
}

/// Turns deletion protection off, deletes the table and waits until
/// DynamoDB no longer knows it.
pub async fn remove(client: &Client, table: &str, custom_endpoint: bool) -> Result<(), String> {
    unprotect(client, table, custom_endpoint).await?;
    if settled(client, table, custom_endpoint).await?.is_some() {
        match client.delete_table().table_name(table).send().await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(sdk_message(&e)),
        }
    }
    let mut wait = backoff(custom_endpoint, TABLE_LIMIT);
    while let Some(now) = describe(client, table).await? {
        if !wait.wait().await {
            return Err(format!(
                "still {} after {} minutes",
                now.table_status().map(|s| s.as_str()).unwrap_or("?"),
                TABLE_LIMIT.as_secs() / 60
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Replica and table removal against scripted DynamoDB answers: the
    //! transitions the emulator never shows (DELETING replicas, UPDATING and
    //! DELETING tables).

    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::operation::delete_table::DeleteTableOutput;
    use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
    use aws_sdk_dynamodb::operation::update_table::UpdateTableOutput;
    use aws_sdk_dynamodb::types::{
        ReplicaDescription, ReplicaStatus, TableDescription, TableStatus,
    };
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    const TABLE: &str = "mraa-demo-comments";
    const SECONDARY: &str = "ap-northeast-1";

    fn client(region: &str, rules: &[&Rule]) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .region(aws_sdk_dynamodb::config::Region::new(region.to_string()))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    "AKID", "secret", None, None, "scripted",
                ))
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
                .build(),
        )
    }

    fn table(
        status: TableStatus,
        protected: bool,
        replica: Option<ReplicaStatus>,
    ) -> TableDescription {
        let mut table = TableDescription::builder()
            .table_name(TABLE)
            .table_status(status)
            .deletion_protection_enabled(protected);
        if let Some(replica) = replica {
            table = table.replicas(
                ReplicaDescription::builder()
                    .region_name(SECONDARY)
                    .replica_status(replica)
                    .build(),
            );
        }
        table.build()
    }

    fn describe(status: TableStatus, protected: bool, replica: Option<ReplicaStatus>) -> Rule {
        let answer = table(status, protected, replica);
        mock!(Client::describe_table)
            .match_requests(|r| r.table_name() == Some(TABLE))
            .then_output(move || DescribeTableOutput::builder().table(answer.clone()).build())
    }

    fn unprotect_request() -> Rule {
        mock!(Client::update_table)
            .match_requests(|r| {
                r.deletion_protection_enabled() == Some(false) && r.replica_updates().is_empty()
            })
            .then_output(|| UpdateTableOutput::builder().build())
    }

    #[tokio::test]
    async fn a_protected_replica_is_unprotected_removed_and_waited_for() {
        let replica_rules = [
            describe(TableStatus::Active, true, None),
            unprotect_request(),
            describe(TableStatus::Active, false, None),
        ];
        let delete_replica = mock!(Client::update_table)
            .match_requests(|r| {
                r.replica_updates()
                    .first()
                    .and_then(|u| u.delete())
                    .map(|d| d.region_name())
                    == Some(SECONDARY)
            })
            .then_output(|| UpdateTableOutput::builder().build());
        let progress = {
            let deleting = table(TableStatus::Updating, false, Some(ReplicaStatus::Deleting));
            let done = table(TableStatus::Active, false, None);
            mock!(Client::describe_table)
                .sequence()
                .output(move || {
                    DescribeTableOutput::builder()
                        .table(deleting.clone())
                        .build()
                })
                .output(move || DescribeTableOutput::builder().table(done.clone()).build())
                .build()
        };
        let primary_rules = [
            describe(TableStatus::Active, false, Some(ReplicaStatus::Active)),
            delete_replica,
            progress,
        ];
        let replica = client(SECONDARY, &replica_rules.iter().collect::<Vec<_>>());
        let primary = client("us-east-1", &primary_rules.iter().collect::<Vec<_>>());

        super::remove_replica(&primary, Some(&replica), TABLE, SECONDARY, true)
            .await
            .expect("replica removed");
        let calls: Vec<usize> = replica_rules
            .iter()
            .chain(primary_rules.iter())
            .map(Rule::num_calls)
            .collect();
        assert_eq!(calls, [1, 1, 1, 1, 1, 2], "every scripted answer, once");
    }

    #[tokio::test]
    async fn a_table_is_unprotected_deleted_and_waited_for_until_gone() {
        let gone = {
            let deleting = table(TableStatus::Deleting, false, None);
            mock!(Client::describe_table)
                .sequence()
                .output(move || DescribeTableOutput::builder().table(deleting.clone()).build())
                .http_status(
                    400,
                    Some(
                        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#
                            .into(),
                    ),
                )
                .build()
        };
        let rules = [
            describe(TableStatus::Active, true, None),
            unprotect_request(),
            describe(TableStatus::Active, false, None),
            describe(TableStatus::Active, false, None),
            mock!(Client::delete_table)
                .match_requests(|r| r.table_name() == Some(TABLE))
                .then_output(|| DeleteTableOutput::builder().build()),
            gone,
        ];
        let primary = client("us-east-1", &rules.iter().collect::<Vec<_>>());
        super::remove(&primary, TABLE, true)
            .await
            .expect("table removed");
        let calls: Vec<usize> = rules.iter().map(Rule::num_calls).collect();
        assert_eq!(calls, [1, 1, 1, 1, 1, 2], "every scripted answer, once");
    }

    #[tokio::test]
    async fn protection_that_stays_on_is_an_error_not_a_delete() {
        let rules = [
            describe(TableStatus::Active, true, None),
            unprotect_request(),
            describe(TableStatus::Active, true, None),
        ];
        let primary = client("us-east-1", &rules.iter().collect::<Vec<_>>());
        let err = super::remove(&primary, TABLE, true)
            .await
            .expect_err("refuses to go on");
        assert!(err.contains("deletion protection is still on"), "{err}");
    }
}
