"""Change sets executed as AWS executes them (scripts/emulator_changeset.py): the stack takes the
change set's template, parameters, outputs and exports; a change set without changes is FAILED and
cannot be executed."""
import pytest
from botocore.exceptions import ClientError

TEMPLATE = """\
Parameters:
  Value:
    Type: String
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub '${AWS::StackName}-param'
      Type: String
      Value: !Ref Value
Outputs:
  Value:
    Value: !Ref Value
    Export:
      Name: !Sub '${AWS::StackName}-value'
"""


def change_set(cfn, stack, name, kind, value, body=TEMPLATE):
    cfn.create_change_set(StackName=stack, ChangeSetName=name, ChangeSetType=kind,
                          TemplateBody=body,
                          Parameters=[{"ParameterKey": "Value", "ParameterValue": value}])
    return cfn.describe_change_set(StackName=stack, ChangeSetName=name)


def outputs(cfn, stack):
    (found,) = cfn.describe_stacks(StackName=stack)["Stacks"]
    return ({o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs") or []},
            {p["ParameterKey"]: p["ParameterValue"] for p in found["Parameters"]})


def test_a_stack_made_and_updated_by_change_sets_reads_back_its_template(client):
    cfn = client("cloudformation")
    assert change_set(cfn, "made", "one", "CREATE", "first")["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(StackName="made", ChangeSetName="one")
    assert cfn.get_template(StackName="made")["TemplateBody"] == TEMPLATE
    assert outputs(cfn, "made") == ({"Value": "first"}, {"Value": "first"})
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports["made-value"] == "first"

    body = TEMPLATE + "  Name:\n    Value: !Ref Param\n"
    change_set(cfn, "made", "two", "UPDATE", "second", body)
    cfn.execute_change_set(StackName="made", ChangeSetName="two")
    (stack,) = cfn.describe_stacks(StackName="made")["Stacks"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert cfn.get_template(StackName="made")["TemplateBody"] == body
    assert outputs(cfn, "made") == ({"Value": "second", "Name": "made-param"},
                                    {"Value": "second"})
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports["made-value"] == "second"
    assert client("ssm").get_parameter(Name="made-param")["Parameter"]["Value"] == "second"


def test_a_change_set_without_changes_is_failed_and_not_executed(client):
    cfn = client("cloudformation")
    change_set(cfn, "same", "one", "CREATE", "v")
    cfn.execute_change_set(StackName="same", ChangeSetName="one")
    noop = change_set(cfn, "same", "two", "UPDATE", "v")
    assert (noop["Status"], noop["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert "didn't contain changes" in noop["StatusReason"]
    with pytest.raises(ClientError) as refused:
        cfn.execute_change_set(StackName="same", ChangeSetName="two")
    assert refused.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    # Executed once, a change set is not executed again.
    with pytest.raises(ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(StackName="same", ChangeSetName="one")
    with pytest.raises(ClientError, match="ChangeSetNotFound"):
        cfn.execute_change_set(StackName="same", ChangeSetName="never")


def test_other_change_sets_of_an_executed_stack_are_obsolete(client):
    cfn = client("cloudformation")
    change_set(cfn, "racing", "one", "CREATE", "v")
    cfn.execute_change_set(StackName="racing", ChangeSetName="one")
    change_set(cfn, "racing", "a", "UPDATE", "a")
    change_set(cfn, "racing", "b", "UPDATE", "b")
    cfn.execute_change_set(StackName="racing", ChangeSetName="a")
    assert cfn.describe_change_set(StackName="racing", ChangeSetName="b")[
        "ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(StackName="racing", ChangeSetName="b")
    assert outputs(cfn, "racing")[0] == {"Value": "a"}


def test_an_export_of_another_stack_is_refused(client):
    cfn = client("cloudformation")
    change_set(cfn, "owner", "one", "CREATE", "v")
    cfn.execute_change_set(StackName="owner", ChangeSetName="one")
    clash = TEMPLATE.replace("${AWS::StackName}-value", "owner-value")
    change_set(cfn, "other", "one", "CREATE", "v", clash)
    with pytest.raises(ClientError, match="Export names must be unique"):
        cfn.execute_change_set(StackName="other", ChangeSetName="one")
