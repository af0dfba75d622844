"""A resource that fails in a StackSet instance's stack (emulator_events.py): the operation
FAILED with the region's reason, the stack's events, the instance OUTDATED, and the retry."""
import json

import pytest

ACCOUNT = "123456789012"
HOME, OTHER = "us-east-1", "eu-west-1"
TEMPLATE = json.dumps({
    "Resources": {
        "Logs": {"Type": "AWS::S3::Bucket",
                 "Properties": {"BucketName": {"Fn::Sub": "logs-${AWS::Region}"}}},
        "Site": {"Type": "AWS::S3::Bucket",
                 "Properties": {"BucketName": {"Fn::Sub": "taken-${AWS::Region}"}}},
    },
    "Outputs": {"Site": {"Value": {"Ref": "Site"}}},
})
PREFS = {"RegionConcurrencyType": "PARALLEL", "FailureToleranceCount": 0,
         "MaxConcurrentPercentage": 100}


@pytest.fixture(scope="module")
def failed(client):
    """A set whose instance in OTHER cannot make its bucket (the name is taken there)."""
    client("s3", OTHER).create_bucket(
        Bucket=f"taken-{OTHER}", CreateBucketConfiguration={"LocationConstraint": OTHER})
    cfn = client("cloudformation")
    cfn.create_stack_set(StackSetName="clash", TemplateBody=TEMPLATE)
    # The request is accepted: the failure is the operation's, not the call's.
    operation = cfn.create_stack_instances(
        StackSetName="clash", Accounts=[ACCOUNT], Regions=[HOME, OTHER],
        OperationPreferences=PREFS)["OperationId"]
    return cfn, operation


def test_the_operation_fails_with_the_region_and_resource_in_its_result(failed):
    cfn, operation = failed
    status = cfn.describe_stack_set_operation(
        StackSetName="clash", OperationId=operation)["StackSetOperation"]["Status"]
    assert status == "FAILED"
    results = {r["Region"]: r for r in cfn.list_stack_set_operation_results(
        StackSetName="clash", OperationId=operation)["Summaries"]}
    assert results[HOME]["Status"] == "SUCCEEDED", results
    assert results[OTHER]["Status"] == "FAILED"
    reason = results[OTHER]["StatusReason"]
    assert "ResourceLogicalId:Site" in reason and "ResourceType:AWS::S3::Bucket" in reason
    assert f"taken-{OTHER} already exists" in reason and "HandlerErrorCode: AlreadyExists" in reason


def test_the_instance_is_outdated_and_its_stack_rolled_back_then_deleted(failed, client):
    cfn, _ = failed
    instance = cfn.describe_stack_instance(
        StackSetName="clash", StackInstanceAccount=ACCOUNT,
        StackInstanceRegion=OTHER)["StackInstance"]
    assert instance["Status"] == "OUTDATED"
    assert instance["StackInstanceStatus"]["DetailedStatus"] == "FAILED"
    regional = client("cloudformation", OTHER)
    stack = regional.describe_stacks(StackName=instance["StackId"])["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_COMPLETE"
    events = regional.describe_stack_events(StackName=instance["StackId"])["StackEvents"]
    seen = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
    failed_at = seen.index(("Site", "CREATE_FAILED"))
    stack_name = stack["StackName"]
    assert seen.index((stack_name, "ROLLBACK_COMPLETE")) > failed_at
    site = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert site["PhysicalResourceId"] == f"taken-{OTHER}"
    assert site["ResourceType"] == "AWS::S3::Bucket"
    # Rolled back: the bucket made before the failed one is gone; the taken one is untouched.
    with pytest.raises(client("s3").exceptions.ClientError):
        client("s3", OTHER).head_bucket(Bucket=f"logs-{OTHER}")
    client("s3", OTHER).head_bucket(Bucket=f"taken-{OTHER}")


def test_a_create_again_is_no_op_and_an_update_after_the_clash_is_gone_succeeds(failed, client):
    cfn, _ = failed
    # The instance exists: CreateStackInstances for it creates nothing (and no name clash).
    again = cfn.create_stack_instances(
        StackSetName="clash", Accounts=[ACCOUNT], Regions=[OTHER],
        OperationPreferences=PREFS)["OperationId"]
    assert cfn.describe_stack_set_operation(
        StackSetName="clash", OperationId=again)["StackSetOperation"]["Status"] == "SUCCEEDED"
    # Still failing while the name is taken.
    retry = cfn.update_stack_instances(
        StackSetName="clash", Accounts=[ACCOUNT], Regions=[OTHER],
        OperationPreferences=PREFS)["OperationId"]
    assert cfn.describe_stack_set_operation(
        StackSetName="clash", OperationId=retry)["StackSetOperation"]["Status"] == "FAILED"
    client("s3", OTHER).delete_bucket(Bucket=f"taken-{OTHER}")
    retry = cfn.update_stack_instances(
        StackSetName="clash", Accounts=[ACCOUNT], Regions=[OTHER],
        OperationPreferences=PREFS)["OperationId"]
    assert cfn.describe_stack_set_operation(
        StackSetName="clash", OperationId=retry)["StackSetOperation"]["Status"] == "SUCCEEDED"
    instance = cfn.describe_stack_instance(
        StackSetName="clash", StackInstanceAccount=ACCOUNT,
        StackInstanceRegion=OTHER)["StackInstance"]
    assert instance["Status"] == "CURRENT"
    stack = client("cloudformation", OTHER).describe_stacks(
        StackName=instance["StackId"])["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {
        "Site": f"taken-{OTHER}"}
