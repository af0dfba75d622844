//! What of an app exists, read from AWS alone and without a single mutating
//! call: the bootstrap, edge and site-certificate stacks, the StackSets with
//! their instances and the resources of those instances, the buckets and
//! tables by their deterministic names, the custom domain's certificates and
//! their DNS validation records, and for each one whether it provably belongs
//! to this app (its `mraa:app` tag, or a stack of this app that manages it).

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::Stack;

use super::acm;
use crate::aws::{Aws, RegionClients, is_not_found, sdk_message};
use crate::error::Result;
use crate::names::{self, APP_TAG};
use crate::plan::{Kind, Unit};
use crate::regions;
use crate::wire::dynamodb::REPLICA_TAG;

use super::fail;

mod stacks;
mod stores;

use stacks::{Resource, adopt_orphans, adopt_sets, read_stacks, read_validation};
use stores::{read_buckets, read_logs_role, read_pools, read_state, read_table, read_tables};

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
    /// The region of this pool's Cognito replica, when it has one.
    pub replica_in: Option<String>,
    /// This is the replica of the pool of the same id in the primary: it
    /// goes with that pool's replica deletion.
    pub is_replica: bool,
    /// The customer managed key that encrypts it, when one does.
    pub key: Option<String>,
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
    /// The Regions whose API Gateway account settings name the app's logs
    /// role, which the bootstrap stack made and retains.
    pub logs_role_regions: Vec<String>,
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
    /// The clients of each region the app is in.
    pub fn clients<'a>(&self, aws: &'a Aws) -> Vec<&'a RegionClients> {
        self.regions().iter().map(|r| aws.region(r)).collect()
    }

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

/// Physical ids of what this app's instance stacks manage (buckets, tables,
/// user pools), with the StackSet that manages each: proof of ownership
/// while no tag says so.
pub(super) type Managed = BTreeMap<String, String>;

/// A StackSet as read, its instances' resources, and another command's
/// operation running on it.
pub(super) type SetRead = (SetRef, Vec<Resource>, Option<String>);

/// Reads everything, phase by phase. `secondary` is the secondary region
/// when known. Makes no mutating call.
pub async fn gather(
    aws: &Aws,
    app: &str,
    account: &str,
    secondary: Option<(String, String)>,
) -> Result<Inventory> {
    let (secondary, secondary_source) = match secondary {
        Some((region, source)) => (Some(region), source),
        None => (None, String::new()),
    };
    let mut inventory = Inventory {
        app: app.to_string(),
        account: account.to_string(),
        primary: aws.primary.region.clone(),
        secondary,
        secondary_source,
        ..Inventory::default()
    };
    let sets = read_stacks(aws, &mut inventory).await?;
    let mut managed = Managed::new();
    adopt_sets(&mut inventory, sets, &mut managed);
    adopt_orphans(aws, &mut inventory, &mut managed).await?;
    read_validation(aws, &mut inventory).await?;
    read_buckets(aws, &mut inventory, &managed).await?;
    read_tables(aws, &mut inventory, &managed).await?;
    read_pools(aws, &mut inventory, &managed).await?;
    read_state(aws, &mut inventory).await?;
    read_logs_role(aws, &mut inventory).await?;
    Ok(inventory)
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
    for table in names::ALL_GLOBAL_TABLES {
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
    use super::stacks::is_uuid;
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
