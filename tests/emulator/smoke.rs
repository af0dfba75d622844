//! The rendered object-store template, rolled out as a StackSet to two regions
//! of the emulator, makes a stack and a bucket in each — checked through the
//! CloudFormation and S3 APIs, not through mraa.

use std::time::{Duration, Instant};

use crate::support::{ACCOUNT, Emulator};
use aws_sdk_cloudformation::types::{
    Parameter, PermissionModels, StackSetOperationPreferences, StackSetOperationStatus,
};
use mraa::plan::{Plan, Unit};
use mraa::render::render_unit;

const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";

#[tokio::test(flavor = "multi_thread")]
async fn object_store_stack_set_reaches_both_regions() {
    let emulator = Emulator::start("emulator_smoke");
    // Alone, without the bootstrap's users key: users by import.
    let plan = Plan::new("smoke", PRIMARY, SECONDARY)
        .with_user_replication(mraa::plan::UserReplication::Import);
    let unit = plan.unit(Unit::ObjectStore).expect("object store planned");
    let template = render_unit(unit).expect("renders");
    let parameters: Vec<Parameter> = [
        ("AppName", "smoke"),
        ("PrimaryRegion", PRIMARY),
        ("SecondaryRegion", SECONDARY),
        ("UserReplication", "import"),
        ("UsersKeyArn", ""),
    ]
    .iter()
    .map(|(k, v)| {
        Parameter::builder()
            .parameter_key(*k)
            .parameter_value(*v)
            .build()
    })
    .collect();

    let cfn = emulator.cloudformation(PRIMARY);
    cfn.create_stack_set()
        .stack_set_name(&unit.name)
        .template_body(&template.body)
        .set_parameters(Some(parameters))
        .permission_model(PermissionModels::SelfManaged)
        .administration_role_arn(format!(
            "arn:aws:iam::{ACCOUNT}:role/mraa-smoke-stackset-admin"
        ))
        .execution_role_name("mraa-smoke-stackset-exec")
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .expect("create StackSet");
    let operation = cfn
        .create_stack_instances()
        .stack_set_name(&unit.name)
        .accounts(ACCOUNT)
        .regions(PRIMARY)
        .regions(SECONDARY)
        .operation_preferences(
            StackSetOperationPreferences::builder()
                .region_concurrency_type(
                    aws_sdk_cloudformation::types::RegionConcurrencyType::Parallel,
                )
                .failure_tolerance_count(0)
                .build(),
        )
        .send()
        .await
        .expect("create stack instances");
    let operation_id = operation.operation_id().expect("operation id");

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let described = cfn
            .describe_stack_set_operation()
            .stack_set_name(&unit.name)
            .operation_id(operation_id)
            .send()
            .await
            .expect("describe operation");
        let status = described
            .stack_set_operation()
            .and_then(|o| o.status().cloned());
        match status {
            Some(StackSetOperationStatus::Succeeded) => break,
            Some(StackSetOperationStatus::Failed | StackSetOperationStatus::Stopped) => {
                panic!("operation ended {status:?}")
            }
            _ => {
                assert!(Instant::now() < deadline, "operation still {status:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    let regions = emulator.stack_set_regions(&unit.name).await;
    assert_eq!(regions, [SECONDARY, PRIMARY]);

    for region in regions.iter().map(String::as_str) {
        assert_eq!(
            emulator
                .instance_stack_status(region, &unit.name)
                .await
                .as_deref(),
            Some("CREATE_COMPLETE"),
            "{region}"
        );

        let bucket = format!("mraa-smoke-objects-{ACCOUNT}-{region}");
        let s3 = emulator.s3(region);
        s3.head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("bucket {bucket} exists: {e:?}"));
        let location = s3
            .get_bucket_location()
            .bucket(&bucket)
            .send()
            .await
            .expect("bucket location");
        let constraint = location
            .location_constraint()
            .map(|c| c.as_str())
            .unwrap_or("us-east-1");
        let constraint = if constraint.is_empty() {
            "us-east-1"
        } else {
            constraint
        };
        assert_eq!(constraint, region, "{bucket} lives in its own region");
    }
}
