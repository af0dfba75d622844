"""Route 53 health checks that probe the emulator's own REST APIs (moto reports every check
healthy), and TestDNSAnswer (moto lacks it), which answers by those checks. A check of type HTTP(S) or HTTP(S)_STR_MATCH on an API Gateway invoke name
(`<rest-api-id>.execute-api.<region>.amazonaws.com`) is answered by running that API's stage and
method as API Gateway would, on moto's API Gateway and DynamoDB backends; other checks keep
moto's answer.

Route 53's rules ("How Amazon Route 53 determines whether a health check is healthy", Route 53
Developer Guide, docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-
health-of-endpoints.html, and HealthCheckConfig in the API Reference): healthy on a status of 200
or more and below 400, and for the _STR_MATCH types when SearchString appears (case counts) in the
first 5,120 bytes of the body; an Inverted check is unhealthy when it would be healthy and the
reverse; a Disabled check is considered healthy. Each checker region reports its last probe;
the status Route 53 routes by (and TestDNSAnswer answers by) changes only after FailureThreshold
probes in a row disagree with it, one probe per RequestInterval (emulator_time: scaled with the
clock on; one per evaluation asked for with it off).

API Gateway's rules followed for the invocation ("Set up data transformations for REST APIs" and
"API Gateway mapping template and access logging variable reference", API Gateway Developer
Guide, docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-
reference.html): the first path segment names the stage; `{name}` path parts bind path
parameters; with no Content-Type the application/json request template applies; an AWS
integration's response is chosen by matching each SelectionPattern against the backend's status
code, the one without a pattern by default; `$context.responseOverride.status` overrides the
status. Templates run on airspeed, a Python implementation of Apache Velocity (API Gateway's
engine). moto keeps no snapshot per deployment: the stage runs the API's current methods.

TestDNSAnswer ("TestDNSAnswer", Route 53 API Reference, docs.aws.amazon.com/Route53/latest/
APIReference/API_TestDNSAnswer.html) answers from the zone's record sets of the name and type as
Route 53's name servers would, failover and latency routing decided by the health checks above;
the rules followed are cited where they apply. Latency routing answers from where the query comes
from: RESOLVER_REGIONS, a documented table of test address ranges per Region, places the
EDNS0ClientSubnetIP (when given) or the ResolverIP (us-east-1 without one).
"""
import datetime
import functools
import ipaddress
import json
import re
import time
import uuid
from typing import Any

import airspeed
import botocore.session
from moto.apigateway.exceptions import RestAPINotFound
from moto.apigateway.models import apigateway_backends
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.route53 import urls as route53_urls
from moto.route53.exceptions import InvalidInput, NoSuchHealthCheck
from moto.route53.models import FakeZone, RecordSet, Route53Backend
from moto.route53.responses import Route53
from moto.moto_server.werkzeug_app import BackendRequest
from werkzeug.test import EnvironBuilder

import emulator_time

# Route 53's default checker regions (HealthCheckConfig.Regions: "If you don't specify any
# regions, Route 53 health checkers in all of the regions check the endpoint"; the enum of
# HealthCheckRegion lists them).
CHECKER_REGIONS = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1",
                   "ap-southeast-2", "ap-northeast-1", "sa-east-1"]
SEARCHED_BYTES = 5120
INVOKE_NAME = re.compile(r"^([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com\.?$")
PROBED_TYPES = {"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"}
# An AWS service integration's Uri: arn:<partition>:apigateway:<region>:<service>:action/<Action>
ACTION_URI = re.compile(r"^arn:[a-z-]+:apigateway:([a-z0-9-]+):([a-z0-9-]+):action/(\w+)$")


class NotEmulated(ServiceException):
    code = "NotImplemented"


# ---- Velocity as API Gateway runs it ---------------------------------------------------------

# Velocity 1.7 takes string literals as written, backslashes included: API Gateway's own idiom
# `$util.escapeJavaScript($x).replaceAll("\\'", "'")` (documented under $util.escapeJavaScript)
# relies on the regex receiving `\\'`. airspeed would unescape it; keep literals as written.
airspeed.StringLiteral.ESCAPED_CHAR = re.compile(r"(?!)")
airspeed.InterpolatedStringLiteral.ESCAPED_CHAR = re.compile(r"(?!)")


class JavaString(str):
    """A string with the java.lang.String methods templates call on values."""

    def replaceAll(self, regex: str, replacement: str) -> "JavaString":  # noqa: N802
        python = re.sub(r"\$(\d)", r"\\\1", replacement)  # Java's $1 is Python's \1
        return JavaString(re.sub(regex, python, self))

    def length(self) -> int:
        return len(self)

    def toLowerCase(self) -> "JavaString":  # noqa: N802
        return JavaString(self.lower())

    def toUpperCase(self) -> "JavaString":  # noqa: N802
        return JavaString(self.upper())


def _java(value: Any) -> Any:
    if isinstance(value, str):
        return JavaString(value)
    if isinstance(value, dict):
        return {k: _java(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_java(v) for v in value]
    return value


def escape_javascript(text: Any) -> JavaString:
    """Java's StringEscapeUtils.escapeJavaScript, which $util.escapeJavaScript is: quotes,
    backslash and slash escaped, control and non-ASCII characters as \\uXXXX."""
    named = {'"': '\\"', "'": "\\'", "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f",
             "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    out = []
    for ch in str(text):
        if ch in named:
            out.append(named[ch])
        elif ord(ch) < 32 or ord(ch) > 127:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return JavaString("".join(out))


class Util:
    def escapeJavaScript(self, text: Any) -> JavaString:  # noqa: N802
        return escape_javascript(text)

    def parseJson(self, text: str) -> Any:  # noqa: N802
        return _java(json.loads(text))


def json_path(document: Any, path: str) -> Any:
    """The JSONPath subset templates use: $, $.a.b, $.a[0], $['a']."""
    if not path.startswith("$"):
        raise NotEmulated(f"emulator: JSONPath {path!r}")
    value = document
    for name, index, quoted in re.findall(r"\.(\w+)|\[(\d+)\]|\['([^']*)'\]", path[1:]):
        key: Any = int(index) if index else (name or quoted)
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


class Input:
    def __init__(self, body: str, params: dict[str, dict[str, str]]):
        self._body, self._params = body, params

    @property
    def body(self) -> JavaString:
        return JavaString(self._body)

    def _document(self) -> Any:
        try:
            return json.loads(self._body) if self._body else {}
        except ValueError:
            return {}

    def path(self, path: str) -> Any:
        return _java(json_path(self._document(), path))

    def json(self, path: str) -> JavaString:
        return JavaString(json.dumps(json_path(self._document(), path)))

    def params(self, name: str | None = None) -> Any:
        # Without a name, every parameter by kind; with one, the path, then the query string,
        # then the headers ("$input.params(x)" in the reference).
        if name is None:
            return _java(self._params)
        for kind in ("path", "querystring", "header"):
            if name in self._params[kind]:
                return JavaString(self._params[kind][name])
        return JavaString("")


def render(template: str, body: str, params: dict[str, dict[str, str]],
           context: dict[str, Any]) -> str:
    return airspeed.Template(template).merge({
        "input": Input(body, params), "util": Util(), "context": context,
        "stageVariables": context.get("stageVariables", {})})


# ---- invoking a REST API ---------------------------------------------------------------------

def _dynamodb(account: str, region: str, action: str, body: str) -> tuple[int, str]:
    """The action through moto's DynamoDB handler, as the integration's request would reach it."""
    environ = EnvironBuilder(method="POST", path="/", data=body.encode(), headers={
        "X-Amz-Target": f"DynamoDB_20120810.{action}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=apigateway/20200101/{region}/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=0",
        "x-moto-account-id": account,
    }).get_environ()
    request = BackendRequest(environ)
    status, _, response = DynamoHandler.dispatch(
        request, f"https://dynamodb.{region}.amazonaws.com/", request.headers)
    return int(status), response.decode() if isinstance(response, bytes) else response


def _match(api: Any, path: str) -> tuple[Any, dict[str, str]] | None:
    wanted = [p for p in path.split("/") if p]
    for resource in api.resources.values():
        parts = [p for p in resource.get_path().split("/") if p]
        if len(parts) != len(wanted):
            continue
        bound = {}
        for part, value in zip(parts, wanted):
            if part.startswith("{") and part.endswith("}"):
                bound[part[1:-1]] = value
            elif part != value:
                break
        else:
            return resource, bound
    return None


def invoke(account: str, region: str, api_id: str, method: str, path_and_query: str,
           headers: dict[str, str]) -> tuple[int, str]:
    """(status, body) of a request to https://<api_id>.execute-api.<region>.amazonaws.com."""
    forbidden = (403, json.dumps({"message": "Missing Authentication Token"}))
    try:
        api = apigateway_backends[account][region].get_rest_api(api_id)
    except RestAPINotFound:
        return forbidden  # the name does not resolve to an API: nothing answers for it
    path, _, query = path_and_query.partition("?")
    stage_name, _, rest = path.lstrip("/").partition("/")
    stage = api.stages.get(stage_name)
    found = _match(api, "/" + rest) if stage else None
    target = found and found[0].resource_methods.get(method)
    if target is None:
        return forbidden
    resource, path_params = found
    integration = target.method_integration
    if target.authorization_type not in (None, "NONE"):
        return 401, json.dumps({"message": "Unauthorized"})
    params = {
        "path": path_params,
        "querystring": dict(p.split("=", 1) for p in query.split("&") if "=" in p),
        "header": headers,
    }
    context: dict[str, Any] = {
        "accountId": account, "apiId": api_id, "httpMethod": method, "stage": stage_name,
        "resourceId": resource.id, "resourcePath": resource.get_path(),
        "path": path, "domainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "requestId": str(uuid.uuid4()), "extendedRequestId": str(uuid.uuid4()),
        "requestTime": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(datetime.datetime.now().timestamp() * 1000),
        "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
        "responseOverride": {"status": None, "header": {}},
        "stageVariables": dict(stage.variables or {}),
    }
    uri = ACTION_URI.match(integration.uri or "") if integration else None
    if integration is None or integration.integration_type != "AWS" or uri is None or (
            uri.group(2) != "dynamodb"):
        raise NotEmulated(
            f"emulator: invoking {method} {resource.get_path()} of API {api_id}: only AWS "
            "integrations with DynamoDB actions are emulated")
    templates = integration.request_templates or {}
    template = templates.get("application/json")
    if template is None and integration.passthrough_behaviour == "NEVER":
        return 415, json.dumps({"message": "Unsupported Media Type"})
    request_body = render(template, "", params, context) if template is not None else ""
    backend_status, backend_body = _dynamodb(account, uri.group(1), uri.group(3), request_body)
    responses = integration.integration_responses or {}
    chosen = next((r for r in responses.values() if r.selection_pattern and re.fullmatch(
        r.selection_pattern, str(backend_status))), None) or next(
        (r for r in responses.values() if not r.selection_pattern), None)
    if chosen is None:
        # No integration response for this status: API Gateway answers 500.
        return 500, json.dumps({"message": "Internal server error"})
    response_template = (chosen.response_templates or {}).get("application/json")
    body = backend_body if response_template is None else render(
        response_template, backend_body, params, context)
    status = context["responseOverride"]["status"] or chosen.status_code
    return int(status), body


# ---- the health check ------------------------------------------------------------------------

def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def probe(account: str, check: Any) -> tuple[bool, str] | None:
    """(healthy, checker's report) for a check on an invoke name, else None."""
    target = INVOKE_NAME.match(check.fqdn or "")
    if check.type_ not in PROBED_TYPES or target is None:
        return None
    if _flag(check.disabled):
        return True, "Success: health check disabled; Route 53 considers it healthy"
    api_id, region = target.groups()
    status, body = invoke(account, region, api_id, "GET", check.resource_path or "/",
                          {"Host": check.fqdn, "User-Agent": "Amazon-Route53-Health-Check-Service"})
    healthy = 200 <= status < 400
    report = f"HTTP Status Code {status}"
    if healthy and check.type_.endswith("_STR_MATCH"):
        head = body.encode()[:SEARCHED_BYTES]
        if (check.search_string or "").encode() not in head:
            healthy = False
            report += (". The endpoint did not return the required response string "
                       f"{check.search_string!r} in the first {SEARCHED_BYTES} bytes")
    if _flag(check.inverted):
        healthy = not healthy
        report += "; the health check is inverted"
    return healthy, ("Success: " if healthy else "Failure: ") + report


# ---- what Route 53 acts on: the threshold over rounds of probes ------------------------------

class Verdict:
    """One health check as Route 53's checkers see it (all of them alike here): the status Route 53
    routes by, the disagreeing probes in a row, the rounds evaluated, the last probe's report.
    "Route 53 considers a new health check to be healthy until there's enough data to determine
    the actual status" ("How Amazon Route 53 determines whether a health check is healthy")."""

    def __init__(self) -> None:
        self.healthy = True
        self.streak = 0
        self.rounds = 0
        self.since = time.monotonic()
        self.last: tuple[bool, str] | None = None

    def round(self, healthy: bool, threshold: int) -> None:
        # FailureThreshold (HealthCheckConfig): "the number of consecutive health checks that an
        # endpoint must pass or fail for Route 53 to change the current status".
        self.streak = 0 if healthy == self.healthy else self.streak + 1
        if self.streak >= threshold:
            self.healthy, self.streak = healthy, 0


_verdicts: dict[tuple[str, str], Verdict] = {}


def evaluate(account: str, check: Any) -> tuple[bool, str] | None:
    """(status Route 53 acts on, last checker report) once the rounds due now are evaluated; None
    for a check the emulator does not probe. With the clock on, a round comes every
    RequestInterval / scale seconds; with it off, each evaluation asked for (a
    GetHealthCheckStatus, a TestDNSAnswer that consults the check) is one round. Rounds the
    emulator did not see come (no request arrived) are counted with the last probe's result, so
    a change of the endpoint takes its full threshold from the first read that sees it: never
    sooner than on AWS."""
    if check.type_ not in PROBED_TYPES or INVOKE_NAME.match(check.fqdn or "") is None:
        return None
    verdict = _verdicts.setdefault((account, check.id), Verdict())
    threshold = int(check.failure_threshold or emulator_time.HEALTH_CHECK_FAILURE_THRESHOLD)
    if emulator_time.enabled():
        interval = float(check.request_interval or emulator_time.HEALTH_CHECK_INTERVAL) / (
            emulator_time.SCALE)
        due = int((time.monotonic() - verdict.since) / interval) - verdict.rounds
        if due > 0:
            for _ in range(due - 1 if verdict.last is not None else 0):
                verdict.round(verdict.last[0], threshold)  # type: ignore[index]
            verdict.last = probe(account, check)
            verdict.round(verdict.last[0], threshold)  # type: ignore[index]
            verdict.rounds += due
        elif verdict.last is None:
            verdict.last = probe(account, check)  # a report to show; not yet a round
    else:
        verdict.last = probe(account, check)
        verdict.round(verdict.last[0], threshold)  # type: ignore[index]
    if _flag(check.disabled):
        return True, verdict.last[1]  # type: ignore[index]
    return verdict.healthy, verdict.last[1]  # type: ignore[index]


_moto_status = Route53.get_health_check_status


def _get_health_check_status(self: Route53) -> Any:
    check = self.backend.get_health_check(self._get_param("HealthCheckId"))
    result = evaluate(self.current_account, check)
    if result is None:
        return _moto_status(self)
    # Each checker's observation is its last probe's report (StatusReport), which leads the
    # status Route 53 routes by until the threshold is met.
    _, report = result
    now = datetime.datetime.now(datetime.timezone.utc)
    return ActionResult({"HealthCheckObservations": [
        {"Region": region, "IPAddress": "127.0.0.1",
         "StatusReport": {"Status": report, "CheckedTime": now}}
        for region in (check.regions or CHECKER_REGIONS)]})


# ---- TestDNSAnswer ---------------------------------------------------------------------------

@functools.cache
def record_types() -> frozenset[str]:
    """The record types TestDNSAnswer takes (its RecordType is an RRType, the API's own enum); any
    other is refused with InvalidInput (the operation's errors: InvalidInput, NoSuchHostedZone).
    Read on first use: loading the model takes half a second the emulator's start need not wait."""
    model = botocore.session.get_session().get_service_model("route53")
    return frozenset(model.shape_for("RRType").enum)

# Aliases to aliases: Route 53 follows a chain within its zones; a bound keeps a loop finite.
ALIAS_DEPTH = 8


def _bare(name: str) -> str:
    return name.rstrip(".").lower()


def _healthy(backend: Route53Backend, account: str, check_id: str | None) -> bool:
    """A record's health as Route 53 routes by it: its check's status (more than 18% of checkers
    reporting success, as probe() reports for all of them alike)."""
    if not check_id:
        # ResourceRecordSet, Failover (API Reference): a record without HealthCheckId is always
        # taken as healthy.
        return True
    try:
        check = backend.get_health_check(check_id)
    except NoSuchHealthCheck:
        # DeleteHealthCheck (API Reference): a deleted check still named by records has a status
        # that "can't be predicted"; the emulator takes it as failing.
        return False
    result = evaluate(account, check)
    return True if result is None else result[0]


# ---- where a query comes from: the emulator's latency map ------------------------------------

# The emulator has no Internet latency data: it places a resolver by this table instead. Each
# Region owns one /24 of 198.18.0.0/15 (RFC 2544's benchmarking range, never routed on the
# Internet) and one /48 of 2001:db8::/32 (RFC 3849's documentation range), numbered in this order:
# 198.18.<n>.0/24 and 2001:db8:<n>::/48 for the n-th Region. An address elsewhere has no place
# here: TestDNSAnswer on latency records from it is refused rather than answered by a guess.
LATENCY_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-south-1", "ap-east-1", "me-south-1", "af-south-1"]
RESOLVER_REGIONS = {
    network: region
    for n, region in enumerate(LATENCY_REGIONS)
    for network in (ipaddress.ip_network(f"198.18.{n}.0/24"),
                    ipaddress.ip_network(f"2001:db8:{n:x}::/48"))}
# TestDNSAnswer, ResolverIP: "If you omit this value, TestDnsAnswer uses the IP address of a DNS
# resolver in the AWS US East (N. Virginia) Region (us-east-1)."
DEFAULT_RESOLVER_REGION = "us-east-1"
# The continents the emulator's latency ranks by (a Region's name says its area).
AREAS = {"us": "america-north", "ca": "america-north", "sa": "america-south", "eu": "europe",
         "il": "europe", "me": "middle-east", "af": "africa", "ap": "asia-pacific"}


def resolver_address(resolver: str | None, subnet: str | None, mask: str | None) -> Any:
    """The address a query is placed by: the client subnet (EDNS0, its mask applied: 24 bits for
    IPv4 and 64 for IPv6 by default, TestDNSAnswer's EDNS0ClientSubnetMask), else the resolver.
    None: no resolver given. Malformed input is InvalidInput, as the operation's pattern says."""
    try:
        if subnet:
            address = ipaddress.ip_address(subnet)
            bits = int(mask) if mask else (24 if address.version == 4 else 64)
            if not 0 <= bits <= address.max_prefixlen:
                raise ValueError(f"mask {bits} out of 0-{address.max_prefixlen}")
            return ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address
        if mask:
            raise ValueError("edns0clientsubnetmask without edns0clientsubnetip")
        return ipaddress.ip_address(resolver) if resolver else None
    except ValueError as e:
        raise InvalidInput(f"Invalid request: {e}") from e


def resolver_region(address: Any) -> str:
    """The Region RESOLVER_REGIONS places an address in."""
    if address is None:
        return DEFAULT_RESOLVER_REGION
    for network, region in RESOLVER_REGIONS.items():
        if address in network:
            return region
    raise NotEmulated(f"emulator: no Region for the resolver {address}; latency answers are "
                      "emulated for 198.18.<n>.0/24 and 2001:db8:<n>::/48 "
                      "(scripts/emulator_route53.py, RESOLVER_REGIONS)")


def latency_rank(origin: str, region: str) -> tuple[int, str]:
    """The emulator's latency order from `origin`: its own Region first, then Regions of its
    continent, then the rest; ties by name, so the answer is the same on every ask."""
    same_area = AREAS.get(origin.split("-")[0]) == AREAS.get(region.split("-")[0])
    return (0 if region == origin else 1 if same_area else 2), region


def _latency(backend: Route53Backend, account: str, sets: list[RecordSet],
             address: Any) -> list[RecordSet]:
    """"Latency-based routing" (Route 53 Developer Guide, docs.aws.amazon.com/Route53/latest/
    DeveloperGuide/routing-policy-latency.html): the record of the Region with the lowest latency
    from the query's origin. "How Amazon Route 53 chooses records when health checking is
    configured" (health-checks-how-route-53-chooses-records.html): an unhealthy record is passed
    over for the next by the same criteria; a record without a check is always healthy; when none
    is healthy, Route 53 takes them all as healthy and chooses by the routing policy alone."""
    origin = resolver_region(address)
    ranked = sorted(sets, key=lambda r: latency_rank(origin, r.region))
    healthy = next((r for r in ranked if _healthy(backend, account, r.health_check_id)), None)
    return [healthy or ranked[0]]


def _route(backend: Route53Backend, account: str, sets: list[RecordSet],
           address: Any = None) -> list[RecordSet]:
    """The record sets of one name and type that the answer comes from; `address`: where the
    query comes from (resolver_address), which only latency records are answered by."""
    if all(not r.set_identifier for r in sets):
        return sets  # simple routing: the one record set
    for record in sets:
        alias = record.alias_target or {}
        if _flag(alias.get("EvaluateTargetHealth")):
            raise NotEmulated("emulator: TestDNSAnswer with EvaluateTargetHealth")
    if sets and all(r.region for r in sets):
        return _latency(backend, account, sets, address)
    if not all(r.failover for r in sets):
        raise NotEmulated("emulator: TestDNSAnswer on weighted, geolocation or multivalue "
                          "records")
    primary = next((r for r in sets if r.failover == "PRIMARY"), None)
    secondary = next((r for r in sets if r.failover == "SECONDARY"), None)
    # ResourceRecordSet, Failover (API Reference): the primary when it is healthy; the secondary
    # when the primary is unhealthy and the secondary healthy; the primary when the secondary is
    # unhealthy, whatever the primary's health.
    if primary is None or secondary is None:
        return [r for r in (primary, secondary) if r is not None]
    if _healthy(backend, account, primary.health_check_id):
        return [primary]
    if _healthy(backend, account, secondary.health_check_id):
        return [secondary]
    return [primary]


def answer(backend: Route53Backend, account: str, zone: FakeZone, name: str, kind: str,
           depth: int = 0, address: Any = None) -> tuple[str, list[str]]:
    """(DNS response code, record data) for a query of `name` and `kind` in `zone`."""
    named = [r for r in zone.rrsets if _bare(r.name) == _bare(name)]
    if not named:
        # A name with no records of its own but names below it exists: NOERROR with no data
        # (RFC 8020, "NXDOMAIN: There Really Is Nothing Underneath"); otherwise NXDOMAIN.
        below = any(_bare(r.name).endswith("." + _bare(name)) for r in zone.rrsets)
        return ("NOERROR" if below else "NXDOMAIN"), []
    data: list[str] = []
    for record in _route(backend, account, [r for r in named if r.type == kind], address):
        if not record.alias_target:
            data.extend(record.records)
            continue
        # An alias answers with what its target answers ("Choosing between alias and non-alias
        # records", Route 53 Developer Guide). A target in a zone the emulator holds is
        # evaluated there; any other (an API Gateway or CloudFront name) is AWS's to resolve,
        # which nothing serves locally: no data rather than invented addresses.
        target = record.alias_target
        target_zone = backend.zones.get(str(target.get("HostedZoneId", "")).split("/")[-1])
        if target_zone is not None and depth < ALIAS_DEPTH:
            data.extend(answer(backend, account, target_zone, target.get("DNSName", ""), kind,
                               depth + 1, address)[1])
    return "NOERROR", data


def _nameserver(zone: FakeZone) -> str:
    """One of the zone's name servers (its apex NS record, else its delegation set)."""
    for record in zone.rrsets:
        if record.type == "NS" and _bare(record.name) == _bare(zone.name) and record.records:
            return record.records[0].rstrip(".")
    servers = zone.delegation_set.name_servers if zone.delegation_set else []
    return servers[0] if servers else "ns.emulator.invalid"


def _test_dns_answer(self: Route53) -> ActionResult:
    zone_id = self._get_param("HostedZoneId")
    name = self._get_param("RecordName")
    kind = self._get_param("RecordType")
    if not zone_id or not name or not kind:
        raise InvalidInput("Invalid request: hostedzoneid, recordname and recordtype are required")
    if kind not in record_types():
        raise InvalidInput(f"Invalid request: {kind!r} is not a record type "
                           f"({', '.join(sorted(record_types()))})")
    zone = self.backend.get_hosted_zone(zone_id)  # NoSuchHostedZone when there is none
    if zone.private_zone:
        # TestDNSAnswer: "This call only supports querying public hosted zones."
        raise NotEmulated("emulator: TestDNSAnswer on a private hosted zone")
    if not (_bare(name) == _bare(zone.name) or _bare(name).endswith("." + _bare(zone.name))):
        raise NotEmulated(f"emulator: TestDNSAnswer for {name}, outside the zone {zone.name}")
    address = resolver_address(self._get_param("ResolverIP"),
                               self._get_param("EDNS0ClientSubnetIP"),
                               self._get_param("EDNS0ClientSubnetMask"))
    code, data = answer(self.backend, self.current_account, zone, name, kind, address=address)
    return ActionResult({
        "Nameserver": _nameserver(zone), "RecordName": name, "RecordType": kind,
        "RecordData": data, "ResponseCode": code, "Protocol": "UDP"})


def _deleting_one_set(original: Any) -> Any:
    """A DELETE names one record set by name, type and set identifier ("ChangeResourceRecordSets",
    Route 53 API Reference: "DELETE: Deletes an existing resource record set that has the
    specified values"); moto deletes every set of the zone with that set identifier, whatever its
    name or type. The sets a batch deletes are noted for `_delete_rrset_by_id`, which moto calls
    once per such DELETE, in order."""
    @functools.wraps(original)
    def change(self: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]) -> None:
        zone = self.get_hosted_zone(zoneid)
        zone.mraa_deleting = [
            (c["ResourceRecordSet"]["Name"], c["ResourceRecordSet"]["Type"])
            for c in change_list
            if c["Action"] == "DELETE" and "SetIdentifier" in c["ResourceRecordSet"]]
        try:
            return original(self, zoneid, change_list)
        finally:
            zone.mraa_deleting = []
    return change


def _delete_rrset_by_id(self: FakeZone, set_identifier: str) -> None:
    name, kind = self.mraa_deleting.pop(0)
    self.rrsets = [r for r in self.rrsets
                   if not (r.set_identifier == set_identifier and r.type == kind
                           and _bare(r.name) == _bare(name))]


def install() -> None:
    Route53Backend.change_resource_record_sets = _deleting_one_set(
        Route53Backend.change_resource_record_sets)
    FakeZone.delete_rrset_by_id = _delete_rrset_by_id
    Route53.get_health_check_status = _get_health_check_status
    # GET /2013-04-01/testdnsanswer (the operation's request syntax), routed as moto routes
    # Route 53's other operations: by the botocore model, to Route53.test_dns_answer.
    route53_urls.url_paths[r"{0}/(?P<api_version>[\d_-]+)/testdnsanswer$"] = Route53.dispatch
    Route53.test_dns_answer = _test_dns_answer
