//! The recovery point, measured: a marked item and a marked object written
//! in the serving (primary) Region, timed until each reads in the secondary,
//! then removed from both.
//!
//! The item goes to the app-config global table under a key no app name can
//! be (`<app>#drill-<n>`: names have no `#`, as the deployment record's
//! `<app>#deployment`), which neither API reads: the state API reads the
//! app's own key. The object goes to the objects bucket under `mraa-drill/`,
//! which the photo API never lists (it lists `photos/`). Each is removed
//! version by version in both Regions: deleting a version is not replicated
//! ("What does Amazon S3 replicate?", S3 User Guide,
//! docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html),
//! and a plain delete would leave a delete marker behind.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::app_state::REPLICATION_LIMIT;
use crate::aws::{Aws, sdk_message};
use crate::cfn::wait::Backoff;
use crate::error::{MraaError, Result};
use crate::health::lag::{self, ITEMS_OBJECTIVE_SECS, OBJECTS_OBJECTIVE_SECS};
use crate::names;

use super::report::Figure;

/// The prefix of the drill's objects.
pub const OBJECT_PREFIX: &str = "mraa-drill/";

/// A poll for something replicated: short against the emulator, whose clock
/// may be scaled down; on AWS a second, backing off to five.
pub fn poll(custom_endpoint: bool, limit: Duration) -> Backoff {
    if custom_endpoint {
        Backoff::new(Duration::from_millis(50), Duration::from_millis(250), limit)
    } else {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(5), limit)
    }
}

/// The probes of one drill, named so that a user who finds one left knows
/// what it is.
pub struct Probes {
    pub app: String,
    pub account: String,
    pub item_key: String,
    pub object_key: String,
    /// The probe user of the user pool (`super::users`).
    pub user: String,
    pub bucket_from: String,
    pub bucket_to: String,
    pub table: String,
}

impl Probes {
    pub fn new(aws: &Aws, app: &str, account: &str) -> Probes {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        Probes {
            app: app.to_string(),
            account: account.to_string(),
            item_key: format!("{app}#drill-{nonce}"),
            object_key: format!("{OBJECT_PREFIX}{nonce}"),
            user: format!("mraa-drill-{nonce}"),
            bucket_from: names::bucket_name(app, "objects", account, &aws.primary.region),
            bucket_to: names::bucket_name(app, "objects", account, &aws.secondary.region),
            table: names::table_name(app, "app-config"),
        }
    }

    /// What the report lists as removed.
    pub fn listed(&self) -> Vec<String> {
        vec![
            format!("item {} of table {}", self.item_key, self.table),
            format!(
                "object {} of buckets {} and {}",
                self.object_key, self.bucket_from, self.bucket_to
            ),
            format!(
                "user {} of user pool {}",
                self.user,
                names::user_pool_name(&self.app)
            ),
        ]
    }
}

fn failed(step: &str, region: &str, resource: &str, cause: String) -> MraaError {
    crate::aws::aws_error(step, region, resource, cause)
}

/// Writes the item in the primary and times its arrival in the secondary.
pub async fn item(aws: &Aws, probes: &Probes) -> Result<Figure> {
    let (from, to) = (&aws.primary, &aws.secondary);
    from.dynamodb
        .put_item()
        .table_name(&probes.table)
        .item("appId", AttributeValue::S(probes.item_key.clone()))
        .item("drill", AttributeValue::S(crate::context::now()))
        .send()
        .await
        .map_err(|e| failed("drill", &from.region, &probes.table, sdk_message(&e)))?;
    let written = Instant::now();
    let mut backoff = poll(aws.custom_endpoint, REPLICATION_LIMIT);
    let what = format!("an item written in {}, read in {}", from.region, to.region);
    loop {
        match item_in(&to.dynamodb, probes).await {
            Ok(true) => {
                let took = written.elapsed().as_secs_f64();
                return Ok(Figure::measured(
                    "rpo-items",
                    Some(took),
                    ITEMS_OBJECTIVE_SECS,
                    what,
                ));
            }
            Ok(false) => {}
            Err(cause) => {
                return Ok(Figure::failed(
                    "rpo-items",
                    ITEMS_OBJECTIVE_SECS,
                    format!("{what}: {} could not be read: {cause}", to.region),
                ));
            }
        }
        if !backoff.wait().await {
            return Ok(Figure::failed(
                "rpo-items",
                ITEMS_OBJECTIVE_SECS,
                format!(
                    "{what}: not there after {} s; run `mraa status` to see the replication lag",
                    REPLICATION_LIMIT.as_secs()
                ),
            ));
        }
    }
}

async fn item_in(
    client: &aws_sdk_dynamodb::Client,
    probes: &Probes,
) -> std::result::Result<bool, String> {
    client
        .get_item()
        .table_name(&probes.table)
        .key("appId", AttributeValue::S(probes.item_key.clone()))
        .consistent_read(true)
        .send()
        .await
        .map(|out| out.item().is_some())
        .map_err(|e| sdk_message(&e))
}

/// Writes the object in the primary's bucket and times its arrival in the
/// secondary's (S3 replicates primary → secondary).
pub async fn object(aws: &Aws, probes: &Probes) -> Result<Figure> {
    let (from, to) = (&aws.primary, &aws.secondary);
    from.s3
        .put_object()
        .bucket(&probes.bucket_from)
        .key(&probes.object_key)
        .body(b"mraa drill probe: safe to delete".to_vec().into())
        .send()
        .await
        .map_err(|e| failed("drill", &from.region, &probes.bucket_from, sdk_message(&e)))?;
    let written = Instant::now();
    let limit = Duration::from_secs_f64(OBJECTS_OBJECTIVE_SECS);
    let mut backoff = poll(aws.custom_endpoint, limit);
    let what = format!(
        "an object written in {}, read in {}",
        from.region, to.region
    );
    let figure = |took: Option<f64>, detail: String| {
        Figure::measured("rpo-objects", took, OBJECTS_OBJECTIVE_SECS, detail)
    };
    loop {
        // Arrived when the copy reads in the secondary and the source says
        // replication COMPLETED (PENDING until S3 has finished, FAILED when
        // it gave up: "Replication status information",
        // docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html).
        let (copy, source) = futures::future::join(
            to.s3
                .head_object()
                .bucket(&probes.bucket_to)
                .key(&probes.object_key)
                .send(),
            from.s3
                .head_object()
                .bucket(&probes.bucket_from)
                .key(&probes.object_key)
                .send(),
        )
        .await;
        let copied = match copy {
            Ok(_) => true,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => false,
            Err(e) => {
                let cause = sdk_message(&e);
                let detail = format!("{what}: {} could not be read: {cause}", to.region);
                return Ok(figure(None, detail));
            }
        };
        let status = match source {
            Ok(head) => head.replication_status().map(|s| s.as_str().to_string()),
            Err(e) => {
                let cause = sdk_message(&e);
                let detail = format!("{what}: {} could not be read: {cause}", from.region);
                return Ok(figure(None, detail));
            }
        };
        match status.as_deref() {
            Some("FAILED") => {
                let detail =
                    format!("{what}: S3 reports its replication FAILED; run `mraa status`");
                return Ok(figure(None, detail));
            }
            Some("COMPLETED") if copied => {
                let took = written.elapsed().as_secs_f64();
                return Ok(figure(Some(took), format!("{what}, S3 reports COMPLETED")));
            }
            _ => {}
        }
        // S3's own figure already past the objective: replication is that
        // far behind, so the probe cannot arrive within it; not waited out.
        if let Some(latest) = objects_latency(aws, probes).await
            && latest > OBJECTS_OBJECTIVE_SECS
        {
            let detail = format!(
                "{what}: still {} after {:.1} s, and S3 reports ReplicationLatency {} \
                 (objective 15 min); run `mraa status`",
                status.as_deref().unwrap_or("not replicated"),
                written.elapsed().as_secs_f64(),
                crate::health::lag::seconds(latest)
            );
            return Ok(figure(None, detail));
        }
        if !backoff.wait().await {
            let detail = format!("{what}: not there after 15 min; run `mraa status`");
            return Ok(figure(None, detail));
        }
    }
}

/// The objects' latest replication latency as S3 publishes it under RTC
/// (`crate::health::lag`), if CloudWatch holds one and answers.
async fn objects_latency(aws: &Aws, probes: &Probes) -> Option<f64> {
    let (from, to) = (&aws.primary.region, &aws.secondary.region);
    let figures = lag::measure(aws, &probes.app, &probes.account, &[], from, to)
        .await
        .ok()?;
    figures
        .iter()
        .find(|f| matches!(f.subject, lag::Subject::Objects { .. }))
        .and_then(|f| f.latest)
}

/// Removes the item from the primary and waits until the secondary's
/// replica has lost it too.
pub async fn remove_item(aws: &Aws, probes: &Probes) -> Result<()> {
    let (from, to) = (&aws.primary, &aws.secondary);
    from.dynamodb
        .delete_item()
        .table_name(&probes.table)
        .key("appId", AttributeValue::S(probes.item_key.clone()))
        .send()
        .await
        .map_err(|e| failed("drill", &from.region, &probes.table, sdk_message(&e)))?;
    let mut backoff = poll(aws.custom_endpoint, REPLICATION_LIMIT);
    for clients in [from, to] {
        loop {
            match item_in(&clients.dynamodb, probes).await {
                Ok(false) => break,
                Ok(true) if backoff.wait().await => {}
                Ok(true) => {
                    return Err(failed(
                        "drill",
                        &clients.region,
                        &probes.table,
                        format!(
                            "the probe item {} is still there after {} s: delete it with `aws \
                             dynamodb delete-item --table-name {} --key '{{\"appId\":{{\"S\":\"{}\"}}}}' \
                             --region {}`",
                            probes.item_key,
                            REPLICATION_LIMIT.as_secs(),
                            probes.table,
                            probes.item_key,
                            from.region
                        ),
                    ));
                }
                Err(cause) => return Err(failed("drill", &clients.region, &probes.table, cause)),
            }
        }
    }
    Ok(())
}

/// Removes every version of the object in both buckets (the replica keeps
/// the source's version id, but each is listed, not assumed).
pub async fn remove_object(aws: &Aws, probes: &Probes) -> Result<()> {
    for (clients, bucket) in [
        (&aws.primary, &probes.bucket_from),
        (&aws.secondary, &probes.bucket_to),
    ] {
        let fail = |cause: String| failed("drill", &clients.region, bucket, cause);
        let listed = clients
            .s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(&probes.object_key)
            .send()
            .await
            .map_err(|e| fail(sdk_message(&e)))?;
        let versions = listed
            .versions()
            .iter()
            .filter(|v| v.key() == Some(probes.object_key.as_str()))
            .filter_map(|v| v.version_id().map(str::to_string));
        let markers = listed
            .delete_markers()
            .iter()
            .filter(|v| v.key() == Some(probes.object_key.as_str()))
            .filter_map(|v| v.version_id().map(str::to_string));
        for version in versions.chain(markers).collect::<Vec<_>>() {
            clients
                .s3
                .delete_object()
                .bucket(bucket)
                .key(&probes.object_key)
                .version_id(version)
                .send()
                .await
                .map_err(|e| fail(sdk_message(&e)))?;
        }
    }
    Ok(())
}
