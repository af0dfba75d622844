//! The plan a teardown shows before it asks: what it will delete, what it
//! keeps (and why), and what it refuses to touch because it is not provably
//! this app's.

use super::acm::{Decision, ValidationRecord};

use super::inventory::{Inventory, Owner};
use super::{Item, Planned};

/// A validation record as a plan or ledger item.
pub fn validation_item(record: &ValidationRecord) -> Item {
    let zone = record.zone.as_deref().unwrap_or("(unknown)");
    let what = format!(
        "{} in hosted zone {zone}: ACM validation of {} ({} certificate{} of this app)",
        record.kind,
        record.domains.join(", "),
        record.certificates.len(),
        if record.certificates.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    let detail = match &record.decision {
        Decision::Delete => what,
        Decision::Keep(reason) => format!("{what}; {reason}"),
    };
    Item::new("validation-record", record.name.trim_end_matches('.'), None).detail(detail)
}

/// What will be deleted, kept and refused.
pub fn plan(inv: &Inventory, delete_data: bool) -> Planned {
    let mut planned = Planned::default();
    let primary = Some(inv.primary.as_str());
    let mut refuse = |item: Item, owner: &Owner| {
        if let Owner::Foreign(reason) = owner {
            planned
                .refuse
                .push(item.detail(format!("refused: {reason}")));
            true
        } else {
            false
        }
    };
    let mut delete = Vec::new();
    let mut keep = Vec::new();

    // Before the certificates' stacks: a re-run finds them through those.
    for record in &inv.validation {
        match record.decision {
            Decision::Delete if record.found.is_some() => delete.push(validation_item(record)),
            Decision::Delete => {}
            Decision::Keep(_) => keep.push(validation_item(record)),
        }
    }
    if let Some(edge) = &inv.edge
        && !refuse(Item::new("stack", &edge.name, primary), &edge.owner)
    {
        let detail = match edge.outputs.get("DistributionId").filter(|d| !d.is_empty()) {
            Some(id) => format!("edge; CloudFront distribution {id} disabled first"),
            None => "edge".to_string(),
        };
        delete.push(Item::new("stack", &edge.name, primary).detail(detail));
    }
    if let Some(certificate) = &inv.certificate {
        let item = Item::new("stack", &certificate.name, Some(&certificate.region));
        let owner = match inv.site_certificate() {
            None if certificate.owner.is_ours() => Owner::Foreign(
                "the edge stack is not this app's, and its distribution may serve this certificate"
                    .into(),
            ),
            _ => certificate.owner.clone(),
        };
        if !refuse(item.clone(), &owner) {
            let domain = certificate
                .parameters
                .get("SiteDomain")
                .map(|d| format!(" for {d}"))
                .unwrap_or_default();
            delete.push(item.detail(format!(
                "site-certificate: the ACM certificate{domain}, after the edge (its distribution serves it)"
            )));
        }
    }
    for bucket in inv.buckets.iter().filter(|b| !b.is_data()) {
        if !refuse(
            Item::new("bucket", &bucket.name, Some(&bucket.region)),
            &bucket.owner,
        ) {
            delete.push(
                Item::new("bucket", &bucket.name, Some(&bucket.region))
                    .detail("website: the site objects, then the bucket with its stack"),
            );
        }
    }
    for bucket in inv
        .buckets
        .iter()
        .filter(|b| b.kind == "objects" && b.owner.is_ours() && b.replication)
    {
        delete.push(
            Item::new("replication", &bucket.name, Some(&bucket.region))
                .detail("S3 replication configuration (its role goes with the object store)"),
        );
    }
    for (_, orphan) in &inv.orphans {
        let item = Item::new("stack", &orphan.name, Some(&orphan.region));
        if !refuse(item.clone(), &orphan.owner) {
            delete.push(item.detail(format!(
                "{}, an instance stack its StackSet does not list",
                orphan.status
            )));
        }
    }
    for set in &inv.sets {
        if refuse(Item::new("stack-set", &set.name, primary), &set.owner) {
            continue;
        }
        let regions: Vec<&str> = set.instances.iter().map(|i| i.region.as_str()).collect();
        let detail = if regions.is_empty() {
            "no instances left".to_string()
        } else {
            format!("instances in {}", regions.join(", "))
        };
        delete.push(Item::new("stack-set", &set.name, primary).detail(detail));
    }

    // Data: object store and logs buckets, tables (with their replicas).
    for bucket in inv.buckets.iter().filter(|b| b.is_data()) {
        let item = Item::new("bucket", &bucket.name, Some(&bucket.region));
        if delete_data {
            if !refuse(item.clone(), &bucket.owner) {
                delete.push(item.detail(format!(
                    "{}: every object version and delete marker",
                    bucket.kind
                )));
            }
        } else if bucket.owner.is_ours() {
            keep.push(item.detail(format!("data ({})", bucket.kind)));
        }
    }
    for table in &inv.tables {
        let item = Item::new("table", &table.name, Some(&table.region));
        let role = match (&table.replica_of, table.replicas.is_empty()) {
            (Some(primary), _) => format!("replica of the table in {primary}"),
            (None, false) => format!("replicas in {}", table.replicas.join(", ")),
            (None, true) => String::new(),
        };
        if delete_data {
            if !refuse(item.clone(), &table.owner) {
                let detail = if role.is_empty() {
                    "deletion protection turned off first".to_string()
                } else {
                    format!("{role}; deletion protection turned off first")
                };
                delete.push(item.detail(detail));
            }
        } else if table.owner.is_ours() {
            let detail = if role.is_empty() {
                "data".to_string()
            } else {
                format!("data; {role}")
            };
            keep.push(item.detail(detail));
        }
    }
    if !delete_data && let Some(state) = &inv.state {
        keep.push(
            Item::new(
                "state-item",
                format!(
                    "{} in {}",
                    inv.app,
                    crate::names::table_name(&inv.app, "app-config")
                ),
                primary,
            )
            .detail(format!("application state `{state}`, kept with its table")),
        );
    }
    for pool in &inv.pools {
        let item = Item::new("user-pool", &pool.id, Some(&pool.region));
        if delete_data {
            if !refuse(item.clone(), &pool.owner) {
                delete.push(item.detail(if pool.is_replica {
                    format!(
                        "{}: Cognito's replica of the primary's pool, deactivated and deleted first",
                        pool.name
                    )
                } else {
                    format!(
                        "{}: its users; deletion protection turned off first",
                        pool.name
                    )
                }));
            }
        } else if pool.owner.is_ours() {
            keep.push(item.detail(format!(
                "data ({}: its users; retained with deletion protection)",
                pool.name
            )));
        }
    }
    // The users key outlives the pool it encrypts (a kept pool is unreadable
    // without it); mraa never schedules a key's deletion, which cannot be
    // undone once its waiting period ends.
    // Named by the bootstrap stack while it exists; after a teardown that
    // kept the data, by the kept pool it encrypts.
    let users_key = inv
        .bootstrap
        .as_ref()
        .filter(|b| b.owner.is_ours())
        .and_then(|b| b.outputs.get("UsersKeyArn"))
        .or_else(|| {
            inv.pools
                .iter()
                .filter(|p| p.owner.is_ours() && !p.is_replica)
                .find_map(|p| p.key.as_ref())
        });
    if let Some(key) = users_key {
        let id = key.rsplit('/').next().unwrap_or(key);
        let regions = inv.regions().join(", ");
        keep.push(Item::new("kms-key", id, Some(&inv.primary)).detail(format!(
            "the user pool's multi-Region key, with its replica (retained, as the pool needs it; \
             once the pool is gone: `aws kms schedule-key-deletion --key-id {id} --region R` \
             for R in {regions}, replica first)"
        )));
    }
    for (region, role) in &inv.apigw_roles {
        keep.push(Item::new("iam-role", role, Some(region)).detail(
            "API Gateway's account-wide CloudWatch Logs role in this region (retained: other APIs of the account may log through it)",
        ));
    }
    // The settings go on naming the role after the bootstrap stack is gone.
    let holds_role = inv.bootstrap.as_ref().is_some_and(|b| {
        b.owner.is_ours() && crate::plan::api_logging::bootstrap_holds_role(&b.parameters)
    });
    if holds_role || !inv.logs_role_regions.is_empty() {
        keep.push(
            Item::new(
                "iam-role",
                crate::names::api_logging_role(&inv.app),
                Some("global"),
            )
            .detail(
                "API Gateway's CloudWatch Logs role, named in the account settings of the regions that named none (retained: such a setting cannot be cleared, and the next deployment uses it again)",
            ),
        );
    }
    if let Some(bootstrap) = &inv.bootstrap
        && !refuse(
            Item::new("stack", &bootstrap.name, primary),
            &bootstrap.owner,
        )
    {
        delete.push(
            Item::new("stack", &bootstrap.name, primary)
                .detail("bootstrap: StackSet roles and the deployment record, last"),
        );
    }
    planned.delete = delete;
    planned.keep = keep;
    planned
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::Unit;
    use crate::teardown::inventory::{BucketRef, PoolRef, SetRef, StackRef, TableRef};

    fn stack(name: &str) -> StackRef {
        StackRef {
            name: name.into(),
            id: None,
            region: "us-east-1".into(),
            status: "CREATE_COMPLETE".into(),
            owner: Owner::Tagged,
            outputs: BTreeMap::new(),
            parameters: BTreeMap::new(),
        }
    }

    fn bucket(kind: &'static str, region: &str, owner: Owner) -> BucketRef {
        BucketRef {
            name: format!("mraa-demo-{kind}-123456789012-{region}"),
            region: region.into(),
            kind,
            owner,
            tags: Vec::new(),
            replication: kind == "objects" && region == "us-east-1",
        }
    }

    fn inventory() -> Inventory {
        let mut buckets = Vec::new();
        for region in ["us-east-1", "ap-northeast-1"] {
            for kind in ["objects", "logs", "website"] {
                buckets.push(bucket(kind, region, Owner::Tagged));
            }
        }
        Inventory {
            app: "demo".into(),
            account: "123456789012".into(),
            primary: "us-east-1".into(),
            secondary: Some("ap-northeast-1".into()),
            secondary_source: "the bootstrap record".into(),
            bootstrap: Some(stack("mraa-demo-bootstrap")),
            edge: Some(stack("mraa-demo-edge")),
            sets: vec![SetRef {
                unit: Unit::Routing,
                name: "mraa-demo-routing".into(),
                owner: Owner::Tagged,
                instances: Vec::new(),
            }],
            buckets,
            tables: vec![TableRef {
                name: "mraa-demo-comments".into(),
                region: "us-east-1".into(),
                arn: None,
                owner: Owner::Stack("mraa-demo-kv-store".into()),
                protected: true,
                status: "ACTIVE".into(),
                replicas: vec!["ap-northeast-1".into()],
                replica_requested: Some("ap-northeast-1".into()),
                replica_of: None,
                tagged: false,
            }],
            pools: vec![PoolRef {
                id: "us-east-1_abc".into(),
                name: "mraa-demo-users".into(),
                region: "us-east-1".into(),
                arn: None,
                owner: Owner::Tagged,
                replica_in: None,
                is_replica: false,
                key: None,
            }],
            state: Some("failover".into()),
            ..Inventory::default()
        }
    }

    fn names(items: &[Item], kind: &str) -> Vec<String> {
        items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.name.clone())
            .collect()
    }

    #[test]
    fn by_default_the_data_stores_are_kept_and_the_rest_deleted() {
        let planned = plan(&inventory(), false);
        assert!(planned.refuse.is_empty());
        assert_eq!(
            names(&planned.delete, "stack"),
            ["mraa-demo-edge", "mraa-demo-bootstrap"],
            "edge first, bootstrap last"
        );
        assert_eq!(names(&planned.delete, "stack-set"), ["mraa-demo-routing"]);
        assert_eq!(names(&planned.delete, "replication").len(), 1);
        let deleted_buckets = names(&planned.delete, "bucket");
        assert_eq!(deleted_buckets.len(), 2);
        assert!(deleted_buckets.iter().all(|b| b.contains("-website-")));
        assert_eq!(names(&planned.keep, "bucket").len(), 4);
        assert_eq!(names(&planned.keep, "table"), ["mraa-demo-comments"]);
        assert_eq!(names(&planned.keep, "user-pool"), ["us-east-1_abc"]);
        let state = planned
            .keep
            .iter()
            .find(|i| i.kind == "state-item")
            .expect("the state item is accounted for");
        assert!(
            state
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("failover"))
        );
    }

    #[test]
    fn without_the_bootstrap_stack_the_users_key_and_logs_role_are_still_named() {
        let mut inv = inventory();
        inv.bootstrap = None;
        assert!(names(&plan(&inv, true).keep, "kms-key").is_empty());
        inv.pools[0].key = Some("arn:aws:kms:us-east-1:123456789012:key/mrk-1234".into());
        inv.logs_role_regions = vec!["us-east-1".into()];
        let planned = plan(&inv, true);
        assert_eq!(names(&planned.keep, "kms-key"), vec!["mrk-1234"]);
        assert_eq!(
            names(&planned.keep, "iam-role"),
            vec!["mraa-demo-apigw-logs"]
        );
        // A pool that is not the app's vouches for no key.
        inv.pools[0].owner = Owner::Foreign("no tag".into());
        assert!(names(&plan(&inv, true).keep, "kms-key").is_empty());
    }

    #[test]
    fn delete_data_deletes_the_stores_and_refuses_what_is_not_the_apps() {
        let mut inv = inventory();
        inv.buckets[1].owner = Owner::Foreign("no tag".into());
        let planned = plan(&inv, true);
        assert_eq!(names(&planned.delete, "bucket").len(), 5);
        assert_eq!(names(&planned.delete, "table"), ["mraa-demo-comments"]);
        assert_eq!(names(&planned.delete, "user-pool"), ["us-east-1_abc"]);
        assert!(planned.keep.iter().all(|i| i.kind != "bucket"));
        assert_eq!(
            names(&planned.refuse, "bucket"),
            ["mraa-demo-logs-123456789012-us-east-1"]
        );
        assert!(
            planned.refuse[0]
                .detail
                .as_deref()
                .is_some_and(|d| d.starts_with("refused: no tag"))
        );
    }

    #[test]
    fn a_foreign_stack_is_refused_and_never_planned_for_deletion() {
        let mut inv = inventory();
        if let Some(edge) = &mut inv.edge {
            edge.owner = Owner::Foreign("its mraa:app tag is `other`".into());
        }
        let planned = plan(&inv, false);
        assert_eq!(names(&planned.refuse, "stack"), ["mraa-demo-edge"]);
        assert!(!names(&planned.delete, "stack").contains(&"mraa-demo-edge".to_string()));
    }

    fn record(name: &str, decision: Decision, found: bool) -> ValidationRecord {
        let set = aws_sdk_route53::types::ResourceRecordSet::builder()
            .name(name)
            .r#type(aws_sdk_route53::types::RrType::Cname)
            .build()
            .expect("a record set");
        ValidationRecord {
            zone: Some("Z123".into()),
            name: name.into(),
            kind: "CNAME".into(),
            value: "_v.acm-validations.aws.".into(),
            domains: vec![name.trim_start_matches("_a.").trim_end_matches('.').into()],
            certificates: vec!["arn:aws:acm:us-east-1:123456789012:certificate/1".into()],
            decision,
            found: found.then_some(set),
        }
    }

    fn with_domain() -> Inventory {
        let mut inv = inventory();
        let mut certificate = stack("mraa-demo-site-certificate");
        certificate
            .parameters
            .insert("SiteDomain".into(), "app.example.com".into());
        inv.certificate = Some(certificate);
        inv.validation = vec![
            record("_a.app.example.com.", Decision::Delete, true),
            record(
                "_a.api.app.example.com.",
                Decision::Keep("kept: shared with certificate arn:theirs".into()),
                true,
            ),
            // Deleted by an earlier run: nothing to do.
            record("_a.gone.app.example.com.", Decision::Delete, false),
        ];
        inv
    }

    #[test]
    fn validation_records_go_first_and_the_certificate_stack_after_the_edge() {
        let planned = plan(&with_domain(), false);
        let order: Vec<&str> = planned.delete.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            &order[..3],
            [
                "_a.app.example.com",
                "mraa-demo-edge",
                "mraa-demo-site-certificate"
            ],
            "{order:?}"
        );
        assert_eq!(
            names(&planned.keep, "validation-record"),
            ["_a.api.app.example.com"]
        );
        let kept = planned
            .keep
            .iter()
            .find(|i| i.kind == "validation-record")
            .and_then(|i| i.detail.as_deref())
            .unwrap_or_default();
        assert!(
            kept.contains("shared with certificate arn:theirs"),
            "{kept}"
        );
        assert!(!order.contains(&"_a.gone.app.example.com"));
        // Not data: the same without --delete-data and with it.
        assert_eq!(
            names(&plan(&with_domain(), true).delete, "validation-record"),
            ["_a.app.example.com"]
        );
    }

    #[test]
    fn the_certificate_stays_while_a_foreign_edge_may_serve_it() {
        let mut inv = with_domain();
        if let Some(edge) = &mut inv.edge {
            edge.owner = Owner::Foreign("its mraa:app tag is `other`".into());
        }
        let planned = plan(&inv, false);
        assert!(
            names(&planned.refuse, "stack").contains(&"mraa-demo-site-certificate".to_string())
        );
        assert!(
            !names(&planned.delete, "stack").contains(&"mraa-demo-site-certificate".to_string())
        );
    }
}
