//! CloudFormation's import paths: an IMPORT change set that brings existing
//! resources under a stack, and ImportStacksToStackSet, which makes existing
//! stacks a StackSet's instances.
//!
//! CreateChangeSet with ChangeSetType IMPORT and ResourcesToImport
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html;
//! "Importing AWS resources into a CloudFormation stack",
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html):
//! a stack that does not exist yet is made in REVIEW_IN_PROGRESS and ends
//! IMPORT_COMPLETE. ImportStacksToStackSet
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ImportStacksToStackSet.html,
//! "Import a stack into CloudFormation StackSets",
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-import.html):
//! up to 10 stacks per call, each stack keeps its name and id, and its
//! template must be the StackSet's.

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, ResourceToImport, StackSetOperationPreferences, Tag,
};

use crate::aws::sdk_message;
use crate::names::APP_TAG;

use super::change_set::ChangeSetSpec;
use super::stack::parameters;

/// One resource to import: its logical id in the template, its type, and
/// the type's identifier properties with their values.
pub struct Import<'a> {
    pub logical_id: &'a str,
    pub resource_type: &'a str,
    pub identifier: &'a [(&'a str, String)],
}

/// Creates an IMPORT change set on `spec.stack` (made when it does not
/// exist), as `spec.role` when given; `spec.kind` is not read.
pub async fn create_change_set(
    cfn: &Client,
    spec: &ChangeSetSpec<'_>,
    imports: &[Import<'_>],
) -> Result<(), String> {
    let resources: Vec<ResourceToImport> = imports
        .iter()
        .map(|i| {
            ResourceToImport::builder()
                .resource_type(i.resource_type)
                .logical_resource_id(i.logical_id)
                .set_resource_identifier(Some(
                    i.identifier
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                ))
                .build()
        })
        .collect();
    cfn.create_change_set()
        .stack_name(spec.stack)
        .change_set_name(spec.name)
        .change_set_type(ChangeSetType::Import)
        .template_body(spec.body)
        .set_parameters(Some(parameters(spec.parameters)))
        .capabilities(Capability::CapabilityNamedIam)
        .tags(Tag::builder().key(APP_TAG).value(spec.app).build())
        .set_role_arn(spec.role.map(str::to_string))
        .set_resources_to_import(Some(resources))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_message(&e))
}

/// Makes the stacks `stack_ids` instances of `set`; the operation's id.
pub async fn stacks_to_stack_set(
    cfn: &Client,
    set: &str,
    stack_ids: &[String],
    operation: &str,
    preferences: StackSetOperationPreferences,
) -> Result<String, String> {
    let out = cfn
        .import_stacks_to_stack_set()
        .stack_set_name(set)
        .set_stack_ids(Some(stack_ids.to_vec()))
        .operation_id(operation)
        .operation_preferences(preferences)
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(out.operation_id().unwrap_or(operation).to_string())
}
