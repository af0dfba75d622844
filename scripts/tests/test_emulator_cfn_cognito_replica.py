"""CloudFormation types of Cognito's multi-Region replication and multi-Region KMS keys
(scripts/emulator_cfn_cognito_replica.py), checked through Cognito's and KMS's APIs."""
import json

import pytest
from botocore.exceptions import ClientError

from test_emulator_cognito_replica import wait_for

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"


def _stack(client, region, name, resources, outputs=None, parameters=None):
    cfn = client("cloudformation", region)
    body = {"Resources": resources, "Outputs": outputs or {}}
    if parameters:
        body["Parameters"] = {k: {"Type": "String"} for k in parameters}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body), Parameters=[
        {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()])
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_replicated_pool_made_by_cloudformation(client):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"}]}
    key = _stack(client, PRIMARY, "key", {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "MultiRegion": True, "KeyPolicy": policy}}},
        {"Arn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}})["Arn"]
    replica_key = _stack(client, SECONDARY, "replica-key", {"Replica": {
        "Type": "AWS::KMS::ReplicaKey",
        "Properties": {"PrimaryKeyArn": {"Ref": "Primary"}, "KeyPolicy": policy,
                       "PendingWindowInDays": 7}}},
        {"Arn": {"Value": {"Fn::GetAtt": ["Replica", "Arn"]}}},
        parameters={"Primary": key})["Arn"]
    assert replica_key == key.replace(PRIMARY, SECONDARY)
    pool = _stack(client, PRIMARY, "pool", {
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {
            "UserPoolName": "replicated", "UserPoolTier": "ESSENTIALS",
            "KeyConfiguration": {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": key}}},
        "Replica": {"Type": "AWS::Cognito::UserPoolReplica", "Properties": {
            "UserPoolId": {"Ref": "Pool"}, "RegionName": SECONDARY}}},
        {"PoolId": {"Value": {"Ref": "Pool"}}})["PoolId"]
    secondary = client("cognito-idp", SECONDARY)
    [listed] = [r for r in secondary.list_user_pool_replicas(UserPoolId=pool)[
        "UserPoolReplicas"] if r["Role"] == "SECONDARY"]
    assert listed["Status"] == "INACTIVE"
    guard = "arn:aws:lambda:ap-northeast-1:123456789012:function:guard"
    _stack(client, SECONDARY, "regional", {"Attachment": {
        "Type": "AWS::Cognito::UserPoolRegionalConfigurationAttachment",
        "Properties": {"UserPoolId": {"Ref": "PoolId"}, "Status": "ACTIVE",
                       "LambdaConfig": {"PreAuthentication": guard}}}},
        parameters={"PoolId": pool})
    described = secondary.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert described["LambdaConfig"] == {"PreAuthentication": guard}
    assert [r["Status"] for r in secondary.list_user_pool_replicas(UserPoolId=pool)[
        "UserPoolReplicas"] if r["Role"] == "SECONDARY"] == ["ACTIVE"]
    # KMS keys are never deleted at once: the replica key's deletion is scheduled.
    client("cloudformation", SECONDARY).delete_stack(StackName="regional")
    client("cognito-idp", PRIMARY).update_user_pool_replica(
        UserPoolId=pool, RegionName=SECONDARY, Status="INACTIVE")
    wait_for(client("cognito-idp", PRIMARY), pool, "INACTIVE")
    client("cloudformation", PRIMARY).delete_stack(StackName="pool")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        secondary.describe_user_pool(UserPoolId=pool)
    client("cloudformation", SECONDARY).delete_stack(StackName="replica-key")
    state = client("kms", SECONDARY).describe_key(KeyId=replica_key)["KeyMetadata"]
    assert state["KeyState"] == "PendingDeletion"


def test_the_attachment_needs_a_replica(client):
    pool = client("cognito-idp", SECONDARY).create_user_pool(PoolName="own")["UserPool"]["Id"]
    cfn = client("cloudformation", SECONDARY)
    with pytest.raises(ClientError, match="has no replica"):
        cfn.create_stack(StackName="orphan", TemplateBody=json.dumps({"Resources": {"A": {
            "Type": "AWS::Cognito::UserPoolRegionalConfigurationAttachment",
            "Properties": {"UserPoolId": pool, "Status": "ACTIVE"}}}}))


def test_updates_apply_in_place_unless_a_create_only_property_changes(client):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"}]}
    key = _stack(client, PRIMARY, "u-key", {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "MultiRegion": True, "KeyPolicy": policy}}},
        {"Arn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}})["Arn"]

    def replica_key_template(description):
        return json.dumps({"Parameters": {"Primary": {"Type": "String"}}, "Resources": {
            "Replica": {"Type": "AWS::KMS::ReplicaKey", "Properties": {
                "PrimaryKeyArn": {"Ref": "Primary"}, "KeyPolicy": policy,
                "Description": description}}}})

    cfn = client("cloudformation", SECONDARY)
    parameters = [{"ParameterKey": "Primary", "ParameterValue": key}]
    cfn.create_stack(StackName="u-replica-key", TemplateBody=replica_key_template("first"),
                     Parameters=parameters)
    cfn.update_stack(StackName="u-replica-key", TemplateBody=replica_key_template("second"),
                     Parameters=parameters)
    # The description is not create-only: the same replica, described anew.
    kms = client("kms", SECONDARY)
    replica_id = key.rsplit("/", 1)[-1]
    assert kms.describe_key(KeyId=replica_id)["KeyMetadata"]["Description"] == "second"
    assert kms.describe_key(KeyId=replica_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert cfn.describe_stacks(StackName="u-replica-key")["Stacks"][0][
        "StackStatus"] == "UPDATE_COMPLETE"

    pool = _stack(client, PRIMARY, "u-pool", {
        "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {
            "UserPoolName": "replicated-u", "UserPoolTier": "ESSENTIALS",
            "KeyConfiguration": {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": key}}},
        "Replica": {"Type": "AWS::Cognito::UserPoolReplica", "Properties": {
            "UserPoolId": {"Ref": "Pool"}, "RegionName": SECONDARY}}},
        {"PoolId": {"Value": {"Ref": "Pool"}}})["PoolId"]

    def attachment(status):
        return json.dumps({"Parameters": {"PoolId": {"Type": "String"}}, "Resources": {
            "Attachment": {"Type": "AWS::Cognito::UserPoolRegionalConfigurationAttachment",
                           "Properties": {"UserPoolId": {"Ref": "PoolId"}, "Status": status}}}})

    pool_parameter = [{"ParameterKey": "PoolId", "ParameterValue": pool}]
    cfn.create_stack(StackName="u-regional", TemplateBody=attachment("ACTIVE"),
                     Parameters=pool_parameter)
    cfn.update_stack(StackName="u-regional", TemplateBody=attachment("INACTIVE"),
                     Parameters=pool_parameter)
    assert cfn.describe_stacks(StackName="u-regional")["Stacks"][0][
        "StackStatus"] == "UPDATE_COMPLETE"
    secondary = client("cognito-idp", SECONDARY)
    assert [(r["RegionName"], r["Status"]) for r in secondary.list_user_pool_replicas(
        UserPoolId=pool)["UserPoolReplicas"] if r["Role"] == "SECONDARY"] == [
        (SECONDARY, "INACTIVE")]
