"""Route 53 health checks on the state API (scripts/emulator_route53.py): the project's routing
template deployed as a StackSet in two regions, the state item written, and each region's
HTTPS_STR_MATCH check read through GetHealthCheckStatus.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import time

import pytest
from botocore.exceptions import ClientError

from conftest import REPO, clients, start_emulator, stop_emulator

PRIMARY, SECONDARY = "us-east-1", "ap-northeast-1"
APP = "hc"
TABLE = f"mraa-{APP}-app-config"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    # The global table's lag is tested in test_emulator_replication.py; here each region's state
    # API reads the state as soon as it is written, so that only the checks' own timing shows.
    proc, url = start_emulator(tmp_path_factory.mktemp("emulator") / "emulator.log",
                               MRAA_EMULATOR_REPLICATION_LAG="0")
    yield url
    stop_emulator(proc)


def routing(client, app=APP, mode="active-passive"):
    cfn = client("cloudformation")
    cfn.create_stack_set(
        StackSetName=f"routing-{app}", TemplateBody=(REPO / "templates/routing.yaml").read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[
            {"ParameterKey": "AppName", "ParameterValue": app},
            {"ParameterKey": "PrimaryRegion", "ParameterValue": PRIMARY},
            {"ParameterKey": "SecondaryRegion", "ParameterValue": SECONDARY},
            {"ParameterKey": "Mode", "ParameterValue": mode}])
    cfn.create_stack_instances(StackSetName=f"routing-{app}", Accounts=["123456789012"],
                               Regions=[PRIMARY, SECONDARY])
    client("dynamodb", PRIMARY).update_table(
        TableName=f"mraa-{app}-app-config",
        ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}])
    found = {}
    for region in (PRIMARY, SECONDARY):
        apis = client("apigateway", region).get_rest_apis()["items"]
        found[region] = next(a["id"] for a in apis if a["name"] == f"mraa-{app}-state")
    return found


@pytest.fixture(scope="module")
def apis(client):
    """The routing StackSet in both regions, the app-config table replicated to the secondary
    (as mraa does); the state API's id per region."""
    return routing(client)


def check(client, api_id, region, app=APP, **config):
    config = {
        "Type": "HTTPS_STR_MATCH", "Port": 443, "RequestInterval": 30,
        "FullyQualifiedDomainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "ResourcePath": f"/prod/state/{app}", "SearchString": '"serving": true', **config}
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


def test_active_active_checks_follow_the_drained_regions(client):
    # templates/routing.yaml in active-active: a Region serves while it is not in the state
    # item's `drained` set, whatever the other Region; the state failover is active-passive's.
    app = "aa"
    apis = routing(client, app, "active-active")
    checks = {r: check(client, apis[r], r, app=app) for r in (PRIMARY, SECONDARY)}
    db = client("dynamodb", PRIMARY)
    key = {"appId": {"S": app}}
    db.put_item(TableName=f"mraa-{app}-app-config", Item={**key, "state": {"S": "active"}})

    def drained(op, region):
        db.update_item(TableName=f"mraa-{app}-app-config", Key=key,
                       UpdateExpression=f"{op} drained :r",
                       ExpressionAttributeValues={":r": {"SS": [region]}})

    def both():
        return [healthy(client, checks[r]) for r in (PRIMARY, SECONDARY)]

    assert both() == [True, True]
    drained("ADD", SECONDARY)
    assert both() == [True, False]
    drained("DELETE", SECONDARY)
    drained("ADD", PRIMARY)
    assert both() == [False, True]
    drained("DELETE", PRIMARY)
    assert both() == [True, True]


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


# ---- TestDNSAnswer ---------------------------------------------------------------------------

DOMAIN = "dns.example.test"
API = f"api.{DOMAIN}"


def marker(region):
    return f'"mraa-{APP} region={region}"'


def failover_pair(zone, name, kind, checks, values):
    """UPSERTs of a PRIMARY/SECONDARY pair of `kind` at `name`: checks and values by role."""
    changes = []
    for role in ("PRIMARY", "SECONDARY"):
        record = {"Name": name, "Type": kind, "SetIdentifier": f"{kind}-{role.lower()}",
                  "Failover": role, **values[role]}
        if checks.get(role):
            record["HealthCheckId"] = checks[role]
        changes.append({"Action": "UPSERT", "ResourceRecordSet": record})
    return changes


def write(client, zone, changes):
    client("route53").change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": changes})


def ask(client, zone, name, kind):
    out = client("route53").test_dns_answer(HostedZoneId=zone, RecordName=name, RecordType=kind)
    assert out["RecordName"] == name and out["RecordType"] == kind and out["Protocol"] == "UDP"
    assert out["Nameserver"], out
    return out["ResponseCode"], out["RecordData"]


@pytest.fixture(scope="module")
def zone(client):
    return client("route53").create_hosted_zone(
        Name=DOMAIN, CallerReference="dns-answer")["HostedZone"]["Id"].split("/")[-1]


def asks_until(client, zone, name, kind, wanted, limit=20):
    """How many TestDNSAnswer calls it takes for the answer to be `wanted` (with the clock off,
    each call is one round of the checks it consults)."""
    for asked in range(1, limit + 1):
        if ask(client, zone, name, kind) == wanted:
            return asked
    raise AssertionError(f"{name} {kind} never answered {wanted} in {limit} asks")


def test_failover_answer_follows_the_state(client, apis, zone):
    checks = {"PRIMARY": check(client, apis[PRIMARY], PRIMARY),
              "SECONDARY": check(client, apis[SECONDARY], SECONDARY)}
    txt = {role: {"TTL": 60, "ResourceRecords": [{"Value": marker(region)}]}
           for role, region in (("PRIMARY", PRIMARY), ("SECONDARY", SECONDARY))}
    alias = {role: {"AliasTarget": {
        "HostedZoneId": "Z1YSHQZHG15GKL", "EvaluateTargetHealth": False,
        "DNSName": f"d-{role.lower()}.execute-api.{region}.amazonaws.com"}}
        for role, region in (("PRIMARY", PRIMARY), ("SECONDARY", SECONDARY))}
    write(client, zone, failover_pair(zone, API, "TXT", checks, txt)
          + failover_pair(zone, API, "A", checks, alias))

    set_state(client, "active")
    assert ask(client, zone, API, "TXT") == ("NOERROR", [marker(PRIMARY)])
    # The primary's check fails at once (its report), but Route 53 moves the answer only after
    # FailureThreshold (3 by default) rounds in a row fail, and back after 3 that pass.
    set_state(client, "failover")
    assert healthy(client, checks["PRIMARY"]) is False
    assert asks_until(client, zone, API, "TXT", ("NOERROR", [marker(SECONDARY)])) == 2
    set_state(client, "active")
    assert asks_until(client, zone, API, "TXT", ("NOERROR", [marker(PRIMARY)])) == 3
    # The A records alias API Gateway names, which nothing resolves locally: no addresses are
    # made up, and the name still exists.
    assert ask(client, zone, API, "A") == ("NOERROR", [])


def test_failover_rules_without_and_with_failing_checks(client, apis, zone):
    set_state(client, "active")
    failing = {role: check(client, apis[PRIMARY], PRIMARY, SearchString="never there")
               for role in ("PRIMARY", "SECONDARY")}
    values = {role: {"TTL": 60, "ResourceRecords": [{"Value": f'"{role}"'}]}
              for role in ("PRIMARY", "SECONDARY")}
    # New checks are healthy until their threshold of failures: the primary answers, then the
    # secondary once the primary's check has failed 3 times (the secondary's is consulted from
    # then on), then, both failed, the primary.
    write(client, zone, failover_pair(zone, f"both.{DOMAIN}", "TXT", failing, values))
    answers = [ask(client, zone, f"both.{DOMAIN}", "TXT")[1][0] for _ in range(7)]
    assert answers == ['"PRIMARY"'] * 2 + ['"SECONDARY"'] * 2 + ['"PRIMARY"'] * 3, answers
    # A secondary without a check counts as healthy: it answers for a failing primary.
    write(client, zone, failover_pair(zone, f"bare.{DOMAIN}", "TXT",
                                      {"PRIMARY": failing["PRIMARY"]}, values))
    assert ask(client, zone, f"bare.{DOMAIN}", "TXT") == ("NOERROR", ['"SECONDARY"'])


def test_simple_records_aliases_and_missing_names(client, zone):
    write(client, zone, [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"a.b.{DOMAIN}", "Type": "A", "TTL": 300,
            "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}]}},
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": f"alias.{DOMAIN}", "Type": "A", "AliasTarget": {
                "HostedZoneId": zone, "DNSName": f"a.b.{DOMAIN}", "EvaluateTargetHealth": False}}},
    ])
    assert ask(client, zone, f"a.b.{DOMAIN}", "A") == ("NOERROR", ["192.0.2.1", "192.0.2.2"])
    # An alias to a record of the zone answers with that record's values.
    assert ask(client, zone, f"alias.{DOMAIN}", "A") == ("NOERROR", ["192.0.2.1", "192.0.2.2"])
    # The name exists with another type: NOERROR, no data.
    assert ask(client, zone, f"a.b.{DOMAIN}", "TXT") == ("NOERROR", [])
    # Only names below it exist: NOERROR; nothing at all: NXDOMAIN.
    assert ask(client, zone, f"b.{DOMAIN}", "A") == ("NOERROR", [])
    assert ask(client, zone, f"nothing.{DOMAIN}", "A") == ("NXDOMAIN", [])


def test_a_delete_takes_only_the_set_of_its_name_type_and_identifier(client, zone):
    def failover(name, kind, value):
        return {"Name": name, "Type": kind, "SetIdentifier": "same-id", "Failover": "PRIMARY",
                "TTL": 60, "ResourceRecords": [{"Value": value}]}
    old = failover(f"old.{DOMAIN}", "TXT", '"old"')
    write(client, zone, [{"Action": "UPSERT", "ResourceRecordSet": r} for r in (
        old, failover(f"new.{DOMAIN}", "TXT", '"new"'), failover(f"old.{DOMAIN}", "A", "192.0.2.7"))])
    write(client, zone, [{"Action": "DELETE", "ResourceRecordSet": old}])
    left = {(r["Name"], r["Type"]) for r in client("route53").list_resource_record_sets(
        HostedZoneId=zone)["ResourceRecordSets"] if r.get("SetIdentifier") == "same-id"}
    assert left == {(f"new.{DOMAIN}.", "TXT"), (f"old.{DOMAIN}.", "A")}


def test_refusals(client, zone):
    r53 = client("route53")
    with pytest.raises(ClientError) as caught:
        r53.test_dns_answer(HostedZoneId="ZNOSUCHZONE", RecordName=API, RecordType="TXT")
    assert caught.value.response["Error"]["Code"] == "NoSuchHostedZone"
    with pytest.raises(ClientError) as caught:
        r53.test_dns_answer(HostedZoneId=zone, RecordName=API, RecordType="BOGUS")
    assert caught.value.response["Error"]["Code"] == "InvalidInput"


# ---- latency records: answered from the resolver's Region -------------------------------------

def near(region, v6=False):
    """An address the emulator places in `region`, by its documented table (RESOLVER_REGIONS:
    the n-th Region of LATENCY_REGIONS owns 198.18.<n>.0/24 and 2001:db8:<n>::/48)."""
    n = {"us-east-1": 0, "us-west-2": 3, "eu-west-1": 6, "ap-northeast-1": 12}[region]
    return f"2001:db8:{n:x}::53" if v6 else f"198.18.{n}.53"


def latency_records(zone, name, checks, kind="TXT"):
    """One latency TXT record per Region at `name`, each naming its Region, with its check."""
    changes = []
    for region in (PRIMARY, SECONDARY):
        record = {"Name": name, "Type": kind, "SetIdentifier": f"mraa-{APP}-latency-{region}",
                  "Region": region, "TTL": 60, "ResourceRecords": [{"Value": marker(region)}]}
        if checks.get(region):
            record["HealthCheckId"] = checks[region]
        changes.append({"Action": "UPSERT", "ResourceRecordSet": record})
    return changes


def ask_from(client, zone, name, resolver=None, **extra):
    params = {"ResolverIP": resolver} if resolver else {}
    out = client("route53").test_dns_answer(HostedZoneId=zone, RecordName=name, RecordType="TXT",
                                            **params, **extra)
    return out["ResponseCode"], out["RecordData"]


def test_latency_answers_each_region_near_its_resolvers(client, apis, zone):
    set_state(client, "active")
    name = f"latency.{DOMAIN}"
    checks = {r: check(client, apis[r], r, FailureThreshold=1) for r in (PRIMARY, SECONDARY)}
    write(client, zone, latency_records(zone, name, checks))
    answers = {region: ask_from(client, zone, name, near(region))[1]
               for region in (PRIMARY, SECONDARY, "us-west-2", "eu-west-1")}
    # Each Region for a resolver in it; a resolver elsewhere gets the Region of its continent,
    # and from a continent with neither, the emulator's tie order (by name).
    assert answers == {PRIMARY: [marker(PRIMARY)], SECONDARY: [marker(SECONDARY)],
                       "us-west-2": [marker(PRIMARY)], "eu-west-1": [marker(SECONDARY)]}
    # No resolver: TestDNSAnswer asks from us-east-1. IPv6 resolvers are placed too, and the
    # client subnet (EDNS0) decides over the resolver's own address.
    assert ask_from(client, zone, name)[1] == [marker(PRIMARY)]
    assert ask_from(client, zone, name, near(SECONDARY, v6=True))[1] == [marker(SECONDARY)]
    assert ask_from(client, zone, name, near(PRIMARY),
                    EDNS0ClientSubnetIP=near(SECONDARY))[1] == [marker(SECONDARY)]


def test_an_unhealthy_regions_latency_record_is_passed_over(client, apis, zone):
    set_state(client, "active")
    name = f"drain.{DOMAIN}"
    checks = {r: check(client, apis[r], r, FailureThreshold=1, RequestInterval=10)
              for r in (PRIMARY, SECONDARY)}
    write(client, zone, latency_records(zone, name, checks))
    assert ask_from(client, zone, name, near(PRIMARY))[1] == [marker(PRIMARY)]
    # The primary's state API stops saying "serving": true (the state failover): its check fails
    # and the primary's resolvers get the next Region by latency; the secondary's keep theirs.
    set_state(client, "failover")
    assert ask_from(client, zone, name, near(PRIMARY))[1] == [marker(SECONDARY)]
    assert ask_from(client, zone, name, near(SECONDARY))[1] == [marker(SECONDARY)]
    set_state(client, "active")
    assert ask_from(client, zone, name, near(PRIMARY))[1] == [marker(PRIMARY)]
    # Every record unhealthy: Route 53 takes them all as healthy, each resolver its nearest.
    failing = {r: check(client, apis[r], r, FailureThreshold=1, SearchString="never there")
               for r in (PRIMARY, SECONDARY)}
    write(client, zone, latency_records(zone, f"down.{DOMAIN}", failing))
    for region in (PRIMARY, SECONDARY):
        assert ask_from(client, zone, f"down.{DOMAIN}", near(region))[1] == [marker(region)]


def test_resolvers_the_emulator_cannot_place(client, apis, zone):
    r53 = client("route53")
    name = f"latency.{DOMAIN}"
    write(client, zone, latency_records(zone, name, {}))
    # Malformed addresses and masks are the caller's error, as on AWS.
    for extra in ({"ResolverIP": "not-an-ip"}, {"EDNS0ClientSubnetIP": near(PRIMARY),
                                                "EDNS0ClientSubnetMask": "33"}):
        with pytest.raises(ClientError) as caught:
            r53.test_dns_answer(HostedZoneId=zone, RecordName=name, RecordType="TXT", **extra)
        assert caught.value.response["Error"]["Code"] == "InvalidInput", extra
    # An address outside the table: no latency answer is made up for it...
    with pytest.raises(ClientError) as caught:
        ask_from(client, zone, name, "192.0.2.44")
    assert "RESOLVER_REGIONS" in caught.value.response["Error"]["Message"]
    # ...while records routed otherwise still answer it.
    write(client, zone, [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": f"plain.{DOMAIN}", "Type": "TXT", "TTL": 60,
        "ResourceRecords": [{"Value": '"plain"'}]}}])
    assert ask_from(client, zone, f"plain.{DOMAIN}", "192.0.2.44") == ("NOERROR", ['"plain"'])


# ---- the checks on the clock -----------------------------------------------------------------

SCALE = 30


@pytest.fixture(scope="module")
def clocked(tmp_path_factory):
    proc, url = start_emulator(tmp_path_factory.mktemp("clocked") / "emulator.log",
                               MRAA_EMULATOR_TIME_SCALE=str(SCALE),
                               MRAA_EMULATOR_REPLICATION_LAG="0")
    yield clients(url)
    stop_emulator(proc)


def test_on_the_clock_dns_moves_after_threshold_rounds_of_the_interval(clocked):
    apis = routing(clocked)
    checks = {role: check(clocked, apis[region], region, RequestInterval=10, FailureThreshold=3)
              for role, region in (("PRIMARY", PRIMARY), ("SECONDARY", SECONDARY))}
    zone = clocked("route53").create_hosted_zone(
        Name=DOMAIN, CallerReference="clocked")["HostedZone"]["Id"].split("/")[-1]
    txt = {role: {"TTL": 60, "ResourceRecords": [{"Value": marker(region)}]}
           for role, region in (("PRIMARY", PRIMARY), ("SECONDARY", SECONDARY))}
    write(clocked, zone, failover_pair(zone, API, "TXT", checks, txt))
    set_state(clocked, "active")
    assert ask(clocked, zone, API, "TXT") == ("NOERROR", [marker(PRIMARY)])

    interval = 10 / SCALE
    set_state(clocked, "failover")
    start = time.monotonic()
    asked = 0
    while ask(clocked, zone, API, "TXT") != ("NOERROR", [marker(SECONDARY)]):
        asked += 1
        assert time.monotonic() - start < 10 * interval, "DNS never moved"
        time.sleep(interval / 10)
    moved = time.monotonic() - start
    # Three failing rounds, one per interval; the first may come right after the failover.
    assert 2 * interval <= moved <= 3 * interval + 0.5, (moved, interval)
    # A read in between saw the old answer.
    assert asked >= 1, asked
