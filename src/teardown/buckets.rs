//! Buckets: claimed with the app tag before CloudFormation lets go of them,
//! emptied completely (every object version, every delete marker, every
//! unfinished multipart upload), deleted, and checked gone.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, Tag, Tagging};

use std::time::Duration;

use crate::aws::{is_not_found, sdk_message};
use crate::cfn::wait::Backoff;
use crate::names::APP_TAG;
use crate::ui::progress::Status;

use super::Run;
use super::inventory::BucketRef;

/// S3's limit for one DeleteObjects call, and for one listing page.
pub const BATCH: usize = 1000;
const GONE_LIMIT: Duration = Duration::from_secs(120);

/// Adds `mraa:app` to the bucket's tags (keeping the others), so that it can
/// be recognised as this app's once no stack manages it.
pub async fn claim(s3: &Client, bucket: &BucketRef, app: &str) -> Result<(), String> {
    // Tags under `aws:` belong to AWS services and cannot be written back.
    let mut tags: Vec<Tag> = bucket
        .tags
        .iter()
        .filter(|(k, _)| k != APP_TAG && !k.starts_with("aws:"))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    tags.push(
        Tag::builder()
            .key(APP_TAG)
            .value(app)
            .build()
            .map_err(|e| e.to_string())?,
    );
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .map_err(|e| e.to_string())?;
    s3.put_bucket_tagging()
        .bucket(&bucket.name)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(())
}

/// True while the bucket exists.
pub async fn exists(s3: &Client, name: &str) -> Result<bool, String> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(sdk_message(&e)),
    }
}

/// Deletes every object version, delete marker and multipart upload.
/// Returns how many versions and markers were deleted. Progress is reported
/// after every batch, so a large bucket shows its count going up.
pub async fn empty(run: &Run, step: &str, s3: &Client, bucket: &BucketRef) -> Result<u64, String> {
    let mut deleted: u64 = 0;
    // Always list from the start: what was deleted is gone from the listing,
    // and objects written meanwhile are found too.
    loop {
        let page = match s3
            .list_object_versions()
            .bucket(&bucket.name)
            .max_keys(BATCH as i32)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) if is_not_found(&e) => return Ok(deleted),
            Err(e) => return Err(sdk_message(&e)),
        };
        let mut batch: Vec<ObjectIdentifier> = Vec::new();
        for version in page.versions() {
            if let Some(key) = version.key() {
                batch.push(identifier(key, version.version_id())?);
            }
        }
        for marker in page.delete_markers() {
            if let Some(key) = marker.key() {
                batch.push(identifier(key, marker.version_id())?);
            }
        }
        if batch.is_empty() {
            break;
        }
        for chunk in batch.chunks(BATCH) {
            deleted += delete_batch(s3, &bucket.name, chunk.to_vec()).await?;
        }
        run.report(
            step,
            &bucket.region,
            Status::Waiting,
            &format!("emptying {}: {deleted} versions deleted", bucket.name),
        );
    }
    abort_uploads(s3, &bucket.name).await?;
    Ok(deleted)
}

fn identifier(key: &str, version: Option<&str>) -> Result<ObjectIdentifier, String> {
    ObjectIdentifier::builder()
        .key(key)
        .set_version_id(version.map(str::to_string))
        .build()
        .map_err(|e| e.to_string())
}

async fn delete_batch(
    s3: &Client,
    bucket: &str,
    objects: Vec<ObjectIdentifier>,
) -> Result<u64, String> {
    let count = objects.len() as u64;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(true)
        .build()
        .map_err(|e| e.to_string())?;
    let out = s3
        .delete_objects()
        .bucket(bucket)
        .delete(delete)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    if let Some(error) = out.errors().first() {
        return Err(format!(
            "{} of {count} objects could not be deleted; first: {} (version {}): {} {}",
            out.errors().len(),
            error.key().unwrap_or("?"),
            error.version_id().unwrap_or("null"),
            error.code().unwrap_or("?"),
            error.message().unwrap_or_default()
        ));
    }
    Ok(count)
}

async fn abort_uploads(s3: &Client, bucket: &str) -> Result<(), String> {
    loop {
        let listed = match s3.list_multipart_uploads().bucket(bucket).send().await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(sdk_message(&e)),
        };
        if listed.uploads().is_empty() {
            return Ok(());
        }
        for upload in listed.uploads() {
            let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else {
                continue;
            };
            match s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(id)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if e.code() == Some("NoSuchUpload") => {}
                Err(e) => return Err(sdk_message(&e)),
            }
        }
    }
}

/// Empties and deletes the bucket, then checks it is gone. A bucket that
/// received objects between emptying and deleting (log delivery) is emptied
/// again. Returns the number of versions deleted.
pub async fn remove(run: &Run, step: &str, s3: &Client, bucket: &BucketRef) -> Result<u64, String> {
    let mut deleted = 0;
    for attempt in 0..3 {
        deleted += empty(run, step, s3, bucket).await?;
        match s3.delete_bucket().bucket(&bucket.name).send().await {
            Ok(_) => break,
            Err(e) if is_not_found(&e) => break,
            Err(e) if e.code() == Some("BucketNotEmpty") && attempt < 2 => continue,
            Err(e) => return Err(sdk_message(&e)),
        }
    }
    // Deletion shows through S3's own answer, which can lag a moment.
    let mut backoff = Backoff::for_operation(run.aws.custom_endpoint, GONE_LIMIT);
    while exists(s3, &bucket.name).await? {
        if !backoff.wait().await {
            return Err("S3 still lists the bucket after deleting it".into());
        }
    }
    Ok(deleted)
}
