//! What of an app exists, read from AWS alone and without a single mutating
//! call: the bootstrap, edge and site-certificate stacks, the StackSets with
//! their instances and the resources of those instances, the buckets and
//! tables by their deterministic names, the custom domain's certificates and
//! their DNS validation records, and for each one whether it provably belongs
//! to this app (its `mraa:app` tag, or a stack of this app that manages it).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudformation::types::{Stack, StackSetOperationAction, StackStatus};
use aws_sdk_s3::error::ProvideErrorMetadata;

use super::acm;
use crate::aws::{Aws, RegionClients, is_not_found, sdk_message};
use crate::cfn::status::is_in_progress;
use crate::cfn::{stack, stack_set};
use crate::error::Result;
use crate::names::{self, APP_TAG};
use crate::plan::{CERTIFICATE_REGION, Kind, Unit};
use crate::regions;
use crate::wire::dynamodb::REPLICA_TAG;

use super::{fail, pools, refail};

/// Whether a resource of this app's name is provably this app's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// It carries `mraa:app` = app.
    Tagged,
    /// No tag yet, but a stack of this app manages it (named here): the tag is
    /// added before that stack lets go of it.
    Stack(String),
    /// Not this app's: never touched. The reason says why.
    Foreign(String),
}

impl Owner {
    pub fn is_ours(&self) -> bool {
        !matches!(self, Owner::Foreign(_))
    }

    fn from_tag(value: Option<&str>, app: &str, managed_by: Option<&String>) -> Owner {
        match (value, managed_by) {
            (Some(v), _) if v == app => Owner::Tagged,
            (Some(v), _) => Owner::Foreign(format!("its {APP_TAG} tag is `{v}`, not `{app}`")),
            (None, Some(stack)) => Owner::Stack(stack.clone()),
            (None, None) => Owner::Foreign(format!(
                "it has no {APP_TAG}={app} tag and no stack of app {app} manages it, so mraa did not make it"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StackRef {
    pub name: String,
    /// The stack id, when known: deletes and waits address this very stack.
    pub id: Option<String>,
    pub region: String,
    pub status: String,
    pub owner: Owner,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

/// The custom domain, as the domain units' parameters name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRef {
    pub name: String,
    pub zone: String,
}

impl DomainRef {
    fn from_parameters(parameters: &BTreeMap<String, String>) -> Option<DomainRef> {
        let value = |key: &str| parameters.get(key).filter(|v| !v.is_empty()).cloned();
        Some(DomainRef {
            name: value("SiteDomain")?,
            zone: value("HostedZoneId")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct InstanceRef {
    pub region: String,
    /// The instance's stack in its region, when it has one.
    pub stack: Option<Stack>,
}

#[derive(Debug, Clone)]
pub struct SetRef {
    pub unit: Unit,
    pub name: String,
    pub owner: Owner,
    pub instances: Vec<InstanceRef>,
}

#[derive(Debug, Clone)]
pub struct BucketRef {
    pub name: String,
    pub region: String,
    /// `objects`, `logs` or `website`.
    pub kind: &'static str,
    pub owner: Owner,
    /// Tags as stored (for adding `mraa:app` without losing the others).
    pub tags: Vec<(String, String)>,
    /// The primary object bucket's replication configuration exists.
    pub replication: bool,
}

impl BucketRef {
    /// Object-store and log buckets hold data (Retain); the website bucket
    /// holds only the generated site (Delete).
    pub fn is_data(&self) -> bool {
        self.kind != "website"
    }
}

#[derive(Debug, Clone)]
pub struct TableRef {
    pub name: String,
    pub region: String,
    pub arn: Option<String>,
    pub owner: Owner,
    pub protected: bool,
    pub status: String,
    /// Regions of this table's replicas, as DynamoDB reports them.
    pub replicas: Vec<String>,
    /// The region recorded by deploy's `mraa:replica` tag.
    pub replica_requested: Option<String>,
    /// Set on a table in the secondary that is a replica of the primary's.
    pub replica_of: Option<String>,
    pub tagged: bool,
}

#[derive(Debug, Clone)]
pub struct PoolRef {
    pub id: String,
    pub name: String,
    pub region: String,
    pub arn: Option<String>,
    pub owner: Owner,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub app: String,
    pub account: String,
    pub primary: String,
    pub secondary: Option<String>,
    /// Where the secondary region came from.
    pub secondary_source: String,
    pub bootstrap: Option<StackRef>,
    pub edge: Option<StackRef>,
    /// The site-certificate stack (us-east-1, only with a custom domain).
    pub certificate: Option<StackRef>,
    pub sets: Vec<SetRef>,
    /// Stacks named as instances of this app's StackSets that no StackSet
    /// lists (a create that failed half-way, or instances deleted with
    /// RetainStacks), by StackSet name.
    pub orphans: Vec<(String, StackRef)>,
    pub buckets: Vec<BucketRef>,
    pub tables: Vec<TableRef>,
    /// The front end's Cognito user pools (retained: users are data).
    pub pools: Vec<PoolRef>,
    /// (region, role name) of the API Gateway logs role the routing layer
    /// retains.
    pub apigw_roles: Vec<(String, String)>,
    /// The application state item, when its table exists.
    pub state: Option<String>,
    /// Another command at work on the app's stacks or StackSets.
    pub busy: Vec<String>,
    /// The custom domain, when a domain unit names it.
    pub domain: Option<DomainRef>,
    /// The ACM certificates of this app's domain units that teardown deletes.
    pub certificates: Vec<acm::OwnCertificate>,
    /// Their DNS validation records, and what teardown does with each.
    pub validation: Vec<acm::ValidationRecord>,
}

impl Inventory {
    pub fn regions(&self) -> Vec<String> {
        std::iter::once(self.primary.clone())
            .chain(self.secondary.clone())
            .collect()
    }

    pub fn bucket(&self, kind: &str, region: &str) -> Option<&BucketRef> {
        self.buckets
            .iter()
            .find(|b| b.kind == kind && b.region == region)
    }

    pub fn set(&self, unit: Unit) -> Option<&SetRef> {
        self.sets.iter().find(|s| s.unit == unit)
    }

    /// The site-certificate stack when teardown deletes it: this app's, and
    /// no edge stack of someone else's may still serve its certificate.
    pub fn site_certificate(&self) -> Option<&StackRef> {
        self.certificate
            .as_ref()
            .filter(|c| c.owner.is_ours())
            .filter(|_| self.edge.as_ref().is_none_or(|e| e.owner.is_ours()))
    }

    /// (zone id, domain) of the custom domain, when known, for finding its
    /// records whatever is left of its health checks.
    pub fn dns_places(&self) -> Vec<(String, String)> {
        self.domain
            .iter()
            .map(|d| (d.zone.clone(), d.name.clone()))
            .collect()
    }
}

/// The certificate a domain unit's stack manages: its `CertificateArn`
/// output, or (a stack that never finished) its certificate resource.
fn certificate_of(
    stack: &str,
    region: &str,
    outputs: &BTreeMap<String, String>,
    parameters: &BTreeMap<String, String>,
    resources: &[Resource],
) -> Option<acm::OwnCertificate> {
    let arn = outputs
        .get("CertificateArn")
        .filter(|a| !a.is_empty())
        .cloned()
        .or_else(|| {
            resources
                .iter()
                .find(|r| r.region == region && r.kind == "AWS::CertificateManager::Certificate")
                .map(|r| r.physical.clone())
        })?;
    Some(acm::OwnCertificate {
        arn,
        region: region.to_string(),
        zone: parameters
            .get("HostedZoneId")
            .filter(|z| !z.is_empty())
            .cloned(),
        stack: stack.to_string(),
    })
}

/// Reads everything. `secondary` is the secondary region when known.
pub async fn gather(
    aws: &Aws,
    app: &str,
    account: &str,
    secondary: Option<(String, String)>,
) -> Result<Inventory> {
    let primary = aws.primary.region.clone();
    let (secondary, secondary_source) = match secondary {
        Some((region, source)) => (Some(region), source),
        None => (None, String::new()),
    };
    let mut inventory = Inventory {
        app: app.to_string(),
        account: account.to_string(),
        primary: primary.clone(),
        secondary,
        secondary_source,
        ..Inventory::default()
    };
    let regions = inventory.regions();
    let clients: Vec<&RegionClients> = regions.iter().map(|r| aws.region(r)).collect();

    // Stacks and StackSets, all read in parallel. The site certificate is
    // read whatever else exists (its stack is in us-east-1 and outlives the
    // DNS records when a teardown was interrupted).
    let bootstrap = read_stack(&aws.primary.cfn, &primary, app, "bootstrap");
    let edge = read_stack(&aws.primary.cfn, &primary, app, "edge");
    let certificate_cfn = aws.cfn_in(CERTIFICATE_REGION);
    let certificate = read_stack(
        &certificate_cfn,
        CERTIFICATE_REGION,
        app,
        Unit::SiteCertificate.id(),
    );
    let sets = futures::future::try_join_all(
        Unit::ALL
            .iter()
            .filter(|u| u.kind() == Kind::StackSet)
            .map(|&unit| read_set(aws, app, unit)),
    );
    let (bootstrap, edge, certificate, sets) =
        futures::future::try_join4(bootstrap, edge, certificate, sets).await?;
    for stack in bootstrap
        .iter()
        .chain(edge.iter())
        .chain(certificate.iter())
    {
        if is_in_progress(&stack.status) && stack.status != "DELETE_IN_PROGRESS" {
            inventory
                .busy
                .push(format!("stack {} is {}", stack.name, stack.status));
        }
    }
    inventory.bootstrap = bootstrap;
    inventory.edge = edge;
    inventory.certificate = certificate;
    inventory.domain = inventory
        .certificate
        .as_ref()
        .filter(|c| c.owner.is_ours())
        .and_then(|c| DomainRef::from_parameters(&c.parameters));
    if let Some(stack) = inventory.site_certificate().cloned() {
        let resources = match stack.outputs.get("CertificateArn") {
            Some(_) => Vec::new(),
            None => {
                let id = stack.id.as_deref().unwrap_or(&stack.name);
                stack_resources(&certificate_cfn, CERTIFICATE_REGION, id).await?
            }
        };
        let found = certificate_of(
            &stack.name,
            CERTIFICATE_REGION,
            &stack.outputs,
            &stack.parameters,
            &resources,
        );
        inventory.certificates.extend(found);
    }

    // What the instance stacks manage: buckets and tables (proof of
    // ownership while no tag says so), user pools, retained roles.
    let mut managed: BTreeMap<String, String> = BTreeMap::new();
    for (set, resources, busy) in sets.into_iter().flatten() {
        // Only a set that is provably this app's vouches for what it manages.
        if !set.owner.is_ours() {
            inventory.sets.push(set);
            continue;
        }
        for resource in &resources {
            match resource.kind.as_str() {
                "AWS::S3::Bucket" | "AWS::DynamoDB::Table" | "AWS::Cognito::UserPool" => {
                    managed.insert(resource.physical.clone(), set.name.clone());
                }
                "AWS::IAM::Role" if resource.logical == "ApiGatewayLogsRole" => {
                    inventory
                        .apigw_roles
                        .push((resource.region.clone(), resource.physical.clone()));
                }
                _ => {}
            }
        }
        if let Some(operation) = busy {
            inventory
                .busy
                .push(format!("StackSet {} has {operation}", set.name));
        }
        if set.unit == Unit::ApiDomain {
            for instance in &set.instances {
                let Some(found) = &instance.stack else {
                    continue;
                };
                let parameters = stack::parameter_map(found.parameters());
                if inventory.domain.is_none() {
                    inventory.domain = DomainRef::from_parameters(&parameters);
                }
                let certificate = certificate_of(
                    found.stack_name().unwrap_or(&set.name),
                    &instance.region,
                    &stack::outputs_of(found),
                    &parameters,
                    &resources,
                );
                inventory.certificates.extend(certificate);
            }
        }
        inventory.sets.push(set);
    }

    // In the order they are deleted: the last layer first.
    inventory
        .sets
        .sort_by_key(|s| std::cmp::Reverse(Unit::ALL.iter().position(|u| *u == s.unit)));

    // Stacks named as this app's StackSet instances that no set lists.
    let listed: BTreeSet<String> = inventory
        .sets
        .iter()
        .flat_map(|s| s.instances.iter())
        .filter_map(|i| i.stack.as_ref().and_then(|s| s.stack_id()))
        .map(str::to_string)
        .collect();
    let api_domain = names::stack_name(app, Unit::ApiDomain.id());
    for clients in &clients {
        for (set_name, found) in orphan_stacks(clients, app, &listed).await? {
            let set_is_ours = inventory
                .sets
                .iter()
                .any(|s| s.name == set_name && s.owner.is_ours());
            let tag = found
                .tags()
                .iter()
                .find(|t| t.key() == Some(APP_TAG))
                .and_then(|t| t.value());
            let owner = Owner::from_tag(tag, app, set_is_ours.then_some(&set_name));
            if owner.is_ours() {
                // A half-made stack may not list its resources (some
                // emulators fail the call); its tables and buckets then need
                // their tag to be recognised.
                let resources = stack_resources(&clients.cfn, &clients.region, stack_id(&found))
                    .await
                    .unwrap_or_default();
                for resource in &resources {
                    if matches!(
                        resource.kind.as_str(),
                        "AWS::S3::Bucket" | "AWS::DynamoDB::Table" | "AWS::Cognito::UserPool"
                    ) {
                        managed.insert(resource.physical.clone(), set_name.clone());
                    }
                }
                // An API domain instance its set no longer lists still has
                // its certificate and validation record.
                if set_name == api_domain {
                    let parameters = stack::parameter_map(found.parameters());
                    if inventory.domain.is_none() {
                        inventory.domain = DomainRef::from_parameters(&parameters);
                    }
                    let certificate = certificate_of(
                        found.stack_name().unwrap_or(&set_name),
                        &clients.region,
                        &stack::outputs_of(&found),
                        &parameters,
                        &resources,
                    );
                    inventory.certificates.extend(certificate);
                }
            }
            inventory.orphans.push((
                set_name,
                StackRef {
                    name: found.stack_name().unwrap_or_default().to_string(),
                    id: found.stack_id().map(str::to_string),
                    region: clients.region.clone(),
                    status: found
                        .stack_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    owner,
                    outputs: stack::outputs_of(&found),
                    parameters: stack::parameter_map(found.parameters()),
                },
            ));
        }
    }
    // Orphans of sets that are gone are deleted in this order too: the API
    // domain (whose mappings name the APIs) before the layers it maps.
    let position = |set_name: &str| {
        Unit::ALL
            .iter()
            .position(|u| names::stack_name(app, u.id()) == set_name)
    };
    inventory
        .orphans
        .sort_by_key(|(name, _)| std::cmp::Reverse(position(name)));

    // The certificates' validation records, and whether another certificate
    // still needs each one.
    if !inventory.certificates.is_empty() {
        let mut regions = vec![CERTIFICATE_REGION.to_string()];
        regions.extend(inventory.regions());
        regions.sort();
        regions.dedup();
        let mut acm_clients = BTreeMap::new();
        for region in regions
            .iter()
            .chain(inventory.certificates.iter().map(|c| &c.region))
        {
            acm_clients
                .entry(region.clone())
                .or_insert_with(|| aws.acm_in(region));
        }
        inventory.validation = acm::read(
            &aws.route53(),
            &acm_clients,
            &inventory.certificates,
            &regions,
        )
        .await
        .map_err(refail)?;
    }

    // Buckets, by name, in each region.
    let buckets = futures::future::try_join_all(clients.iter().flat_map(|c| {
        names::BUCKET_KINDS
            .iter()
            .map(|kind| read_bucket(c, app, account, kind, &primary, &managed))
    }))
    .await?;
    inventory.buckets = buckets.into_iter().flatten().collect();

    // Tables: the primary's, then the same names in the secondary.
    let mut tables = Vec::new();
    for table in names::GLOBAL_TABLES {
        let name = names::table_name(app, table);
        let main = read_table(&aws.primary, &name, app, &managed, None).await?;
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
            let other = read_table(aws.region(secondary), &name, app, &managed, replica_of).await?;
            tables.extend(main.into_iter().chain(other));
        } else {
            tables.extend(main);
        }
    }
    inventory.tables = tables;

    // User pools, by name, in each region.
    for clients in &clients {
        let name = pools::pool_name(app);
        let err = |e: String| fail("user-pool", &clients.region, &name, e);
        for id in pools::find(&clients.cognito, &name).await.map_err(err)? {
            let Some((arn, tag)) = pools::describe(&clients.cognito, &id).await.map_err(err)?
            else {
                continue;
            };
            inventory.pools.push(PoolRef {
                owner: Owner::from_tag(tag.as_deref(), app, managed.get(&id)),
                id,
                name: name.clone(),
                region: clients.region.clone(),
                arn,
            });
        }
    }

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
    Ok(inventory)
}

async fn read_stack(
    cfn: &aws_sdk_cloudformation::Client,
    region: &str,
    app: &str,
    unit: &str,
) -> Result<Option<StackRef>> {
    let name = names::stack_name(app, unit);
    let found = stack::describe(cfn, &name)
        .await
        .map_err(|e| fail(unit, region, &name, e))?;
    Ok(found.map(|s| StackRef {
        owner: Owner::from_tag(
            s.tags()
                .iter()
                .find(|t| t.key() == Some(APP_TAG))
                .and_then(|t| t.value()),
            app,
            None,
        ),
        status: s
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        outputs: stack::outputs_of(&s),
        parameters: stack::parameter_map(s.parameters()),
        id: s.stack_id().map(str::to_string),
        name,
        region: region.to_string(),
    }))
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub region: String,
    pub logical: String,
    pub physical: String,
    pub kind: String,
}

/// A StackSet, its instances' stacks and their resources, and a running
/// operation on it if any.
async fn read_set(
    aws: &Aws,
    app: &str,
    unit: Unit,
) -> Result<Option<(SetRef, Vec<Resource>, Option<String>)>> {
    let home = &aws.primary;
    let name = names::stack_name(app, unit.id());
    let err = |e: String| fail(unit.id(), &home.region, &name, e);
    let Some(set) = stack_set::describe(&home.cfn, &name).await.map_err(err)? else {
        return Ok(None);
    };
    let owner = Owner::from_tag(
        set.tags()
            .iter()
            .find(|t| t.key() == Some(APP_TAG))
            .and_then(|t| t.value()),
        app,
        None,
    );
    let listed = home
        .cfn
        .list_stack_instances()
        .stack_set_name(&name)
        .send()
        .await
        .map_err(|e| err(sdk_message(&e)))?;
    let instance_regions: BTreeSet<String> = listed
        .summaries()
        .iter()
        .filter_map(|s| s.region().map(str::to_string))
        .collect();
    let mut instances = Vec::new();
    let mut resources = Vec::new();
    for region in instance_regions {
        let known = [&aws.primary.region, &aws.secondary.region].contains(&&region);
        let stack = if known {
            stack_set::instance_stack(&home.cfn, &aws.region(&region).cfn, &name, &region)
                .await
                .map_err(|e| fail(unit.id(), &region, &name, e))?
        } else {
            None
        };
        if let Some(stack) = &stack {
            let clients = aws.region(&region);
            resources
                .extend(stack_resources(&clients.cfn, &clients.region, stack_id(stack)).await?);
        }
        instances.push(InstanceRef { region, stack });
    }
    let busy = stack_set::busy_operations(&home.cfn, &name)
        .await
        .map_err(err)?
        .iter()
        // A delete (an interrupted teardown) is waited for; anything else
        // is another command at work.
        .find(|o| o.action() != Some(&StackSetOperationAction::Delete))
        .map(stack_set::describe_operation);
    Ok(Some((
        SetRef {
            unit,
            name,
            owner,
            instances,
        },
        resources,
        busy,
    )))
}

/// Stacks in this region named as an instance of one of the app's StackSets
/// (`StackSet-<set>-<id>` on AWS, `StackSet:<set>` on some emulators) and not
/// among `listed`, with the StackSet name.
async fn orphan_stacks(
    clients: &RegionClients,
    app: &str,
    listed: &BTreeSet<String>,
) -> Result<Vec<(String, Stack)>> {
    let sets: Vec<String> = Unit::ALL
        .iter()
        .filter(|u| u.kind() == Kind::StackSet)
        .map(|u| names::stack_name(app, u.id()))
        .collect();
    let mut pages = clients.cfn.describe_stacks().into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| fail("stack", &clients.region, "DescribeStacks", sdk_message(&e)))?;
        for stack in page.stacks() {
            let name = stack.stack_name().unwrap_or_default();
            let gone = stack.stack_status() == Some(&StackStatus::DeleteComplete);
            let known = stack.stack_id().is_some_and(|id| listed.contains(id));
            if gone || known {
                continue;
            }
            if let Some(set) = sets.iter().find(|set| {
                name == format!("StackSet:{set}")
                    || name
                        .strip_prefix(&format!("StackSet-{set}-"))
                        .is_some_and(is_uuid)
            }) {
                found.push((set.clone(), stack.clone()));
            }
        }
    }
    Ok(found)
}

/// `StackSet-<set>-<uuid>`: the suffix CloudFormation appends is a UUID, so
/// `mraa-a-routing` does not claim `mraa-a-routing-eu`'s stacks.
fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// How a stack is addressed: by id (this very stack), else by name.
fn stack_id(stack: &Stack) -> &str {
    stack.stack_id().or(stack.stack_name()).unwrap_or_default()
}

async fn stack_resources(
    cfn: &aws_sdk_cloudformation::Client,
    region: &str,
    id: &str,
) -> Result<Vec<Resource>> {
    let mut pages = cfn
        .list_stack_resources()
        .stack_name(id)
        .into_paginator()
        .send();
    let mut resources = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| fail("stack", region, id, sdk_message(&e)))?;
        for r in page.stack_resource_summaries() {
            let physical = r.physical_resource_id().unwrap_or_default();
            if physical.is_empty() {
                continue;
            }
            resources.push(Resource {
                region: region.to_string(),
                logical: r.logical_resource_id().unwrap_or_default().to_string(),
                physical: physical.to_string(),
                kind: r.resource_type().unwrap_or_default().to_string(),
            });
        }
    }
    Ok(resources)
}

async fn read_bucket(
    clients: &RegionClients,
    app: &str,
    account: &str,
    kind: &'static str,
    primary: &str,
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
    if kind == "objects" && region == primary && bucket.owner.is_ours() {
        bucket.replication = crate::wire::s3::current_configuration(&clients.s3, &name)
            .await
            .map_err(err)?
            .is_some();
    }
    Ok(Some(bucket))
}

async fn read_table(
    clients: &RegionClients,
    name: &str,
    app: &str,
    managed: &BTreeMap<String, String>,
    replica_of: Option<(String, Owner)>,
) -> Result<Option<TableRef>> {
    let region = &clients.region;
    let err = |e: String| fail("table", region, name, e);
    let described = match clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
    {
        Ok(out) => out.table().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(err(sdk_message(&e))),
    };
    let Some(table) = described else {
        return Ok(None);
    };
    let arn = table.table_arn().map(str::to_string);
    let mut tags: Vec<(String, String)> = Vec::new();
    if let Some(arn) = &arn {
        let listed = clients
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| err(sdk_message(&e)))?;
        tags = listed
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
    }
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

/// The secondary region of an app whose bootstrap record is gone: from its
/// StackSets' instances, its tables' replicas or deploy's replica tag, or the
/// region in its bucket names. Read-only.
pub async fn find_secondary(
    primary: &RegionClients,
    app: &str,
    account: &str,
) -> Result<Option<(String, String)>> {
    let other = |r: &str| r != primary.region && regions::is_known(r);
    for unit in Unit::ALL.iter().filter(|u| u.kind() == Kind::StackSet) {
        let name = names::stack_name(app, unit.id());
        match primary
            .cfn
            .list_stack_instances()
            .stack_set_name(&name)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(region) = out
                    .summaries()
                    .iter()
                    .filter_map(|s| s.region())
                    .find(|r| other(r))
                {
                    return Ok(Some((region.to_string(), format!("StackSet {name}"))));
                }
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => {
                return Err(fail(unit.id(), &primary.region, &name, sdk_message(&e)));
            }
        }
    }
    for table in names::GLOBAL_TABLES {
        let name = names::table_name(app, table);
        if let Some(t) = read_table(primary, &name, app, &BTreeMap::new(), None).await? {
            if let Some(region) = t.replicas.iter().find(|r| other(r)) {
                return Ok(Some((region.clone(), format!("the replicas of {name}"))));
            }
            if let Some(region) = t.replica_requested.filter(|r| other(r)) {
                return Ok(Some((region, format!("the {REPLICA_TAG} tag of {name}"))));
            }
        }
    }
    let listed = primary
        .s3
        .list_buckets()
        .send()
        .await
        .map_err(|e| fail("bucket", &primary.region, "ListBuckets", sdk_message(&e)))?;
    for bucket in listed.buckets() {
        let Some(name) = bucket.name() else { continue };
        for kind in names::BUCKET_KINDS {
            let prefix = format!("mraa-{app}-{kind}-{account}-");
            if let Some(region) = name.strip_prefix(&prefix).filter(|r| other(r)) {
                return Ok(Some((region.to_string(), format!("bucket {name}"))));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_stacks_are_told_apart_by_their_uuid_suffix() {
        assert!(is_uuid("6b23a156-a1fa-4207-93d1-67d2855c0a9b"));
        assert!(!is_uuid("eu-6b23a156"));
        assert!(!is_uuid("routing-6b23a156-a1fa-4207-93d1-67d2855c0a9b"));
    }

    #[test]
    fn ownership_needs_the_tag_or_a_stack_of_the_app() {
        let stack = "mraa-demo-object-store".to_string();
        assert_eq!(Owner::from_tag(Some("demo"), "demo", None), Owner::Tagged);
        assert_eq!(
            Owner::from_tag(None, "demo", Some(&stack)),
            Owner::Stack(stack.clone())
        );
        assert!(!Owner::from_tag(Some("other"), "demo", Some(&stack)).is_ours());
        assert!(!Owner::from_tag(None, "demo", None).is_ours());
    }
}
