//! The teardown's steps, in order, each idempotent and checked through the
//! service's own API; the first failure stops the steps after it.

use std::time::Duration;

use crate::cfn::wait::Backoff;
use crate::error::Result;
use crate::names;
use crate::plan::Kind;
use crate::ui::progress::Status;

use super::inventory::Owner;
use super::plan::validation_item;
use super::{Item, Run, buckets, fail, pools, refail, stacks, tables};

/// The steps, in order; the first failure stops the steps after it.
pub async fn execute(run: &Run) -> Result<()> {
    claim(run).await?;
    validation_records(run).await?;
    edge(run).await?;
    site_certificate(run).await?;
    if run.delete_data {
        replicas(run).await?;
    }
    replication(run).await?;
    site(run).await?;
    instances(run).await?;
    website_leftovers(run).await?;
    if run.delete_data {
        data_buckets(run).await?;
        data_tables(run).await?;
        user_pools(run).await?;
    }
    bootstrap(run).await
}

/// Records every failure but the first, which is returned.
fn settle<T>(run: &Run, results: Vec<Result<T>>) -> Result<Vec<T>> {
    let mut first = None;
    let mut done = Vec::new();
    for result in results {
        match result {
            Ok(value) => done.push(value),
            Err(err) if first.is_none() => first = Some(err),
            Err(err) => run.failed(&err),
        }
    }
    match first {
        Some(err) => Err(err),
        None => Ok(done),
    }
}

/// Tags what a stack of this app manages but no tag marks yet (retained
/// buckets and tables, replicas made by wiring), before the stacks go.
async fn claim(run: &Run) -> Result<()> {
    let inv = &run.inventory;
    let mut claimed: Vec<Item> = Vec::new();
    for bucket in inv
        .buckets
        .iter()
        .filter(|b| matches!(b.owner, Owner::Stack(_)))
    {
        buckets::claim(&run.aws.region(&bucket.region).s3, bucket, &inv.app)
            .await
            .map_err(|e| fail("claim", &bucket.region, &bucket.name, e))?;
        claimed.push(Item::new("bucket", &bucket.name, Some(&bucket.region)));
    }
    for table in inv.tables.iter().filter(|t| {
        !t.tagged
            && t.owner.is_ours()
            && (matches!(t.owner, Owner::Stack(_)) || t.replica_of.is_some())
    }) {
        let Some(arn) = &table.arn else { continue };
        tables::claim(&run.aws.region(&table.region).dynamodb, arn, &inv.app)
            .await
            .map_err(|e| fail("claim", &table.region, &table.name, e))?;
        claimed.push(Item::new("table", &table.name, Some(&table.region)));
    }
    for pool in inv
        .pools
        .iter()
        .filter(|p| matches!(p.owner, Owner::Stack(_)))
    {
        let Some(arn) = &pool.arn else { continue };
        pools::claim(&run.aws.region(&pool.region).cognito, arn, &inv.app)
            .await
            .map_err(|e| fail("claim", &pool.region, &pool.id, e))?;
        claimed.push(Item::new("user-pool", &pool.id, Some(&pool.region)));
    }
    for region in inv.regions() {
        let here: Vec<&str> = claimed
            .iter()
            .filter(|i| i.region.as_deref() == Some(&region))
            .map(|i| i.name.as_str())
            .collect();
        if !here.is_empty() {
            run.report(
                "claim",
                &region,
                Status::Ok,
                &format!(
                    "tagged {}={} (they outlive their stacks): {}",
                    names::APP_TAG,
                    inv.app,
                    here.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// How long ACM may take to see that a deleted distribution is gone.
const RELEASE_LIMIT: Duration = Duration::from_secs(20 * 60);

const NO_DISTRIBUTION: &str = "the edge stack has no DistributionId output: the endpoint's CloudFormation made no distribution";

async fn edge(run: &Run) -> Result<()> {
    let Some(edge) = run.inventory.edge.as_ref().filter(|e| e.owner.is_ours()) else {
        return Ok(());
    };
    let step = "edge";
    let region = edge.region.as_str();
    let distribution = edge
        .outputs
        .get("DistributionId")
        .filter(|d| !d.is_empty())
        .cloned();
    let existed = match &distribution {
        Some(id) => stacks::disable_distribution(run, step, id).await?,
        None => {
            let item = Item::new("distribution", "(none)", Some(region)).detail(NO_DISTRIBUTION);
            run.unverified(step, item);
            false
        }
    };
    stacks::delete_stack(run, step, edge).await?;
    run.deleted(step, Item::new("stack", &edge.name, Some(region)));
    if let Some(id) = distribution.as_ref().filter(|_| existed) {
        if stacks::distribution_gone(run, id)
            .await
            .map_err(|e| fail(step, region, format!("distribution {id}"), e))?
        {
            run.deleted(step, Item::new("distribution", id, Some(region)));
        } else {
            return Err(fail(
                step,
                region,
                format!("distribution {id}"),
                "CloudFront still has the distribution after its stack was deleted",
            ));
        }
    }
    Ok(())
}

/// The certificates' validation records that no other certificate uses,
/// while the certificates still exist: a run stopped after this finds the
/// records again through them.
async fn validation_records(run: &Run) -> Result<()> {
    let records = &run.inventory.validation;
    if !records.iter().any(|r| r.deletable()) {
        return Ok(());
    }
    let step = super::acm::STEP;
    let gone = super::acm::delete(&run.aws.route53(), &run.inventory.app, records)
        .await
        .map_err(refail)?;
    for record in &gone {
        run.deleted(step, validation_item(record));
    }
    Ok(())
}

/// The site certificate's stack (us-east-1), once the distribution that
/// served its certificate is gone with the edge.
async fn site_certificate(run: &Run) -> Result<()> {
    let Some(certificate) = run.inventory.site_certificate() else {
        return Ok(());
    };
    let step = crate::plan::Unit::SiteCertificate.id();
    released(run, step, certificate).await?;
    stacks::delete_stack(run, step, certificate).await?;
    run.deleted(
        step,
        Item::new("stack", &certificate.name, Some(&certificate.region)),
    );
    Ok(())
}

/// ACM lets go of a certificate some time after the distribution that served
/// it is deleted; until then CloudFormation cannot delete it. Waits for that.
async fn released(run: &Run, step: &str, stack: &super::inventory::StackRef) -> Result<()> {
    let Some(certificate) = run
        .inventory
        .certificates
        .iter()
        .find(|c| c.stack == stack.name)
    else {
        return Ok(());
    };
    let region = certificate.region.as_str();
    let client = run.aws.acm_in(region);
    let mut backoff = Backoff::for_operation(run.custom_endpoint(), RELEASE_LIMIT);
    loop {
        let users = super::acm::in_use_by(&client, region, &certificate.arn)
            .await
            .map_err(refail)?
            .unwrap_or_default();
        if users.is_empty() {
            return Ok(());
        }
        // A deleted distribution is ACM's lag, worth waiting for; anything
        // else holds the certificate for good.
        let mut holding = Vec::new();
        for user in &users {
            let deleted = match user.split_once(":distribution/") {
                Some((service, id)) if service.contains(":cloudfront:") => {
                    stacks::distribution_gone(run, id)
                        .await
                        .map_err(|e| fail(step, region, user, e))?
                }
                _ => false,
            };
            if !deleted {
                holding.push(user.as_str());
            }
        }
        if !holding.is_empty() {
            return Err(fail(
                step,
                region,
                &certificate.arn,
                format!(
                    "kept: in use by {}, so it cannot be deleted; detach it there, then run teardown again",
                    holding.join(", ")
                ),
            ));
        }
        run.report(
            step,
            region,
            Status::Waiting,
            &format!(
                "certificate {} is still in use by {}",
                certificate.arn,
                users.join(", ")
            ),
        );
        if !backoff.wait().await {
            return Err(fail(
                step,
                region,
                &certificate.arn,
                format!(
                    "still in use by {} after {} minutes",
                    users.join(", "),
                    RELEASE_LIMIT.as_secs() / 60
                ),
            ));
        }
    }
}

/// `--delete-data`: each table's replicas, removed through the primary table.
async fn replicas(run: &Run) -> Result<()> {
    let inv = &run.inventory;
    let step = "replicas";
    let primary = &run.aws.primary.dynamodb;
    let mut work = Vec::new();
    for table in inv
        .tables
        .iter()
        .filter(|t| t.region == inv.primary && t.owner.is_ours())
    {
        for region in &table.replicas {
            let known = inv.regions().contains(region);
            let replica = known.then(|| &run.aws.region(region).dynamodb);
            work.push(async move {
                run.report(
                    step,
                    region,
                    Status::Started,
                    &format!("removing the replica of {}", table.name),
                );
                tables::remove_replica(
                    primary,
                    replica,
                    &table.name,
                    region,
                    run.custom_endpoint(),
                )
                .await
                .map_err(|e| fail(step, region, &table.name, e))?;
                run.deleted(step, Item::new("replica", &table.name, Some(region)));
                Ok(())
            });
        }
    }
    settle(run, futures::future::join_all(work).await).map(|_| ())
}

/// The replication rule of the primary object bucket: its role is deleted
/// with the object store, and a kept bucket must not keep replicating
/// through a role that no longer exists.
async fn replication(run: &Run) -> Result<()> {
    let inv = &run.inventory;
    // The primary's rule, and in active-active the secondary's back to it.
    for bucket in inv
        .buckets
        .iter()
        .filter(|b| b.kind == "objects" && b.owner.is_ours() && b.replication)
    {
        let step = crate::wire::s3::STEP;
        let s3 = &run.aws.region(&bucket.region).s3;
        let err = |e: String| fail(step, &bucket.region, &bucket.name, e);
        s3.delete_bucket_replication()
            .bucket(&bucket.name)
            .send()
            .await
            .map_err(|e| err(crate::aws::sdk_message(&e)))?;
        if crate::wire::s3::current_configuration(s3, &bucket.name)
            .await
            .map_err(err)?
            .is_some()
        {
            return Err(err(
                "S3 still reports a replication configuration after deleting it".into(),
            ));
        }
        run.deleted(
            step,
            Item::new("replication", &bucket.name, Some(&bucket.region))
                .detail("configuration; the bucket's contents are untouched"),
        );
    }
    Ok(())
}

/// Empties the website buckets so that CloudFormation can delete them.
async fn site(run: &Run) -> Result<()> {
    let step = "site";
    let work = run
        .inventory
        .buckets
        .iter()
        .filter(|b| !b.is_data() && b.owner.is_ours())
        .map(|bucket| async move {
            let s3 = &run.aws.region(&bucket.region).s3;
            let count = buckets::empty(run, step, s3, bucket)
                .await
                .map_err(|e| fail(step, &bucket.region, &bucket.name, e))?;
            run.deleted(
                step,
                Item::new("site-objects", &bucket.name, Some(&bucket.region))
                    .detail(format!("{count} objects")),
            );
            Ok(())
        });
    settle(run, futures::future::join_all(work).await).map(|_| ())
}

/// The StackSets' instances, layer by layer in reverse dependency order
/// (each layer's regions in one operation), then the StackSets.
async fn instances(run: &Run) -> Result<()> {
    let inv = &run.inventory;
    let sets: Vec<_> = inv.sets.iter().filter(|s| s.owner.is_ours()).collect();
    let mut waves = run.plan.waves();
    waves.reverse();
    for wave in waves {
        let work = wave
            .iter()
            .filter(|u| u.kind == Kind::StackSet)
            .filter_map(|u| sets.iter().find(|s| s.unit == u.unit))
            .map(|set| async move {
                let regions = stacks::delete_instances(run, set).await?;
                if !regions.is_empty() {
                    run.deleted(
                        set.unit.id(),
                        Item::new("stack-instances", &set.name, Some(&inv.primary))
                            .detail(format!("in {}", regions.join(", "))),
                    );
                }
                // Stacks of this set that it no longer lists: deleted while
                // the set still vouches for them.
                for (_, orphan) in inv
                    .orphans
                    .iter()
                    .filter(|(name, o)| *name == set.name && o.owner.is_ours())
                {
                    stacks::delete_stack(run, set.unit.id(), orphan).await?;
                    run.deleted(
                        set.unit.id(),
                        Item::new("stack", &orphan.name, Some(&orphan.region))
                            .detail("an instance stack its StackSet no longer listed"),
                    );
                }
                Ok(())
            });
        settle(run, futures::future::join_all(work).await)?;
    }
    // Instance stacks of sets that are gone already.
    for (_, orphan) in inv
        .orphans
        .iter()
        .filter(|(name, o)| o.owner.is_ours() && !sets.iter().any(|s| s.name == *name))
    {
        stacks::delete_stack(run, "stack-set", orphan).await?;
        run.deleted(
            "stack-set",
            Item::new("stack", &orphan.name, Some(&orphan.region))
                .detail("an instance stack of a StackSet that is gone"),
        );
    }
    let work = sets.iter().map(|set| async move {
        stacks::delete_set(run, set).await?;
        run.deleted(
            set.unit.id(),
            Item::new("stack-set", &set.name, Some(&inv.primary)),
        );
        Ok(())
    });
    settle(run, futures::future::join_all(work).await).map(|_| ())
}

/// Website buckets go with their stacks on AWS; an endpoint that leaves them
/// behind gets them emptied and deleted here. Either way: checked gone.
async fn website_leftovers(run: &Run) -> Result<()> {
    let step = "frontend";
    let work = run
        .inventory
        .buckets
        .iter()
        .filter(|b| !b.is_data() && b.owner.is_ours())
        .map(|bucket| async move {
            let s3 = &run.aws.region(&bucket.region).s3;
            let err = |e: String| fail(step, &bucket.region, &bucket.name, e);
            let detail = if buckets::exists(s3, &bucket.name).await.map_err(err)? {
                buckets::remove(run, step, s3, bucket).await.map_err(err)?;
                "website; left behind by its stack, emptied and deleted"
            } else {
                "website; deleted with its stack"
            };
            run.deleted(
                step,
                Item::new("bucket", &bucket.name, Some(&bucket.region)).detail(detail),
            );
            Ok(())
        });
    settle(run, futures::future::join_all(work).await).map(|_| ())
}

/// `--delete-data`: the object buckets, then the log buckets they log to.
async fn data_buckets(run: &Run) -> Result<()> {
    let step = "buckets";
    for kind in ["objects", "logs"] {
        let work = run
            .inventory
            .buckets
            .iter()
            .filter(|b| b.kind == kind && b.owner.is_ours())
            .map(|bucket| async move {
                let s3 = &run.aws.region(&bucket.region).s3;
                run.report(
                    step,
                    &bucket.region,
                    Status::Started,
                    &format!("emptying {}", bucket.name),
                );
                let count = buckets::remove(run, step, s3, bucket)
                    .await
                    .map_err(|e| fail(step, &bucket.region, &bucket.name, e))?;
                run.deleted(
                    step,
                    Item::new("bucket", &bucket.name, Some(&bucket.region)).detail(format!(
                        "{kind}; {count} object versions and delete markers"
                    )),
                );
                Ok(())
            });
        settle(run, futures::future::join_all(work).await)?;
    }
    Ok(())
}

/// `--delete-data`: every table of the app (what is left of replicas first).
async fn data_tables(run: &Run) -> Result<()> {
    let step = "tables";
    let inv = &run.inventory;
    for primary_side in [false, true] {
        let work = inv
            .tables
            .iter()
            .filter(|t| t.owner.is_ours() && (t.region == inv.primary) == primary_side)
            .map(|table| async move {
                let client = &run.aws.region(&table.region).dynamodb;
                tables::remove(client, &table.name, run.custom_endpoint())
                    .await
                    .map_err(|e| fail(step, &table.region, &table.name, e))?;
                run.deleted(step, Item::new("table", &table.name, Some(&table.region)));
                Ok(())
            });
        settle(run, futures::future::join_all(work).await)?;
    }
    Ok(())
}

/// `--delete-data`: the user pools (deletion protection off first).
async fn user_pools(run: &Run) -> Result<()> {
    let step = "user-pools";
    let work = run
        .inventory
        .pools
        .iter()
        // A replica goes with its pool, first: Cognito deletes a pool only
        // once its replica is gone.
        .filter(|p| p.owner.is_ours() && !p.is_replica)
        .map(|pool| async move {
            let cognito = &run.aws.region(&pool.region).cognito;
            if let Some(region) = &pool.replica_in {
                crate::pool_replica::delete(cognito, &pool.id, region, run.aws.custom_endpoint)
                    .await
                    .map_err(|e| fail(step, region, &pool.id, e))?;
                run.deleted(
                    step,
                    Item::new("user-pool", &pool.id, Some(region))
                        .detail(format!("{}: replica", pool.name)),
                );
            }
            pools::remove(cognito, &pool.id)
                .await
                .map_err(|e| fail(step, &pool.region, &pool.id, e))?;
            run.deleted(
                step,
                Item::new("user-pool", &pool.id, Some(&pool.region)).detail(pool.name.clone()),
            );
            Ok(())
        });
    settle(run, futures::future::join_all(work).await).map(|_| ())
}

async fn bootstrap(run: &Run) -> Result<()> {
    let inv = &run.inventory;
    let Some(bootstrap) = inv.bootstrap.as_ref().filter(|b| b.owner.is_ours()) else {
        return Ok(());
    };
    // Its administration role runs every StackSet of this name: not while a
    // same-named set that is not this app's still exists.
    if let Some(set) = inv.sets.iter().find(|s| !s.owner.is_ours()) {
        return Err(fail(
            "bootstrap",
            &inv.primary,
            &bootstrap.name,
            format!(
                "kept: StackSet {} (not made by mraa for this app) may run under its roles",
                set.name
            ),
        ));
    }
    stacks::delete_stack(run, "bootstrap", bootstrap).await?;
    run.deleted(
        "bootstrap",
        Item::new("stack", &bootstrap.name, Some(&inv.primary)),
    );
    Ok(())
}
