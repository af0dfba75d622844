"""CloudFormation drift detection in the emulator (scripts/emulator_drift.py), read through
CloudFormation's own API after changes made behind the stack's back.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import json

import pytest
from botocore.exceptions import ClientError

def template(name):
    return json.dumps({"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": name, "AssumeRolePolicyDocument": {"Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": name, "Runtime": "python3.12", "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": "def handler(e, c): return e"},
            "Timeout": "10", "MemorySize": 256,
            "Environment": {"Variables": {"MODE": "test"}}}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "DeletionProtectionEnabled": False,
            "Tags": [{"Key": "app", "Value": "tests"}]}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": name, "VersioningConfiguration": {"Status": "Enabled"}}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name}},
    }})


def deploy(cfn, name):
    cfn.create_stack(StackName=name, TemplateBody=template(name))


def detect(cfn, name):
    detection = cfn.detect_stack_drift(StackName=name)["StackDriftDetectionId"]
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    drifts = cfn.describe_stack_resource_drifts(StackName=name)["StackResourceDrifts"]
    return status, {d["LogicalResourceId"]: d for d in drifts}


def test_untouched_stack_is_in_sync(client):
    cfn = client("cloudformation")
    deploy(cfn, "drift-clean")
    info = cfn.describe_stacks(StackName="drift-clean")["Stacks"][0]["DriftInformation"]
    assert info["StackDriftStatus"] == "NOT_CHECKED"
    status, drifts = detect(cfn, "drift-clean")
    assert status["StackDriftStatus"] == "IN_SYNC"
    assert status["DriftedStackResourceCount"] == 0
    assert {k: d["StackResourceDriftStatus"] for k, d in drifts.items()} == {
        "Fn": "IN_SYNC", "Table": "IN_SYNC", "Bucket": "IN_SYNC",
        # No reader for this type: AWS leaves unsupported types unchecked too.
        "Topic": "NOT_CHECKED", "Role": "NOT_CHECKED"}
    stack = cfn.describe_stacks(StackName="drift-clean")["Stacks"][0]
    assert stack["DriftInformation"]["StackDriftStatus"] == "IN_SYNC"
    assert "LastCheckTimestamp" in stack["DriftInformation"]


def test_changed_lambda_timeout_is_modified(client):
    cfn, lam = client("cloudformation"), client("lambda")
    deploy(cfn, "drift-fn")
    lam.update_function_configuration(FunctionName="drift-fn", Timeout=30)
    status, drifts = detect(cfn, "drift-fn")
    assert status["StackDriftStatus"] == "DRIFTED"
    assert status["DriftedStackResourceCount"] == 1
    fn = drifts["Fn"]
    assert fn["StackResourceDriftStatus"] == "MODIFIED"
    assert fn["PhysicalResourceId"] == "drift-fn"
    assert fn["PropertyDifferences"] == [{
        "PropertyPath": "/Timeout", "ExpectedValue": "10", "ActualValue": "30",
        "DifferenceType": "NOT_EQUAL"}]
    assert json.loads(fn["ExpectedProperties"])["Timeout"] == "10"
    assert json.loads(fn["ActualProperties"])["Timeout"] == 30
    assert drifts["Table"]["StackResourceDriftStatus"] == "IN_SYNC"
    # The status filter.
    only = cfn.describe_stack_resource_drifts(
        StackName="drift-fn", StackResourceDriftStatusFilters=["MODIFIED"])
    assert [d["LogicalResourceId"] for d in only["StackResourceDrifts"]] == ["Fn"]
    # Setting it back and checking that resource alone brings the stack back in sync.
    lam.update_function_configuration(FunctionName="drift-fn", Timeout=10)
    one = cfn.detect_stack_resource_drift(StackName="drift-fn", LogicalResourceId="Fn")
    assert one["StackResourceDrift"]["StackResourceDriftStatus"] == "IN_SYNC"
    stack = cfn.describe_stacks(StackName="drift-fn")["Stacks"][0]
    assert stack["DriftInformation"]["StackDriftStatus"] == "IN_SYNC"


def test_added_removed_and_changed_properties(client):
    cfn, lam, ddb, s3 = client("cloudformation"), client("lambda"), client("dynamodb"), client(
        "s3")
    deploy(cfn, "drift-props")
    lam.update_function_configuration(
        FunctionName="drift-props", Environment={"Variables": {"EXTRA": "1"}})
    ddb.update_table(TableName="drift-props", DeletionProtectionEnabled=True)
    s3.put_bucket_versioning(Bucket="drift-props",
                             VersioningConfiguration={"Status": "Suspended"})
    _, drifts = detect(cfn, "drift-props")
    assert sorted((d["PropertyPath"], d["DifferenceType"])
                  for d in drifts["Fn"]["PropertyDifferences"]) == [
        ("/Environment/Variables/EXTRA", "ADD"), ("/Environment/Variables/MODE", "REMOVE")]
    assert drifts["Table"]["PropertyDifferences"] == [{
        "PropertyPath": "/DeletionProtectionEnabled", "ExpectedValue": "false",
        "ActualValue": "true", "DifferenceType": "NOT_EQUAL"}]
    assert drifts["Bucket"]["PropertyDifferences"][0]["PropertyPath"] == (
        "/VersioningConfiguration/Status")
    # A property the template leaves unset is not compared, whatever its value now.
    lam.update_function_configuration(FunctionName="drift-props", Environment={
        "Variables": {"MODE": "test"}}, Description="set by hand")
    ddb.update_table(TableName="drift-props", DeletionProtectionEnabled=False)
    s3.put_bucket_versioning(Bucket="drift-props", VersioningConfiguration={"Status": "Enabled"})
    status, _ = detect(cfn, "drift-props")
    assert status["StackDriftStatus"] == "IN_SYNC"


def test_deleted_resource(client):
    cfn, lam = client("cloudformation"), client("lambda")
    deploy(cfn, "drift-gone")
    lam.delete_function(FunctionName="drift-gone")
    status, drifts = detect(cfn, "drift-gone")
    assert drifts["Fn"]["StackResourceDriftStatus"] == "DELETED"
    assert status["StackDriftStatus"] == "DRIFTED"


def test_refusals(client):
    cfn = client("cloudformation")
    with pytest.raises(ClientError) as missing:
        cfn.detect_stack_drift(StackName="drift-none")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    deploy(cfn, "drift-refuse")
    with pytest.raises(ClientError) as unknown:
        cfn.detect_stack_resource_drift(StackName="drift-refuse", LogicalResourceId="Nope")
    assert unknown.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError):
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId="nope")


def test_stack_set_instance(client):
    """An instance stack is checked in its own region, alone or through DetectStackSetDrift."""
    cfn = client("cloudformation")
    cfn.create_stack_set(StackSetName="drift-set", TemplateBody=template("drift-set"))
    cfn.create_stack_instances(StackSetName="drift-set", Accounts=["123456789012"],
                               Regions=["ap-northeast-1"])
    regional = client("cloudformation", "ap-northeast-1")
    stack = [s for s in regional.describe_stacks()["Stacks"]
             if s["StackName"].startswith("StackSet:drift-set")][0]["StackName"]
    client("lambda", "ap-northeast-1").update_function_configuration(
        FunctionName="drift-set", MemorySize=512)
    status, drifts = detect(regional, stack)
    assert status["StackDriftStatus"] == "DRIFTED"
    assert drifts["Fn"]["PropertyDifferences"][0]["PropertyPath"] == "/MemorySize"
    operation = cfn.detect_stack_set_drift(StackSetName="drift-set")["OperationId"]
    described = cfn.describe_stack_set_operation(StackSetName="drift-set",
                                                 OperationId=operation)["StackSetOperation"]
    assert described["Action"] == "DETECT_DRIFT"
    details = described["StackSetDriftDetectionDetails"]
    assert (details["DriftStatus"], details["DriftedStackInstancesCount"]) == ("DRIFTED", 1)
