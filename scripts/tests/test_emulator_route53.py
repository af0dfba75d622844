"""Route 53 health checks on the state API (scripts/emulator_route53.py): the project's routing
template deployed as a StackSet in two regions, the state item written, and each region's
HTTPS_STR_MATCH check read through GetHealthCheckStatus.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import pytest
from botocore.exceptions import ClientError

from conftest import REPO

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"
APP = "hc"
TABLE = f"mraa-{APP}-app-config"


@pytest.fixture(scope="module")
def apis(client):
    """The routing StackSet in both regions, the app-config table replicated to the secondary
    (as mraa does); the state API's id per region."""
    cfn = client("cloudformation")
    cfn.create_stack_set(
        StackSetName="routing", TemplateBody=(REPO / "templates/routing.yaml").read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[
            {"ParameterKey": "AppName", "ParameterValue": APP},
            {"ParameterKey": "PrimaryRegion", "ParameterValue": PRIMARY},
            {"ParameterKey": "SecondaryRegion", "ParameterValue": SECONDARY}])
    cfn.create_stack_instances(StackSetName="routing", Accounts=["123456789012"],
                               Regions=[PRIMARY, SECONDARY])
    client("dynamodb", PRIMARY).update_table(
        TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    found = {}
    for region in (PRIMARY, SECONDARY):
        apis = client("apigateway", region).get_rest_apis()["items"]
        found[region] = next(a["id"] for a in apis if a["name"] == f"mraa-{APP}-state")
    return found


def check(client, api_id, region, **config):
    config = {
        "Type": "HTTPS_STR_MATCH", "Port": 443, "RequestInterval": 30,
        "FullyQualifiedDomainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "ResourcePath": f"/prod/state/{APP}", "SearchString": '"serving": true', **config}
    return client("route53").create_health_check(
        CallerReference=f"{region}-{sorted(config.items())}",
        HealthCheckConfig={k: v for k, v in config.items() if v is not None},
    )["HealthCheck"]["Id"]


def healthy(client, check_id):
    observations = client("route53").get_health_check_status(
        HealthCheckId=check_id)["HealthCheckObservations"]
    reports = {o["StatusReport"]["Status"].startswith("Success") for o in observations}
    assert len(reports) == 1 and len(observations) == 8, observations
    return reports.pop()


def set_state(client, state):
    client("dynamodb", PRIMARY).put_item(
        TableName=TABLE, Item={"appId": {"S": APP}, "state": {"S": state}})


def test_state_moves_the_checks(client, apis):
    checks = {region: check(client, api, region) for region, api in apis.items()}
    # No state item: the API answers 404 with "serving": false in both regions.
    assert [healthy(client, checks[r]) for r in (PRIMARY, SECONDARY)] == [False, False]
    # The template's $context.responseOverride.status makes that a 404: a status-only check
    # fails too.
    status_only = check(client, apis[PRIMARY], PRIMARY, Type="HTTPS", SearchString=None)
    assert healthy(client, status_only) is False
    # The primary serves unless the state is failover; the secondary whenever it reads a state.
    for state, expected in (("active", [True, True]), ("fenced", [True, True]),
                            ("failover", [False, True]), ("active", [True, True])):
        set_state(client, state)
        assert [healthy(client, checks[r]) for r in (PRIMARY, SECONDARY)] == expected, state


def test_inverted_and_disabled(client, apis):
    set_state(client, "active")
    inverted = check(client, apis[PRIMARY], PRIMARY, Inverted=True)
    assert healthy(client, inverted) is False
    set_state(client, "failover")
    assert healthy(client, inverted) is True
    disabled = check(client, apis[PRIMARY], PRIMARY, Disabled=True)
    assert healthy(client, disabled) is True
    client("route53").update_health_check(HealthCheckId=inverted, Inverted=False)
    assert healthy(client, inverted) is False


def test_search_window_and_paths(client, apis):
    set_state(client, "active")
    # Beyond the body: the string is not found.
    assert healthy(client, check(client, apis[PRIMARY], PRIMARY,
                                 SearchString='"serving": yes')) is False
    # A path no method answers, and a stage that does not exist: API Gateway's 403.
    assert healthy(client, check(client, apis[PRIMARY], PRIMARY,
                                 ResourcePath="/prod/nothing")) is False
    assert healthy(client, check(client, apis[PRIMARY], PRIMARY,
                                 ResourcePath=f"/test/state/{APP}")) is False
    # An API id that does not exist in that region.
    assert healthy(client, check(client, apis[PRIMARY], SECONDARY)) is False
    # A status-only HTTPS check of the same route: 200 is enough.
    assert healthy(client, check(client, apis[PRIMARY], PRIMARY, Type="HTTPS",
                                 SearchString=None)) is True


def test_other_checks_keep_moto_answer(client):
    check_id = client("route53").create_health_check(
        CallerReference="plain", HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": "example.com", "Port": 443,
            "ResourcePath": "/"})["HealthCheck"]["Id"]
    observations = client("route53").get_health_check_status(
        HealthCheckId=check_id)["HealthCheckObservations"]
    assert observations[0]["StatusReport"]["Status"].startswith("Success")
    with pytest.raises(ClientError):
        client("route53").get_health_check_status(HealthCheckId="nope")
