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
replication-lag` with `{"items": seconds, "objects": seconds}` (header x-moto-account-id picks the
account, as for moto's own API) sets it, `GET` reads it. The items' lag is the global-table
stand-in's own delay (emulator_time.replication_lag, default and MRAA_EMULATOR_REPLICATION_LAG
there), so the figure published is the delay a reader sees. A lag past the objective is how a test
makes replication stalled: the objects it holds back read OperationsPendingReplication.

CloudWatch's current protocol: AWS's SDKs (the Rust SDK among them) call CloudWatch in Smithy RPC v2
CBOR ("Smithy RPC v2 CBOR protocol", smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html),
which moto 5.2.5 does not parse. Such requests are turned into CloudWatch's JSON protocol (the
service model lists both), answered by moto, and the answer encoded back in CBOR by botocore's own
codec for that protocol, so every CloudWatch operation moto implements answers either way.
"""
import io
import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3 import models as s3

import emulator_replication
import emulator_time

CONTROL_PATH = "/moto-api/mraa/replication-lag"
# Defaults: items about a second apart ("typically within a second", "Global tables core
# concepts", docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-CoreConcepts.html);
# objects as the time model's object replication (emulator_time.OBJECT_REPLICATION, with its source).
KINDS = ("items", "objects")
# Objects: the time model's object replication (emulator_time.OBJECT_REPLICATION, with its source).
_object_lags: dict[str, float] = {}
_lock = threading.Lock()


def lag(account: str, kind: str) -> float:
    """The stand-in's replication lag in seconds for `kind` (`items` or `objects`)."""
    if kind == "items":
        return emulator_time.replication_lag(account)
    with _lock:
        return _object_lags.get(account, float(emulator_time.OBJECT_REPLICATION))


def set_lag(account: str, values: dict[str, Any]) -> dict[str, float]:
    unknown = set(values) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown lag kinds {sorted(unknown)}; known: items, objects")
    parsed = {}
    for kind, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{kind}: a number of seconds, 0 or more")
        parsed[kind] = float(value)
    if "items" in parsed:
        emulator_time.set_replication_lag(account, parsed["items"])
    if "objects" in parsed:
        with _lock:
            _object_lags[account] = parsed["objects"]
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

# (account, source bucket, key, version) of objects still within their lag: what is pending.
_pending: dict[tuple[str, str, str, str], float] = {}


def _metrics_enabled(rule: dict[str, Any]) -> bool:
    destination = rule.get("Destination") or {}
    return ((destination.get("Metrics") or {}).get("Status") == "Enabled"
            or (destination.get("ReplicationTime") or {}).get("Status") == "Enabled")


def _objects_published(put_object: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(backend: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        key = put_object(backend, bucket_name, key_name, *args, **kwargs)
        status = getattr(key, "replication_status", None)
        if status not in ("COMPLETED", "FAILED"):
            return key  # not replicated, or the copy itself
        rule = emulator_replication._matching_rule(backend.get_bucket(bucket_name), key_name)
        if rule is None or not _metrics_enabled(rule):
            return key
        account, region = backend.account_id, backend.get_bucket(bucket_name).region_name
        seconds = lag(account, "objects")
        now = time.monotonic()
        with _lock:
            if status == "COMPLETED":
                _pending[(account, bucket_name, key_name, str(key.version_id))] = now + seconds
            for k, until in list(_pending.items()):
                if until <= now:
                    _pending.pop(k)
            pending = sum(1 for k in _pending if k[:2] == (account, bucket_name))
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
