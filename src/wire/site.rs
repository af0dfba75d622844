//! The demo web site: the static files from `layers/frontend/site/` and a
//! generated `config.json` (each region's state URL, API URL and user pool),
//! uploaded to every website bucket. Only files whose content differs are
//! sent, so an unchanged deployment uploads nothing.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_s3::primitives::ByteStream;
use md5::{Digest, Md5};
use serde::Serialize;

use crate::aws::{RegionClients, aws_error, sdk_message};
use crate::context::{Change, Ctx, Outputs};
use crate::error::Result;
use crate::names;
use crate::plan::Unit;
use crate::render::assets;

use super::{Verdict, WireOutcome};

pub const STEP: &str = "site-upload";
const SITE_PREFIX: &str = "layers/frontend/site/";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteConfig {
    pub app_id: String,
    pub primary_region: String,
    pub secondary_region: String,
    pub regions: BTreeMap<String, RegionEndpoints>,
    /// `native` (Cognito replicates users, passwords included) or `import`
    /// (users reach the secondary without their password): what the site
    /// tells a user signing in during a failover.
    pub user_replication: String,
    /// `active-passive` or `active-active`: whether the site may send a
    /// user to either Region's API.
    pub mode: crate::plan::Mode,
    /// Absent without `--domain`, so such a deployment's file is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_domain: Option<CustomDomain>,
}

/// The custom names: the site, and the APIs behind the Route 53 failover
/// name (base paths as in the api-domain template).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomain {
    pub site_url: String,
    pub api_url: String,
    pub state_url: String,
}

impl CustomDomain {
    pub fn new(app: &str, domain: &str) -> CustomDomain {
        CustomDomain {
            site_url: format!("https://{domain}"),
            api_url: format!("https://api.{domain}/app/"),
            state_url: format!("https://api.{domain}/routing/state/{app}"),
        }
    }

    /// The same URLs in the snake_case of the status report.
    pub fn for_report(&self) -> DomainUrls {
        DomainUrls {
            site_url: self.site_url.clone(),
            api_url: self.api_url.clone(),
            state_url: self.state_url.clone(),
        }
    }
}

/// `custom_domain` in the status report.
#[derive(Debug, Clone, Serialize)]
pub struct DomainUrls {
    pub site_url: String,
    pub api_url: String,
    pub state_url: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionEndpoints {
    pub state_url: Option<String>,
    pub api_url: Option<String>,
    pub user_pool_id: Option<String>,
    pub user_pool_client_id: Option<String>,
}

/// What decides the site's files: the app, its regions and custom domain.
#[derive(Debug, Clone)]
pub struct Site<'a> {
    pub app: &'a str,
    pub primary: &'a str,
    pub secondary: &'a str,
    pub domain: Option<&'a str>,
    pub mode: crate::plan::Mode,
}

impl<'a> Site<'a> {
    pub fn of(ctx: &'a Ctx) -> Site<'a> {
        Site {
            app: &ctx.app,
            primary: &ctx.aws.primary.region,
            secondary: &ctx.aws.secondary.region,
            domain: ctx.plan.domain.as_ref().map(|d| d.name.as_str()),
            mode: ctx.plan.mode,
        }
    }
}

fn config_of(site: &Site, outputs: &Outputs) -> SiteConfig {
    let regions = [site.primary, site.secondary]
        .into_iter()
        .map(|r| (r.to_string(), endpoints(site.app, r, outputs)))
        .collect();
    SiteConfig {
        app_id: site.app.to_string(),
        primary_region: site.primary.to_string(),
        secondary_region: site.secondary.to_string(),
        regions,
        user_replication: crate::plan::UserReplication::from_recorded(outputs.get(
            Unit::Frontend,
            site.primary,
            "UserReplication",
        ))
        .to_string(),
        mode: site.mode,
        custom_domain: site.domain.map(|d| CustomDomain::new(site.app, d)),
    }
}

/// Every file of the site with its content, `config.json` included: what a
/// deploy uploads to each website bucket, and what `diff` compares.
pub fn files(
    site: &Site,
    outputs: &Outputs,
) -> std::result::Result<Vec<(String, Vec<u8>)>, String> {
    let config = serde_json::to_vec_pretty(&config_of(site, outputs)).map_err(|e| e.to_string())?;
    let mut files: Vec<(String, Vec<u8>)> = assets::layer_files_under(SITE_PREFIX)
        .map(|(path, bytes)| {
            (
                path.trim_start_matches(SITE_PREFIX).to_string(),
                bytes.to_vec(),
            )
        })
        .collect();
    files.push(("config.json".to_string(), config));
    Ok(files)
}

/// What a bucket needs to hold `files`, from its objects' ETags: the keys to
/// upload (missing or with other content) and the stale keys to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub upload: Vec<String>,
    pub remove: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.upload.is_empty() && self.remove.is_empty()
    }
}

/// A single-part upload's ETag is the MD5 of its content ("Object",
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html>): a
/// file whose ETag matches is not sent again.
pub fn changes(existing: &HashMap<String, String>, files: &[(String, Vec<u8>)]) -> Changes {
    let upload = files
        .iter()
        .filter(|(key, body)| {
            existing
                .get(key)
                .is_none_or(|etag| etag.trim_matches('"') != hex(&Md5::digest(body)))
        })
        .map(|(key, _)| key.clone())
        .collect();
    let mut remove: Vec<String> = existing
        .keys()
        .filter(|k| !files.iter().any(|(key, _)| key == *k))
        .cloned()
        .collect();
    remove.sort();
    Changes { upload, remove }
}

pub fn endpoints(app: &str, region: &str, outputs: &Outputs) -> RegionEndpoints {
    let get = |unit, key| outputs.get(unit, region, key).map(str::to_string);
    RegionEndpoints {
        state_url: get(Unit::Routing, "StateApiUrl").map(|base| format!("{base}{app}")),
        api_url: get(Unit::Application, "AppApiUrl"),
        user_pool_id: outputs.user_pool(region, "UserPoolId").map(str::to_string),
        user_pool_client_id: outputs
            .user_pool(region, "UserPoolClientId")
            .map(str::to_string),
    }
}

pub async fn wire(ctx: &Ctx, outputs: &Outputs) -> Result<WireOutcome> {
    let files = files(&Site::of(ctx), outputs)
        .map_err(|e| aws_error(STEP, &ctx.aws.primary.region, "config.json", e))?;
    let results = futures::future::join_all(
        ctx.aws
            .regions()
            .into_iter()
            .map(|clients| upload(ctx, clients, &files)),
    )
    .await;
    let mut outcome = WireOutcome::new(Change::Unchanged);
    for (clients, result) in ctx.aws.regions().iter().zip(results) {
        outcome.mark(result?);
        outcome.check(&clients.region, Verdict::Ok);
    }
    Ok(outcome)
}

/// `Ok(true)` when anything was uploaded or removed.
async fn upload(ctx: &Ctx, clients: &RegionClients, files: &[(String, Vec<u8>)]) -> Result<bool> {
    let bucket = names::bucket_name(&ctx.app, "website", &ctx.account, &clients.region);
    let fail = |key: &str, cause: String| {
        aws_error(STEP, &clients.region, format!("s3://{bucket}/{key}"), cause)
    };
    let existing = list_etags(&clients.s3, &bucket)
        .await
        .map_err(|e| fail("", e))?;
    let needed = changes(&existing, files);
    for (key, body) in files.iter().filter(|(k, _)| needed.upload.contains(k)) {
        clients
            .s3
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(body.clone()))
            .content_type(content_type(key))
            .cache_control(cache_control(key))
            .send()
            .await
            .map_err(|e| fail(key, sdk_message(&e)))?;
    }
    for stale in &needed.remove {
        clients
            .s3
            .delete_object()
            .bucket(&bucket)
            .key(stale)
            .send()
            .await
            .map_err(|e| fail(stale, sdk_message(&e)))?;
    }
    // Verify: every file is there with the content sent.
    let after = list_etags(&clients.s3, &bucket)
        .await
        .map_err(|e| fail("", e))?;
    if let Some(key) = changes(&after, files).upload.first() {
        return Err(fail(
            key,
            "not found with the uploaded content after upload".into(),
        ));
    }
    Ok(!needed.is_empty())
}

pub async fn list_etags(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<HashMap<String, String>, String> {
    let mut etags = HashMap::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_message(&e))?;
        for object in page.contents() {
            if let (Some(key), Some(etag)) = (object.key(), object.e_tag()) {
                etags.insert(key.to_string(), etag.to_string());
            }
        }
    }
    Ok(etags)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The entry points must never be cached stale after a failover; the rest
/// may be cached briefly.
fn cache_control(key: &str) -> &'static str {
    if key == "config.json" || key.ends_with(".html") {
        "no-cache"
    } else {
        "max-age=300"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("config.json"), "application/json");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }

    #[test]
    fn only_files_whose_etag_differs_are_uploaded_and_stale_ones_removed() {
        let files = vec![
            ("index.html".to_string(), b"<html>".to_vec()),
            ("config.json".to_string(), b"{}".to_vec()),
            ("app.js".to_string(), b"go()".to_vec()),
        ];
        let etag = |body: &[u8]| format!("\"{}\"", hex(&Md5::digest(body)));
        let existing: HashMap<String, String> = [
            ("index.html".to_string(), etag(b"<html>")),
            ("config.json".to_string(), etag(b"{\"old\": 1}")),
            ("old.css".to_string(), etag(b"p{}")),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            changes(&existing, &files),
            Changes {
                upload: vec!["config.json".into(), "app.js".into()],
                remove: vec!["old.css".into()],
            }
        );
    }

    #[test]
    fn md5_hex_matches_s3_etags() {
        assert_eq!(hex(&Md5::digest(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
