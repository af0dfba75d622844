"""DynamoDB tables made and updated by the emulator's CloudFormation
(scripts/emulator_cfn_dynamodb.py), read back through DynamoDB's and CloudFormation's own APIs.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import json

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError


def template(name, pitr=True, retain=False, view="NEW_AND_OLD_IMAGES", sse=None):
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "StreamSpecification": {"StreamViewType": view},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr}}}
    if sse is not None:
        table["Properties"]["SSESpecification"] = sse
    if retain:
        table["UpdateReplacePolicy"] = "Retain"
        table["DeletionPolicy"] = "Retain"
    return json.dumps({"Resources": {"Table": table}, "Outputs": {
        "Name": {"Value": {"Ref": "Table"}},
        "Stream": {"Value": {"Fn::GetAtt": ["Table", "StreamArn"]}}}})


def pitr(dynamodb, name):
    described = dynamodb.describe_continuous_backups(TableName=name)
    return described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"]


def outputs(cfn, stack):
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def test_point_in_time_recovery_is_applied_on_create_and_update(client):
    cfn, dynamodb = client("cloudformation"), client("dynamodb")
    cfn.create_stack(StackName="ddb-pitr", TemplateBody=template("ddb-pitr"))
    assert pitr(dynamodb, "ddb-pitr") == "ENABLED"
    cfn.update_stack(StackName="ddb-pitr", TemplateBody=template("ddb-pitr", pitr=False))
    assert pitr(dynamodb, "ddb-pitr") == "DISABLED"
    # Updated in place: the same table, the stack still answers.
    assert outputs(cfn, "ddb-pitr")["Name"] == "ddb-pitr"


def test_an_untouched_table_is_in_sync_for_drift_detection(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="ddb-sync", TemplateBody=template("ddb-sync"))
    cfn.detect_stack_drift(StackName="ddb-sync")
    drifts = cfn.describe_stack_resource_drifts(StackName="ddb-sync")["StackResourceDrifts"]
    assert [d["StackResourceDriftStatus"] for d in drifts] == ["IN_SYNC"]


def test_a_new_table_name_replaces_the_table_and_retain_keeps_the_old_one(client):
    cfn, dynamodb = client("cloudformation"), client("dynamodb")
    cfn.create_stack(StackName="ddb-replace", TemplateBody=template("ddb-old", retain=True))
    cfn.update_stack(StackName="ddb-replace", TemplateBody=template("ddb-new", retain=True))
    stack = cfn.describe_stacks(StackName="ddb-replace")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(cfn, "ddb-replace")["Name"] == "ddb-new"
    assert pitr(dynamodb, "ddb-new") == "ENABLED"
    tables = dynamodb.list_tables()["TableNames"]
    assert "ddb-old" in tables and "ddb-new" in tables


def test_a_replaced_table_without_retain_is_deleted(client):
    cfn, dynamodb = client("cloudformation"), client("dynamodb")
    cfn.create_stack(StackName="ddb-gone", TemplateBody=template("ddb-gone-1"))
    cfn.update_stack(StackName="ddb-gone", TemplateBody=template("ddb-gone-2"))
    tables = dynamodb.list_tables()["TableNames"]
    assert "ddb-gone-2" in tables and "ddb-gone-1" not in tables


def sse(dynamodb, name):
    return dynamodb.describe_table(TableName=name)["Table"].get("SSEDescription")


def test_sse_enabled_reads_as_kms_with_the_aws_managed_key_through_describe_table(client):
    cfn, dynamodb, kms = client("cloudformation"), client("dynamodb"), client("kms")
    cfn.create_stack(StackName="ddb-sse", TemplateBody=template(
        "ddb-sse", sse={"SSEEnabled": True}))
    described = sse(dynamodb, "ddb-sse")
    managed = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["Arn"]
    assert described == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": managed}


def test_a_named_key_reads_as_its_arn_and_turning_sse_off_is_an_update(client):
    cfn, dynamodb, kms = client("cloudformation"), client("dynamodb"), client("kms")
    key = kms.create_key(Description="table key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ddb-table", TargetKeyId=key["KeyId"])
    cfn.create_stack(StackName="ddb-sse-key", TemplateBody=template("ddb-sse-key", sse={
        "SSEEnabled": "true", "SSEType": "KMS", "KMSMasterKeyId": "alias/ddb-table"}))
    assert sse(dynamodb, "ddb-sse-key")["KMSMasterKeyArn"] == key["Arn"]
    # False means the AWS owned key, which DescribeTable does not describe.
    cfn.update_stack(StackName="ddb-sse-key", TemplateBody=template(
        "ddb-sse-key", sse={"SSEEnabled": False}))
    assert sse(dynamodb, "ddb-sse-key") is None
    assert outputs(cfn, "ddb-sse-key")["Name"] == "ddb-sse-key"


def test_no_sse_specification_is_the_aws_owned_key(client):
    cfn, dynamodb = client("cloudformation"), client("dynamodb")
    cfn.create_stack(StackName="ddb-owned", TemplateBody=template("ddb-owned"))
    assert sse(dynamodb, "ddb-owned") is None


def test_a_key_that_does_not_exist_is_refused_and_makes_no_table(client):
    cfn, dynamodb = client("cloudformation"), client("dynamodb")
    refused = False
    try:
        cfn.create_stack(StackName="ddb-nokey", TemplateBody=template("ddb-nokey", sse={
            "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/not-there"}))
    except (ClientError, ResponseParserError):
        # moto answers a resource that cannot be made with an error (HTTP 500), not with
        # CREATE_FAILED.
        refused = True
    if not refused:
        status = cfn.describe_stacks(StackName="ddb-nokey")["Stacks"][0]["StackStatus"]
        assert status != "CREATE_COMPLETE"
    assert "ddb-nokey" not in dynamodb.list_tables()["TableNames"]
