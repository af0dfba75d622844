"""Replication metrics in the emulator, in moto's own CloudWatch backend, as AWS publishes them:

- DynamoDB global tables: `ReplicationLatency` (namespace AWS/DynamoDB, unit Milliseconds,
  dimensions TableName and ReceivingRegion), "emitted for every source- and destination-Region
  pair" in the Region of the replica written to ("Monitoring global tables",
  docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html;
  "DynamoDB Metrics and dimensions", docs.aws.amazon.com/amazondynamodb/latest/developerguide/
  metrics-dimensions.html). One datapoint per receiving Region for each replicated write.
- S3 replication with metrics enabled on the rule (S3 RTC turns them on): `ReplicationLatency`
  (Seconds), `OperationsPendingReplication` (Count), `OperationsFailedReplication` (Count), namespace
  AWS/S3, dimensions SourceBucket, DestinationBucket, RuleId, in the source bucket's Region
  ("Metrics and dimensions" and "Using S3 Replication metrics", docs.aws.amazon.com/AmazonS3/latest/
  userguide/metrics-dimensions.html and repl-metrics.html). Published for each object version put
  under such a rule.

The figure each datapoint carries is the stand-in's lag, per account: `POST /moto-api/mraa/
replication-lag` with `{"items": seconds, "objects": seconds, "users": seconds}` (header x-moto-account-id picks the
account, as for moto's own API) sets it, `GET` reads it. The items' lag is the global-table
stand-in's own delay (emulator_time.replication_lag, default and MRAA_EMULATOR_REPLICATION_LAG
there), and so is the objects' (emulator_replication.object_lag: an object's copy arrives after
it), so the figure published is the delay a reader sees. A lag past the objective is how a test
makes replication stalled: the objects held back read PENDING and OperationsPendingReplication.

Alarms, which moto stores but never evaluates (every alarm reads OK from its creation on): an
alarm starts INSUFFICIENT_DATA and is evaluated as CloudWatch does ("Evaluating an alarm" and
"Configuring how CloudWatch alarms treat missing data", docs.aws.amazon.com/AmazonCloudWatch/
latest/monitoring/alarm-evaluation.html and alarms-and-missing-data.html): over its last
EvaluationPeriods periods, each period's statistic held against the threshold, DatapointsToAlarm
(default: all of them) breaching ones put it in ALARM; a period without datapoints counts as its
TreatMissingData says (missing: INSUFFICIENT_DATA when no period has data; notBreaching / breaching;
ignore: the state stays). Evaluated when a metric of its namespace and name is published and when
alarms are described, so a window that has passed is seen. A CloudFormation stand-in makes
AWS::CloudWatch::Alarm and AWS::SNS::Subscription (moto skips both), refusing as PutMetricAlarm does
an action on a topic of another Region ("Invalid region ... specified. Only ... is supported.").

CloudWatch's current protocol: AWS's SDKs (the Rust SDK among them) call CloudWatch in Smithy RPC v2
CBOR ("Smithy RPC v2 CBOR protocol", smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html),
which moto 5.2.5 does not parse. Such requests are turned into CloudWatch's JSON protocol (the
service model lists both), answered by moto, and the answer encoded back in CBOR by botocore's own
codec for that protocol, so every CloudWatch operation moto implements answers either way.
"""
import io
import json
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from moto.cloudformation.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend, MetricDatum, cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.common_models import CloudFormationModel
from moto.core.utils import utcnow
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3 import models as s3
from moto.sns.models import sns_backends
from moto.sns.responses import SNSResponse
from moto.core.responses import ActionResult

import emulator_cognito_replica
import emulator_replication
import emulator_time
from emulator_cfn import MODULE, IdModel, _reported

CONTROL_PATH = "/moto-api/mraa/replication-lag"
# Defaults: items about a second apart ("typically within a second", "Global tables core
# concepts", docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-CoreConcepts.html);
# objects as the time model's object replication (emulator_time.OBJECT_REPLICATION, with its source),
# scaled.
KINDS = ("items", "objects", "users")


def lag(account: str, kind: str) -> float:
    """The stand-in's replication lag in seconds for `kind` (`items` or `objects`): the delay a
    reader sees (emulator_time.replication_lag, emulator_replication.object_lag)."""
    if kind == "items":
        return emulator_time.replication_lag(account)
    if kind == "users":
        return emulator_cognito_replica.user_lag(account)
    return emulator_replication.object_lag(account)


def set_lag(account: str, values: dict[str, Any]) -> dict[str, float]:
    unknown = set(values) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown lag kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    parsed = {}
    for kind, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{kind}: a number of seconds, 0 or more")
        parsed[kind] = float(value)
    if "items" in parsed:
        emulator_time.set_replication_lag(account, parsed["items"])
    if "objects" in parsed:
        emulator_replication.set_object_lag(account, parsed["objects"])
    if "users" in parsed:
        emulator_cognito_replica.set_user_lag(account, parsed["users"])
    return {k: lag(account, k) for k in KINDS}


def _put(account: str, region: str, namespace: str, data: list[dict[str, Any]]) -> None:
    # Straight into the backend: these are AWS's own metrics, not a caller's PutMetricData.
    now = utcnow()  # moto keeps naive UTC datetimes
    for datum in data:
        datum.setdefault("Timestamp", now)
    cloudwatch_backends[account][region].put_metric_data(namespace, data)


# ---- DynamoDB ---------------------------------------------------------------------------------

def _items_published(method: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
    def handler(self: DynamoHandler) -> Any:
        response = method(self)
        body = self.body
        names = {body.get("TableName")} | set(body.get("RequestItems") or {})
        for item in body.get("TransactItems") or []:
            names |= {op.get("TableName") for op in item.values()}
        for name in names - {None}:
            table = self.dynamodb_backend.tables.get(name)
            if table is None:
                continue
            millis = lag(table.account_id, "items") * 1000
            _put(table.account_id, table.region_name, "AWS/DynamoDB", [
                {"MetricName": "ReplicationLatency", "Unit": "Milliseconds", "Value": millis,
                 "Dimensions": [{"Name": "TableName", "Value": name},
                                {"Name": "ReceivingRegion", "Value": peer.region_name}]}
                for peer in emulator_replication._peers(table)])
        return response

    return handler


# ---- S3 ---------------------------------------------------------------------------------------

def _metrics_enabled(rule: dict[str, Any]) -> bool:
    destination = rule.get("Destination") or {}
    return ((destination.get("Metrics") or {}).get("Status") == "Enabled"
            or (destination.get("ReplicationTime") or {}).get("Status") == "Enabled")


def _objects_published(put_object: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(backend: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        key = put_object(backend, bucket_name, key_name, *args, **kwargs)
        status = getattr(key, "replication_status", None)
        if status not in ("PENDING", "COMPLETED", "FAILED"):
            return key  # not replicated, or the copy itself
        rule = emulator_replication._matching_rule(backend.get_bucket(bucket_name), key_name)
        if rule is None or not _metrics_enabled(rule):
            return key
        account, region = backend.account_id, backend.get_bucket(bucket_name).region_name
        seconds = lag(account, "objects")
        pending = emulator_replication.objects_pending(account, bucket_name)
        dimensions = [
            {"Name": "SourceBucket", "Value": bucket_name},
            {"Name": "DestinationBucket",
             "Value": rule["Destination"]["Bucket"].split(":::", 1)[-1]},
            {"Name": "RuleId", "Value": rule.get("ID") or ""}]
        _put(account, region, "AWS/S3", [
            {"MetricName": "ReplicationLatency", "Unit": "Seconds", "Value": seconds,
             "Dimensions": dimensions},
            {"MetricName": "OperationsPendingReplication", "Unit": "Count",
             "Value": float(pending), "Dimensions": dimensions},
            {"MetricName": "OperationsFailedReplication", "Unit": "Count",
             "Value": 1.0 if status == "FAILED" else 0.0, "Dimensions": dimensions}])
        return key

    return wrapped


# ---- alarms ----------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_STATISTIC: dict[str, Callable[[list[float]], float]] = {
    "Average": lambda v: sum(v) / len(v),
    "Maximum": max,
    "Minimum": min,
    "Sum": sum,
    "SampleCount": lambda v: float(len(v)),
}


def verdict(alarm: Any, data: Iterable[Any], now: datetime) -> str | None:
    """The state `alarm` evaluates to from `data` (moto's datapoints) at `now`, or None where it
    keeps its state (TreatMissingData ignore, or a kind of alarm this does not evaluate)."""
    compare = _COMPARE.get(alarm.comparison_operator)
    statistic = _STATISTIC.get(alarm.statistic or "")
    if compare is None or statistic is None or not alarm.metric_name:
        return None
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    period, count = int(alarm.period), int(alarm.evaluation_periods)
    periods: list[list[float]] = [[] for _ in range(count)]
    for datum in data:
        if (not isinstance(datum, MetricDatum) or datum.namespace != alarm.namespace
                or datum.name != alarm.metric_name
                or {(d.name, d.value) for d in datum.dimensions} != wanted):
            continue
        age = (now - datum.timestamp).total_seconds()
        if 0 <= age < period * count:
            periods[int(age // period)].append(float(datum.value))
    treat = alarm.treat_missing_data or "missing"
    if all(not values for values in periods):
        return {"missing": "INSUFFICIENT_DATA", "notBreaching": "OK",
                "breaching": "ALARM"}.get(treat)
    breaching = sum(
        1 for values in periods
        if (compare(statistic(values), float(alarm.threshold)) if values
            else treat == "breaching"))
    return "ALARM" if breaching >= int(alarm.datapoints_to_alarm or count) else "OK"


def evaluate(backend: Any, alarms: Iterable[Any]) -> None:
    now = utcnow()
    for alarm in alarms:
        state = verdict(alarm, backend.get_all_metrics(), now)
        if state is not None and state != alarm.state_value:
            alarm.update_state(
                f"Threshold Crossed: evaluated {alarm.evaluation_periods} period(s) of "
                f"{alarm.period} s against {alarm.threshold}", "{}", state)


def _evaluated_on_publish(put: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(backend: Any, namespace: str, metric_data: list[dict[str, Any]]) -> Any:
        result = put(backend, namespace, metric_data)
        names = {d.get("MetricName") for d in metric_data}
        evaluate(backend, [a for a in list(backend.alarms.values())
                           if a.namespace == namespace and a.metric_name in names])
        return result

    return wrapped


def _evaluated_on_put(put: Callable[..., Any]) -> Callable[..., Any]:
    # PutMetricAlarm: a new alarm's state "is immediately set to INSUFFICIENT_DATA. The alarm is
    # then evaluated"; an update "leaves the state unchanged" (API Reference, PutMetricAlarm).
    def wrapped(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        before = backend.alarms.get(name)
        kept = (before.state_value, before.state_reason) if before else None
        alarm = put(backend, name, *args, **kwargs)
        alarm.state_value, alarm.state_reason = kept or (
            "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
        evaluate(backend, [alarm])
        return alarm

    return wrapped


def _evaluated_on_read(describe: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(backend: Any, *args: Any) -> Any:
        evaluate(backend, list(backend.alarms.values()))
        return describe(backend, *args)

    return wrapped


def _topic_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[2] == "sns" else None


class MetricAlarm(IdModel, CloudFormationModel):
    """AWS::CloudWatch::Alarm on one metric (docs.aws.amazon.com/AWSCloudFormation/latest/
    TemplateReference/aws-resource-cloudwatch-alarm.html); Ref is the alarm's name."""

    __module__ = MODULE
    TYPE = "AWS::CloudWatch::Alarm"

    @staticmethod
    def _put(account_id: str, region_name: str, name: str, props: dict[str, Any]) -> Any:
        actions = {k: [str(a) for a in props.get(k) or []]
                   for k in ("AlarmActions", "OKActions", "InsufficientDataActions")}
        for arn in (a for listed in actions.values() for a in listed):
            region = _topic_region(arn)
            if region is not None and region != region_name:
                raise ValidationError(
                    name, f"Invalid region {region} specified. Only {region_name} is supported.")
        backend = cloudwatch_backends[account_id][region_name]
        alarm = backend.put_metric_alarm(
            name=name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            period=int(props.get("Period") or 60), threshold=float(props["Threshold"]),
            statistic=props.get("Statistic"), description=props.get("AlarmDescription") or "",
            dimensions=props.get("Dimensions") or [], alarm_actions=actions["AlarmActions"],
            ok_actions=actions["OKActions"],
            insufficient_data_actions=actions["InsufficientDataActions"],
            datapoints_to_alarm=props.get("DatapointsToAlarm"), unit=props.get("Unit"),
            treat_missing_data=props.get("TreatMissingData"))
        return alarm

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "MetricAlarm":
        props = cloudformation_json["Properties"]
        name = props.get("AlarmName") or resource_name
        cls._put(account_id, region_name, name, props)
        return cls(account_id, region_name, name, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "MetricAlarm", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "MetricAlarm":
        props = cloudformation_json["Properties"]
        name = props.get("AlarmName") or original_resource.id
        if name != original_resource.id:  # AlarmName is create-only: a replacement
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(name, cloudformation_json, account_id,
                                                       region_name)
        cls._put(account_id, region_name, name, props)
        return cls(account_id, region_name, name, props)

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[self.account_id][self.region].delete_alarms([self.id])


class TopicSubscription(IdModel, CloudFormationModel):
    """AWS::SNS::Subscription (.../aws-resource-sns-subscription.html); Ref is its ARN."""

    __module__ = MODULE
    TYPE = "AWS::SNS::Subscription"

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "TopicSubscription":
        props = cloudformation_json["Properties"]
        topic = str(props["TopicArn"])
        region = _topic_region(topic) or region_name
        subscription = sns_backends[account_id][region].subscribe(
            topic, str(props.get("Endpoint") or ""), str(props["Protocol"]))
        return cls(account_id, region, subscription.arn, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "TopicSubscription", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "TopicSubscription":
        # Endpoint, Protocol and TopicArn are create-only (the registry schema).
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[self.account_id][self.region].unsubscribe(self.id)


def _listed(subscription: Any) -> dict[str, Any]:
    """A subscription as ListSubscriptions(ByTopic) lists it: an e-mail address that has not
    followed the confirmation link AWS mailed it is `PendingConfirmation`, not an ARN ("Amazon
    SNS email notifications", docs.aws.amazon.com/sns/latest/dg/sns-email-notifications.html;
    moto confirms nothing and lists the ARN)."""
    pending = subscription.protocol in ("email", "email-json") and not subscription.confirmed
    return {"SubscriptionArn": "PendingConfirmation" if pending else subscription.arn,
            "Owner": subscription.account_id, "Protocol": subscription.protocol,
            "Endpoint": subscription.endpoint, "TopicArn": subscription.topic.arn}


def _list_subscriptions_by_topic(self: SNSResponse) -> ActionResult:
    subscriptions, next_token = self.backend.list_subscriptions_by_topic(
        self._get_param("TopicArn"), next_token=self._get_param("NextToken"))
    return ActionResult({"Subscriptions": [_listed(s) for s in subscriptions],
                         "NextToken": next_token})


# ---- the lag control and the CBOR protocol ----------------------------------------------------

_CLOUDWATCH_PATH = "/service/GraniteServiceVersion20100801/operation/"
_model: Any = None


def _service_model() -> Any:
    global _model
    if _model is None:
        import botocore.session

        _model = botocore.session.get_session().get_service_model("cloudwatch")
    return _model


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"cannot encode {type(value).__name__}")


def cbor_to_json(operation: str, body: bytes) -> bytes:
    """A CBOR request body of `operation`, as the JSON protocol's body."""
    from botocore.parsers import RpcV2CBORParser

    shape = _service_model().operation_model(operation).input_shape
    parsed = RpcV2CBORParser().parse(
        {"body": body, "headers": {}, "status_code": 200}, shape) if body else {}
    parsed.pop("ResponseMetadata", None)
    return json.dumps(parsed, default=_json_default).encode()


def json_to_cbor(operation: str, status: int, body: bytes) -> bytes:
    """moto's JSON answer to `operation`, in CBOR: the output shape's encoding, or an error
    document (`__type`, `message`) as the protocol's errors are."""
    from botocore.serialize import RpcV2CBORSerializer

    document = json.loads(body or b"{}")
    serializer = RpcV2CBORSerializer()
    out = bytearray()
    if status >= 300:
        error = {"__type": str(document.get("__type") or document.get("Code") or "ServiceError"),
                 "message": str(document.get("message") or document.get("Message") or "")}
        _encode_string_map(serializer, out, error)
        return bytes(out)
    shape = _service_model().operation_model(operation).output_shape
    if shape is None:
        _encode_string_map(serializer, out, {})
    else:
        serializer._serialize_data_item(out, _timestamps(document, shape), shape)
    return bytes(out)


def _encode_string_map(serializer: Any, out: bytearray, values: dict[str, str]) -> None:
    info, size = serializer._get_additional_info_and_num_bytes(len(values))
    out.extend(serializer._get_initial_byte(serializer.MAP_MAJOR_TYPE, info))
    out.extend(len(values).to_bytes(size, "big") if size else b"")
    for key, value in values.items():
        serializer._serialize_type_string(out, key, None, None)
        serializer._serialize_type_string(out, value, None, None)


def _timestamps(value: Any, shape: Any) -> Any:
    """JSON carries timestamps as epoch seconds; the CBOR encoder wants datetimes."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "timestamp":
        return datetime.fromtimestamp(float(value), timezone.utc)
    if kind == "structure":
        return {k: _timestamps(v, shape.members[k]) for k, v in value.items()
                if k in shape.members}
    if kind == "list":
        return [_timestamps(v, shape.member) for v in value]
    if kind == "map":
        return {k: _timestamps(v, shape.value) for k, v in value.items()}
    return value


def _respond(start_response: Any, status: str, document: Any) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def _control(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    account = environ.get("HTTP_X_MOTO_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    if environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            values = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if not isinstance(values, dict):
                raise ValueError("a JSON object, e.g. {\"items\": 30}")
            return _respond(start_response, "200 OK", set_lag(account, values))
        except ValueError as e:
            return _respond(start_response, "400 Bad Request", {"message": str(e)})
    return _respond(start_response, "200 OK", {k: lag(account, k) for k in KINDS})


def _cbor(app: Any, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    operation = environ["PATH_INFO"][len(_CLOUDWATCH_PATH):]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = cbor_to_json(operation, environ["wsgi.input"].read(length))
    except Exception as e:  # noqa: BLE001  (an unreadable body is the caller's error)
        error = json_to_cbor(operation, 400, json.dumps(
            {"__type": "SerializationException", "message": str(e)}).encode())
        start_response("400 Bad Request", [("Content-Type", "application/cbor"),
                                           ("smithy-protocol", "rpc-v2-cbor"),
                                           ("Content-Length", str(len(error)))])
        return [error]
    environ = dict(environ)
    environ.pop("HTTP_SMITHY_PROTOCOL", None)
    environ["PATH_INFO"] = "/"
    environ["CONTENT_TYPE"] = "application/x-amz-json-1.0"
    environ["HTTP_X_AMZ_TARGET"] = f"GraniteServiceVersion20100801.{operation}"
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["wsgi.input"] = io.BytesIO(body)
    answer: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = status, headers
        return lambda _chunk: None

    raw = b"".join(app(environ, capture))
    code = int(answer["status"].split()[0])
    encoded = json_to_cbor(operation, code, raw)
    headers = [(k, v) for k, v in answer["headers"]
               if k.lower() not in ("content-type", "content-length")]
    headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                ("Content-Length", str(len(encoded)))]
    start_response(answer["status"], headers)
    return [encoded]


def install() -> None:
    """Called once, after emulator_replication.install(): wraps what it installed."""
    for name in ("put_item", "update_item", "delete_item", "batch_write_item",
                 "transact_write_items"):
        setattr(DynamoHandler, name, _items_published(getattr(DynamoHandler, name)))
    s3.S3Backend.put_object = _objects_published(s3.S3Backend.put_object)
    CloudWatchBackend.put_metric_data = _evaluated_on_publish(CloudWatchBackend.put_metric_data)
    CloudWatchBackend.put_metric_alarm = _evaluated_on_put(CloudWatchBackend.put_metric_alarm)
    SNSResponse.list_subscriptions_by_topic = _list_subscriptions_by_topic
    for name in ("describe_alarms", "get_alarms_by_action_prefix",
                 "get_alarms_by_alarm_name_prefix", "get_alarms_by_alarm_names",
                 "get_alarms_by_state_value"):
        setattr(CloudWatchBackend, name, _evaluated_on_read(getattr(CloudWatchBackend, name)))
    moto_call = DomainDispatcherApplication.__call__

    def call(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO") or ""
        if path == CONTROL_PATH:
            return _control(environ, start_response)
        if (path.startswith(_CLOUDWATCH_PATH)
                and environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor"):
            return _cbor(lambda e, s: moto_call(app, e, s), environ, start_response)
        return moto_call(app, environ, start_response)

    DomainDispatcherApplication.__call__ = call
