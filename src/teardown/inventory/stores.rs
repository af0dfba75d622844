//! The inventory's data phases: buckets, tables, user pools and the
//! application state, each found by its deterministic name and proved this
//! app's by tag or by a stack of the app that manages it.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::aws::{Aws, RegionClients, is_not_found, sdk_message};
use crate::error::Result;
use crate::names::{self, APP_TAG};
use crate::wire::dynamodb::REPLICA_TAG;

use super::{BucketRef, Inventory, Managed, Owner, PoolRef, TableRef};
use crate::teardown::{fail, pools};

/// Buckets, by name, in each region.
pub(super) async fn read_buckets(
    aws: &Aws,
    inventory: &mut Inventory,
    managed: &Managed,
) -> Result<()> {
    let app = inventory.app.clone();
    let app = app.as_str();
    let clients = inventory.clients(aws);
    let account = inventory.account.clone();
    let buckets = futures::future::try_join_all(clients.iter().flat_map(|c| {
        names::BUCKET_KINDS
            .iter()
            .map(|kind| read_bucket(c, app, &account, kind, managed))
    }))
    .await?;
    inventory.buckets = buckets.into_iter().flatten().collect();

    Ok(())
}

/// Tables: the primary's, then the same names in the secondary.
pub(super) async fn read_tables(
    aws: &Aws,
    inventory: &mut Inventory,
    managed: &Managed,
) -> Result<()> {
    let app = inventory.app.clone();
    let app = app.as_str();
    let mut tables = Vec::new();
    for table in names::ALL_GLOBAL_TABLES {
        let name = names::table_name(app, table);
        let main = read_table(&aws.primary, &name, app, managed, None).await?;
        let replica_of = main
            .as_ref()
            .filter(|t| {
                inventory
                    .secondary
                    .as_ref()
                    .is_some_and(|s| t.replicas.contains(s))
            })
            .map(|t| (t.region.clone(), t.owner.clone()));
        if let Some(secondary) = &inventory.secondary {
            let other = read_table(aws.region(secondary), &name, app, managed, replica_of).await?;
            tables.extend(main.into_iter().chain(other));
        } else {
            tables.extend(main);
        }
    }
    inventory.tables = tables;

    Ok(())
}

/// User pools, by name, in each region.
pub(super) async fn read_pools(
    aws: &Aws,
    inventory: &mut Inventory,
    managed: &Managed,
) -> Result<()> {
    let app = inventory.app.clone();
    let app = app.as_str();
    let clients = inventory.clients(aws);
    for clients in &clients {
        let name = crate::names::user_pool_name(app);
        let err = |e: String| fail("user-pool", &clients.region, &name, e);
        for id in crate::discover::user_pools(&clients.cognito, &name)
            .await
            .map_err(err)?
        {
            let Some(pools::Described { arn, tag, key }) =
                pools::describe(&clients.cognito, &id).await.map_err(err)?
            else {
                continue;
            };
            // Cognito's replication lists the replica under the same id in
            // the secondary. A pool that cannot say has none as far as
            // teardown knows: deleting it then names Cognito's own reason.
            let replica = crate::pool_replica::secondary_of(&clients.cognito, &id)
                .await
                .ok()
                .flatten();
            let is_replica = replica.as_ref().is_some_and(|r| r.region == clients.region);
            inventory.pools.push(PoolRef {
                owner: Owner::from_tag(tag.as_deref(), app, managed.get(&id)),
                replica_in: replica.map(|r| r.region).filter(|_| !is_replica),
                is_replica,
                id,
                name: name.clone(),
                region: clients.region.clone(),
                arn,
                key,
            });
        }
    }

    Ok(())
}

/// The Regions whose API Gateway account settings name this app's logs role
/// (`mraa-<app>-apigw-logs`): found by its name, with or without the
/// bootstrap stack that made it.
pub(super) async fn read_logs_role(aws: &Aws, inventory: &mut Inventory) -> Result<()> {
    let role = crate::names::api_logging_role(&inventory.app);
    for clients in inventory.clients(aws) {
        let named = crate::discover::role_named(&clients.apigateway)
            .await
            .map_err(|e| fail("iam-role", &clients.region, &role, e))?;
        if named.is_some_and(|arn| arn.ends_with(&format!(":role/{role}"))) {
            inventory.logs_role_regions.push(clients.region.clone());
        }
    }
    Ok(())
}

/// The application state item, when its table is this app's.
pub(super) async fn read_state(aws: &Aws, inventory: &mut Inventory) -> Result<()> {
    let app = inventory.app.clone();
    let app = app.as_str();
    let primary = inventory.primary.clone();
    let config = names::table_name(app, "app-config");
    if inventory
        .tables
        .iter()
        .any(|t| t.name == config && t.region == primary && t.owner.is_ours())
    {
        let record = crate::app_state::read(&aws.primary.dynamodb, app)
            .await
            .map_err(|e| fail("app-state", &primary, &config, e))?;
        inventory.state = record.map(|r| r.raw_state.unwrap_or_else(|| "(no state)".into()));
    }
    Ok(())
}

pub(super) async fn read_bucket(
    clients: &RegionClients,
    app: &str,
    account: &str,
    kind: &'static str,
    managed: &BTreeMap<String, String>,
) -> Result<Option<BucketRef>> {
    let region = &clients.region;
    let name = names::bucket_name(app, kind, account, region);
    let err = |e: String| fail("bucket", region, &name, e);
    let mut bucket = BucketRef {
        name: name.clone(),
        region: region.clone(),
        kind,
        owner: Owner::Tagged,
        tags: Vec::new(),
        replication: false,
    };
    match clients.s3.head_bucket().bucket(&name).send().await {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(403) => {
            bucket.owner = Owner::Foreign(
                "S3 denies access to it: the name is taken by another account".into(),
            );
            return Ok(Some(bucket));
        }
        Err(e) => return Err(err(sdk_message(&e))),
    }
    match clients
        .s3
        .get_bucket_tagging()
        .bucket(&name)
        .expected_bucket_owner(account)
        .send()
        .await
    {
        Ok(out) => {
            bucket.tags = out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
        }
        Err(e) if e.code() == Some("NoSuchTagSet") => {}
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(err(sdk_message(&e))),
    }
    let tag = bucket
        .tags
        .iter()
        .find(|(k, _)| k == APP_TAG)
        .map(|(_, v)| v.as_str());
    bucket.owner = Owner::from_tag(tag, app, managed.get(&name));
    // Both Regions: active-active replicates back from the secondary too.
    if kind == "objects" && bucket.owner.is_ours() {
        bucket.replication = crate::wire::s3::current_configuration(&clients.s3, &name)
            .await
            .map_err(err)?
            .is_some();
    }
    Ok(Some(bucket))
}

pub(super) async fn read_table(
    clients: &RegionClients,
    name: &str,
    app: &str,
    managed: &BTreeMap<String, String>,
    replica_of: Option<(String, Owner)>,
) -> Result<Option<TableRef>> {
    let region = &clients.region;
    let err = |e: String| fail("table", region, name, e);
    let Some((table, tags)) = crate::discover::table_with_tags(clients, name)
        .await
        .map_err(err)?
    else {
        return Ok(None);
    };
    let arn = table.table_arn().map(str::to_string);
    let tag = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let app_tag = tag(APP_TAG);
    let (owner, replica_of) = match replica_of {
        // A replica of this app's table is this app's, tagged or not.
        Some((primary, owner)) if app_tag.is_none() => (owner, Some(primary)),
        Some((primary, _)) => (
            Owner::from_tag(app_tag.as_deref(), app, None),
            Some(primary),
        ),
        None => (
            Owner::from_tag(app_tag.as_deref(), app, managed.get(name)),
            None,
        ),
    };
    Ok(Some(TableRef {
        name: name.to_string(),
        region: region.clone(),
        arn,
        owner,
        protected: table.deletion_protection_enabled() == Some(true),
        status: table
            .table_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        replicas: table
            .replicas()
            .iter()
            .filter_map(|r| r.region_name())
            .filter(|r| r != region)
            .map(str::to_string)
            .collect(),
        replica_requested: tag(REPLICA_TAG),
        replica_of,
        tagged: app_tag.is_some(),
    }))
}
