//! The objects the secondary took itself (uploads while active-active, or
//! while it served after a failover): kept in its bucket when the mode goes
//! back to active-passive, and named here so that an operator knows they
//! are there. S3 marks each object a replication rule copied in as
//! `REPLICA` (`x-amz-replication-status`, "Getting replication status
//! information", Amazon S3 User Guide,
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html>);
//! an object written in the bucket itself is `COMPLETED`, `PENDING`,
//! `FAILED` or has no status. Version ids do not tell them apart, as a
//! replica keeps its source's version id, so each listed object is asked.

use futures::StreamExt;

use crate::aws::{Aws, sdk_message};
use crate::health::{Check, Health};
use crate::names;
use crate::plan::Mode;

/// At most this many keys are listed and asked about (one HeadObject each).
const LISTED: usize = 1000;
/// Keys named in the row; the rest are counted.
const NAMED: usize = 3;
/// HeadObject requests in flight at once.
const AT_ONCE: usize = 16;

const ROW: &str = "secondary-objects";

/// In active-passive, one row in the secondary naming the objects written
/// there and how the primary holds them; `None` when there are none.
pub(super) async fn secondary_writes(
    aws: &Aws,
    app: &str,
    account: &str,
    mode: Mode,
) -> Option<Check> {
    if mode != Mode::ActivePassive {
        return None;
    }
    let (secondary, primary) = (&aws.secondary, &aws.primary);
    let bucket = names::bucket_name(app, "objects", account, &secondary.region);
    let primary_bucket = names::bucket_name(app, "objects", account, &primary.region);
    let row = |health, detail| Some(Check::link(ROW, &secondary.region, health, detail));
    let (keys, truncated) = match listed(&secondary.s3, &bucket).await {
        Ok(found) => found,
        Err(cause) => {
            return row(
                Health::Degraded,
                format!("{bucket} could not be listed: {cause}"),
            );
        }
    };
    let statuses = heads(&secondary.s3, &bucket, &keys).await;
    let mut own = Vec::new();
    for (key, status) in statuses {
        match status {
            Ok(Some(s)) if s == "REPLICA" => {}
            Ok(_) => own.push(key),
            // Deleted since it was listed.
            Err(cause) if cause == NOT_FOUND => {}
            Err(cause) => {
                return row(
                    Health::Degraded,
                    format!("{bucket}/{key} could not be read: {cause}"),
                );
            }
        }
    }
    if own.is_empty() {
        return None;
    }
    own.sort();
    let in_primary = heads(&primary.s3, &primary_bucket, &own).await;
    let replicas = in_primary
        .iter()
        .filter(|(_, s)| matches!(s, Ok(Some(s)) if s == "REPLICA"))
        .count();
    let absent = in_primary
        .iter()
        .filter(|(_, s)| matches!(s, Err(e) if e == NOT_FOUND))
        .count();
    let named = own
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = own.len().saturating_sub(NAMED);
    let scope = if truncated {
        format!(" (of the first {LISTED} keys)")
    } else {
        String::new()
    };
    row(
        Health::Ok,
        format!(
            "{} object{} written in {} kept in {bucket}{scope}: {named}{}; {} holds {replicas} as \
             replicas, {absent} not at all",
            own.len(),
            if own.len() == 1 { "" } else { "s" },
            secondary.region,
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            primary.region,
        ),
    )
}

/// The first [`LISTED`] keys of `bucket`, and whether there were more.
async fn listed(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(Vec<String>, bool), String> {
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_message(&e))?;
        for object in page.contents() {
            if keys.len() == LISTED {
                return Ok((keys, true));
            }
            if let Some(key) = object.key() {
                keys.push(key.to_string());
            }
        }
    }
    Ok((keys, false))
}

const NOT_FOUND: &str = "not found";

/// Each key's replication status; `Err(NOT_FOUND)` for a key the bucket
/// does not hold.
async fn heads(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[String],
) -> Vec<(String, Result<Option<String>, String>)> {
    futures::stream::iter(keys.iter().cloned())
        .map(|key| async move {
            let answer = s3.head_object().bucket(bucket).key(&key).send().await;
            let status = match answer {
                Ok(head) => Ok(head.replication_status().map(|s| s.as_str().to_string())),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                    Err(NOT_FOUND.to_string())
                }
                Err(e) => Err(sdk_message(&e)),
            };
            (key, status)
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await
}
