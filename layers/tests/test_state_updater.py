"""routing/state_updater.py: the AppStateUpdaterLambda of seed 001, Appendix A."""
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import PRIMARY, SECONDARY, load_source

TABLE = "mraa-demo-app-config"


@pytest.fixture
def updater(aws):
    return load_source("routing/state_updater.py")


@pytest.fixture
def table(aws):
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "appId", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "appId", "KeyType": "HASH"}])
    ddb.put_item(TableName=TABLE, Item={"appId": {"S": "demo"}, "state": {"S": "active"}})
    return ddb


def item(ddb, app_id="demo"):
    return ddb.get_item(TableName=TABLE, Key={"appId": {"S": app_id}}, ConsistentRead=True).get("Item")


def test_appendix_a_payload_changes_the_state(updater, table, capsys):
    # The exact shape of seed 001, Appendix A.
    out = updater.handler({"AppId": "demo", "TableName": TABLE, "NewState": "failover"}, None)
    assert out == {"Status": "UPDATED", "Message": "state active -> failover", "AppId": "demo",
                   "TableName": TABLE, "NewState": "failover", "PreviousState": "active"}
    stored = item(table)
    assert stored["state"] == {"S": "failover"}
    assert stored["updatedIn"] == {"S": PRIMARY}
    assert stored["updatedAt"]["S"].endswith("+00:00")
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log == {"event": "STATE_UPDATED", "appId": "demo", "from": "active", "to": "failover"}


@pytest.mark.parametrize("state", ["active", "fenced", "failover"])
def test_every_accepted_state(updater, table, state):
    assert updater.handler({"AppId": "demo", "TableName": TABLE, "NewState": state}, None)["Status"] == "UPDATED"
    assert item(table)["state"]["S"] == state


def test_values_are_trimmed_and_lower_cased(updater, table):
    out = updater.handler({"AppId": "  demo ", "TableName": f" {TABLE} ", "NewState": "  FeNcEd\n"}, None)
    assert out["Status"] == "UPDATED" and out["NewState"] == "fenced" and out["AppId"] == "demo"
    assert item(table)["state"]["S"] == "fenced"


def test_payload_as_a_json_string(updater, table):
    out = updater.handler(json.dumps({"AppId": "demo", "TableName": TABLE, "NewState": "fenced"}), None)
    assert out["Status"] == "UPDATED"
    assert item(table)["state"]["S"] == "fenced"


def test_table_name_defaults_to_the_function_environment(updater, table, aws_env):
    aws_env.setenv("APP_CONFIG_TABLE", TABLE)
    out = updater.handler({"AppId": "demo", "NewState": "fenced"}, None)
    assert out["Status"] == "UPDATED" and out["TableName"] == TABLE


@pytest.mark.parametrize("payload, message", [
    ({"AppId": "demo", "TableName": TABLE, "NewState": "down"}, "NewState must be one of active, fenced, failover"),
    ({"AppId": "demo", "TableName": TABLE, "NewState": ""}, "NewState must be one of"),
    ({"AppId": "demo", "TableName": TABLE}, "NewState must be one of"),
    ({"AppId": "demo", "TableName": TABLE, "NewState": ["active"]}, "NewState must be one of"),
    ({"AppId": "demo", "TableName": TABLE, "NewState": "act ive"}, "NewState must be one of"),
    ({"TableName": TABLE, "NewState": "active"}, "AppId is required"),
    ({"AppId": "   ", "TableName": TABLE, "NewState": "active"}, "AppId is required"),
    ({"AppId": "demo", "NewState": "active"}, "TableName is required"),
    ({"AppId": "demo", "TableName": TABLE, "NewState": "active", "ExpectedState": "gone"},
     "ExpectedState must be one of"),
    (None, "payload must be a JSON object"),
    ([], "payload must be a JSON object"),
    ("[1, 2]", "payload must be a JSON object"),
    ("not json", "Expecting value"),
])
def test_bad_requests_are_refused_without_touching_the_table(updater, table, payload, message):
    out = updater.handler(payload, None)
    assert out["Status"] == "INVALID"
    assert message in out["Message"]
    assert item(table)["state"]["S"] == "active"


def test_unknown_app_id_is_a_conflict_and_creates_nothing(updater, table):
    out = updater.handler({"AppId": "other", "TableName": TABLE, "NewState": "fenced"}, None)
    assert out["Status"] == "CONFLICT" and out["Message"] == "no such AppId"
    assert item(table, "other") is None


def test_expected_state_guards_the_change(updater, table):
    stale = updater.handler({"AppId": "demo", "TableName": TABLE, "NewState": "failover",
                             "ExpectedState": "fenced"}, None)
    assert stale["Status"] == "CONFLICT" and stale["Message"] == "state is not fenced"
    assert item(table)["state"]["S"] == "active"
    ok = updater.handler({"AppId": "demo", "TableName": TABLE, "NewState": "fenced",
                          "ExpectedState": " ACTIVE "}, None)
    assert ok["Status"] == "UPDATED" and ok["PreviousState"] == "active"
    assert item(table)["state"]["S"] == "fenced"


def test_item_without_a_state_reports_none(updater, table):
    table.put_item(TableName=TABLE, Item={"appId": {"S": "fresh"}})
    out = updater.handler({"AppId": "fresh", "TableName": TABLE, "NewState": "active"}, None)
    assert out["Status"] == "UPDATED" and out["PreviousState"] == ""
    assert out["Message"] == "state (none) -> active"


def test_missing_table_fails_the_invocation(updater, aws):
    # Not a caller mistake the function can judge: the invocation fails (FunctionError) and
    # the error names the missing table.
    with pytest.raises(ClientError) as err:
        updater.handler({"AppId": "demo", "TableName": "mraa-demo-nope", "NewState": "active"}, None)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_update_args_are_conditional():
    mod = load_source("routing/state_updater.py")
    req = mod.parse_request({"AppId": "demo", "TableName": TABLE, "NewState": "fenced", "ExpectedState": "active"})
    args = mod.update_args(req, "2020-06-01T00:00:00+00:00")
    assert args["ConditionExpression"] == "attribute_exists(appId) AND #s = :e"
    assert args["ExpressionAttributeValues"][":e"] == {"S": "active"}
    assert args["Key"] == {"appId": {"S": "demo"}}


# ---- active-active: drain and return a Region (the `drained` string set of the state item) ----

@pytest.fixture
def active_active(aws_env):
    for key, value in {"APP_MODE": "active-active", "PRIMARY_REGION": PRIMARY,
                       "SECONDARY_REGION": SECONDARY, "APP_CONFIG_TABLE": TABLE}.items():
        aws_env.setenv(key, value)


def drained(ddb):
    return set(item(ddb).get("drained", {}).get("SS", []))


def test_drain_and_return_a_region(updater, table, active_active, capsys):
    out = updater.handler({"AppId": "demo", "Drain": f" {SECONDARY.upper()} "}, None)
    assert out == {"Status": "UPDATED", "Message": f"region {SECONDARY} drained", "AppId": "demo",
                   "TableName": TABLE, "Move": "Drain", "Region": SECONDARY}
    assert drained(table) == {SECONDARY}
    assert item(table)["state"] == {"S": "active"}, "the application state is not touched"
    assert item(table)["updatedIn"] == {"S": PRIMARY}
    # Draining it again changes nothing and is no error.
    assert updater.handler({"AppId": "demo", "Drain": SECONDARY}, None)["Status"] == "UPDATED"
    assert drained(table) == {SECONDARY}
    out = updater.handler({"AppId": "demo", "Return": SECONDARY}, None)
    assert (out["Status"], out["Message"]) == ("UPDATED", f"region {SECONDARY} returned")
    # DynamoDB removes a set attribute when its last element is deleted: every Region serves.
    assert "drained" not in item(table)
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert log == {"event": "STATE_UPDATED", "appId": "demo", "from": "", "to": f"region {SECONDARY} returned"}


@pytest.mark.parametrize("first, second", [(SECONDARY, PRIMARY), (PRIMARY, SECONDARY)])
def test_a_drain_never_leaves_no_region_serving(updater, table, active_active, first, second):
    assert updater.handler({"AppId": "demo", "Drain": first}, None)["Status"] == "UPDATED"
    out = updater.handler({"AppId": "demo", "Drain": second}, None)
    assert (out["Status"], out["Message"]) == ("CONFLICT", f"region {first} is drained: return it first")
    assert drained(table) == {first}
    # Once the first is back, the second may go.
    updater.handler({"AppId": "demo", "Return": first}, None)
    assert updater.handler({"AppId": "demo", "Drain": second}, None)["Status"] == "UPDATED"
    assert drained(table) == {second}


def test_a_state_change_keeps_the_drained_region(updater, table, active_active):
    updater.handler({"AppId": "demo", "Drain": SECONDARY}, None)
    assert updater.handler({"AppId": "demo", "NewState": "fenced"}, None)["Status"] == "UPDATED"
    assert item(table)["state"] == {"S": "fenced"} and drained(table) == {SECONDARY}


def test_drain_of_an_unknown_app_creates_nothing(updater, table, active_active):
    for move in ("Drain", "Return"):
        out = updater.handler({"AppId": "other", move: SECONDARY}, None)
        assert (out["Status"], out["Message"]) == ("CONFLICT", "no such AppId")
    assert item(table, "other") is None


@pytest.mark.parametrize("payload, message", [
    ({"AppId": "demo", "Drain": "eu-west-1"}, f"Drain must be one of {PRIMARY}, {SECONDARY}"),
    ({"AppId": "demo", "Return": ""}, f"Return must be one of {PRIMARY}, {SECONDARY}"),
    ({"AppId": "demo", "Drain": [SECONDARY]}, "Drain must be one of"),
    ({"AppId": "demo", "Drain": SECONDARY, "NewState": "fenced"}, "give one of NewState, Drain or Return"),
    ({"AppId": "demo", "Drain": SECONDARY, "Return": PRIMARY}, "give one of NewState, Drain or Return"),
    ({"Drain": SECONDARY}, "AppId is required"),
])
def test_bad_drain_requests_are_refused(updater, table, active_active, payload, message):
    out = updater.handler(payload, None)
    assert out["Status"] == "INVALID" and message in out["Message"]
    assert "drained" not in item(table) and item(table)["state"]["S"] == "active"


@pytest.mark.parametrize("mode", [None, "active-passive"])
def test_drain_is_refused_in_active_passive(updater, table, aws_env, mode):
    aws_env.setenv("PRIMARY_REGION", PRIMARY)
    aws_env.setenv("SECONDARY_REGION", SECONDARY)
    if mode:
        aws_env.setenv("APP_MODE", mode)
    for move in ("Drain", "Return"):
        out = updater.handler({"AppId": "demo", "TableName": TABLE, move: SECONDARY}, None)
        assert (out["Status"], out["Message"]) == ("INVALID", "Drain and Return need active-active")
    assert "drained" not in item(table)
