//! The deploy state machine against scripted AWS SDK responses.
//!
//! Every client here answers from an `aws-smithy-mocks` script in
//! `RuleMode::Sequential`: each call must be the next one the script expects
//! (a rule's `match_requests` doubles as an assertion on the request), a call
//! beyond the script panics, and each test checks at the end that every
//! scripted answer was asked for. Clients a test does not script have an
//! empty script, so any call to them fails the test.
//!
//! - **root cause**: `first_failure` picks the first real resource failure of
//!   the latest operation, not the cancellations after it nor an older
//!   operation's failure; a failed `stack::deploy` names unit, region, stack
//!   and that cause.
//! - **recovery**: a ROLLBACK_COMPLETE stack is deleted, waited for and
//!   re-created; an UPDATE_ROLLBACK_FAILED stack has its rollback continued,
//!   then is updated.
//! - **StackSet operation failure**: the error names the StackSet, the
//!   operation, and the failed region's reason with its stack's root cause.
//! - **IAM propagation**: an instances operation that failed only on the
//!   just-created StackSet roles is run again after a wait, a bounded number
//!   of times, then reported with a hint; any other failure is reported at
//!   once.
//! - **DynamoDB replicas**: CREATING → ACTIVE then protection, a broken
//!   replica, and a first request (UpdateTable + tag).
//! - **throttling**: the SDK's standard retries absorb `Throttling` (query
//!   protocol, CloudFormation) and `ThrottlingException` (JSON, DynamoDB).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudformation as cfn;
use aws_sdk_dynamodb as ddb;
use aws_smithy_mocks::{Rule, mock};

use cfn::Client as Cfn;
use cfn::operation::continue_update_rollback::ContinueUpdateRollbackOutput;
use cfn::operation::create_change_set::CreateChangeSetOutput;
use cfn::operation::create_stack_instances::CreateStackInstancesOutput;
use cfn::operation::create_stack_set::CreateStackSetOutput;
use cfn::operation::delete_stack::DeleteStackOutput;
use cfn::operation::describe_change_set::DescribeChangeSetOutput;
use cfn::operation::describe_stack_events::DescribeStackEventsOutput;
use cfn::operation::describe_stack_set::DescribeStackSetOutput;
use cfn::operation::describe_stack_set_operation::DescribeStackSetOperationOutput;
use cfn::operation::describe_stacks::DescribeStacksOutput;
use cfn::operation::execute_change_set::ExecuteChangeSetOutput;
use cfn::operation::list_stack_instances::ListStackInstancesOutput;
use cfn::operation::list_stack_set_operation_results::ListStackSetOperationResultsOutput;
use cfn::operation::update_stack_instances::UpdateStackInstancesOutput;
use cfn::operation::update_stack_set::UpdateStackSetOutput;
use cfn::primitives::DateTime;
use cfn::types::{
    ChangeSetStatus, ChangeSetType, ExecutionStatus, Output, Parameter, ResourceStatus, Stack,
    StackEvent, StackInstanceSummary, StackSet, StackSetOperation, StackSetOperationResultStatus,
    StackSetOperationResultSummary, StackSetOperationStatus, StackSetStatus, StackStatus,
};
use ddb::Client as Dynamo;
use ddb::operation::describe_continuous_backups::DescribeContinuousBackupsOutput;
use ddb::operation::describe_table::DescribeTableOutput;
use ddb::operation::describe_time_to_live::DescribeTimeToLiveOutput;
use ddb::operation::list_tags_of_resource::ListTagsOfResourceOutput;
use ddb::operation::tag_resource::TagResourceOutput;
use ddb::operation::update_continuous_backups::UpdateContinuousBackupsOutput;
use ddb::operation::update_table::UpdateTableOutput;
use ddb::types::{
    ContinuousBackupsDescription, ContinuousBackupsStatus, PointInTimeRecoveryDescription,
    PointInTimeRecoveryStatus, ReplicaDescription, ReplicaStatus, SseDescription, SseStatus,
    SseType, StreamSpecification, StreamViewType, TableDescription, TableStatus,
    TimeToLiveDescription, TimeToLiveStatus,
};

use mraa::aws::Aws;

use crate::support::scripted::region_clients;
use mraa::cfn::stack as cfn_stack;
use mraa::context::{Change, Ctx};
use mraa::deploy::stack::{self, StackSpec};
use mraa::deploy::stack_set::{self, StackSetSpec};
use mraa::error::MraaError;
use mraa::plan::Plan;
use mraa::ui::progress::Reporter;
use mraa::wire::Verdict;
use mraa::wire::dynamodb::{REPLICA_TAG, ensure_replica};

const APP: &str = "demo";
const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";
const ACCOUNT: &str = "123456789012";
const RUN_ID: &str = "run1";

const UNIT: &str = "bootstrap";
const STACK: &str = "mraa-demo-bootstrap";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/mraa-demo-bootstrap/0a1b2c3d-1111-2222-3333-444455556666";
/// `{run_id}-{unit}`: the change set `stack::deploy` creates.
const CHANGE_SET: &str = "run1-bootstrap";
const TEMPLATE: &str = "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n";

const TABLE: &str = "mraa-demo-comments";
const TABLE_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/mraa-demo-comments";

// ---------------------------------------------------------------------------
// Scripted clients and the deploy context
// ---------------------------------------------------------------------------

/// A deploy context whose CloudFormation clients answer from the scripts.
/// `custom_endpoint: true` keeps polling backoffs at 50 ms.
fn ctx(primary_cfn: &[&Rule], secondary_cfn: &[&Rule]) -> Ctx {
    Ctx {
        aws: Aws {
            primary: region_clients(PRIMARY, primary_cfn),
            secondary: region_clients(SECONDARY, secondary_cfn),
            cloudfront: scripted!(aws_sdk_cloudfront, "us-east-1", &[]),
            sts: scripted!(aws_sdk_sts, PRIMARY, &[]),
            custom_endpoint: true,
            base: aws_config::SdkConfig::builder().build(),
        },
        account: ACCOUNT.to_string(),
        caller_arn: format!("arn:aws:iam::{ACCOUNT}:user/deployer"),
        app: APP.to_string(),
        plan: Plan::new(APP, PRIMARY, SECONDARY),
        run_id: RUN_ID.to_string(),
        reporter: Arc::new(Reporter::silent()),
        lock: mraa::lock::LockSlot::not_needed(),
        prefetched: Default::default(),
    }
}

/// Every rule was asked exactly as often as the script says.
fn assert_calls(expected: &[(&str, &Rule, usize)]) {
    for (what, rule, calls) in expected {
        assert_eq!(rule.num_calls(), *calls, "calls to {what}");
    }
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An error response as the query protocol (CloudFormation) sends it.
fn query_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>5ccc7dcd-744c-11e5-be70-1b08c228efb3</RequestId></ErrorResponse>"
    )
}

// ---------------------------------------------------------------------------
// Canned CloudFormation answers
// ---------------------------------------------------------------------------

fn stack_in(status: StackStatus, parameters: &[(&str, &str)]) -> Stack {
    Stack::builder()
        .stack_name(STACK)
        .stack_id(STACK_ID)
        .creation_time(DateTime::from_secs(1_700_000_000))
        .stack_status(status)
        .set_parameters(Some(
            parameters
                .iter()
                .map(|(k, v)| {
                    Parameter::builder()
                        .parameter_key(*k)
                        .parameter_value(*v)
                        .build()
                })
                .collect(),
        ))
        .build()
}

fn with_outputs(stack: Stack, outputs: &[(&str, &str)]) -> Stack {
    let mut stack = stack;
    stack.outputs = Some(
        outputs
            .iter()
            .map(|(k, v)| Output::builder().output_key(*k).output_value(*v).build())
            .collect(),
    );
    stack
}

/// One `describe_stacks` poll: the stack, or CloudFormation's "does not
/// exist" (HTTP 400 ValidationError).
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // test data, cloned a handful of times
enum Poll {
    Stack(Stack),
    Gone,
}

/// Consecutive `describe_stacks` calls for `name`, answered in order.
fn describe_stacks(name: &'static str, polls: Vec<Poll>) -> Rule {
    let mut seq = mock!(Cfn::describe_stacks)
        .match_requests(move |r| r.stack_name() == Some(name))
        .sequence();
    for poll in polls {
        seq = match poll {
            Poll::Stack(stack) => seq.output(move || {
                DescribeStacksOutput::builder()
                    .stacks(stack.clone())
                    .build()
            }),
            Poll::Gone => seq.http_status(
                400,
                Some(query_error(
                    "ValidationError",
                    &format!("Stack with id {name} does not exist"),
                )),
            ),
        };
    }
    seq.build()
}

fn statuses(statuses: &[StackStatus], parameters: &[(&str, &str)]) -> Vec<Poll> {
    statuses
        .iter()
        .map(|s| Poll::Stack(stack_in(s.clone(), parameters)))
        .collect()
}

fn create_change_set(kind: ChangeSetType) -> Rule {
    mock!(Cfn::create_change_set)
        .match_requests(move |r| {
            r.stack_name() == Some(STACK)
                && r.change_set_name() == Some(CHANGE_SET)
                && r.change_set_type() == Some(&kind)
                && r.template_body() == Some(TEMPLATE)
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id(format!(
                    "arn:aws:cloudformation:us-east-1:{ACCOUNT}:changeSet/{CHANGE_SET}/9f8e7d6c"
                ))
                .stack_id(STACK_ID)
                .build()
        })
}

/// The change set computes (CREATE_PENDING, CREATE_IN_PROGRESS), then is ready.
fn change_set_ready() -> Rule {
    let answer = |status: ChangeSetStatus| {
        move || {
            DescribeChangeSetOutput::builder()
                .change_set_name(CHANGE_SET)
                .stack_name(STACK)
                .status(status.clone())
                .execution_status(if status == ChangeSetStatus::CreateComplete {
                    ExecutionStatus::Available
                } else {
                    ExecutionStatus::Unavailable
                })
                .build()
        }
    };
    mock!(Cfn::describe_change_set)
        .match_requests(|r| r.change_set_name() == Some(CHANGE_SET))
        .sequence()
        .output(answer(ChangeSetStatus::CreatePending))
        .output(answer(ChangeSetStatus::CreateInProgress))
        .output(answer(ChangeSetStatus::CreateComplete))
        .build()
}

fn execute_change_set() -> Rule {
    mock!(Cfn::execute_change_set)
        .match_requests(|r| {
            r.change_set_name() == Some(CHANGE_SET) && r.stack_name() == Some(STACK)
        })
        .then_output(|| ExecuteChangeSetOutput::builder().build())
}

/// One stack event; `seconds` orders them (larger is newer).
fn event(
    seconds: i64,
    logical: &str,
    kind: &str,
    status: &str,
    reason: Option<&str>,
) -> StackEvent {
    StackEvent::builder()
        .stack_id(STACK_ID)
        .stack_name(STACK)
        .event_id(format!("{logical}-{status}-{seconds}"))
        .logical_resource_id(logical)
        .resource_type(kind)
        .resource_status(ResourceStatus::from(status))
        .set_resource_status_reason(reason.map(str::to_string))
        .timestamp(DateTime::from_secs(1_700_000_000 + seconds))
        .build()
}

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const BUCKET_TYPE: &str = "AWS::S3::Bucket";
const ROLE_TYPE: &str = "AWS::IAM::Role";
const QUEUE_TYPE: &str = "AWS::SQS::Queue";
const PARAMETER_TYPE: &str = "AWS::SSM::Parameter";

/// The root cause `failed_update_events` must yield.
const BUCKET_CAUSE: &str = "PhotosBucket (AWS::S3::Bucket) CREATE_FAILED: Bucket already exists";

/// Newest first, as DescribeStackEvents returns them: an update that added a
/// bucket, a parameter and a queue. The bucket failed first, the parameter
/// failed a moment later on its own, the queue was cancelled, and the update
/// rolled back. Below it, an older update that failed on the role.
fn failed_update_events() -> Vec<StackEvent> {
    vec![
        // The latest operation, newest first.
        event(216, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE", None),
        event(215, "UploadQueue", QUEUE_TYPE, "DELETE_COMPLETE", None),
        event(214, "AppConfig", PARAMETER_TYPE, "DELETE_COMPLETE", None),
        event(213, "PhotosBucket", BUCKET_TYPE, "DELETE_COMPLETE", None),
        event(
            212,
            STACK,
            STACK_TYPE,
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            None,
        ),
        event(211, "AdminRole", ROLE_TYPE, "UPDATE_COMPLETE", None),
        event(210, "AdminRole", ROLE_TYPE, "UPDATE_IN_PROGRESS", None),
        event(
            209,
            STACK,
            STACK_TYPE,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            Some(
                "The following resource(s) failed to create: [UploadQueue, AppConfig, PhotosBucket]. ",
            ),
        ),
        event(
            208,
            "UploadQueue",
            QUEUE_TYPE,
            "CREATE_FAILED",
            Some("Resource creation cancelled"),
        ),
        event(
            207,
            "AppConfig",
            PARAMETER_TYPE,
            "CREATE_FAILED",
            Some(
                "Resource handler returned message: \"Parameter /mraa/demo/config already exists.\"",
            ),
        ),
        event(
            206,
            "PhotosBucket",
            BUCKET_TYPE,
            "CREATE_FAILED",
            Some("Bucket already exists"),
        ),
        event(
            205,
            "UploadQueue",
            QUEUE_TYPE,
            "CREATE_IN_PROGRESS",
            Some("Resource creation Initiated"),
        ),
        event(204, "AppConfig", PARAMETER_TYPE, "CREATE_IN_PROGRESS", None),
        event(203, "PhotosBucket", BUCKET_TYPE, "CREATE_IN_PROGRESS", None),
        event(202, "AdminRole", ROLE_TYPE, "UPDATE_COMPLETE", None),
        event(201, "AdminRole", ROLE_TYPE, "UPDATE_IN_PROGRESS", None),
        event(
            200,
            STACK,
            STACK_TYPE,
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        // An older update, with its own failure: not this operation's cause.
        event(105, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE", None),
        event(
            104,
            STACK,
            STACK_TYPE,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            Some("The following resource(s) failed to update: [AdminRole]. "),
        ),
        event(
            103,
            "AdminRole",
            ROLE_TYPE,
            "UPDATE_FAILED",
            Some("User is not authorized to perform: iam:UpdateAssumeRolePolicy"),
        ),
        event(102, "AdminRole", ROLE_TYPE, "UPDATE_IN_PROGRESS", None),
        event(
            101,
            STACK,
            STACK_TYPE,
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(2, STACK, STACK_TYPE, "CREATE_COMPLETE", None),
        event(1, "AdminRole", ROLE_TYPE, "CREATE_COMPLETE", None),
        event(
            0,
            STACK,
            STACK_TYPE,
            "CREATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
    ]
}

fn stack_events(stack: &'static str, events: Vec<StackEvent>) -> Rule {
    mock!(Cfn::describe_stack_events)
        .match_requests(move |r| r.stack_name() == Some(stack))
        .then_output(move || {
            DescribeStackEventsOutput::builder()
                .set_stack_events(Some(events.clone()))
                .build()
        })
}

// ---------------------------------------------------------------------------
// 1. Root cause from stack events
// ---------------------------------------------------------------------------

#[test]
fn first_failure_is_the_latest_operations_first_real_resource_failure() {
    assert_eq!(
        cfn_stack::first_failure(&failed_update_events()),
        BUCKET_CAUSE
    );
}

#[test]
fn first_failure_without_a_real_failure_says_so() {
    // Only cancellations in the latest operation; the older failure is not it.
    let events = vec![
        event(13, STACK, STACK_TYPE, "ROLLBACK_COMPLETE", None),
        event(
            12,
            "UploadQueue",
            QUEUE_TYPE,
            "CREATE_FAILED",
            Some("Resource creation cancelled"),
        ),
        event(
            11,
            STACK,
            STACK_TYPE,
            "CREATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(
            5,
            "PhotosBucket",
            BUCKET_TYPE,
            "CREATE_FAILED",
            Some("Bucket already exists"),
        ),
        event(
            4,
            STACK,
            STACK_TYPE,
            "CREATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
    ];
    let cause = cfn_stack::first_failure(&events);
    assert!(cause.starts_with("no failed resource event"), "{cause}");
}

#[tokio::test]
async fn a_failed_update_names_unit_region_stack_and_root_cause() {
    let deployed = [("AppName", APP), ("Env", "dev")];
    let existing = describe_stacks(STACK, statuses(&[StackStatus::UpdateComplete], &deployed));
    let create = create_change_set(ChangeSetType::Update);
    let ready = change_set_ready();
    let execute = execute_change_set();
    let polls = describe_stacks(
        STACK,
        statuses(
            &[
                StackStatus::UpdateInProgress,
                StackStatus::UpdateRollbackInProgress,
                StackStatus::UpdateRollbackComplete,
            ],
            &deployed,
        ),
    );
    let events = stack_events(STACK, failed_update_events());
    let ctx = ctx(
        &[&existing, &create, &ready, &execute, &polls, &events],
        &[],
    );

    let err = deploy_test_stack(&ctx, &[("AppName", APP), ("Env", "prod")])
        .await
        .expect_err("the update rolled back");

    let MraaError::Aws(aws) = &err else {
        panic!("expected an AWS error, got {err:?}");
    };
    assert_eq!(aws.unit, UNIT);
    assert_eq!(aws.region, PRIMARY);
    assert_eq!(aws.resource, STACK);
    assert_eq!(
        aws.cause,
        format!("stack ended UPDATE_ROLLBACK_COMPLETE: {BUCKET_CAUSE}")
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{UNIT} in {PRIMARY}: {STACK}: stack ended UPDATE_ROLLBACK_COMPLETE: {BUCKET_CAUSE}"
        )
    );
    assert_eq!(err.exit_code(), 1);
    assert_calls(&[
        ("describe_stacks (existing)", &existing, 1),
        ("create_change_set", &create, 1),
        ("describe_change_set", &ready, 3),
        ("execute_change_set", &execute, 1),
        ("describe_stacks (polls)", &polls, 3),
        ("describe_stack_events", &events, 1),
    ]);
}

// ---------------------------------------------------------------------------
// 2. ROLLBACK_COMPLETE: delete, wait until gone, create
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_rolled_back_first_create_is_deleted_then_created_again() {
    let deployed = [("AppName", APP)];
    let existing = describe_stacks(STACK, statuses(&[StackStatus::RollbackComplete], &deployed));
    let delete = mock!(Cfn::delete_stack)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(|| DeleteStackOutput::builder().build());
    let until_gone = describe_stacks(
        STACK,
        vec![
            Poll::Stack(stack_in(StackStatus::DeleteInProgress, &deployed)),
            Poll::Gone,
        ],
    );
    let create = create_change_set(ChangeSetType::Create);
    let ready = change_set_ready();
    let execute = execute_change_set();
    let created = with_outputs(
        stack_in(StackStatus::CreateComplete, &deployed),
        &[(
            "AdminRoleArn",
            "arn:aws:iam::123456789012:role/mraa-demo-stackset-admin",
        )],
    );
    let polls = describe_stacks(
        STACK,
        vec![
            Poll::Stack(stack_in(StackStatus::CreateInProgress, &deployed)),
            Poll::Stack(stack_in(StackStatus::CreateInProgress, &deployed)),
            Poll::Stack(created.clone()),
            // The final read, for the outputs.
            Poll::Stack(created),
        ],
    );
    let ctx = ctx(
        &[
            &existing,
            &delete,
            &until_gone,
            &create,
            &ready,
            &execute,
            &polls,
        ],
        &[],
    );

    let outcome = deploy_test_stack(&ctx, &deployed)
        .await
        .expect("re-created");

    assert_eq!(outcome.change, Change::Created);
    assert_eq!(
        outcome.outputs,
        BTreeMap::from([(
            PRIMARY.to_string(),
            params(&[(
                "AdminRoleArn",
                "arn:aws:iam::123456789012:role/mraa-demo-stackset-admin"
            )])
        )])
    );
    assert_calls(&[
        ("describe_stacks (existing)", &existing, 1),
        ("delete_stack", &delete, 1),
        ("describe_stacks (until gone)", &until_gone, 2),
        ("create_change_set CREATE", &create, 1),
        ("describe_change_set", &ready, 3),
        ("execute_change_set", &execute, 1),
        ("describe_stacks (polls)", &polls, 4),
    ]);
}

// ---------------------------------------------------------------------------
// 3. UPDATE_ROLLBACK_FAILED: continue the rollback, then update
// ---------------------------------------------------------------------------

fn continue_rollback() -> Rule {
    mock!(Cfn::continue_update_rollback)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(|| ContinueUpdateRollbackOutput::builder().build())
}

#[tokio::test]
async fn a_failed_rollback_is_continued_then_the_update_proceeds() {
    let deployed = [("AppName", APP)];
    let existing = describe_stacks(
        STACK,
        statuses(&[StackStatus::UpdateRollbackFailed], &deployed),
    );
    let resume = continue_rollback();
    let rollback = describe_stacks(
        STACK,
        statuses(
            &[
                StackStatus::UpdateRollbackInProgress,
                StackStatus::UpdateRollbackCompleteCleanupInProgress,
                StackStatus::UpdateRollbackComplete,
            ],
            &deployed,
        ),
    );
    let create = create_change_set(ChangeSetType::Update);
    let ready = change_set_ready();
    let execute = execute_change_set();
    let updated = with_outputs(
        stack_in(StackStatus::UpdateComplete, &deployed),
        &[("DeploymentId", "run1")],
    );
    let polls = describe_stacks(
        STACK,
        vec![
            Poll::Stack(stack_in(StackStatus::UpdateInProgress, &deployed)),
            Poll::Stack(stack_in(
                StackStatus::UpdateCompleteCleanupInProgress,
                &deployed,
            )),
            Poll::Stack(updated.clone()),
            Poll::Stack(updated),
        ],
    );
    let ctx = ctx(
        &[
            &existing, &resume, &rollback, &create, &ready, &execute, &polls,
        ],
        &[],
    );

    let outcome = deploy_test_stack(&ctx, &deployed)
        .await
        .expect("updated after the rollback");

    assert_eq!(outcome.change, Change::Updated);
    assert_eq!(
        outcome.outputs,
        BTreeMap::from([(PRIMARY.to_string(), params(&[("DeploymentId", "run1")]))])
    );
    assert_calls(&[
        ("describe_stacks (existing)", &existing, 1),
        ("continue_update_rollback", &resume, 1),
        ("describe_stacks (rollback)", &rollback, 3),
        ("create_change_set UPDATE", &create, 1),
        ("describe_change_set", &ready, 3),
        ("execute_change_set", &execute, 1),
        ("describe_stacks (polls)", &polls, 4),
    ]);
}

#[tokio::test]
async fn a_rollback_that_fails_again_stops_with_its_cause() {
    let deployed = [("AppName", APP)];
    let existing = describe_stacks(
        STACK,
        statuses(&[StackStatus::UpdateRollbackFailed], &deployed),
    );
    let resume = continue_rollback();
    let rollback = describe_stacks(
        STACK,
        statuses(
            &[
                StackStatus::UpdateRollbackInProgress,
                StackStatus::UpdateRollbackFailed,
            ],
            &deployed,
        ),
    );
    let events = stack_events(
        STACK,
        vec![
            event(
                13,
                STACK,
                STACK_TYPE,
                "UPDATE_ROLLBACK_FAILED",
                Some("The following resource(s) failed to update: [AdminRole]. "),
            ),
            event(
                12,
                "AdminRole",
                ROLE_TYPE,
                "UPDATE_FAILED",
                Some("Role mraa-demo-admin cannot be found"),
            ),
            event(11, STACK, STACK_TYPE, "UPDATE_ROLLBACK_IN_PROGRESS", None),
            event(
                10,
                STACK,
                STACK_TYPE,
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
        ],
    );
    // No change set: the script ends after the events.
    let ctx = ctx(&[&existing, &resume, &rollback, &events], &[]);

    let err = deploy_test_stack(&ctx, &deployed)
        .await
        .expect_err("the rollback failed again")
        .to_string();

    assert!(
        err.starts_with(&format!("{UNIT} in {PRIMARY}: {STACK}: rollback ended")),
        "{err}"
    );
    // Today `Some(UpdateRollbackFailed)` (Debug); CloudFormation's own
    // spelling would be better and is accepted too.
    assert!(
        err.contains("UpdateRollbackFailed") || err.contains("UPDATE_ROLLBACK_FAILED"),
        "{err}"
    );
    assert!(
        err.contains(
            "AdminRole (AWS::IAM::Role) UPDATE_FAILED: Role mraa-demo-admin cannot be found"
        ),
        "{err}"
    );
    assert_calls(&[
        ("describe_stacks (existing)", &existing, 1),
        ("continue_update_rollback", &resume, 1),
        ("describe_stacks (rollback)", &rollback, 2),
        ("describe_stack_events", &events, 1),
    ]);
}

// ---------------------------------------------------------------------------
// 4. A StackSet operation that failed in one region
// ---------------------------------------------------------------------------

const SET: &str = "mraa-demo-storage";
const SET_UNIT: &str = "storage";
/// `{run_id}-{unit}-update`: the operation id mraa gives the update.
const SET_OPERATION: &str = "run1-storage-update";
const INSTANCE_STACK_ID: &str = "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/StackSet-mraa-demo-storage-7c1e2d3f/aa11bb22-cc33-dd44-ee55-ff6677889900";
const TABLE_REASON: &str = "ResourceLogicalId:Table, ResourceType:AWS::DynamoDB::Table, ResourceStatusReason:Resource handler returned message: \"Table already exists: mraa-demo-comments\".";

#[tokio::test]
async fn a_failed_stack_set_operation_names_the_failed_region_and_its_reason() {
    let existing = mock!(Cfn::describe_stack_set)
        .match_requests(|r| r.stack_set_name() == Some(SET))
        .then_output(|| {
            DescribeStackSetOutput::builder()
                .stack_set(
                    StackSet::builder()
                        .stack_set_name(SET)
                        .status(StackSetStatus::Active)
                        .template_body("Resources: {} # the previous template\n")
                        .parameters(
                            Parameter::builder()
                                .parameter_key("AppName")
                                .parameter_value(APP)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let update = mock!(Cfn::update_stack_set)
        .match_requests(|r| {
            r.stack_set_name() == Some(SET)
                && r.template_body() == Some(TEMPLATE)
                && r.operation_id() == Some(SET_OPERATION)
        })
        .then_output(|| {
            UpdateStackSetOutput::builder()
                .operation_id(SET_OPERATION)
                .build()
        });
    let operation = |status: StackSetOperationStatus| {
        move || {
            DescribeStackSetOperationOutput::builder()
                .stack_set_operation(
                    StackSetOperation::builder()
                        .operation_id(SET_OPERATION)
                        .stack_set_id(format!("{SET}:5e6f7a8b"))
                        .status(status.clone())
                        .build(),
                )
                .build()
        }
    };
    let progress = mock!(Cfn::describe_stack_set_operation)
        .match_requests(|r| {
            r.stack_set_name() == Some(SET) && r.operation_id() == Some(SET_OPERATION)
        })
        .sequence()
        .output(operation(StackSetOperationStatus::Running))
        .output(operation(StackSetOperationStatus::Failed))
        .build();
    let results = mock!(Cfn::list_stack_set_operation_results)
        .match_requests(|r| {
            r.stack_set_name() == Some(SET) && r.operation_id() == Some(SET_OPERATION)
        })
        .then_output(|| {
            ListStackSetOperationResultsOutput::builder()
                .summaries(
                    StackSetOperationResultSummary::builder()
                        .account(ACCOUNT)
                        .region(PRIMARY)
                        .status(StackSetOperationResultStatus::Succeeded)
                        .build(),
                )
                .summaries(
                    StackSetOperationResultSummary::builder()
                        .account(ACCOUNT)
                        .region(SECONDARY)
                        .status(StackSetOperationResultStatus::Failed)
                        .status_reason(TABLE_REASON)
                        .build(),
                )
                .build()
        });
    // The failed region's instance stack, found through the instance.
    let instance = mock!(Cfn::list_stack_instances)
        .match_requests(|r| {
            r.stack_set_name() == Some(SET) && r.stack_instance_region() == Some(SECONDARY)
        })
        .then_output(|| {
            ListStackInstancesOutput::builder()
                .summaries(
                    StackInstanceSummary::builder()
                        .stack_set_id(format!("{SET}:5e6f7a8b"))
                        .account(ACCOUNT)
                        .region(SECONDARY)
                        .stack_id(INSTANCE_STACK_ID)
                        .build(),
                )
                .build()
        });
    // Its events are read by the instance's StackId at once: after a failed
    // creation StackSets deletes the stack, and only its id reads them.
    let secondary_events = stack_events(
        INSTANCE_STACK_ID,
        vec![
            event(
                24,
                "StackSet-mraa-demo-storage-7c1e2d3f",
                STACK_TYPE,
                "UPDATE_ROLLBACK_COMPLETE",
                None,
            ),
            event(
                23,
                "StackSet-mraa-demo-storage-7c1e2d3f",
                STACK_TYPE,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [Table]. "),
            ),
            event(
                22,
                "Table",
                "AWS::DynamoDB::Table",
                "CREATE_FAILED",
                Some(
                    "Resource handler returned message: \"Table already exists: mraa-demo-comments\"",
                ),
            ),
            event(
                21,
                "Table",
                "AWS::DynamoDB::Table",
                "CREATE_IN_PROGRESS",
                None,
            ),
            event(
                20,
                "StackSet-mraa-demo-storage-7c1e2d3f",
                STACK_TYPE,
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
        ],
    );
    let ctx = ctx(
        &[&existing, &update, &progress, &results, &instance],
        &[&secondary_events],
    );

    let wanted = params(&[("AppName", APP)]);
    let regions = [PRIMARY.to_string(), SECONDARY.to_string()];
    let spec = StackSetSpec {
        unit: SET_UNIT,
        name: SET,
        body: TEMPLATE,
        parameters: &wanted,
        regions: &regions,
    };
    let err = stack_set::deploy(&ctx, &spec)
        .await
        .expect_err("the operation failed");

    let MraaError::Aws(aws) = &err else {
        panic!("expected an AWS error, got {err:?}");
    };
    assert_eq!(aws.unit, SET_UNIT);
    // Named under the region that failed, not the StackSet's home.
    assert_eq!(aws.region, SECONDARY);
    assert_eq!(aws.resource, format!("{SET} operation {SET_OPERATION}"));
    assert_eq!(
        aws.cause,
        // The resource's own event says it once; the operation's
        // summary of the same cause is not repeated.
        format!(
            "{SECONDARY} FAILED: Table (AWS::DynamoDB::Table) CREATE_FAILED: \
             Resource handler returned message: \"Table already exists: mraa-demo-comments\""
        )
    );
    // The region that succeeded is not reported as a reason.
    assert!(!aws.cause.contains(PRIMARY), "{}", aws.cause);
    let message = err.to_string();
    assert!(
        message.contains(SET) && message.contains(SET_OPERATION),
        "{message}"
    );
    assert_calls(&[
        ("describe_stack_set", &existing, 1),
        ("update_stack_set", &update, 1),
        ("describe_stack_set_operation", &progress, 2),
        ("list_stack_set_operation_results", &results, 1),
        ("list_stack_instances", &instance, 1),
        (
            "describe_stack_events in the failed region",
            &secondary_events,
            1,
        ),
    ]);
}

// ---------------------------------------------------------------------------
// 4b. StackSet roles IAM has not propagated yet: waited out, within bounds
// ---------------------------------------------------------------------------

const TRUST_REASON: &str = "Account 123456789012 should have 'mraa-demo-stackset-exec' role with trust relationship to Role 'mraa-demo-stackset-admin'.";
const PRIMARY_INSTANCE_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/StackSet-mraa-demo-storage-1a2b3c4d/11aa22bb-33cc-44dd-55ee-66ff77889900";

/// `{run_id}-{unit}-create`, then `-2`, `-3`… for the attempts after it.
fn create_operation(attempt: u32) -> String {
    match attempt {
        1 => "run1-storage-create".to_string(),
        n => format!("run1-storage-create-{n}"),
    }
}

fn both_regions() -> Vec<String> {
    vec![PRIMARY.to_string(), SECONDARY.to_string()]
}

fn stack_set_absent() -> Rule {
    mock!(Cfn::describe_stack_set)
        .match_requests(|r| r.stack_set_name() == Some(SET))
        .sequence()
        .http_status(
            400,
            Some(query_error(
                "StackSetNotFoundException",
                "StackSet mraa-demo-storage not found",
            )),
        )
        .build()
}

/// The StackSet exactly as the spec wants it: no StackSet call follows.
fn stack_set_in_place() -> Rule {
    mock!(Cfn::describe_stack_set)
        .match_requests(|r| r.stack_set_name() == Some(SET))
        .then_output(|| {
            DescribeStackSetOutput::builder()
                .stack_set(
                    StackSet::builder()
                        .stack_set_name(SET)
                        .status(StackSetStatus::Active)
                        .template_body(TEMPLATE)
                        .parameters(
                            Parameter::builder()
                                .parameter_key("AppName")
                                .parameter_value(APP)
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
}

fn no_instances() -> Rule {
    mock!(Cfn::list_stack_instances)
        .match_requests(|r| r.stack_set_name() == Some(SET) && r.stack_instance_region().is_none())
        .then_output(|| ListStackInstancesOutput::builder().build())
}

fn create_instances(operation: String) -> Rule {
    mock!(Cfn::create_stack_instances)
        .match_requests(move |r| {
            r.stack_set_name() == Some(SET)
                && r.operation_id() == Some(operation.as_str())
                && r.regions() == both_regions()
        })
        .then_output(|| CreateStackInstancesOutput::builder().build())
}

/// The retry after a failed operation: the instances exist (OUTDATED), so
/// it updates them.
fn update_instances(operation: String, regions: Vec<String>) -> Rule {
    mock!(Cfn::update_stack_instances)
        .match_requests(move |r| {
            r.stack_set_name() == Some(SET)
                && r.operation_id() == Some(operation.as_str())
                && r.regions() == regions
        })
        .then_output(|| UpdateStackInstancesOutput::builder().build())
}

/// Consecutive polls of `operation`, answered in order.
fn operation_polls(operation: String, statuses: &[StackSetOperationStatus]) -> Rule {
    let matched = operation.clone();
    let mut seq = mock!(Cfn::describe_stack_set_operation)
        .match_requests(move |r| {
            r.stack_set_name() == Some(SET) && r.operation_id() == Some(matched.as_str())
        })
        .sequence();
    for status in statuses {
        let (operation, status) = (operation.clone(), status.clone());
        seq = seq.output(move || {
            DescribeStackSetOperationOutput::builder()
                .stack_set_operation(
                    StackSetOperation::builder()
                        .operation_id(&operation)
                        .stack_set_id(format!("{SET}:5e6f7a8b"))
                        .status(status.clone())
                        .build(),
                )
                .build()
        });
    }
    seq.build()
}

/// The per-region results of `operation`: (region, status, reason).
fn operation_results(
    operation: String,
    results: &[(&'static str, StackSetOperationResultStatus, &'static str)],
) -> Rule {
    let summaries: Vec<StackSetOperationResultSummary> = results
        .iter()
        .map(|(region, status, reason)| {
            StackSetOperationResultSummary::builder()
                .account(ACCOUNT)
                .region(*region)
                .status(status.clone())
                .status_reason(*reason)
                .build()
        })
        .collect();
    mock!(Cfn::list_stack_set_operation_results)
        .match_requests(move |r| {
            r.stack_set_name() == Some(SET) && r.operation_id() == Some(operation.as_str())
        })
        .then_output(move || {
            ListStackSetOperationResultsOutput::builder()
                .set_summaries(Some(summaries.clone()))
                .build()
        })
}

/// The instance in `region`, with its stack's id when it has a stack.
fn instance_in(region: &'static str, stack_id: Option<&'static str>) -> Rule {
    mock!(Cfn::list_stack_instances)
        .match_requests(move |r| {
            r.stack_set_name() == Some(SET) && r.stack_instance_region() == Some(region)
        })
        .then_output(move || {
            ListStackInstancesOutput::builder()
                .summaries(
                    StackInstanceSummary::builder()
                        .stack_set_id(format!("{SET}:5e6f7a8b"))
                        .account(ACCOUNT)
                        .region(region)
                        .set_stack_id(stack_id.map(str::to_string))
                        .build(),
                )
                .build()
        })
}

/// An instance stack with one output, read by its id.
fn instance_stack_with_output(id: &'static str, bucket: &str) -> Rule {
    let mut stack = with_outputs(
        stack_in(StackStatus::CreateComplete, &[("AppName", APP)]),
        &[("BucketName", bucket)],
    );
    stack.stack_id = Some(id.to_string());
    describe_stacks(id, vec![Poll::Stack(stack)])
}

/// A region with no instance stack at all: the name search finds none.
fn no_stacks_in_region() -> Rule {
    mock!(Cfn::describe_stacks)
        .match_requests(|r| r.stack_name().is_none())
        .then_output(|| DescribeStacksOutput::builder().build())
}

fn storage_spec<'a>(
    wanted: &'a BTreeMap<String, String>,
    regions: &'a [String],
) -> StackSetSpec<'a> {
    StackSetSpec {
        unit: SET_UNIT,
        name: SET,
        body: TEMPLATE,
        parameters: wanted,
        regions,
    }
}

// Paused clock: the backoffs between attempts take no real time.
#[tokio::test(start_paused = true)]
async fn a_stack_set_on_just_created_roles_waits_for_iam_then_succeeds() {
    use StackSetOperationResultStatus as R;
    // A fresh account: no StackSet yet.
    let absent = stack_set_absent();
    let create_set = mock!(Cfn::create_stack_set)
        .match_requests(|r| r.stack_set_name() == Some(SET))
        .then_output(|| {
            CreateStackSetOutput::builder()
                .stack_set_id(format!("{SET}:5e6f7a8b"))
                .build()
        });
    let listed = no_instances();
    let create = create_instances(create_operation(1));
    let first = operation_polls(create_operation(1), &[StackSetOperationStatus::Failed]);
    let first_results = operation_results(
        create_operation(1),
        &[
            (PRIMARY, R::Failed, TRUST_REASON),
            (
                SECONDARY,
                R::Cancelled,
                "Cancelled since failure tolerance has exceeded",
            ),
        ],
    );
    let retry = update_instances(create_operation(2), both_regions());
    let second = operation_polls(
        create_operation(2),
        &[
            StackSetOperationStatus::Running,
            StackSetOperationStatus::Succeeded,
        ],
    );
    let primary_instance = instance_in(PRIMARY, Some(PRIMARY_INSTANCE_ID));
    let primary_stack = instance_stack_with_output(PRIMARY_INSTANCE_ID, "photos-primary");
    let secondary_instance = instance_in(SECONDARY, Some(INSTANCE_STACK_ID));
    let secondary_stack = instance_stack_with_output(INSTANCE_STACK_ID, "photos-secondary");
    let ctx = ctx(
        &[
            &absent,
            &create_set,
            &listed,
            &create,
            &first,
            &first_results,
            &retry,
            &second,
            &primary_instance,
            &primary_stack,
            &secondary_instance,
        ],
        &[&secondary_stack],
    );

    let wanted = params(&[("AppName", APP)]);
    let regions = both_regions();
    let outcome = stack_set::deploy(&ctx, &storage_spec(&wanted, &regions))
        .await
        .expect("the second attempt succeeded");

    assert_eq!(outcome.change, Change::Created);
    assert_eq!(
        outcome.outputs,
        BTreeMap::from([
            (
                PRIMARY.to_string(),
                params(&[("BucketName", "photos-primary")])
            ),
            (
                SECONDARY.to_string(),
                params(&[("BucketName", "photos-secondary")])
            ),
        ])
    );
    // Exactly two instance operations: the create, and its retry.
    assert_calls(&[
        ("describe_stack_set", &absent, 1),
        ("create_stack_set", &create_set, 1),
        ("list_stack_instances", &listed, 1),
        ("create_stack_instances", &create, 1),
        ("describe_stack_set_operation (first)", &first, 1),
        (
            "list_stack_set_operation_results (first)",
            &first_results,
            1,
        ),
        ("update_stack_instances (retry)", &retry, 1),
        ("describe_stack_set_operation (retry)", &second, 2),
        ("list_stack_instances in the primary", &primary_instance, 1),
        ("describe_stacks in the primary", &primary_stack, 1),
        (
            "list_stack_instances in the secondary",
            &secondary_instance,
            1,
        ),
        ("describe_stacks in the secondary", &secondary_stack, 1),
    ]);
}

#[tokio::test(start_paused = true)]
async fn a_refused_instances_call_on_unassumable_roles_is_sent_again() {
    let existing = stack_set_in_place();
    let listed = no_instances();
    let refused = mock!(Cfn::create_stack_instances)
        .match_requests(|r| r.operation_id() == Some("run1-storage-create"))
        .sequence()
        .http_status(
            400,
            Some(query_error(
                "ValidationError",
                "Role arn:aws:iam::123456789012:role/mraa-demo-stackset-admin cannot be assumed",
            )),
        )
        .build();
    // Nothing was started: the same create, under a new operation id.
    let create = create_instances(create_operation(2));
    let polls = operation_polls(create_operation(2), &[StackSetOperationStatus::Succeeded]);
    let primary_instance = instance_in(PRIMARY, Some(PRIMARY_INSTANCE_ID));
    let primary_stack = instance_stack_with_output(PRIMARY_INSTANCE_ID, "photos-primary");
    let secondary_instance = instance_in(SECONDARY, Some(INSTANCE_STACK_ID));
    let secondary_stack = instance_stack_with_output(INSTANCE_STACK_ID, "photos-secondary");
    let ctx = ctx(
        &[
            &existing,
            &listed,
            &refused,
            &create,
            &polls,
            &primary_instance,
            &primary_stack,
            &secondary_instance,
        ],
        &[&secondary_stack],
    );

    let wanted = params(&[("AppName", APP)]);
    let regions = both_regions();
    let outcome = stack_set::deploy(&ctx, &storage_spec(&wanted, &regions))
        .await
        .expect("the second call was accepted");

    assert_eq!(outcome.change, Change::Updated);
    assert_calls(&[
        ("describe_stack_set", &existing, 1),
        ("list_stack_instances", &listed, 1),
        ("create_stack_instances (refused)", &refused, 1),
        ("create_stack_instances (accepted)", &create, 1),
        ("describe_stack_set_operation", &polls, 1),
        ("list_stack_instances in the primary", &primary_instance, 1),
        ("describe_stacks in the primary", &primary_stack, 1),
        (
            "list_stack_instances in the secondary",
            &secondary_instance,
            1,
        ),
        ("describe_stacks in the secondary", &secondary_stack, 1),
    ]);
}

#[tokio::test(start_paused = true)]
async fn a_stack_set_failure_for_another_reason_is_reported_at_once() {
    use StackSetOperationResultStatus as R;
    const DENIED: &str = "Resource handler returned message: AccessDenied";
    let existing = stack_set_in_place();
    let listed = no_instances();
    let create = create_instances(create_operation(1));
    let polls = operation_polls(create_operation(1), &[StackSetOperationStatus::Failed]);
    let results = operation_results(
        create_operation(1),
        &[(PRIMARY, R::Succeeded, ""), (SECONDARY, R::Failed, DENIED)],
    );
    // Explaining the failure: the failed region's instance stack and events.
    let instance = instance_in(SECONDARY, Some(INSTANCE_STACK_ID));
    let secondary_events = stack_events(
        INSTANCE_STACK_ID,
        vec![
            event(3, STACK, STACK_TYPE, "ROLLBACK_COMPLETE", None),
            event(
                2,
                "PhotosBucket",
                BUCKET_TYPE,
                "CREATE_FAILED",
                Some("Resource handler returned message: AccessDenied"),
            ),
            event(
                1,
                STACK,
                STACK_TYPE,
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
        ],
    );
    let ctx = ctx(
        &[&existing, &listed, &create, &polls, &results, &instance],
        &[&secondary_events],
    );

    let wanted = params(&[("AppName", APP)]);
    let regions = both_regions();
    let err = stack_set::deploy(&ctx, &storage_spec(&wanted, &regions))
        .await
        .expect_err("the operation failed");

    let MraaError::Aws(aws) = &err else {
        panic!("expected an AWS error, got {err:?}");
    };
    assert_eq!(aws.unit, SET_UNIT);
    assert_eq!(aws.region, SECONDARY);
    assert_eq!(
        aws.resource,
        format!("{SET} operation {}", create_operation(1))
    );
    assert_eq!(
        aws.cause,
        format!(
            "{SECONDARY} FAILED: {DENIED} — PhotosBucket (AWS::S3::Bucket) \
             CREATE_FAILED: Resource handler returned message: AccessDenied"
        )
    );
    // No retry: one instance operation, and no word of IAM propagation.
    assert!(!aws.cause.contains("propagat"), "{}", aws.cause);
    assert_calls(&[
        ("describe_stack_set", &existing, 1),
        ("list_stack_instances", &listed, 1),
        ("create_stack_instances", &create, 1),
        ("describe_stack_set_operation", &polls, 1),
        ("list_stack_set_operation_results", &results, 1),
        ("list_stack_instances in the failed region", &instance, 1),
        (
            "describe_stack_events in the failed region",
            &secondary_events,
            1,
        ),
    ]);
}

#[tokio::test(start_paused = true)]
async fn roles_iam_never_propagates_stop_after_the_bounded_attempts_with_a_hint() {
    use StackSetOperationResultStatus as R;
    const ATTEMPTS: u32 = 4;
    let trust_failed = [
        (PRIMARY, R::Failed, TRUST_REASON),
        (SECONDARY, R::Failed, TRUST_REASON),
    ];
    let existing = stack_set_in_place();
    let listed = no_instances();
    let create = create_instances(create_operation(1));
    let mut attempts = vec![(
        operation_polls(create_operation(1), &[StackSetOperationStatus::Failed]),
        operation_results(create_operation(1), &trust_failed),
    )];
    let mut retries = Vec::new();
    for attempt in 2..=ATTEMPTS {
        retries.push(update_instances(create_operation(attempt), both_regions()));
        attempts.push((
            operation_polls(
                create_operation(attempt),
                &[StackSetOperationStatus::Failed],
            ),
            operation_results(create_operation(attempt), &trust_failed),
        ));
    }
    // Explaining the last failure: the instances never got a stack.
    let primary_instance = instance_in(PRIMARY, None);
    let primary_search = no_stacks_in_region();
    let secondary_instance = instance_in(SECONDARY, None);
    let secondary_search = no_stacks_in_region();

    let mut script: Vec<&Rule> = vec![&existing, &listed, &create];
    for (i, (polls, results)) in attempts.iter().enumerate() {
        if i > 0 {
            script.push(&retries[i - 1]);
        }
        script.push(polls);
        script.push(results);
    }
    script.extend([&primary_instance, &primary_search, &secondary_instance]);
    let ctx = ctx(&script, &[&secondary_search]);

    let wanted = params(&[("AppName", APP)]);
    let regions = both_regions();
    let err = stack_set::deploy(&ctx, &storage_spec(&wanted, &regions))
        .await
        .expect_err("IAM never propagated the roles");

    let MraaError::Aws(aws) = &err else {
        panic!("expected an AWS error, got {err:?}");
    };
    assert_eq!(aws.unit, SET_UNIT);
    assert_eq!(aws.region, PRIMARY);
    assert_eq!(
        aws.resource,
        format!("{SET} operation {}", create_operation(ATTEMPTS))
    );
    // The explanation as for any failed operation, then the hint.
    assert!(
        aws.cause.starts_with(&format!(
            "{PRIMARY} FAILED: {TRUST_REASON}; {SECONDARY} FAILED: {TRUST_REASON}; "
        )),
        "{}",
        aws.cause
    );
    assert!(
        aws.cause.contains("StackSet roles were just created")
            && aws.cause.contains(&format!("after {ATTEMPTS} attempts"))
            && aws.cause.contains("run `mraa deploy` again"),
        "{}",
        aws.cause
    );
    assert_calls(&[
        ("describe_stack_set", &existing, 1),
        ("list_stack_instances", &listed, 1),
        ("create_stack_instances", &create, 1),
        ("list_stack_instances in the primary", &primary_instance, 1),
        ("describe_stacks search in the primary", &primary_search, 1),
        (
            "list_stack_instances in the secondary",
            &secondary_instance,
            1,
        ),
        (
            "describe_stacks search in the secondary",
            &secondary_search,
            1,
        ),
    ]);
    for retry in &retries {
        assert_calls(&[("update_stack_instances (retry)", retry, 1)]);
    }
    for (polls, results) in &attempts {
        assert_calls(&[
            ("describe_stack_set_operation", polls, 1),
            ("list_stack_set_operation_results", results, 1),
        ]);
    }
}

// ---------------------------------------------------------------------------
// 5. DynamoDB replicas
// ---------------------------------------------------------------------------

fn table(replica: Option<ReplicaStatus>, deletion_protection: bool) -> TableDescription {
    let mut table = TableDescription::builder()
        .table_name(TABLE)
        .table_arn(TABLE_ARN)
        .table_status(TableStatus::Active)
        .deletion_protection_enabled(deletion_protection)
        // Encryption and stream as the template declares them.
        .sse_description(
            SseDescription::builder()
                .status(SseStatus::Enabled)
                .sse_type(SseType::Kms)
                .build(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        );
    if let Some(status) = replica {
        let description = match status {
            ReplicaStatus::InaccessibleEncryptionCredentials => {
                "The KMS key used to encrypt the replica is disabled"
            }
            _ => "",
        };
        table = table.replicas(
            ReplicaDescription::builder()
                .region_name(SECONDARY)
                .replica_status(status)
                .replica_status_description(description)
                .build(),
        );
    }
    table.build()
}

/// Consecutive `describe_table` calls, answered in order.
fn describe_table(tables: Vec<TableDescription>) -> Rule {
    let mut seq = mock!(Dynamo::describe_table)
        .match_requests(|r| r.table_name() == Some(TABLE))
        .sequence();
    for t in tables {
        seq = seq.output(move || DescribeTableOutput::builder().table(t.clone()).build());
    }
    seq.build()
}

fn continuous_backups(pitr: PointInTimeRecoveryStatus) -> Rule {
    mock!(Dynamo::describe_continuous_backups)
        .match_requests(|r| r.table_name() == Some(TABLE))
        .then_output(move || {
            DescribeContinuousBackupsOutput::builder()
                .continuous_backups_description(
                    ContinuousBackupsDescription::builder()
                        .continuous_backups_status(ContinuousBackupsStatus::Enabled)
                        .point_in_time_recovery_description(
                            PointInTimeRecoveryDescription::builder()
                                .point_in_time_recovery_status(pitr.clone())
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
        })
}

/// The replica's time to live (off, as the template has it) and tags (the
/// StackSet's `mraa:app`), as the settings check reads them after PITR.
fn ttl_and_tags() -> (Rule, Rule) {
    let ttl = mock!(Dynamo::describe_time_to_live)
        .match_requests(|r| r.table_name() == Some(TABLE))
        .then_output(|| {
            DescribeTimeToLiveOutput::builder()
                .time_to_live_description(
                    TimeToLiveDescription::builder()
                        .time_to_live_status(TimeToLiveStatus::Disabled)
                        .build(),
                )
                .build()
        });
    let tags = mock!(Dynamo::list_tags_of_resource)
        .match_requests(|r| r.resource_arn() == Some(TABLE_ARN))
        .then_output(|| {
            ListTagsOfResourceOutput::builder()
                .tags(
                    ddb::types::Tag::builder()
                        .key("mraa:app")
                        .value("demo")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    (ttl, tags)
}

fn dynamo(region: &str, rules: &[&Rule]) -> Dynamo {
    scripted!(ddb, region, rules)
}

#[tokio::test]
async fn a_creating_replica_is_awaited_then_protected() {
    let primary_table = describe_table(vec![
        table(Some(ReplicaStatus::Creating), true),
        table(Some(ReplicaStatus::Creating), true),
        table(Some(ReplicaStatus::Active), true),
    ]);
    let replica_table = describe_table(vec![table(None, false)]);
    let protect = mock!(Dynamo::update_table)
        .match_requests(|r| {
            r.table_name() == Some(TABLE)
                && r.deletion_protection_enabled() == Some(true)
                && r.replica_updates().is_empty()
        })
        .then_output(|| UpdateTableOutput::builder().build());
    let backups = continuous_backups(PointInTimeRecoveryStatus::Disabled);
    let enable_pitr = mock!(Dynamo::update_continuous_backups)
        .match_requests(|r| {
            r.table_name() == Some(TABLE)
                && r.point_in_time_recovery_specification()
                    .is_some_and(|s| s.point_in_time_recovery_enabled())
        })
        .then_output(|| UpdateContinuousBackupsOutput::builder().build());
    let (ttl, tags) = ttl_and_tags();
    // Read back once set.
    let replica_after = describe_table(vec![table(None, true)]);
    let backups_after = continuous_backups(PointInTimeRecoveryStatus::Enabled);
    let (ttl_after, tags_after) = ttl_and_tags();
    let primary = dynamo(PRIMARY, &[&primary_table]);
    let secondary = dynamo(
        SECONDARY,
        &[
            &replica_table,
            &backups,
            &ttl,
            &tags,
            &enable_pitr,
            &protect,
            &replica_after,
            &backups_after,
            &ttl_after,
            &tags_after,
        ],
    );

    let result = ensure_replica(
        &primary,
        &secondary,
        SECONDARY,
        ("demo", "comments"),
        true,
        &mraa::lock::NoClaim,
    )
    .await;

    assert_eq!(result, Ok((true, Verdict::Ok)));
    assert_calls(&[
        ("describe_table in the primary", &primary_table, 3),
        ("describe_table in the secondary", &replica_table, 1),
        ("describe_continuous_backups", &backups, 1),
        ("update_continuous_backups", &enable_pitr, 1),
        ("update_table (deletion protection)", &protect, 1),
        (
            "describe_table in the secondary, read back",
            &replica_after,
            1,
        ),
        ("describe_continuous_backups, read back", &backups_after, 1),
        ("describe_time_to_live, read back", &ttl_after, 1),
        ("list_tags_of_resource, read back", &tags_after, 1),
    ]);
}

#[tokio::test]
async fn a_replica_without_its_kms_key_is_an_error_naming_the_status() {
    let primary_table = describe_table(vec![
        table(Some(ReplicaStatus::InaccessibleEncryptionCredentials), true),
        table(Some(ReplicaStatus::InaccessibleEncryptionCredentials), true),
    ]);
    let primary = dynamo(PRIMARY, &[&primary_table]);
    // The replica is never touched.
    let secondary = dynamo(SECONDARY, &[]);

    let err = ensure_replica(
        &primary,
        &secondary,
        SECONDARY,
        ("demo", "comments"),
        true,
        &mraa::lock::NoClaim,
    )
    .await
    .expect_err("the replica is broken");

    assert_eq!(
        err,
        format!(
            "replica in {SECONDARY} is INACCESSIBLE_ENCRYPTION_CREDENTIALS: \
             The KMS key used to encrypt the replica is disabled"
        )
    );
    assert_calls(&[("describe_table in the primary", &primary_table, 2)]);
}

#[tokio::test]
async fn a_table_without_replica_or_tag_gets_one_replica_request_and_the_tag() {
    let before = describe_table(vec![table(None, true)]);
    let tags = mock!(Dynamo::list_tags_of_resource)
        .match_requests(|r| r.resource_arn() == Some(TABLE_ARN))
        .then_output(|| ListTagsOfResourceOutput::builder().build());
    let request = mock!(Dynamo::update_table)
        .match_requests(|r| {
            r.table_name() == Some(TABLE)
                && r.replica_updates().len() == 1
                && r.replica_updates()[0]
                    .create()
                    .is_some_and(|c| c.region_name() == SECONDARY)
        })
        .then_output(|| UpdateTableOutput::builder().build());
    let tag = mock!(Dynamo::tag_resource)
        .match_requests(|r| {
            r.resource_arn() == Some(TABLE_ARN)
                && r.tags().len() == 1
                && r.tags()[0].key() == REPLICA_TAG
                && r.tags()[0].value() == SECONDARY
        })
        .then_output(|| TagResourceOutput::builder().build());
    let after = describe_table(vec![
        table(Some(ReplicaStatus::Creating), true),
        table(Some(ReplicaStatus::Active), true),
    ]);
    // The replica already has protection and PITR: nothing to turn on.
    let replica_table = describe_table(vec![table(None, true)]);
    let backups = continuous_backups(PointInTimeRecoveryStatus::Enabled);
    let (replica_ttl, replica_tags) = ttl_and_tags();
    let primary = dynamo(PRIMARY, &[&before, &tags, &request, &tag, &after]);
    let secondary = dynamo(
        SECONDARY,
        &[&replica_table, &backups, &replica_ttl, &replica_tags],
    );

    let result = ensure_replica(
        &primary,
        &secondary,
        SECONDARY,
        ("demo", "comments"),
        true,
        &mraa::lock::NoClaim,
    )
    .await;

    assert_eq!(result, Ok((true, Verdict::Ok)));
    assert_calls(&[
        ("describe_table before", &before, 1),
        ("list_tags_of_resource", &tags, 1),
        ("update_table (replica create)", &request, 1),
        ("tag_resource", &tag, 1),
        ("describe_table while creating", &after, 2),
        ("describe_table in the secondary", &replica_table, 1),
        ("describe_continuous_backups", &backups, 1),
    ]);
}

// ---------------------------------------------------------------------------
// 6. Throttling absorbed by the SDK's standard retries
// ---------------------------------------------------------------------------

fn quick_retries() -> cfn::config::retry::RetryConfig {
    cfn::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
}

fn cfn_throttled_then(stack: Option<Stack>) -> Rule {
    let seq = mock!(Cfn::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .sequence()
        .http_status(400, Some(query_error("Throttling", "Rate exceeded")))
        .times(2);
    match stack {
        Some(stack) => seq
            .output(move || {
                DescribeStacksOutput::builder()
                    .stacks(stack.clone())
                    .build()
            })
            .build(),
        None => seq
            .http_status(400, Some(query_error("Throttling", "Rate exceeded")))
            .build(),
    }
}

#[tokio::test]
async fn cloudformation_throttling_is_retried_until_the_answer_comes() {
    let rule = cfn_throttled_then(Some(stack_in(
        StackStatus::CreateComplete,
        &[("AppName", APP)],
    )));
    let client: Cfn = scripted!(cfn, PRIMARY, &[&rule], quick_retries());

    let found = cfn_stack::describe(&client, STACK)
        .await
        .expect("retried past the throttling")
        .expect("the stack exists");

    assert_eq!(found.stack_name(), Some(STACK));
    assert_eq!(found.stack_status(), Some(&StackStatus::CreateComplete));
    assert_calls(&[("describe_stacks", &rule, 3)]);
}

#[tokio::test]
async fn cloudformation_throttling_past_the_attempts_is_reported_as_such() {
    let rule = cfn_throttled_then(None);
    let client: Cfn = scripted!(cfn, PRIMARY, &[&rule], quick_retries());

    let err = cfn_stack::describe(&client, STACK)
        .await
        .expect_err("every attempt was throttled");

    assert_eq!(err, "Throttling: Rate exceeded");
    assert_calls(&[("describe_stacks", &rule, 3)]);
}

#[tokio::test]
async fn dynamodb_throttling_is_retried_until_the_answer_comes() {
    let throttled = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#;
    let primary_table = mock!(Dynamo::describe_table)
        .match_requests(|r| r.table_name() == Some(TABLE))
        .sequence()
        .http_status(400, Some(throttled.to_string()))
        .times(2)
        .output(|| {
            DescribeTableOutput::builder()
                .table(table(Some(ReplicaStatus::Active), true))
                .build()
        })
        // The poll after the first read.
        .output(|| {
            DescribeTableOutput::builder()
                .table(table(Some(ReplicaStatus::Active), true))
                .build()
        })
        .build();
    let replica_table = describe_table(vec![table(None, true)]);
    let backups = continuous_backups(PointInTimeRecoveryStatus::Enabled);
    let retries = ddb::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1));
    let (ttl, tags) = ttl_and_tags();
    let primary: Dynamo = scripted!(ddb, PRIMARY, &[&primary_table], retries);
    let secondary = dynamo(SECONDARY, &[&replica_table, &backups, &ttl, &tags]);

    let result = ensure_replica(
        &primary,
        &secondary,
        SECONDARY,
        ("demo", "comments"),
        true,
        &mraa::lock::NoClaim,
    )
    .await;

    // Everything already in place: nothing changed.
    assert_eq!(result, Ok((false, Verdict::Ok)));
    // Two throttled attempts and the answer, then the status poll.
    assert_calls(&[("describe_table in the primary", &primary_table, 4)]);
}

/// Deploys the scripted test stack with these parameters.
async fn deploy_test_stack(
    ctx: &Ctx,
    parameters: &[(&str, &str)],
) -> Result<mraa::context::UnitOutcome, mraa::error::MraaError> {
    let wanted = params(parameters);
    let spec = StackSpec {
        unit: UNIT,
        name: STACK,
        body: TEMPLATE,
        parameters: &wanted,
        role: None,
    };
    stack::deploy(ctx, &ctx.aws.primary.cfn, &spec).await
}
