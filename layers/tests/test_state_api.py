"""templates/routing.yaml, GET /state/{appId}: the response mapping template of each mode and
Region, rendered on a GetItem answer by the Velocity the emulator runs (scripts/emulator_route53.py,
airspeed with API Gateway's $input and $util), so that "serving" is read as Route 53's
string-matching check reads it."""
import json
import re
import sys

import pytest

from conftest import PRIMARY, REPO, SECONDARY, Tagged, load_template

sys.path.insert(0, str(REPO / "scripts"))
import emulator_route53  # noqa: E402  (API Gateway's Velocity, as the emulator runs it)

SEARCH_STRING = '"serving": true'  # src/wire/dns_identity.rs, the health checks' SearchString


def resolve_if(value, conditions):
    while isinstance(value, Tagged) and value.tag == "If":
        name, yes, no = value.value
        value = yes if conditions[name] else no
    return value


def response_template(mode, region):
    """The 200 response template of GetStateMethod with its !Sub resolved for mode and region."""
    doc = load_template("routing.yaml")
    method = doc["Resources"]["GetStateMethod"]["Properties"]
    [ok] = [r for r in method["Integration"]["IntegrationResponses"] if r["StatusCode"] == "200"]
    sub = ok["ResponseTemplates"]["application/json"]
    assert sub.tag == "Sub"
    text, variables = sub.value
    conditions = {"IsPrimary": region == PRIMARY, "IsActiveActive": mode == "active-active"}
    values = {"AWS::Region": region, "Mode": mode, "AppName": "demo"}
    values.update({k: resolve_if(v, conditions) for k, v in variables.items()})
    return re.sub(r"\$\{([\w:]+)\}", lambda m: values[m.group(1)], text)


def state_answer(mode, region, item):
    body = json.dumps({"Item": item} if item is not None else {})
    context = {"responseOverride": {"status": None, "header": {}}}
    out = emulator_route53.render(response_template(mode, region), body,
                                  {"path": {"appId": "demo"}, "querystring": {}, "header": {}}, context)
    assert context["responseOverride"]["status"] == (None if item else 404)
    return json.loads(out), out


def state_item(state="active", drained=()):
    item = {"appId": {"S": "demo"}, "state": {"S": state}}
    if drained:
        item["drained"] = {"SS": list(drained)}
    return item


@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
@pytest.mark.parametrize("drained, serving", [
    ((), {PRIMARY: True, SECONDARY: True}),
    ((SECONDARY,), {PRIMARY: True, SECONDARY: False}),
    ((PRIMARY,), {PRIMARY: False, SECONDARY: True}),
])
@pytest.mark.parametrize("state", ["active", "fenced"])
def test_active_active_serves_every_region_not_drained(region, drained, serving, state):
    body, raw = state_answer("active-active", region, state_item(state, drained))
    assert body == {"appId": "demo", "state": state, "region": region, "mode": "active-active",
                    "drained": list(drained), "serving": serving[region]}
    assert (SEARCH_STRING in raw[:5120]) is serving[region]


@pytest.mark.parametrize("state, serving", [
    ("active", {PRIMARY: True, SECONDARY: True}),
    ("fenced", {PRIMARY: True, SECONDARY: True}),
    ("failover", {PRIMARY: False, SECONDARY: True}),
])
@pytest.mark.parametrize("drained", [(), (PRIMARY,)])
def test_active_passive_keeps_its_rule_and_ignores_drained(state, serving, drained):
    for region in (PRIMARY, SECONDARY):
        body, raw = state_answer("active-passive", region, state_item(state, drained))
        assert body["mode"] == "active-passive" and body["drained"] == list(drained)
        assert body["serving"] is serving[region], (region, state, drained)
        assert (SEARCH_STRING in raw) is serving[region]


@pytest.mark.parametrize("mode", ["active-passive", "active-active"])
def test_unknown_app_is_not_serving(mode):
    body, raw = state_answer(mode, PRIMARY, None)
    assert body == {"appId": "demo", "state": None, "message": "unknown appId", "region": PRIMARY,
                    "mode": mode, "drained": [], "serving": False}
    assert SEARCH_STRING not in raw


@pytest.mark.parametrize("template, functions", [
    ("routing.yaml", ["StateUpdaterFunction"]),
    ("application.yaml", ["CommentsFunction", "PhotosFunction"]),
])
def test_the_mode_parameter_reaches_the_functions(template, functions):
    doc = load_template(template)
    mode = doc["Parameters"]["Mode"]
    assert mode["Default"] == "active-passive"
    assert mode["AllowedValues"] == ["active-passive", "active-active"]
    for name in functions:
        env = doc["Resources"][name]["Properties"]["Environment"]["Variables"]
        for key, parameter in [("APP_MODE", "Mode"), ("PRIMARY_REGION", "PrimaryRegion"),
                               ("SECONDARY_REGION", "SecondaryRegion")]:
            assert (env[key].tag, env[key].value) == ("Ref", parameter), (name, key)
