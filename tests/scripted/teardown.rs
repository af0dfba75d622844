//! Teardown against scripted CloudFormation answers: after API Gateway
//! deletes the custom domain, ACM keeps reporting the API certificate in use
//! for minutes, so the api-domain instance's delete fails on the certificate
//! (aws/aws-cdk issue 36265). Teardown deletes the instances again, bounded,
//! until ACM lets go; any other failure is reported at once.

use std::sync::Arc;

use aws_sdk_cloudformation as cfn;
use aws_smithy_mocks::{Rule, mock};

use cfn::Client as Cfn;
use cfn::operation::delete_stack_instances::DeleteStackInstancesOutput;
use cfn::operation::describe_stack_set_operation::DescribeStackSetOperationOutput;
use cfn::operation::list_stack_instances::ListStackInstancesOutput;
use cfn::operation::list_stack_set_operation_results::ListStackSetOperationResultsOutput;
use cfn::operation::list_stack_set_operations::ListStackSetOperationsOutput;
use cfn::types::{
    StackInstanceSummary, StackSetOperation, StackSetOperationResultStatus,
    StackSetOperationResultSummary, StackSetOperationStatus,
};

use mraa::aws::Aws;
use mraa::error::MraaError;
use mraa::plan::{Plan, Unit};
use mraa::teardown::Run;
use mraa::teardown::inventory::{InstanceRef, Inventory, Owner, SetRef};
use mraa::teardown::stacks::delete_instances;
use mraa::ui::progress::Reporter;

use crate::support::scripted::region_clients;

const APP: &str = "demo";
const ACCOUNT: &str = "123456789012";
const PRIMARY: &str = "eu-west-1";
const SECONDARY: &str = "ap-northeast-1";
const SET: &str = "mraa-demo-api-domain";

/// The reason StackSets give for the failed instance: the certificate
/// resource's own handler message.
const IN_USE: &str = "ResourceLogicalId:ApiCertificate, ResourceType:AWS::CertificateManager::Certificate, \
     ResourceStatusReason:Resource handler returned message: \"Certificate \
     arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d in account 123456789012 is in use. \
     (Service: Acm, Status Code: 400, Request ID: 5ccc7dcd)\" (HandlerErrorCode: ResourceConflict)";

/// A teardown run of app `demo` whose primary CloudFormation answers from
/// `rules`; `custom_endpoint: true` keeps backoffs at 50 ms.
fn run(rules: &[&Rule]) -> Run {
    let aws = Aws {
        primary: region_clients(PRIMARY, rules),
        secondary: region_clients(SECONDARY, &[]),
        cloudfront: scripted!(aws_sdk_cloudfront, "us-east-1", &[]),
        sts: scripted!(aws_sdk_sts, PRIMARY, &[]),
        custom_endpoint: true,
        base: aws_config::SdkConfig::builder().build(),
    };
    let inventory = Inventory {
        app: APP.into(),
        account: ACCOUNT.into(),
        primary: PRIMARY.into(),
        secondary: Some(SECONDARY.into()),
        ..Inventory::default()
    };
    let plan = Plan::new(APP, PRIMARY, SECONDARY).with_domain("app.example.com", "Z0EXAMPLE");
    Run::new(
        aws,
        format!("arn:aws:iam::{ACCOUNT}:user/ci"),
        plan,
        Arc::new(Reporter::silent()),
        inventory,
    )
}

fn api_domain() -> SetRef {
    SetRef {
        unit: Unit::ApiDomain,
        name: SET.into(),
        owner: Owner::Tagged,
        instances: [PRIMARY, SECONDARY]
            .iter()
            .map(|region| InstanceRef {
                region: region.to_string(),
                stack: None,
            })
            .collect(),
    }
}

fn idle() -> Rule {
    mock!(Cfn::list_stack_set_operations)
        .match_requests(|r| r.stack_set_name() == Some(SET))
        .then_output(|| ListStackSetOperationsOutput::builder().build())
}

fn instances(regions: &'static [&'static str]) -> Rule {
    mock!(Cfn::list_stack_instances)
        .match_requests(|r| r.stack_set_name() == Some(SET))
        .then_output(move || {
            let summaries = regions
                .iter()
                .map(|region| {
                    StackInstanceSummary::builder()
                        .account(ACCOUNT)
                        .region(*region)
                        .build()
                })
                .collect();
            ListStackInstancesOutput::builder()
                .set_summaries(Some(summaries))
                .build()
        })
}

fn delete(operation: &'static str, regions: &'static [&'static str]) -> Rule {
    mock!(Cfn::delete_stack_instances)
        .match_requests(move |r| {
            r.stack_set_name() == Some(SET)
                && r.operation_id() == Some(operation)
                && r.regions() == regions
                && r.retain_stacks() == Some(false)
        })
        .then_output(move || {
            DeleteStackInstancesOutput::builder()
                .operation_id(operation)
                .build()
        })
}

fn ended(operation: &'static str, status: StackSetOperationStatus) -> Rule {
    mock!(Cfn::describe_stack_set_operation)
        .match_requests(move |r| r.operation_id() == Some(operation))
        .then_output(move || {
            DescribeStackSetOperationOutput::builder()
                .stack_set_operation(
                    StackSetOperation::builder()
                        .operation_id(operation)
                        .status(status.clone())
                        .build(),
                )
                .build()
        })
}

fn failed_in_primary(operation: &'static str, reason: &'static str) -> Rule {
    mock!(Cfn::list_stack_set_operation_results)
        .match_requests(move |r| r.operation_id() == Some(operation))
        .then_output(move || {
            ListStackSetOperationResultsOutput::builder()
                .summaries(
                    StackSetOperationResultSummary::builder()
                        .account(ACCOUNT)
                        .region(PRIMARY)
                        .status(StackSetOperationResultStatus::Failed)
                        .status_reason(reason)
                        .build(),
                )
                .summaries(
                    StackSetOperationResultSummary::builder()
                        .account(ACCOUNT)
                        .region(SECONDARY)
                        .status(StackSetOperationResultStatus::Succeeded)
                        .build(),
                )
                .build()
        })
}

const FIRST: &str = "mraa-teardown-api-domain-delete";
const SECOND: &str = "mraa-teardown-api-domain-delete-1";
/// Sorted, as teardown lists them.
const BOTH: &[&str] = &[SECONDARY, PRIMARY];

#[tokio::test]
async fn a_certificate_acm_still_holds_is_deleted_again_once_released() {
    let rules = [
        idle(),
        instances(BOTH),
        delete(FIRST, BOTH),
        ended(FIRST, StackSetOperationStatus::Failed),
        failed_in_primary(FIRST, IN_USE),
        // The secondary's instance went; the primary's is left to delete.
        instances(&[PRIMARY]),
        delete(SECOND, &[PRIMARY]),
        ended(SECOND, StackSetOperationStatus::Succeeded),
        instances(&[]),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let run = run(&refs);
    let deleted = delete_instances(&run, &api_domain())
        .await
        .expect("deleted once ACM let go of the certificate");
    assert_eq!(deleted, BOTH);
    for (i, rule) in rules.iter().enumerate() {
        assert_eq!(rule.num_calls(), 1, "rule {i}");
    }
}

#[tokio::test]
async fn another_failure_of_the_instances_is_reported_at_once() {
    let reason = "ResourceLogicalId:ApiDomainName, ResourceType:AWS::ApiGateway::DomainName, \
                  ResourceStatusReason:Access denied";
    let rules = [
        idle(),
        instances(BOTH),
        delete(FIRST, BOTH),
        ended(FIRST, StackSetOperationStatus::Failed),
        failed_in_primary(FIRST, reason),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let run = run(&refs);
    let Err(MraaError::Aws(failure)) = delete_instances(&run, &api_domain()).await else {
        panic!("the failure is reported");
    };
    assert!(failure.cause.contains("Access denied"), "{}", failure.cause);
    assert!(rules.iter().all(|r| r.num_calls() == 1));
}
