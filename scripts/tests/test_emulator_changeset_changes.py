"""Change sets in the emulator (scripts/emulator_changeset_changes.py): each modified resource with
CloudFormation's Replacement and Details, read through CloudFormation's own API.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import json

TABLE = {"Type": "AWS::DynamoDB::Table", "Properties": {
    "TableName": {"Ref": "TableName"}, "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}
TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Shown"}}}


def template(table=TABLE, extra=None):
    resources = {"Table": table, "Topic": TOPIC, **(extra or {})}
    return json.dumps({
        "Parameters": {"TableName": {"Type": "String"},
                       "Shown": {"Type": "String", "Default": "one"}},
        "Resources": resources})


def params(**values):
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def changes(cfn, stack, body, parameters):
    cfn.create_change_set(StackName=stack, ChangeSetName="preview", ChangeSetType="UPDATE",
                          TemplateBody=body, Parameters=parameters)
    described = cfn.describe_change_set(StackName=stack, ChangeSetName="preview")
    cfn.delete_change_set(StackName=stack, ChangeSetName="preview")
    return described, {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
                       for c in described["Changes"]}


def test_a_create_only_property_replaces_the_resource(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="cs-replace", TemplateBody=template(),
                     Parameters=params(TableName="first"))
    _, found = changes(cfn, "cs-replace", template(), params(TableName="second"))
    table = found["Table"]
    assert table["Action"] == "Modify"
    assert table["Replacement"] == "True"
    assert table["Scope"] == ["Properties"]
    assert table["Details"] == [{
        "Target": {"Attribute": "Properties", "Name": "TableName",
                   "RequiresRecreation": "Always"},
        "Evaluation": "Static", "ChangeSource": "ParameterReference"}]
    # Nothing else changed: the topic is not listed.
    assert set(found) == {"Table"}


def test_a_conditional_create_only_property_is_conditional(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="cs-conditional", TemplateBody=template(),
                     Parameters=params(TableName="keys"))
    keyed = json.loads(json.dumps(TABLE))
    keyed["Properties"]["AttributeDefinitions"] = [
        {"AttributeName": "pk", "AttributeType": "S"}]
    keyed["Properties"]["KeySchema"] = [{"AttributeName": "pk", "KeyType": "HASH"}]
    _, found = changes(cfn, "cs-conditional", template(keyed), params(TableName="keys"))
    assert found["Table"]["Replacement"] == "Conditional"
    assert {d["Target"]["Name"]: d["Target"]["RequiresRecreation"]
            for d in found["Table"]["Details"]} == {
        "AttributeDefinitions": "Never", "KeySchema": "Conditionally"}


def test_an_updatable_property_changed_by_a_parameter_is_modified_in_place(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="cs-in-place", TemplateBody=template(),
                     Parameters=params(TableName="kept"))
    described, found = changes(cfn, "cs-in-place", template(),
                               params(TableName="kept", Shown="two"))
    assert described["Status"] == "CREATE_COMPLETE"
    assert set(found) == {"Topic"}
    assert found["Topic"]["Replacement"] == "False"
    assert found["Topic"]["Details"][0]["Target"] == {
        "Attribute": "Properties", "Name": "DisplayName", "RequiresRecreation": "Never"}


def test_added_and_removed_resources_are_listed_as_moto_lists_them(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="cs-add", TemplateBody=template(),
                     Parameters=params(TableName="added"))
    body = json.loads(template(extra={"Other": {"Type": "AWS::SNS::Topic",
                                                "Properties": {}}}))
    del body["Resources"]["Topic"]
    _, found = changes(cfn, "cs-add", json.dumps(body), params(TableName="added"))
    assert {k: v["Action"] for k, v in found.items()} == {"Other": "Add", "Topic": "Remove"}


def test_no_change_is_refused_as_aws_refuses_it(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="cs-same", TemplateBody=template(),
                     Parameters=params(TableName="same"))
    # The default left out: moto sees other parameter text; AWS sees no change.
    described, found = changes(cfn, "cs-same", template(), params(TableName="same"))
    assert described["Status"] == "FAILED"
    assert "didn't contain changes" in described["StatusReason"]
    assert found == {}
    # The same text is no change either: a FAILED change set, as AWS leaves it.
    described, found = changes(cfn, "cs-same", template(), params(TableName="same", Shown="one"))
    assert described["Status"] == "FAILED" and found == {}


# Conditions from parameters: "Conditions syntax" (docs.aws.amazon.com/AWSCloudFormation/latest/
# TemplateReference/conditions-section-structure.html) and "Condition functions"
# (intrinsic-function-reference-conditions.html): on an update, conditions are evaluated from the
# new parameters; Fn::If takes the new branch, a resource whose condition turns true is created and
# one whose condition turns false is deleted.
def conditional(name="cs-cond"):
    return json.dumps({
        "Parameters": {"Domain": {"Type": "String", "Default": ""}},
        "Conditions": {"HasDomain": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Domain"}, ""]}]}},
        "Resources": {
            "Shown": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": f"/{name}/shown", "Type": "String",
                "Value": {"Fn::If": ["HasDomain", {"Fn::Sub": "https://${Domain}"}, "none"]}}},
            "Only": {"Type": "AWS::SSM::Parameter", "Condition": "HasDomain", "Properties": {
                "Name": f"/{name}/only", "Type": "String", "Value": "made"}},
        }})


def execute(cfn, stack, body, parameters, name):
    cfn.create_change_set(StackName=stack, ChangeSetName=name, ChangeSetType="UPDATE",
                          TemplateBody=body, Parameters=parameters)
    found = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
             for c in cfn.describe_change_set(StackName=stack, ChangeSetName=name)["Changes"]}
    cfn.execute_change_set(StackName=stack, ChangeSetName=name)
    return found


def test_a_parameter_that_flips_a_condition_modifies_fn_if_and_adds_or_removes(client):
    cfn, ssm = client("cloudformation"), client("ssm")
    cfn.create_stack(StackName="cs-cond", TemplateBody=conditional())
    assert ssm.get_parameter(Name="/cs-cond/shown")["Parameter"]["Value"] == "none"
    assert [p["Name"] for p in ssm.describe_parameters()["Parameters"]
            if p["Name"].startswith("/cs-cond/")] == ["/cs-cond/shown"]

    # The template text is the same: only the parameter changes, through the condition.
    found = execute(cfn, "cs-cond", conditional(), params(Domain="app.example.test"), "add")
    assert {k: v["Action"] for k, v in found.items()} == {"Shown": "Modify", "Only": "Add"}
    assert found["Shown"]["Details"] == [{
        "Target": {"Attribute": "Properties", "Name": "Value", "RequiresRecreation": "Never"},
        "Evaluation": "Static", "ChangeSource": "ParameterReference"}]
    # Executed: the resources are what the new parameters make them.
    assert ssm.get_parameter(Name="/cs-cond/shown")["Parameter"][
        "Value"] == "https://app.example.test"
    assert ssm.get_parameter(Name="/cs-cond/only")["Parameter"]["Value"] == "made"

    # And back: the conditional resource is removed, the value takes the other branch.
    found = execute(cfn, "cs-cond", conditional(), params(Domain=""), "remove")
    assert {k: v["Action"] for k, v in found.items()} == {"Shown": "Modify", "Only": "Remove"}
    assert ssm.get_parameter(Name="/cs-cond/shown")["Parameter"]["Value"] == "none"
    assert not ssm.get_parameters(Names=["/cs-cond/only"])["Parameters"]

    # The same parameters again: no change, as AWS refuses it.
    described, found = changes(cfn, "cs-cond", conditional(), params(Domain=""))
    assert described["Status"] == "FAILED" and found == {}


def test_update_stack_follows_the_resolved_template_too(client):
    cfn, ssm = client("cloudformation"), client("ssm")
    cfn.create_stack(StackName="cs-update", TemplateBody=conditional("cs-update"))
    cfn.update_stack(StackName="cs-update", TemplateBody=conditional("cs-update"),
                     Parameters=params(Domain="shop.example.test"))
    assert ssm.get_parameter(Name="/cs-update/shown")["Parameter"][
        "Value"] == "https://shop.example.test"
    assert ssm.get_parameter(Name="/cs-update/only")["Parameter"]["Value"] == "made"


# "UpdateStackSet" (docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
# API_UpdateStackSet.html): the update reaches the set's instances, every one when no accounts
# and Regions are given.
def test_a_stack_set_update_reaches_its_instance_stacks(client):
    cfn = client("cloudformation")
    body = json.dumps({
        "Parameters": {"Origin": {"Type": "String", "Default": "*"}},
        "Resources": {"OriginParameter": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "/cs-set/origin", "Type": "String", "Value": {"Ref": "Origin"}}}}})
    cfn.create_stack_set(StackSetName="cs-set", TemplateBody=body,
                         Parameters=params(Origin="*"), PermissionModel="SELF_MANAGED")
    regions = ["us-east-1", "ap-northeast-1"]
    cfn.create_stack_instances(StackSetName="cs-set", Accounts=["123456789012"], Regions=regions)
    for region in regions:
        assert client("ssm", region).get_parameter(Name="/cs-set/origin")["Parameter"][
            "Value"] == "*"
    cfn.update_stack_set(StackSetName="cs-set", TemplateBody=body,
                         Parameters=params(Origin="https://photos.example.test"))
    for region in regions:
        assert client("ssm", region).get_parameter(Name="/cs-set/origin")["Parameter"][
            "Value"] == "https://photos.example.test", region


def test_an_update_that_changes_only_an_output_is_made_and_executed(client):
    # AWS makes it, executable, with no resource change listed; executing it updates the output.
    cfn = client("cloudformation")
    body = json.dumps({
        "Parameters": {"Label": {"Type": "String"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic",
                                "Properties": {"DisplayName": "fixed"}}},
        "Outputs": {"Label": {"Value": {"Ref": "Label"}}}})
    cfn.create_stack(StackName="cs-output", TemplateBody=body, Parameters=params(Label="one"))
    described, found = changes(cfn, "cs-output", body, params(Label="two"))
    assert (described["Status"], described["ExecutionStatus"]) == (
        "CREATE_COMPLETE", "AVAILABLE"), described.get("StatusReason")
    assert found == {}
    cfn.create_change_set(StackName="cs-output", ChangeSetName="label", ChangeSetType="UPDATE",
                          TemplateBody=body, Parameters=params(Label="two"))
    cfn.execute_change_set(StackName="cs-output", ChangeSetName="label")
    (stack,) = cfn.describe_stacks(StackName="cs-output")["Stacks"]
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {"Label": "two"}
    # The same output value again is no change.
    described, _ = changes(cfn, "cs-output", body, params(Label="two"))
    assert described["Status"] == "FAILED"
    assert "didn't contain changes" in described["StatusReason"]
