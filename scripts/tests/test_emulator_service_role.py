"""A stack's service role (scripts/emulator_service_role.py): CloudFormation assumes the role a
stack operation names, or the one the stack holds, and refuses the operation with AWS's
ValidationError when the role's trust policy does not let cloudformation.amazonaws.com assume it
in this account."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"  # moto's default account


def ssm(value="one"):
    """A template holding one parameter of its own name."""
    return json.dumps({"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": f"/test/{uuid.uuid4().hex[:8]}", "Type": "String", "Value": value}}}})

TABLE_KEY = [{"AttributeName": "id", "KeyType": "HASH"}]
TABLE_ATTRS = [{"AttributeName": "id", "AttributeType": "S"}]


def _name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def trust(principal, condition=None):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def role(client, document):
    made = client("iam").create_role(RoleName=_name("role"),
                                     AssumeRolePolicyDocument=json.dumps(document))
    return made["Role"]["Arn"]


def cloudformation_role(client, account=ACCOUNT):
    return role(client, trust({"Service": "cloudformation.amazonaws.com"},
                              {"StringEquals": {"aws:SourceAccount": account}}))


def refused(error, arn):
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert error.value.response["Error"]["Message"] == (
        f"Role {arn} is invalid or cannot be assumed")


def stack_names(cfn):
    return {s["StackName"] for s in cfn.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"}


def test_a_role_cloudformation_may_assume_in_this_account_is_taken_and_kept_with_the_stack(
        client):
    cfn, arn, stack = client("cloudformation"), cloudformation_role(client), _name("stack")
    cfn.create_change_set(StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE",
                          TemplateBody=ssm(), RoleARN=arn)
    cfn.execute_change_set(StackName=stack, ChangeSetName="c1")
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["RoleARN"] == arn


@pytest.mark.parametrize("document", [
    # StackSets' execution role as it was: trusted by the administration role only.
    trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}),
    trust({"Service": "lambda.amazonaws.com"}),
    # CloudFormation acting for another account.
    trust({"Service": "cloudformation.amazonaws.com"},
          {"StringEquals": {"aws:SourceAccount": "210987654321"}}),
    # A key CloudFormation is not known here to set.
    trust({"Service": "cloudformation.amazonaws.com"},
          {"StringEquals": {"aws:SourceArn": "arn:aws:cloudformation:us-east-1:1:stack/x/y"}}),
])
def test_a_role_cloudformation_may_not_assume_refuses_every_stack_operation(client, document):
    cfn, arn, stack = client("cloudformation"), role(client, document), _name("stack")
    with pytest.raises(ClientError) as error:
        cfn.create_stack(StackName=stack, TemplateBody=ssm(), RoleARN=arn)
    refused(error, arn)
    with pytest.raises(ClientError) as error:
        cfn.create_change_set(StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE",
                              TemplateBody=ssm(), RoleARN=arn)
    refused(error, arn)
    assert stack not in stack_names(cfn)


def test_a_denied_or_missing_role_is_refused(client):
    cfn = client("cloudformation")
    document = trust({"Service": "cloudformation.amazonaws.com"})
    document["Statement"].append({"Effect": "Deny", "Principal": "*",
                                  "Action": "sts:AssumeRole"})
    for arn in (role(client, document), f"arn:aws:iam::{ACCOUNT}:role/{_name('missing')}"):
        with pytest.raises(ClientError) as error:
            cfn.create_stack(StackName=_name("stack"), TemplateBody=ssm(),
                             RoleARN=arn)
        refused(error, arn)


def test_an_import_as_a_role_cloudformation_may_not_assume_makes_nothing(client):
    cfn, ddb = client("cloudformation"), client("dynamodb")
    table, stack = _name("kept"), _name("stack")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", KeySchema=TABLE_KEY,
                     AttributeDefinitions=TABLE_ATTRS)
    template = {"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                                    "Properties": {"TableName": table,
                                                   "BillingMode": "PAY_PER_REQUEST",
                                                   "KeySchema": TABLE_KEY,
                                                   "AttributeDefinitions": TABLE_ATTRS}}}}
    to_import = [{"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "T",
                  "ResourceIdentifier": {"TableName": table}}]
    untrusted = role(client, trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    with pytest.raises(ClientError) as error:
        cfn.create_change_set(StackName=stack, ChangeSetName="imp", ChangeSetType="IMPORT",
                              TemplateBody=json.dumps(template), ResourcesToImport=to_import,
                              RoleARN=untrusted)
    refused(error, untrusted)
    assert stack not in stack_names(cfn)
    trusted = cloudformation_role(client)
    cfn.create_change_set(StackName=stack, ChangeSetName="imp", ChangeSetType="IMPORT",
                          TemplateBody=json.dumps(template), ResourcesToImport=to_import,
                          RoleARN=trusted)
    cfn.execute_change_set(StackName=stack, ChangeSetName="imp")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert (described["StackStatus"], described["RoleARN"]) == ("IMPORT_COMPLETE", trusted)


def test_a_stack_goes_on_acting_as_its_role_and_is_refused_once_the_role_is_not_trusted(client):
    cfn, iam, stack = client("cloudformation"), client("iam"), _name("stack")
    arn = cloudformation_role(client)
    cfn.create_stack(StackName=stack, TemplateBody=ssm(), RoleARN=arn)
    iam.update_assume_role_policy(
        RoleName=arn.rsplit("/", 1)[1],
        PolicyDocument=json.dumps(trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})))
    # No RoleARN given: CloudFormation uses the role the stack holds.
    with pytest.raises(ClientError) as error:
        cfn.create_change_set(StackName=stack, ChangeSetName="c2", ChangeSetType="UPDATE",
                              TemplateBody=ssm("two"))
    refused(error, arn)
