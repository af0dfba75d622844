//! Data kept by an earlier `teardown` that a deploy takes back: found by the
//! names the units would create and proved this app's by its `mraa:app` tag
//! (teardown tags every store it keeps), then imported by CloudFormation.
//! Same-named stores without the tag, or with another app's, are never
//! taken: they are listed for the refusal.
//!
//! What each unit holds, with the identifier its registry schema gives as
//! `primaryIdentifier` (the schemas cfn-lint ships): buckets by BucketName,
//! tables by TableName, the pool by UserPoolId, its replica by UserPoolId
//! and RegionName, the users key and its replica by KeyId. The key has no
//! name: it is the one the kept (tagged) pool is encrypted with.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use serde::Serialize;

use crate::aws::{Aws, RegionClients, aws_error, is_not_found, sdk_message};
use crate::cfn;
use crate::error::{MraaError, Result};
use crate::names::{self, APP_TAG};
use crate::plan::{Plan, Unit, UserReplication};

/// A kept resource that a unit's stack imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptResource {
    #[serde(serialize_with = "unit_id")]
    pub unit: Unit,
    pub region: String,
    pub logical_id: &'static str,
    pub resource_type: &'static str,
    /// The type's identifier properties and their values.
    pub identifier: Vec<(&'static str, String)>,
    pub physical_id: String,
    /// What it held when found, checked again once it is adopted.
    pub held: Held,
}

fn unit_id<S: serde::Serializer>(unit: &Unit, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(unit.id())
}

/// The contents a store had when it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Held {
    Bucket {
        versioning: String,
        objects: usize,
    },
    Table {
        items: usize,
    },
    Pool {
        users: usize,
    },
    /// A replica or a key: checked by its own status, not by contents.
    Nothing,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Held::Bucket {
                versioning,
                objects,
            } => write!(f, "{objects} object versions, versioning {versioning}"),
            Held::Table { items } => write!(f, "{items} items"),
            Held::Pool { users } => write!(f, "{users} users"),
            Held::Nothing => write!(f, "nothing counted"),
        }
    }
}

/// What an earlier teardown left under the names of the units searched.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub adopt: Vec<KeptResource>,
    /// Same-named resources that are not this app's: `<what> <name> (<why>)`.
    pub foreign: Vec<String>,
}

impl Kept {
    pub fn of(&self, unit: Unit) -> Vec<KeptResource> {
        self.adopt
            .iter()
            .filter(|k| k.unit == unit)
            .cloned()
            .collect()
    }

    fn add(&mut self, other: Kept) {
        self.adopt.extend(other.adopt);
        self.foreign.extend(other.foreign);
    }
}

/// The units that hold data, in the order a deploy makes them.
pub const DATA_UNITS: [Unit; 5] = [
    Unit::Bootstrap,
    Unit::ObjectStore,
    Unit::KvStore,
    Unit::Routing,
    Unit::Frontend,
];

/// Kept data under the names of every data unit not deployed now (no
/// StackSet, or for the bootstrap no stack).
pub async fn find(aws: &Aws, plan: &Plan, account: &str) -> Result<Kept> {
    let primary = &aws.primary;
    let missing = DATA_UNITS.map(|unit| async move {
        let name = names::stack_name(&plan.app, unit.id());
        let deployed = if unit == Unit::Bootstrap {
            cfn::stack::describe(&primary.cfn, &name).await.map(|s| {
                s.is_some_and(|s| {
                    s.stack_status().map(|s| s.as_str()) != Some("REVIEW_IN_PROGRESS")
                })
            })
        } else {
            cfn::stack_set::describe(&primary.cfn, &name)
                .await
                .map(|s| s.is_some())
        };
        deployed
            .map(|deployed| (!deployed).then_some(unit))
            .map_err(|e| aws_error(unit.id(), &primary.region, &name, e))
    });
    let units: Vec<Unit> = futures::future::try_join_all(missing)
        .await?
        .into_iter()
        .flatten()
        .collect();
    find_units(aws, plan, account, &units).await
}

/// Kept data under the names `units` would create, in every region.
pub async fn find_units(aws: &Aws, plan: &Plan, account: &str, units: &[Unit]) -> Result<Kept> {
    let mut kept = Kept::default();
    // The pool first: the users key is found through it.
    // The pool names the users key, which the bootstrap and the object store's
    // replica hold.
    let pools = if [Unit::Frontend, Unit::Bootstrap, Unit::ObjectStore]
        .iter()
        .any(|u| units.contains(u))
    {
        pools(aws, plan).await?
    } else {
        Kept::default()
    };
    let key = pools
        .adopt
        .iter()
        .find(|k| k.logical_id == "UserPool" && k.region == plan.primary)
        .map(|k| k.physical_id.clone());
    let key = match key {
        Some(pool) if plan.user_replication == UserReplication::Native => {
            users_key(&aws.primary, &pool).await?
        }
        _ => None,
    };
    let tables = futures::future::try_join_all(
        [
            (Unit::KvStore, "CommentsTable", "comments"),
            (Unit::Routing, "AppConfigTable", "app-config"),
            (Unit::Frontend, "UsersTable", "users"),
        ]
        .into_iter()
        .filter(|(unit, _, table)| {
            units.contains(unit)
                && (*table != "users" || plan.user_replication == UserReplication::Import)
        })
        .map(|(unit, logical, table)| async move {
            let name = names::table_name(&plan.app, table);
            table_kept(&aws.primary, &plan.app, unit, logical, &name).await
        }),
    )
    .await?;
    for found in tables {
        kept.add(found);
    }
    if units.contains(&Unit::ObjectStore) {
        let buckets = futures::future::try_join_all(aws.regions().into_iter().flat_map(|c| {
            [("LogBucket", "logs"), ("ObjectBucket", "objects")].map(|(logical, kind)| {
                let name = names::bucket_name(&plan.app, kind, account, &c.region);
                async move { bucket_kept(c, &plan.app, logical, &name).await }
            })
        }))
        .await?;
        for found in buckets {
            kept.add(found);
        }
        if let Some(key) = &key {
            kept.adopt.push(key_resource(
                Unit::ObjectStore,
                &plan.secondary,
                "UsersKeyReplica",
                "AWS::KMS::ReplicaKey",
                key,
            ));
        }
    }
    if units.contains(&Unit::Bootstrap)
        && let Some(key) = &key
    {
        kept.adopt.push(key_resource(
            Unit::Bootstrap,
            &plan.primary,
            "UsersKey",
            "AWS::KMS::Key",
            key,
        ));
    }
    if units.contains(&Unit::Frontend) {
        kept.add(pools);
    }
    Ok(kept)
}

fn key_resource(
    unit: Unit,
    region: &str,
    logical_id: &'static str,
    resource_type: &'static str,
    key: &str,
) -> KeptResource {
    KeptResource {
        unit,
        region: region.to_string(),
        logical_id,
        resource_type,
        identifier: vec![("KeyId", key.to_string())],
        physical_id: key.to_string(),
        held: Held::Nothing,
    }
}

/// The pool's multi-Region key id (`mrk-…`), as the pool names it.
async fn users_key(clients: &RegionClients, pool: &str) -> Result<Option<String>> {
    let out = clients
        .cognito
        .describe_user_pool()
        .user_pool_id(pool)
        .send()
        .await
        .map_err(|e| aws_error("frontend", &clients.region, pool, sdk_message(&e)))?;
    Ok(out
        .user_pool()
        .and_then(|p| p.key_configuration())
        .and_then(|k| k.kms_key_arn())
        .filter(|arn| arn.contains(&format!(":kms:{}:", clients.region)))
        .and_then(|arn| arn.rsplit('/').next())
        .map(str::to_string))
}

/// The app's pools: the primary's (and its replica, with native
/// replication), or one per region with replication by import.
async fn pools(aws: &Aws, plan: &Plan) -> Result<Kept> {
    let name = names::user_pool_name(&plan.app);
    let mut kept = Kept::default();
    let regions: Vec<&RegionClients> = match plan.user_replication {
        UserReplication::Native => vec![&aws.primary],
        UserReplication::Import => aws.regions().to_vec(),
    };
    for clients in regions {
        let region = &clients.region;
        let fail = |e: String| aws_error("frontend", region, &name, e);
        let ids = crate::discover::user_pools(&clients.cognito, &name)
            .await
            .map_err(fail)?;
        let mut ours = Vec::new();
        for id in ids {
            let out = clients
                .cognito
                .describe_user_pool()
                .user_pool_id(&id)
                .send()
                .await
                .map_err(|e| fail(sdk_message(&e)))?;
            let tag = out
                .user_pool()
                .and_then(|p| p.user_pool_tags())
                .and_then(|t| t.get(APP_TAG).cloned());
            match tag.as_deref() {
                Some(t) if t == plan.app => ours.push(id),
                other => kept.foreign.push(format!(
                    "user pool {name} ({id}) in {region} ({})",
                    why_foreign(other)
                )),
            }
        }
        if ours.len() > 1 {
            kept.foreign.push(format!(
                "user pools {name} in {region} ({} of them are tagged {APP_TAG}={}: which one to take is not mraa's to guess)",
                ours.len(),
                plan.app
            ));
            continue;
        }
        let Some(id) = ours.pop() else { continue };
        let users = count_users(clients, &id).await.map_err(fail)?;
        kept.adopt.push(KeptResource {
            unit: Unit::Frontend,
            region: region.clone(),
            logical_id: "UserPool",
            resource_type: "AWS::Cognito::UserPool",
            identifier: vec![("UserPoolId", id.clone())],
            physical_id: id.clone(),
            held: Held::Pool { users },
        });
        if plan.user_replication == UserReplication::Native {
            let replica = crate::pool_replica::secondary_of(&clients.cognito, &id)
                .await
                .map_err(fail)?;
            if let Some(replica) = replica.filter(|r| r.region == plan.secondary) {
                kept.adopt.push(KeptResource {
                    unit: Unit::Frontend,
                    region: region.clone(),
                    logical_id: "UserPoolReplica",
                    resource_type: "AWS::Cognito::UserPoolReplica",
                    identifier: vec![
                        ("UserPoolId", id.clone()),
                        ("RegionName", replica.region.clone()),
                    ],
                    physical_id: format!("{id}|{}", replica.region),
                    held: Held::Nothing,
                });
            }
        }
    }
    if plan.user_replication == UserReplication::Native {
        // The secondary holds only the primary pool's replica (same id): any
        // other pool of the name there would be left beside it.
        let adopted: Vec<&str> = kept
            .adopt
            .iter()
            .filter(|k| k.logical_id == "UserPool")
            .map(|k| k.physical_id.as_str())
            .collect();
        let region = &aws.secondary.region;
        let ids = crate::discover::user_pools(&aws.secondary.cognito, &name)
            .await
            .map_err(|e| aws_error("frontend", region, &name, e))?;
        for id in ids.into_iter().filter(|id| !adopted.contains(&id.as_str())) {
            kept.foreign.push(format!(
                "user pool {name} ({id}) in {region} (not the replica of a pool of the primary region: Cognito would take a second pool of the name and leave its users behind)"
            ));
        }
    }
    Ok(kept)
}

fn why_foreign(tag: Option<&str>) -> String {
    match tag {
        None => format!("no {APP_TAG} tag: mraa did not make it"),
        Some(other) => format!("its {APP_TAG} tag is `{other}`"),
    }
}

pub async fn count_users(
    clients: &RegionClients,
    pool: &str,
) -> std::result::Result<usize, String> {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let out = clients
            .cognito
            .list_users()
            .user_pool_id(pool)
            .set_pagination_token(token.take())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        count += out.users().len();
        match out.pagination_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_string()),
            None => return Ok(count),
        }
    }
}

async fn table_kept(
    clients: &RegionClients,
    app: &str,
    unit: Unit,
    logical_id: &'static str,
    name: &str,
) -> Result<Kept> {
    let region = &clients.region;
    let fail = |e: String| aws_error(unit.id(), region, name, e);
    let mut kept = Kept::default();
    let Some((_, tags)) = crate::discover::table_with_tags(clients, name)
        .await
        .map_err(fail)?
    else {
        return Ok(kept);
    };
    let tag = tags
        .into_iter()
        .find(|(key, _)| key == APP_TAG)
        .map(|(_, value)| value);
    if tag.as_deref() != Some(app) {
        kept.foreign
            .push(format!("table {name} ({})", why_foreign(tag.as_deref())));
        return Ok(kept);
    }
    let items = count_items(clients, name).await.map_err(fail)?;
    kept.adopt.push(KeptResource {
        unit,
        region: region.clone(),
        logical_id,
        resource_type: "AWS::DynamoDB::Table",
        identifier: vec![("TableName", name.to_string())],
        physical_id: name.to_string(),
        held: Held::Table { items },
    });
    Ok(kept)
}

/// Items, by a counting scan: DescribeTable's ItemCount is refreshed only
/// about every six hours (DynamoDB API Reference, TableDescription).
pub async fn count_items(
    clients: &RegionClients,
    table: &str,
) -> std::result::Result<usize, String> {
    let mut count = 0;
    let mut start = None;
    loop {
        let out = clients
            .dynamodb
            .scan()
            .table_name(table)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        count += usize::try_from(out.count()).unwrap_or_default();
        match out.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(count),
        }
    }
}

async fn bucket_kept(
    clients: &RegionClients,
    app: &str,
    logical_id: &'static str,
    name: &str,
) -> Result<Kept> {
    let region = &clients.region;
    let fail = |e: String| aws_error("object-store", region, name, e);
    let mut kept = Kept::default();
    match clients.s3.head_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(kept),
        Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(403) => {
            kept.foreign.push(format!(
                "bucket {name} (S3 denies access to it: the name is taken by another account)"
            ));
            return Ok(kept);
        }
        Err(e) => return Err(fail(sdk_message(&e))),
    }
    let tag = match clients.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .find(|t| t.key() == APP_TAG)
            .map(|t| t.value().to_string()),
        Err(e) if e.code() == Some("NoSuchTagSet") => None,
        Err(e) => return Err(fail(sdk_message(&e))),
    };
    if tag.as_deref() != Some(app) {
        kept.foreign
            .push(format!("bucket {name} ({})", why_foreign(tag.as_deref())));
        return Ok(kept);
    }
    let held = bucket_contents(clients, name).await.map_err(fail)?;
    kept.adopt.push(KeptResource {
        unit: Unit::ObjectStore,
        region: region.clone(),
        logical_id,
        resource_type: "AWS::S3::Bucket",
        identifier: vec![("BucketName", name.to_string())],
        physical_id: name.to_string(),
        held,
    });
    Ok(kept)
}

/// Versioning status and the number of object versions (delete markers
/// aside), read through S3.
pub async fn bucket_contents(
    clients: &RegionClients,
    name: &str,
) -> std::result::Result<Held, String> {
    let versioning = clients
        .s3
        .get_bucket_versioning()
        .bucket(name)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "Disabled".into());
    let mut objects = 0;
    let (mut key, mut version) = (None, None);
    loop {
        let out = clients
            .s3
            .list_object_versions()
            .bucket(name)
            .set_key_marker(key.take())
            .set_version_id_marker(version.take())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        objects += out.versions().len();
        if out.is_truncated() != Some(true) {
            return Ok(Held::Bucket {
                versioning,
                objects,
            });
        }
        key = out.next_key_marker().map(str::to_string);
        version = out.next_version_id_marker().map(str::to_string);
    }
}

/// Refused: same-named resources that are not this app's.
pub fn refuse_foreign(kept: &Kept, plan: &Plan) -> Result<()> {
    let (app, primary, secondary) = (&plan.app, &plan.primary, &plan.secondary);
    if kept.foreign.is_empty() {
        return Ok(());
    }
    Err(MraaError::Refused(format!(
        "resources under app {app}'s names cannot be adopted: {}; deploy under another \
         --app, or move them out of the way (once backed up, `mraa teardown --delete-data --yes \
         --app {app} --primary {} --secondary {}` removes those tagged as this app's, and only \
         those); nothing was changed",
        kept.foreign.join(", "),
        primary,
        secondary,
    )))
}

/// By unit and region, what a deploy imports: the rows the plan shows.
pub fn by_unit(kept: &Kept) -> BTreeMap<(String, String), Vec<&KeptResource>> {
    let mut rows: BTreeMap<(String, String), Vec<&KeptResource>> = BTreeMap::new();
    for k in &kept.adopt {
        rows.entry((k.unit.id().to_string(), k.region.clone()))
            .or_default()
            .push(k);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::changes::import_template::import_template;

    /// Every logical id adoption imports is one its unit's rendered template
    /// declares with a DeletionPolicy, in either replication mode.
    #[test]
    fn every_resource_adoption_imports_is_declared_retained_by_its_template() {
        let imported: [(Unit, &[&str]); 5] = [
            (Unit::Bootstrap, &["UsersKey"]),
            (
                Unit::ObjectStore,
                &["LogBucket", "ObjectBucket", "UsersKeyReplica"],
            ),
            (Unit::KvStore, &["CommentsTable"]),
            (Unit::Routing, &["AppConfigTable"]),
            (
                Unit::Frontend,
                &["UserPool", "UserPoolReplica", "UsersTable"],
            ),
        ];
        let plan = Plan::new("demo", "us-east-1", "ap-northeast-1");
        let rendered = crate::render::render_all(&plan).expect("render");
        for (unit, ids) in imported {
            assert!(DATA_UNITS.contains(&unit));
            let body = &rendered
                .iter()
                .find(|r| r.file == unit.template_file())
                .expect("rendered")
                .body;
            let template = import_template(body, ids).unwrap_or_else(|e| panic!("{unit}: {e}"));
            let parsed: serde_yaml::Value = serde_yaml::from_str(&template).expect("parses");
            for id in ids {
                let policy = &parsed["Resources"][*id]["DeletionPolicy"];
                assert_eq!(policy.as_str(), Some("Retain"), "{unit} {id}: {template}");
            }
        }
    }
}
