//! `--drift`: CloudFormation's drift detection on every stack of the
//! deployment (StackSet instances included, each in its own region), a few
//! at a time, each polled with the shared backoff. Drift detection compares
//! the properties set in the template with each resource's actual
//! configuration; see "Detect unmanaged configuration changes to stacks and
//! resources with drift detection"
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html>.

use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};
use futures::StreamExt;

use crate::aws::{Aws, sdk_message};
use crate::cfn::wait::Backoff;
use crate::error::Result;

use crate::plan::changes::report::{DriftedResource, PropertyDrift, StackDrift};
use crate::plan::changes::units::{DeployedStack, fail};

/// Detections at once: each starts a job in CloudFormation; a few at a time
/// stays well inside its API rate.
const PARALLEL: usize = 4;
/// Detection takes seconds to minutes per stack.
const DETECTION_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The drifted stacks, in the order given.
pub async fn detect(aws: &Aws, stacks: &[DeployedStack]) -> Result<Vec<StackDrift>> {
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
