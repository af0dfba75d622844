//! `--drift`: CloudFormation's drift detection on every stack of the
//! deployment (StackSet instances included, each in its own region), a few
//! at a time, each polled with the shared backoff. Drift detection compares
//! the properties set in the template with each resource's actual
//! configuration; see "Detect unmanaged configuration changes to stacks and
//! resources with drift detection"
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html>.
//! Global-table replicas belong to no stack (mraa makes them), so their
//! settings are compared with the template here, as deploy compares them
//! (`wire::replica_settings`), and reported in the same shape.

use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};
use futures::StreamExt;

use crate::aws::{Aws, sdk_message};
use crate::cfn::wait::Backoff;
use crate::error::Result;
use crate::names;
use crate::plan::Plan;
use crate::wire::replica_settings;

use crate::plan::changes::report::{DriftedResource, PropertyDrift, StackDrift};
use crate::plan::changes::units::{DeployedStack, fail};

/// Detections at once: each starts a job in CloudFormation; a few at a time
/// stays well inside its API rate.
const PARALLEL: usize = 4;
/// Detection takes seconds to minutes per stack.
const DETECTION_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The drifted stacks, in the order given, then each global-table replica
/// whose settings differ from the template's.
pub async fn detect(aws: &Aws, plan: &Plan, stacks: &[DeployedStack]) -> Result<Vec<StackDrift>> {
    let (mut drifted, replicas) =
        futures::future::try_join(detect_stacks(aws, stacks), replicas(aws, plan)).await?;
    drifted.extend(replicas);
    Ok(drifted)
}

/// Each replica that exists and differs: `unit` is the wiring step that
/// keeps it, `stack` the table's name, the resource the table as the
/// template declares it, each property as the template's path.
async fn replicas(aws: &Aws, plan: &Plan) -> Result<Vec<StackDrift>> {
    let region = &aws.secondary.region;
    let step = crate::wire::dynamodb::STEP;
    let mut drifted = Vec::new();
    for &short in names::global_tables(plan.user_replication) {
        let table = names::table_name(&plan.app, short);
        let want = replica_settings::desired(&plan.app, short)
            .map_err(|e| fail(step, region, &table, e))?;
        let Some((_, have)) = replica_settings::read(&aws.secondary.dynamodb, &table)
            .await
            .map_err(|e| fail(step, region, &table, e))?
        else {
            continue;
        };
        let found = replica_settings::differences(&want, &have);
        if found.is_empty() {
            continue;
        }
        drifted.push(StackDrift {
            unit: step.to_string(),
            region: region.clone(),
            stack: table,
            resources: vec![DriftedResource {
                logical_id: replica_settings::logical_id(short)
                    .unwrap_or(short)
                    .to_string(),
                resource_type: "AWS::DynamoDB::Table".into(),
                status: "modified".into(),
                properties: found
                    .into_iter()
                    .map(|d| PropertyDrift {
                        path: d.path,
                        expected: d.expected,
                        actual: d.actual,
                        difference: "not_equal".into(),
                    })
                    .collect(),
            }],
        });
    }
    Ok(drifted)
}

async fn detect_stacks(aws: &Aws, stacks: &[DeployedStack]) -> Result<Vec<StackDrift>> {
    let results: Vec<Result<Option<StackDrift>>> = futures::stream::iter(stacks)
        .map(|s| async move {
            let cfn = aws.cfn_in(&s.region);
            let resources = detect_one(&cfn, aws.custom_endpoint, &s.stack)
                .await
                .map_err(|e| fail(&s.unit, &s.region, &s.stack, e))?;
            Ok((!resources.is_empty()).then(|| StackDrift {
                unit: s.unit.clone(),
                region: s.region.clone(),
                stack: s.stack.clone(),
                resources,
            }))
        })
        .buffered(PARALLEL)
        .collect()
        .await;
    let mut drifted = Vec::new();
    for result in results {
        drifted.extend(result?);
    }
    Ok(drifted)
}

async fn detect_one(
    cfn: &Client,
    custom_endpoint: bool,
    stack: &str,
) -> Result<Vec<DriftedResource>, String> {
    let started = cfn
        .detect_stack_drift()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    let id = started
        .stack_drift_detection_id()
        .ok_or("drift detection started without an id")?
        .to_string();
    let mut backoff = Backoff::for_operation(custom_endpoint, DETECTION_LIMIT);
    loop {
        let status = cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(&id)
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        match status.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => break,
            Some(StackDriftDetectionStatus::DetectionFailed) => {
                return Err(format!(
                    "drift detection failed: {}",
                    status
                        .detection_status_reason()
                        .unwrap_or("no reason given")
                ));
            }
            _ => {}
        }
        if !backoff.wait().await {
            return Err(format!(
                "drift detection {id} still running after {} minutes",
                DETECTION_LIMIT.as_secs() / 60
            ));
        }
    }
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = cfn
            .describe_stack_resource_drifts()
            .stack_name(stack)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        for drift in page.stack_resource_drifts() {
            found.push(DriftedResource {
                logical_id: drift.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: drift.resource_type().unwrap_or_default().to_string(),
                status: drift
                    .stack_resource_drift_status()
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_default(),
                properties: drift
                    .property_differences()
                    .iter()
                    .map(|p| PropertyDrift {
                        path: p.property_path().unwrap_or_default().to_string(),
                        expected: p.expected_value().unwrap_or_default().to_string(),
                        actual: p.actual_value().unwrap_or_default().to_string(),
                        difference: p
                            .difference_type()
                            .map(|d| d.as_str().to_ascii_lowercase())
                            .unwrap_or_default(),
                    })
                    .collect(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    found.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(found)
}
