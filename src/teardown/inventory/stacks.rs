//! The inventory's CloudFormation phases: the app's stacks and StackSets,
//! the stacks their instances left behind, what they manage, and the
//! certificates of the domain units with their validation records.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudformation::types::{Stack, StackSetOperationAction, StackStatus};

use crate::aws::{Aws, RegionClients, sdk_message};
use crate::cfn::status::is_in_progress;
use crate::cfn::{stack, stack_set};
use crate::error::Result;
use crate::names::{self, APP_TAG};
use crate::plan::{CERTIFICATE_REGION, Kind, Unit};
use crate::teardown::acm;

use super::{
    DomainRef, InstanceRef, Inventory, Managed, Owner, SetRead, SetRef, StackRef, certificate_of,
};
use crate::teardown::{fail, refail};

/// The bootstrap, edge and site-certificate stacks (the certificate's read
/// whatever else exists: its stack is in us-east-1 and outlives the DNS
/// records when a teardown was interrupted), and the StackSets, all read in
/// parallel.
pub(super) async fn read_stacks(aws: &Aws, inventory: &mut Inventory) -> Result<Vec<SetRead>> {
    let app = inventory.app.clone();
    let app = app.as_str();
    let primary = inventory.primary.clone();
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

    Ok(sets.into_iter().flatten().collect())
}

/// The StackSets this app provably owns vouch for what their instance
/// stacks manage; an API domain instance names the domain and certificate.
/// Then sorted in the order they are deleted: the last layer first.
pub(super) fn adopt_sets(inventory: &mut Inventory, sets: Vec<SetRead>, managed: &mut Managed) {
    for (set, resources, busy) in sets {
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

    inventory
        .sets
        .sort_by_key(|s| std::cmp::Reverse(Unit::ALL.iter().position(|u| *u == s.unit)));
}

/// Stacks named as this app's StackSet instances that no set lists (a
/// create that failed half-way, or instances deleted with RetainStacks).
pub(super) async fn adopt_orphans(
    aws: &Aws,
    inventory: &mut Inventory,
    managed: &mut Managed,
) -> Result<()> {
    let app = inventory.app.clone();
    let app = app.as_str();
    let clients = inventory.clients(aws);
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

    Ok(())
}

/// The certificates' validation records, and whether another certificate
/// still needs each one.
pub(super) async fn read_validation(aws: &Aws, inventory: &mut Inventory) -> Result<()> {
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

    Ok(())
}

pub(super) async fn read_stack(
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
pub(super) async fn read_set(
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
pub(super) async fn orphan_stacks(
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
pub(super) fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// How a stack is addressed: by id (this very stack), else by name.
pub(super) fn stack_id(stack: &Stack) -> &str {
    stack.stack_id().or(stack.stack_name()).unwrap_or_default()
}

pub(super) async fn stack_resources(
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
