"""The emulator's scaled AWS clock (scripts/emulator_time.py): with MRAA_EMULATOR_TIME_SCALE set,
statuses stay in progress for the AWS duration divided by the scale, then complete."""
import json
import sys
import time

import pytest

from conftest import REPO, clients, start_emulator, stop_emulator

sys.path.insert(0, str(REPO / "scripts"))
import emulator_time  # noqa: E402  (the figures the emulator charges)
from test_emulator_cfn_edge import edge_template
from test_emulator_replication import make_table

SCALE = 100  # a distribution's 270 s read as 2.7 s


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    proc, url = start_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log",
                               MRAA_EMULATOR_TIME_SCALE=str(SCALE))
    yield clients(url)
    stop_emulator(proc)


def until(read, done, limit, since):
    """Polls `read` until `done(value)`; returns (first value, seconds since `since`).

    `since` is taken before the request that starts the operation: the clock cannot complete it
    sooner than that, however slowly the machine answers the requests in between, so the lower
    bounds below hold on a loaded machine; the upper bounds leave room for slow polls."""
    first = read()
    value = first
    while not done(value):
        assert time.monotonic() - since < limit, f"still {value!r} after {limit} s"
        time.sleep(0.1)
        value = read()
    return first, time.monotonic() - since


def test_a_stack_with_a_distribution_completes_on_the_scaled_clock(client):
    cfn, cloudfront = client("cloudformation"), client("cloudfront")
    begun = time.monotonic()
    cfn.create_stack(StackName="edge", TemplateBody=edge_template())
    (stack,) = cfn.describe_stacks(StackName="edge")["Stacks"]
    assert stack["StackStatus"] == "CREATE_IN_PROGRESS" and not stack.get("Outputs")
    first, took = until(lambda: cfn.describe_stacks(StackName="edge")["Stacks"][0],
                        lambda s: s["StackStatus"] == "CREATE_COMPLETE", 10, begun)
    # 30 s + 3 per resource + the distribution's 270 s, scaled: about 3.1 s.
    assert 3.0 < took < 6, took
    (stack,) = cfn.describe_stacks(StackName="edge")["Stacks"]
    dist_id = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Id"]
    assert cloudfront.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"

    config = cloudfront.get_distribution_config(Id=dist_id)
    config["DistributionConfig"]["Enabled"] = False  # a disable deploys like any update
    begun = time.monotonic()
    cloudfront.update_distribution(Id=dist_id, IfMatch=config["ETag"],
                                   DistributionConfig=config["DistributionConfig"])
    first, took = until(lambda: cloudfront.get_distribution(Id=dist_id)["Distribution"]["Status"],
                        lambda s: s == "Deployed", 10, begun)
    assert first == "InProgress" and 2.7 < took < 5.5, (first, took)

    cfn.delete_stack(StackName="edge")
    first, took = until(lambda: [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]
                                 if s["StackName"] == "edge"][0],
                        lambda s: s == "DELETE_COMPLETE", 10, time.monotonic())
    assert first == "DELETE_IN_PROGRESS", first


def test_a_replica_is_creating_for_five_scaled_minutes(client):
    east, tokyo = client("dynamodb"), client("dynamodb", "ap-northeast-1")
    make_table(east, "clocked")
    begun = time.monotonic()
    east.update_table(TableName="clocked", ReplicaUpdates=[
        {"Create": {"RegionName": "ap-northeast-1"}}])
    # A second replica update while the first runs is refused.
    with pytest.raises(Exception, match="ResourceInUseException"):
        east.update_table(TableName="clocked", ReplicaUpdates=[
            {"Create": {"RegionName": "eu-west-1"}}])
    assert tokyo.describe_table(TableName="clocked")["Table"]["TableStatus"] == "CREATING"
    first, took = until(
        lambda: east.describe_table(TableName="clocked")["Table"]["Replicas"][0]["ReplicaStatus"],
        lambda s: s == "ACTIVE", 10, begun)
    assert first == "CREATING" and 3.0 < took < 5.5, (first, took)


def test_a_stack_set_operation_runs_until_its_instance_stacks_complete(client):
    cfn = client("cloudformation")
    cfn.create_stack_set(StackSetName="clocked", TemplateBody=json.dumps({"Resources": {
        "P": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Name": "clocked", "Type": "String", "Value": "v"}}}}))
    begun = time.monotonic()
    operation = cfn.create_stack_instances(
        StackSetName="clocked", Accounts=["123456789012"],
        Regions=["us-east-1", "ap-northeast-1"],
        OperationPreferences={"RegionConcurrencyType": "SEQUENTIAL"})["OperationId"]
    # The first region runs its instance; the second waits for it.
    assert instance_statuses(cfn) == {"us-east-1": ("OUTDATED", "RUNNING"),
                                      "ap-northeast-1": ("OUTDATED", "PENDING")}
    tokyo = client("cloudformation", "ap-northeast-1")
    assert tokyo.describe_stacks(StackName="StackSet:clocked")["Stacks"][0][
        "StackStatus"] == "CREATE_IN_PROGRESS"
    first, took = until(lambda: cfn.describe_stack_set_operation(
        StackSetName="clocked", OperationId=operation)["StackSetOperation"]["Status"],
        lambda s: s == "SUCCEEDED", 10, begun)
    # Two regions one after the other, each 60 s of overhead and then its stack's 30 s + 3 per
    # resource: 2 × 93 s, scaled.
    assert first == "RUNNING" and 1.86 < took < 4.5, (first, took)
    for region in ("us-east-1", "ap-northeast-1"):
        assert client("cloudformation", region).describe_stacks(
            StackName="StackSet:clocked")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert instance_statuses(cfn) == {"us-east-1": ("CURRENT", "SUCCEEDED"),
                                      "ap-northeast-1": ("CURRENT", "SUCCEEDED")}


def instance_statuses(cfn):
    return {i["Region"]: (i["Status"], i["StackInstanceStatus"]["DetailedStatus"])
            for i in cfn.list_stack_instances(StackSetName="clocked")["Summaries"]}


def test_a_stack_made_by_a_change_set_takes_its_resources_time(client):
    cfn = client("cloudformation")
    cfn.create_change_set(
        StackName="changed", ChangeSetName="one", ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {f"P{i}": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": f"changed-{i}", "Type": "String", "Value": "v"}}
            for i in range(20)}}))
    begun = time.monotonic()
    cfn.execute_change_set(StackName="changed", ChangeSetName="one")
    first, took = until(lambda: cfn.describe_stacks(StackName="changed")["Stacks"][0][
        "StackStatus"], lambda s: s == "CREATE_COMPLETE", 10, begun)
    # 30 s + 3 × 20 resources, scaled: 0.9 s (the fixed part alone would be 0.3 s).
    assert first == "CREATE_IN_PROGRESS" and 0.9 < took < 3.5, (first, took)


def test_a_stack_is_charged_for_the_resources_its_conditions_create(client):
    cfn = client("cloudformation")
    # One parameter made, twenty left out by a condition on the stack's parameter.
    resources = {f"P{i}": {"Type": "AWS::SSM::Parameter", "Condition": "Many",
                           "Properties": {"Name": f"conditional-{i}", "Type": "String",
                                          "Value": "v"}} for i in range(20)}
    resources["One"] = {"Type": "AWS::SSM::Parameter",
                        "Properties": {"Name": "conditional", "Type": "String", "Value": "v"}}
    template = json.dumps({
        "Parameters": {"Size": {"Type": "String", "Default": "many"}},
        "Conditions": {"Many": {"Fn::Equals": [{"Ref": "Size"}, "many"]}},
        "Resources": resources})
    begun = time.monotonic()
    cfn.create_stack(StackName="conditional", TemplateBody=template,
                     Parameters=[{"ParameterKey": "Size", "ParameterValue": "one"}])
    first, took = until(lambda: cfn.describe_stacks(StackName="conditional")["Stacks"][0][
        "StackStatus"], lambda s: s == "CREATE_COMPLETE", 10, begun)
    # 30 s + 3 × 1 resource, scaled: 0.33 s; the 21 declared would take 0.93 s.
    assert first == "CREATE_IN_PROGRESS" and 0.33 < took < 0.85, (first, took)


def front_end(region, mode):
    from moto.cloudformation.utils import yaml_tag_constructor
    import yaml
    yaml.add_multi_constructor("", yaml_tag_constructor)
    template = yaml.load((REPO / "templates/frontend.yaml").read_text(), Loader=yaml.Loader)
    parameters = {"AppName": "clock", "PrimaryRegion": "us-east-1",
                  "SecondaryRegion": "ap-northeast-1", "UserReplication": mode}
    return emulator_time.created_types(template, parameters, region)


def test_the_front_end_is_charged_per_region_and_mode():
    # Native: the primary makes the pool, its client and the replica (Cognito's copy of the
    # pool, timed); the secondary only its website bucket (the replica is the pool there).
    primary = front_end("us-east-1", "native")
    assert "AWS::Cognito::UserPoolReplica" in primary and "AWS::Cognito::UserPool" in primary
    assert emulator_time.stack_seconds(primary) == (
        emulator_time.STACK_BASE + emulator_time.STACK_PER_RESOURCE * len(primary)
        + emulator_time.USER_POOL_REPLICA_CREATE)
    assert front_end("ap-northeast-1", "native") == ["AWS::S3::Bucket"]
    # Import: a pool per region, the import functions in the secondary, no replica.
    secondary = front_end("ap-northeast-1", "import")
    assert "AWS::Cognito::UserPool" in secondary and "AWS::Events::Rule" in secondary
    assert "AWS::Cognito::UserPoolReplica" not in front_end("us-east-1", "import")


def test_a_replica_key_is_charged_its_creation():
    assert emulator_time.stack_seconds(["AWS::KMS::ReplicaKey", "AWS::S3::Bucket"]) == (
        emulator_time.STACK_BASE + 2 * emulator_time.STACK_PER_RESOURCE
        + emulator_time.REPLICA_KEY_CREATE)
