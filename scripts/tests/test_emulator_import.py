"""CloudFormation's import paths (scripts/emulator_import.py): IMPORT change sets, ImportExistingResources
and ImportStacksToStackSet bring existing resources and stacks under management without creating
or changing them, and refuse what CloudFormation refuses."""
import copy
import json
import uuid

import pytest
from botocore.exceptions import ClientError

KEY = [{"AttributeName": "id", "KeyType": "HASH"}]
ATTRS = [{"AttributeName": "id", "AttributeType": "S"}]


def _name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def table_resource(name, policy="Retain"):
    resource = {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST", "KeySchema": KEY,
        "AttributeDefinitions": ATTRS}}
    if policy:
        resource["DeletionPolicy"] = policy
    return resource


def bucket_resource(name, policy="Retain"):
    resource = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}
    if policy:
        resource["DeletionPolicy"] = policy
    return resource


def kept_table(client, name):
    """A table made outside CloudFormation, holding one item."""
    ddb = client("dynamodb")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=KEY,
                     AttributeDefinitions=ATTRS)
    ddb.put_item(TableName=name, Item={"id": {"S": "kept"}})
    return ddb


def import_set(cfn, stack, template, to_import, name="imp"):
    cfn.create_change_set(StackName=stack, ChangeSetName=name, ChangeSetType="IMPORT",
                          TemplateBody=json.dumps(template), ResourcesToImport=to_import)
    return cfn.describe_change_set(StackName=stack, ChangeSetName=name)


def table_import(logical, name):
    return {"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": logical,
            "ResourceIdentifier": {"TableName": name}}


def status(cfn, stack):
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def physical_ids(cfn, stack):
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}


def refusal(call):
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


# ---- IMPORT change sets ----------------------------------------------------------------------

def test_an_import_into_a_new_stack_adopts_the_table_and_its_items(client):
    cfn, table, stack = client("cloudformation"), _name("kept"), _name("new")
    ddb = kept_table(client, table)
    template = {"Resources": {"Comments": table_resource(table)},
                "Outputs": {"Table": {"Value": {"Ref": "Comments"}}}}
    made = import_set(cfn, stack, template, [table_import("Comments", table)])
    assert (made["Status"], made["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    change = made["Changes"][0]["ResourceChange"]
    assert (change["Action"], change["LogicalResourceId"], change["PhysicalResourceId"]) == (
        "Import", "Comments", table)
    assert status(cfn, stack) == "REVIEW_IN_PROGRESS"

    cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    assert status(cfn, stack) == "IMPORT_COMPLETE"
    assert physical_ids(cfn, stack) == {"Comments": table}
    outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    assert outputs == [{"OutputKey": "Table", "OutputValue": table}]
    events = [(e["LogicalResourceId"], e["ResourceStatus"])
              for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]]
    assert ("Comments", "IMPORT_COMPLETE") in events and (stack, "IMPORT_COMPLETE") in events
    # Nothing was made again: the same table, with its item.
    assert ddb.get_item(TableName=table, Key={"id": {"S": "kept"}})["Item"]["id"]["S"] == "kept"
    assert len([t for t in ddb.list_tables()["TableNames"] if t == table]) == 1


def test_an_import_into_an_existing_stack_keeps_its_resources(client):
    cfn, stack = client("cloudformation"), _name("held")
    bucket, table = _name("bucket"), _name("kept")
    base = {"Resources": {"Photos": bucket_resource(bucket)}}
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(base))
    kept_table(client, table)
    template = copy.deepcopy(base)
    template["Resources"]["Comments"] = table_resource(table)
    import_set(cfn, stack, template, [table_import("Comments", table)])
    cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    assert status(cfn, stack) == "IMPORT_COMPLETE"
    assert physical_ids(cfn, stack) == {"Photos": bucket, "Comments": table}
    # boto3 reads a JSON template body back as a dict.
    assert cfn.get_template(StackName=stack)["TemplateBody"] == template


def test_a_user_pool_is_imported_by_its_id(client):
    cfn, stack = client("cloudformation"), _name("pool")
    pool = client("cognito-idp").create_user_pool(PoolName="kept")["UserPool"]["Id"]
    template = {"Resources": {"Users": {"Type": "AWS::Cognito::UserPool",
                                        "DeletionPolicy": "Retain",
                                        "Properties": {"UserPoolName": "kept"}}}}
    import_set(cfn, stack, template, [{"ResourceType": "AWS::Cognito::UserPool",
                                       "LogicalResourceId": "Users",
                                       "ResourceIdentifier": {"UserPoolId": pool}}])
    cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    assert physical_ids(cfn, stack) == {"Users": pool}


def _refused_import(client, mutate):
    """An import of a kept table into a stack holding a bucket, after `mutate(template,
    to_import)`: CreateChangeSet's error, and no change set left behind."""
    cfn, stack = client("cloudformation"), _name("refuse")
    bucket, table = _name("bucket"), _name("kept")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(
        {"Resources": {"Photos": bucket_resource(bucket)}}))
    kept_table(client, table)
    template = {"Resources": {"Photos": bucket_resource(bucket),
                              "Comments": table_resource(table)}}
    to_import = [table_import("Comments", table)]
    mutate(template, to_import)
    answer = refusal(lambda: import_set(cfn, stack, template, to_import))
    # moto lists every stack's change sets whatever StackName says.
    assert [c for c in cfn.list_change_sets(StackName=stack)["Summaries"]
            if c["StackName"] == stack] == []
    assert physical_ids(cfn, stack) == {"Photos": bucket}
    return answer


def _drop_policy(template, to_import):
    del template["Resources"]["Comments"]["DeletionPolicy"]


def _wrong_key(template, to_import):
    to_import[0]["ResourceIdentifier"] = {"Name": "x"}


def _modify_other(template, to_import):
    template["Resources"]["Photos"]["Properties"]["Tags"] = [{"Key": "k", "Value": "v"}]


def _add_other(template, to_import):
    template["Resources"]["Logs"] = bucket_resource(_name("logs"))


def _remove_other(template, to_import):
    del template["Resources"]["Photos"]


def _already_held(template, to_import):
    to_import.append({"ResourceType": "AWS::S3::Bucket", "LogicalResourceId": "Photos",
                      "ResourceIdentifier": {"BucketName": "x"}})


def _unknown_logical(template, to_import):
    to_import[0]["LogicalResourceId"] = "Missing"


def _type_mismatch(template, to_import):
    to_import[0] = {"ResourceType": "AWS::S3::Bucket", "LogicalResourceId": "Comments",
                    "ResourceIdentifier": {"BucketName": "x"}}


def _not_importable(template, to_import):
    template["Resources"]["Grant"] = {"Type": "AWS::IAM::Policy", "DeletionPolicy": "Retain",
                                      "Properties": {"PolicyName": "p", "Roles": ["r"],
                                                     "PolicyDocument": {}}}
    to_import.append({"ResourceType": "AWS::IAM::Policy", "LogicalResourceId": "Grant",
                      "ResourceIdentifier": {"Id": "p"}})


@pytest.mark.parametrize("mutate, message", [
    (_drop_policy, "The following resources to import [Comments] must have DeletionPolicy "
                   "attribute specified in the template."),
    (_wrong_key, "Invalid resource identifier for resource type AWS::DynamoDB::Table. "
                 "Expected [TableName]"),
    (_modify_other, "You have modified resources [Photos] in your template that are not being "
                    "imported. Update, create or delete operations cannot be executed during "
                    "import operations."),
    (_remove_other, "You have modified resources [Photos] in your template that are not being "
                    "imported. Update, create or delete operations cannot be executed during "
                    "import operations."),
    (_add_other, "Resources [Logs] is missing from ResourceToImport list"),
    (_already_held, "Resources [Photos] passed in ResourceToImport are already in a stack and "
                    "cannot be imported."),
    (_unknown_logical, "The logical resource ids [Missing] provided in ResourceToImport do not "
                       "exist in the template."),
    (_type_mismatch, "Resource type of [Comments] passed in ResourceToImport does not match with "
                     "resource type defined in the template. Resource type in ResourceToImport: "
                     "AWS::S3::Bucket; Resource type in Template: AWS::DynamoDB::Table."),
    (_not_importable, "ResourceType AWS::IAM::Policy is not supported for import"),
])
def test_create_change_set_refuses_an_import_that_breaks_the_rules(client, mutate, message):
    assert _refused_import(client, mutate) == ("ValidationError", message)


def test_an_import_needs_resources_to_import_and_leaves_no_new_stack(client):
    cfn, stack, table = client("cloudformation"), _name("none"), _name("kept")
    template = {"Resources": {"Comments": table_resource(table, policy=None)}}
    assert refusal(lambda: import_set(cfn, stack, template, [])) == (
        "ValidationError", "Must Provide at least one resource to import")
    kept_table(client, table)
    assert refusal(lambda: import_set(cfn, stack, template, [table_import("Comments", table)]))[0] \
        == "ValidationError"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=stack)


def test_a_resource_that_does_not_exist_fails_the_change_set(client):
    cfn, stack, table = client("cloudformation"), _name("ghost"), _name("never")
    made = import_set(cfn, stack, {"Resources": {"Comments": table_resource(table)}},
                      [table_import("Comments", table)])
    assert (made["Status"], made["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert made["StatusReason"] == f"Table: {table} does not exist."
    with pytest.raises(ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    assert status(cfn, stack) == "REVIEW_IN_PROGRESS"
    assert table not in client("dynamodb").list_tables()["TableNames"]


def test_a_resource_held_by_another_stack_fails_the_change_set(client):
    cfn, owner, stack, table = (client("cloudformation"), _name("owner"), _name("thief"),
                                _name("held"))
    owner_id = cfn.create_stack(StackName=owner, TemplateBody=json.dumps(
        {"Resources": {"Comments": table_resource(table)}}))["StackId"]
    made = import_set(cfn, stack, {"Resources": {"Taken": table_resource(table)}},
                      [table_import("Taken", table)])
    assert (made["Status"], made["StatusReason"]) == (
        "FAILED", f"{table} already exists in stack {owner_id}")
    # Once the owner is deleted with the table retained, the table can be imported.
    cfn.delete_stack(StackName=owner)
    assert import_set(cfn, stack, {"Resources": {"Taken": table_resource(table)}},
                      [table_import("Taken", table)], name="again")["Status"] == "CREATE_COMPLETE"


def test_a_resource_gone_before_execution_rolls_the_import_back(client):
    cfn, stack, table = client("cloudformation"), _name("gone"), _name("brief")
    ddb = kept_table(client, table)
    import_set(cfn, stack, {"Resources": {"Comments": table_resource(table)}},
               [table_import("Comments", table)])
    ddb.delete_table(TableName=table)
    cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    assert status(cfn, stack) == "IMPORT_ROLLBACK_COMPLETE"
    assert physical_ids(cfn, stack) == {}
    assert table not in ddb.list_tables()["TableNames"]


def test_the_schemas_decide_what_mraa_can_import():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import emulator_import as imports

    region = "us-east-1"
    for kind, keys in {
        "AWS::S3::Bucket": ["BucketName"], "AWS::DynamoDB::Table": ["TableName"],
        "AWS::Cognito::UserPool": ["UserPoolId"], "AWS::KMS::Key": ["KeyId"],
        "AWS::KMS::ReplicaKey": ["KeyId"], "AWS::IAM::Role": ["RoleName"],
        "AWS::Cognito::UserPoolReplica": ["UserPoolId", "RegionName"],
    }.items():
        assert imports.supports_import(region, kind), kind
        assert imports.identifier_properties(region, kind) == keys
        assert kind in imports.LOOKUPS
    assert not imports.supports_import(region, "AWS::IAM::Policy")


# ---- ImportExistingResources -----------------------------------------------------------------

def _auto(cfn, stack, template, kind="CREATE", name="auto"):
    cfn.create_change_set(StackName=stack, ChangeSetName=name, ChangeSetType=kind,
                          TemplateBody=json.dumps(template), ImportExistingResources=True)
    return cfn.describe_change_set(StackName=stack, ChangeSetName=name)


def test_import_existing_resources_adopts_named_resources_and_creates_the_rest(client):
    cfn, stack, table, bucket = (client("cloudformation"), _name("auto"), _name("kept"),
                                 _name("fresh"))
    ddb = kept_table(client, table)
    made = _auto(cfn, stack, {"Resources": {"Comments": table_resource(table),
                                            "Photos": bucket_resource(bucket, policy=None)}})
    assert made["ImportExistingResources"] is True
    actions = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"]
               for c in made["Changes"]}
    assert actions == {"Comments": "Import", "Photos": "Add"}
    cfn.execute_change_set(StackName=stack, ChangeSetName="auto")
    assert status(cfn, stack) == "CREATE_COMPLETE"
    assert physical_ids(cfn, stack) == {"Comments": table, "Photos": bucket}
    assert ddb.get_item(TableName=table, Key={"id": {"S": "kept"}})["Item"]["id"]["S"] == "kept"
    client("s3").head_bucket(Bucket=bucket)


def test_import_existing_resources_needs_a_retaining_deletion_policy(client):
    cfn, stack, table = client("cloudformation"), _name("loose"), _name("kept")
    kept_table(client, table)
    made = _auto(cfn, stack, {"Resources": {"Comments": table_resource(table, policy="Delete")}})
    assert (made["Status"], made["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert made["StatusReason"].endswith(
        f"'Retain' or 'RetainExceptOnCreate' in the template for successful import. The "
        f"affected resources are Comments ({{TableName={table}}})")


def test_import_existing_resources_leaves_a_dynamic_name_to_creation(client):
    # The name must be a literal in the template; a table named through !Sub is created, and
    # creating it where one exists fails as a creation does.
    cfn, stack, table = client("cloudformation"), _name("dyn"), _name("kept")
    kept_table(client, table)
    resource = table_resource(table)
    resource["Properties"]["TableName"] = {"Fn::Sub": table}
    made = _auto(cfn, stack, {"Resources": {"Comments": resource}})
    assert [c["ResourceChange"]["Action"] for c in made["Changes"]] == ["Add"]


def test_import_existing_resources_refuses_a_resource_of_another_stack(client):
    cfn, owner, stack, table = (client("cloudformation"), _name("owner"), _name("auto"),
                                _name("held"))
    owner_id = cfn.create_stack(StackName=owner, TemplateBody=json.dumps(
        {"Resources": {"Comments": table_resource(table)}}))["StackId"]
    made = _auto(cfn, stack, {"Resources": {"Comments": table_resource(table)}})
    assert (made["Status"], made["StatusReason"]) == (
        "FAILED", f"{table} already exists in stack {owner_id}")


# ---- ImportStacksToStackSet ------------------------------------------------------------------

def _set_and_stack(client, template, stack_template=None):
    cfn, name, stack = client("cloudformation"), _name("set"), _name("solo")
    cfn.create_stack_set(StackSetName=name, TemplateBody=json.dumps(template))
    stack_id = cfn.create_stack(StackName=stack, TemplateBody=json.dumps(
        stack_template or template))["StackId"]
    return cfn, name, stack, stack_id


def _instances(cfn, name):
    return cfn.list_stack_instances(StackSetName=name)["Summaries"]


def test_a_stack_imported_into_a_stack_set_is_its_instance_and_can_be_retained(client):
    table = _name("kept")
    template = {"Resources": {"Comments": table_resource(table)}}
    cfn, name, stack, stack_id = _set_and_stack(client, template)
    operation = cfn.import_stacks_to_stack_set(StackSetName=name, StackIds=[stack_id])
    described = cfn.describe_stack_set_operation(StackSetName=name,
                                                 OperationId=operation["OperationId"])
    assert described["StackSetOperation"]["Status"] == "SUCCEEDED"
    (instance,) = _instances(cfn, name)
    assert (instance["StackId"], instance["Region"], instance["Status"]) == (
        stack_id, "us-east-1", "CURRENT")
    # A stack belongs to one StackSet only.
    other = _name("other")
    cfn.create_stack_set(StackSetName=other, TemplateBody=json.dumps(template))
    assert refusal(lambda: cfn.import_stacks_to_stack_set(
        StackSetName=other, StackIds=[stack_id]))[0] == "InvalidOperationException"
    # RetainStacks takes the instance out of the set and leaves its stack and table.
    account = stack_id.split(":")[4]
    cfn.delete_stack_instances(StackSetName=name, Accounts=[account], Regions=["us-east-1"],
                               RetainStacks=True)
    assert _instances(cfn, name) == []
    assert status(cfn, stack) == "CREATE_COMPLETE"
    assert physical_ids(cfn, stack) == {"Comments": table}
    # ... and the retained stack can be imported again.
    cfn.import_stacks_to_stack_set(StackSetName=name, StackIds=[stack_id])
    assert [i["StackId"] for i in _instances(cfn, name)] == [stack_id]


def test_a_stack_whose_template_differs_is_not_imported(client):
    template = {"Resources": {"Comments": table_resource(_name("kept"))}}
    other = {"Resources": {"Comments": table_resource(_name("else"))}}
    cfn, name, stack, stack_id = _set_and_stack(client, template, other)
    operation = cfn.import_stacks_to_stack_set(StackSetName=name, StackIds=[stack_id])
    assert cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation[
        "OperationId"])["StackSetOperation"]["Status"] == "FAILED"
    (instance,) = _instances(cfn, name)
    assert (instance["Status"], instance["StackInstanceStatus"]["DetailedStatus"]) == (
        "INOPERABLE", "FAILED_IMPORT")
    assert status(cfn, stack) == "CREATE_COMPLETE"


def test_import_stacks_to_stack_set_refuses_what_the_api_refuses(client):
    template = {"Resources": {"Comments": table_resource(_name("kept"))}}
    cfn, name, stack, stack_id = _set_and_stack(client, template)
    assert refusal(lambda: cfn.import_stacks_to_stack_set(
        StackSetName=_name("nope"), StackIds=[stack_id]))[0] == "StackSetNotFoundException"
    missing = stack_id.replace(stack, "absent")
    assert refusal(lambda: cfn.import_stacks_to_stack_set(
        StackSetName=name, StackIds=[missing]))[0] == "StackNotFoundException"
    assert refusal(lambda: cfn.import_stacks_to_stack_set(
        StackSetName=name, StackIds=[stack_id] * 11))[0] == "LimitExceededException"
    assert refusal(lambda: cfn.import_stacks_to_stack_set(
        StackSetName=name, StackIds=[]))[0] == "ValidationError"
    # Refused calls left nothing behind.
    assert _instances(cfn, name) == []


def test_bucket_versioning_is_answered_as_s3_answers_it(client, endpoint):
    """Adoption checks a kept bucket's versioning: the document's root is
    VersioningConfiguration, without Status until versioning was enabled."""
    import urllib.request
    s3 = client("s3")
    s3.create_bucket(Bucket="versioning-shape")
    raw = urllib.request.urlopen(f"{endpoint}/versioning-shape?versioning").read().decode()
    assert "<VersioningConfiguration" in raw and "<Status>" not in raw, raw
    s3.put_bucket_versioning(Bucket="versioning-shape",
                             VersioningConfiguration={"Status": "Enabled"})
    raw = urllib.request.urlopen(f"{endpoint}/versioning-shape?versioning").read().decode()
    assert "<VersioningConfiguration" in raw and "<Status>Enabled</Status>" in raw, raw
    assert s3.get_bucket_versioning(Bucket="versioning-shape")["Status"] == "Enabled"


def test_a_stack_made_by_an_import_carries_the_change_sets_tags(client):
    """CreateChangeSet's Tags are the new stack's, whatever the change set's type: mraa proves a
    stack its app's by them."""
    cfn, table, stack = client("cloudformation"), _name("tagged"), _name("tagged-stack")
    kept_table(client, table)
    cfn.create_change_set(
        StackName=stack, ChangeSetName="imp", ChangeSetType="IMPORT",
        TemplateBody=json.dumps({"Resources": {"Comments": table_resource(table)}}),
        ResourcesToImport=[table_import("Comments", table)],
        Tags=[{"Key": "mraa:app", "Value": "demo"}])
    cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    assert status(cfn, stack) == "IMPORT_COMPLETE"
    tags = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Tags"]
    assert tags == [{"Key": "mraa:app", "Value": "demo"}]
