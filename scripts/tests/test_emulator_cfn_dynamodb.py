"""DynamoDB tables made and updated by the emulator's CloudFormation
(scripts/emulator_cfn_dynamodb.py), read back through DynamoDB's and CloudFormation's own APIs.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import json


def template(name, pitr=True, retain=False, view="NEW_AND_OLD_IMAGES"):
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "StreamSpecification": {"StreamViewType": view},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr}}}
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
