//! Data kept by an earlier teardown, brought back under the new stacks
//! through CloudFormation's import paths, never copied and never made again.
//!
//! For a StackSet unit, in each Region that holds kept resources: a stack
//! named as the set's instances are ([`import_stack_name`]), made by an
//! IMPORT change set holding only those resources
//! ("Importing AWS resources into a CloudFormation stack",
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html;
//! the template: [`crate::plan::changes::import_template`]), then a normal
//! update with the unit's whole template, which adds the rest, then the
//! stacks imported into the StackSet with ImportStacksToStackSet, which
//! needs the stack's template to be the set's ("Import a stack into
//! CloudFormation StackSets",
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-import.html).
//! Regions without kept resources get their instance as usual. Those
//! Regions' imports and updates run as the StackSet execution role, the
//! service role that holds the layers' handler permissions; the bootstrap
//! stack, which makes that role, imports the users key and is updated with
//! the caller's credentials, as it is always deployed.
//!
//! Each step is found done or not from CloudFormation, so a run stopped
//! anywhere resumes: a stack that holds the imports is updated, not
//! imported again; one that is already an instance is not imported again.
//! Afterwards [`verify`] reads every adopted store through its own service.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{ChangeSetType, Stack, StackStatus};
use md5::{Digest, Md5};

use crate::aws::{aws_error, sdk_message};
use crate::cfn;
use crate::cfn::change_set::{self, ChangeSetSpec};
use crate::cfn::import::Import;
use crate::error::Result;
use crate::names::APP_TAG;
use crate::plan::Unit;
use crate::plan::changes::import::{self as kept, Held, KeptResource};
use crate::plan::changes::import_template::import_template;
use crate::ui::progress::Status;
use crate::wire::Verdict;

use super::stack::{self, StackSpec};
use super::stack_set::{StackSetSpec, create_set, preferences, wait_operation};
use super::summary::{Check, StepResult};
use crate::context::{Change, Ctx};

/// The step name adoption reports under.
pub const STEP: &str = "adopt";

/// The plan of an adoption, before any change: each resource imported,
/// where, and as what.
pub(super) fn announce(reporter: &crate::ui::progress::Reporter, kept: &kept::Kept) {
    for r in &kept.adopt {
        reporter.note(&format!(
            "import {} {} {} {} ({}, kept by an earlier teardown)",
            r.unit.id(),
            r.region,
            r.logical_id,
            r.physical_id,
            r.resource_type
        ));
    }
}

/// Before the bootstrap stack's own deploy: its kept resources (the users
/// key) imported into it, when the stack does not hold them yet.
pub(super) async fn bootstrap(ctx: &Ctx, cfn: &Client, spec: &StackSpec<'_>) -> Result<()> {
    let resources = ctx.prefetched.kept.of(Unit::Bootstrap);
    if resources.is_empty() {
        return Ok(());
    }
    let region = ctx.aws.primary.region.clone();
    // Read again: the record read before the run predates the import.
    let _ = ctx.prefetched.take_stack(&region, spec.name);
    let held = cfn::stack::describe(cfn, spec.name)
        .await
        .map_err(|e| aws_error(spec.unit, &region, spec.name, e))?;
    if holds_imports(held.as_ref()) {
        return Ok(());
    }
    import(ctx, cfn, &region, spec, &resources).await
}

/// Before a StackSet unit's own deploy: each Region's kept resources under a
/// stack of the set's name, then those stacks made the set's instances.
/// `true` when it made or imported anything.
pub(super) async fn stack_set(ctx: &Ctx, spec: &StackSetSpec<'_>) -> Result<bool> {
    let Some(unit) = ctx
        .plan
        .units
        .iter()
        .find(|p| p.name == spec.name)
        .map(|p| p.unit)
        .filter(|u| kept::DATA_UNITS.contains(u))
    else {
        return Ok(false);
    };
    let home_cfn = &ctx.aws.primary.cfn;
    let home = &ctx.aws.primary.region;
    let fail = |e: String| aws_error(spec.unit, home, spec.name, e);
    let set = cfn::stack_set::describe(home_cfn, spec.name)
        .await
        .map_err(fail)?;
    // The set's instances by region, in one call (none without a set).
    let mut instances = BTreeMap::new();
    if set.is_some() {
        let listed = home_cfn
            .list_stack_instances()
            .stack_set_name(spec.name)
            .send()
            .await
            .map_err(|e| fail(sdk_message(&e)))?;
        for s in listed.summaries() {
            if let Some(region) = s.region() {
                instances.insert(region.to_string(), s.stack_id().map(str::to_string));
            }
        }
    }
    let pending: Vec<&String> = spec
        .regions
        .iter()
        .filter(|r| !instances.contains_key(*r))
        .collect();
    if pending.is_empty() {
        return Ok(false);
    }
    let mut resources = ctx.prefetched.kept.of(unit);
    if set.is_some() && resources.is_empty() {
        // A run stopped between the imports and the set: the preflight
        // looked only where no set stood.
        let found = kept::find_units(&ctx.aws, &ctx.plan, &ctx.account, &[unit]).await?;
        kept::refuse_foreign(&found, &ctx.plan)?;
        resources = found.of(unit);
        if let Ok(mut later) = ctx.prefetched.kept_later.lock() {
            later.extend(resources.iter().cloned());
        }
    }
    let stacks = futures::future::try_join_all(pending.into_iter().map(|region| {
        let here: Vec<KeptResource> = resources
            .iter()
            .filter(|r| &r.region == region)
            .cloned()
            .collect();
        async move { region_stack(ctx, spec, region, &here).await }
    }))
    .await?;
    let stack_ids: Vec<String> = stacks.into_iter().flatten().collect();
    if stack_ids.is_empty() {
        return Ok(false);
    }
    if set.is_none() {
        create_set(ctx, spec).await?;
    }
    ctx.report(
        spec.unit,
        home,
        Status::Waiting,
        &format!("importing {} stack(s) into the StackSet", stack_ids.len()),
    );
    ctx.claim("deploy").await?;
    let operation = ctx.operation_id(spec.unit, "import");
    let sent = cfn::import::stacks_to_stack_set(
        home_cfn,
        spec.name,
        &stack_ids,
        &operation,
        preferences(spec.unit),
    )
    .await
    .map_err(fail)?;
    wait_operation(ctx, spec, &sent).await?;
    Ok(true)
}

/// The Region's stack holding its kept resources, imported if need be and
/// updated to the whole template, both as the execution role; its id.
/// `None`: nothing kept there.
async fn region_stack(
    ctx: &Ctx,
    spec: &StackSetSpec<'_>,
    region: &str,
    resources: &[KeptResource],
) -> Result<Option<String>> {
    let cfn = ctx.aws.cfn_in(region);
    let name = import_stack_name(&ctx.account, region, spec.name);
    let held = cfn::stack::describe(&cfn, &name)
        .await
        .map_err(|e| aws_error(spec.unit, region, &name, e))?
        .filter(|s| is_ours(s, &ctx.app));
    let role = execution_role_arn(ctx);
    let single = StackSpec {
        unit: spec.unit,
        name: &name,
        body: spec.body,
        parameters: spec.parameters,
        role: Some(&role),
    };
    if !holds_imports(held.as_ref()) {
        if resources.is_empty() {
            return Ok(None);
        }
        import(ctx, &cfn, region, &single, resources).await?;
    }
    stack::deploy(ctx, &cfn, &single).await?;
    let stack = cfn::stack::describe(&cfn, &name)
        .await
        .map_err(|e| aws_error(spec.unit, region, &name, e))?;
    Ok(stack.and_then(|s| s.stack_id().map(str::to_string)))
}

/// The stack adoption makes for `set` in `region`, named as CloudFormation
/// names a StackSet's instances (`StackSet-<set>-<UUID>`), so that the
/// execution role, which may act only on those, still may once the stack
/// has joined the set, and the operator policy names it already. The
/// UUID-shaped id comes from the account, Region and set: a resumed run
/// finds the same stack.
pub fn import_stack_name(account: &str, region: &str, set: &str) -> String {
    let digest = Md5::digest(format!("{account}/{region}/{set}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "StackSet-{set}-{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The StackSet execution role (templates/bootstrap.yaml), which holds what
/// the layers' resources need and trusts CloudFormation as a service role
/// ("CloudFormation service role",
/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html):
/// the Regions' stacks are imported and updated as it, not as the caller,
/// whose policy then needs only to pass it.
fn execution_role_arn(ctx: &Ctx) -> String {
    format!(
        "arn:aws:iam::{}:role/{}",
        ctx.account,
        ctx.execution_role_name()
    )
}

/// A stack of this app (the import tags it) that is past its import.
fn holds_imports(stack: Option<&Stack>) -> bool {
    stack.is_some_and(|s| {
        !matches!(
            s.stack_status(),
            None | Some(StackStatus::ReviewInProgress | StackStatus::DeleteComplete)
        )
    })
}

fn is_ours(stack: &Stack, app: &str) -> bool {
    stack
        .tags()
        .iter()
        .any(|t| t.key() == Some(APP_TAG) && t.value() == Some(app))
}

/// One IMPORT change set: `resources` brought under `spec.name` in
/// `region`, waited for until IMPORT_COMPLETE.
async fn import(
    ctx: &Ctx,
    cfn: &Client,
    region: &str,
    spec: &StackSpec<'_>,
    resources: &[KeptResource],
) -> Result<()> {
    let fail = |e: String| aws_error(spec.unit, region, spec.name, e);
    let logical: Vec<&str> = resources.iter().map(|r| r.logical_id).collect();
    let body = import_template(spec.body, &logical).map_err(fail)?;
    let listed: Vec<String> = resources
        .iter()
        .map(|r| format!("{} {} as {}", r.resource_type, r.physical_id, r.logical_id))
        .collect();
    ctx.report(
        spec.unit,
        region,
        Status::Started,
        &format!("importing kept {}", listed.join(", ")),
    );
    ctx.claim("deploy").await?;
    let name = format!("{}-{}-import", ctx.run_id, spec.unit);
    let imports: Vec<Import> = resources
        .iter()
        .map(|r| Import {
            logical_id: r.logical_id,
            resource_type: r.resource_type,
            identifier: &r.identifier,
        })
        .collect();
    let change_set = ChangeSetSpec {
        stack: spec.name,
        name: &name,
        kind: ChangeSetType::Import,
        body: &body,
        parameters: spec.parameters,
        app: &ctx.app,
        role: spec.role,
    };
    cfn::import::create_change_set(cfn, &change_set, &imports)
        .await
        .map_err(fail)?;
    if !change_set::wait_ready(cfn, ctx.aws.custom_endpoint, spec.name, &name)
        .await
        .map_err(fail)?
    {
        return Err(fail(format!(
            "the import change set {name} holds no import"
        )));
    }
    change_set::execute(cfn, spec.name, &name)
        .await
        .map_err(fail)?;
    ctx.report(spec.unit, region, Status::Waiting, "executing the import");
    let status = cfn::stack::wait_for(cfn, ctx.aws.custom_endpoint, spec.name)
        .await
        .map_err(fail)?;
    if status != Some(StackStatus::ImportComplete) {
        let cause = cfn::stack::root_cause(cfn, spec.name).await;
        let status = status.map_or_else(|| "gone".into(), |s| s.as_str().to_string());
        return Err(fail(format!("the import ended {status}: {cause}")));
    }
    Ok(())
}

/// After the graph: each adopted resource read back through CloudFormation
/// (its unit's stack maps the logical id to the kept physical id) and
/// through its own service (the same versioning and object count, the same
/// items, the same users; replicas ACTIVE). A store that lost anything is a
/// failure; a status the endpoint does not report is `unverified`.
pub(super) async fn verify(ctx: &Ctx) -> Result<Option<StepResult>> {
    let mut adopted = ctx.prefetched.kept.adopt.clone();
    if let Ok(later) = ctx.prefetched.kept_later.lock() {
        adopted.extend(later.iter().cloned());
    }
    if adopted.is_empty() {
        return Ok(None);
    }
    let checks = futures::future::try_join_all(adopted.iter().map(|r| verify_one(ctx, r))).await?;
    let mut by_region: BTreeMap<String, Verdict> = BTreeMap::new();
    for (region, verdict) in checks {
        let entry = by_region.entry(region).or_insert(Verdict::Ok);
        if let (Verdict::Ok, Verdict::Unverified(_)) = (&*entry, &verdict) {
            *entry = verdict;
        }
    }
    Ok(Some(StepResult {
        step: STEP.into(),
        change: Change::Updated,
        checks: by_region
            .into_iter()
            .map(|(region, verdict)| Check { region, verdict })
            .collect(),
    }))
}

async fn verify_one(ctx: &Ctx, r: &KeptResource) -> Result<(String, Verdict)> {
    let unit = r.unit.id();
    let fail = |e: String| aws_error(unit, &r.region, &r.physical_id, e);
    let name = crate::names::stack_name(&ctx.app, unit);
    let cfn = ctx.aws.cfn_in(&r.region);
    let stack_id = match r.unit {
        Unit::Bootstrap => name.clone(),
        _ => cfn::stack_set::instance_stack_id(&ctx.aws.primary.cfn, &name, &r.region)
            .await
            .map_err(fail)?
            .ok_or_else(|| fail(format!("{name} has no instance in {}", r.region)))?,
    };
    // Listed rather than described one by one: the same answer on AWS, and
    // the emulator fails DescribeStackResource on a stack with a resource
    // whose condition is false.
    let mut held_by = None;
    let mut pages = cfn
        .list_stack_resources()
        .stack_name(&stack_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| fail(sdk_message(&e)))?;
        if let Some(found) = page
            .stack_resource_summaries()
            .iter()
            .find(|s| s.logical_resource_id() == Some(r.logical_id))
        {
            held_by = found.physical_resource_id().map(str::to_string);
            break;
        }
    }
    let held_by = held_by.unwrap_or_default();
    if held_by != r.physical_id {
        return Err(fail(format!(
            "{name} holds {held_by} as {}, not the kept {}",
            r.logical_id, r.physical_id
        )));
    }
    let clients = ctx.aws.region(&r.region);
    let mut verdict = Verdict::Ok;
    match &r.held {
        Held::Bucket { .. } => {
            let now = kept::bucket_contents(clients, &r.physical_id)
                .await
                .map_err(fail)?;
            if now != r.held {
                return Err(fail(format!(
                    "held {} when found, {now} once adopted: the kept data is not all there",
                    r.held
                )));
            }
        }
        Held::Table { items } => {
            let now = kept::count_items(clients, &r.physical_id)
                .await
                .map_err(fail)?;
            if now != *items {
                return Err(fail(format!(
                    "held {items} items when found, {now} once adopted"
                )));
            }
            verdict = table_replica(ctx, &r.physical_id).await.map_err(fail)?;
        }
        Held::Pool { users } => {
            let now = kept::count_users(clients, &r.physical_id)
                .await
                .map_err(fail)?;
            if now != *users {
                return Err(fail(format!(
                    "held {users} users when found, {now} once adopted"
                )));
            }
        }
        Held::Nothing if r.resource_type == "AWS::Cognito::UserPoolReplica" => {
            let pool = r
                .identifier
                .first()
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            let replica = crate::pool_replica::secondary_of(&clients.cognito, pool)
                .await
                .map_err(fail)?;
            verdict = match replica {
                Some(replica) if replica.is_active() => Verdict::Ok,
                Some(replica) => Verdict::Unverified(format!(
                    "the pool's replica in {} is {}",
                    replica.region, replica.status
                )),
                None => return Err(fail("the pool has no replica any more".into())),
            };
        }
        Held::Nothing => {}
    }
    Ok((r.region.clone(), verdict))
}

/// The global table's replica in the secondary, as DynamoDB reports it.
async fn table_replica(ctx: &Ctx, table: &str) -> std::result::Result<Verdict, String> {
    let out = ctx
        .aws
        .primary
        .dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let secondary = &ctx.plan.secondary;
    let replica = out
        .table()
        .map(|t| t.replicas())
        .unwrap_or_default()
        .iter()
        .find(|r| r.region_name() == Some(secondary.as_str()))
        .map(|r| r.replica_status().map(|s| s.as_str().to_string()));
    Ok(match replica {
        Some(Some(status)) if status == "ACTIVE" => Verdict::Ok,
        Some(status) => Verdict::Unverified(format!(
            "{table}'s replica in {secondary} is {}",
            status.unwrap_or_else(|| "of unknown status".into())
        )),
        None => Verdict::Unverified(format!(
            "the endpoint reports no replica of {table} in {secondary}"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::import_stack_name;

    #[test]
    fn the_import_stack_is_named_as_a_sets_instance_and_found_again_by_a_resumed_run() {
        let name = import_stack_name("123456789012", "eu-west-1", "mraa-shop-kv-store");
        let id = name
            .strip_prefix("StackSet-mraa-shop-kv-store-")
            .unwrap_or_else(|| panic!("{name}"));
        // A UUID's shape, as CloudFormation's instance names end.
        assert_eq!(id.len(), 36, "{id}");
        for (i, c) in id.chars().enumerate() {
            if [8, 13, 18, 23].contains(&i) {
                assert_eq!(c, '-', "{id}");
            } else {
                assert!(c.is_ascii_hexdigit(), "{id}");
            }
        }
        assert_eq!(
            name,
            import_stack_name("123456789012", "eu-west-1", "mraa-shop-kv-store")
        );
        assert_ne!(
            name,
            import_stack_name("123456789012", "ap-northeast-1", "mraa-shop-kv-store")
        );
    }
}
