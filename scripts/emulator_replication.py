"""Replication in the emulator, on moto's own DynamoDB and S3 backends:

- DynamoDB global tables, version 2019.11.21: UpdateTable with ReplicaUpdates creates (or deletes)
  the table in the other region, describe_table lists the replicas with their status, and every
  item written to one replica appears in the others after a lag (emulator_time.replication_lag:
  a read elsewhere right after a write sees the old item), the last writer winning, as on AWS.
- S3 replication: each object version put after a rule exists is copied to the rule's
  destination bucket when the rule's role may do it (its trust and identity policies evaluated
  as IAM does; otherwise the source reads FAILED), after the objects' lag (object_lag: set by
  the lag control of emulator_metrics.py; by default the time model's OBJECT_REPLICATION, scaled,
  or at once without it): until then the copy does not exist and the source reads
  x-amz-replication-status PENDING, then COMPLETED, and the copy REPLICA; delete markers follow the rule's DeleteMarkerReplication; the stored
  configuration reads back as stored.
- Two-way S3 replication (a rule on each bucket naming the other): an object put in either bucket
  is copied to the other once; the copy, a REPLICA, is never replicated again ("What does Amazon
  S3 replicate?", what isn't replicated: "objects in the source bucket that are replicas that
  were created by another replication rule"; docs.aws.amazon.com/AmazonS3/latest/userguide/
  replication-what-is-isnot-replicated.html), so nothing loops. A metadata change made on a
  replica (its tags) goes back to its source object only with replica modification sync: the
  replica's bucket has a rule to the source's bucket whose SourceSelectionCriteria
  ReplicaModifications is Enabled ("Replicating metadata changes with replica modification
  sync", docs.aws.amazon.com/AmazonS3/latest/userguide/replication-for-metadata-changes.html).
"""
import copy
import heapq
import itertools
import json
import threading
import time
import urllib.parse
from typing import Any

from moto.dynamodb import models as ddb
from moto.dynamodb.exceptions import MockValidationException, ResourceInUseException
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.iam.models import iam_backends
from moto.s3 import models as s3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.responses import S3Response
from moto.utilities.utils import get_partition

from emulator_s3_policy import _as_list, conditions_hold, statement_applies

import emulator_time

# ---- DynamoDB global tables -------------------------------------------------------------------

# (account, table name) -> the regions of its replicas, the creating one included.
_groups: dict[tuple[str, str], set[str]] = {}


def _table(account: str, region: str, name: str) -> Table | None:
    return ddb.dynamodb_backends[account][region].tables.get(name)


def _peers(table: Table) -> list[Table]:
    regions = _groups.get((table.account_id, table.name), set())
    if table.region_name not in regions:
        return []
    found = (_table(table.account_id, r, table.name) for r in sorted(regions - {table.region_name}))
    return [t for t in found if t is not None]


# Replicas that the UpdateTable request being answered creates: its response says CREATING, as
# AWS's does, even when the time model is off.
_creating = threading.local()


def _replica_status(account: str, region: str, name: str) -> str:
    if emulator_time.pending(("replica", account, region, name)) or (
            account, region, name) in getattr(_creating, "keys", ()):
        return "CREATING"
    return "ACTIVE"


def _check_replica_updates(table: Table, updates: list[dict[str, Any]]) -> None:
    """The rules of "UpdateTable" (docs.aws.amazon.com/amazondynamodb/latest/APIReference/
    API_UpdateTable.html) and of "Global tables: requirements" (docs.aws.amazon.com/
    amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html)."""
    regions = _groups.get((table.account_id, table.name), {table.region_name})
    # One replica update at a time: while a replica is being created the table is UPDATING.
    if any(_replica_status(table.account_id, r, table.name) == "CREATING" for r in regions):
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being updated: "
            f"{table.name}")
    if len(updates) != 1:
        raise MockValidationException(
            "Only one replica update (Create or Delete) can be made in one UpdateTable request")
    for update in updates:
        (action, spec), = update.items()
        region = spec["RegionName"]
        if region == table.region_name:
            raise MockValidationException(
                "Cannot add, delete, or update the local region through ReplicaUpdates. Use "
                "CreateTable, DeleteTable, or UpdateTable as required.")
        if action == "Create":
            # The stream carries the changes to the replicas: it must hold new and old images.
            stream = table.stream_specification or {}
            if not stream.get("StreamEnabled") or stream.get("StreamViewType") != (
                    "NEW_AND_OLD_IMAGES"):
                raise MockValidationException(
                    "Table must have DynamoDB Streams enabled with StreamViewType "
                    "NEW_AND_OLD_IMAGES to add a replica")
            if region in regions or _table(table.account_id, region, table.name) is not None:
                raise MockValidationException(
                    f"Failed to create a the new replica of table with name: '{table.name}' "
                    "because one or more replicas already existed as tables.")
        elif action == "Delete":
            if region not in regions:
                raise MockValidationException(
                    f"Cannot delete replica in {region}: the table has no replica there")
        else:
            raise MockValidationException(f"emulator: replica {action} is not emulated")


def _create_replica(table: Table, region: str) -> None:
    backend = ddb.dynamodb_backends[table.account_id][region]
    replica = backend.create_table(
        table.name, schema=table.schema, throughput=None, attr=table.attr,
        global_indexes=[i.describe() for i in table.global_indexes],
        indexes=[i.describe() for i in table.indexes],
        streams=copy.deepcopy(table.stream_specification), billing_mode="PAY_PER_REQUEST",
        sse_specification=None, tags=[], deletion_protection_enabled=False,
        warm_throughput=None)
    replica.items = copy.deepcopy(table.items)
    _groups.setdefault((table.account_id, table.name), {table.region_name}).add(region)
    emulator_time.start(("replica", table.account_id, region, table.name),
                        emulator_time.REPLICA_CREATE)


def _delete_replica(table: Table, region: str) -> None:
    # DeleteTableReplica in the replica's region: the table and its items go.
    backend = ddb.dynamodb_backends[table.account_id][region]
    backend.tables.pop(table.name, None)
    group = _groups.get((table.account_id, table.name), set())
    group.discard(region)
    if len(group) <= 1:
        _groups.pop((table.account_id, table.name), None)


_moto_update_table = DynamoHandler.update_table


def _update_table(handler: DynamoHandler) -> Any:
    updates = handler.body.get("ReplicaUpdates")
    if not updates:
        return _moto_update_table(handler)
    table = handler.dynamodb_backend.get_table(handler.body["TableName"])
    _check_replica_updates(table, updates)
    _creating.keys = set()
    for update in updates:
        (action, spec), = update.items()
        if action == "Create":
            _create_replica(table, spec["RegionName"])
            _creating.keys.add((table.account_id, spec["RegionName"], table.name))
        else:
            _delete_replica(table, spec["RegionName"])
    try:
        # moto describes the table for the response here, while the new replicas read CREATING.
        return _moto_update_table(handler)
    finally:
        _creating.keys = set()


_moto_describe = Table.describe


def _describe(table: Table, base_key: str = "TableDescription") -> dict[str, Any]:
    result = _moto_describe(table, base_key)
    regions = _groups.get((table.account_id, table.name))
    if regions and table.region_name in regions:
        described = result[base_key]
        described["GlobalTableVersion"] = "2019.11.21"
        described["Replicas"] = [
            {"RegionName": r, "ReplicaStatus": _replica_status(table.account_id, r, table.name)}
            for r in sorted(regions - {table.region_name})]
        if _replica_status(table.account_id, table.region_name, table.name) == "CREATING":
            described["TableStatus"] = "CREATING"
    return result


def _flat(table: Table) -> dict[tuple, Any]:
    """The table's items by key: (hash,) or (hash, range)."""
    if table.has_range_key:
        return {(h, r): i for h, ranges in table.items.items() for r, i in ranges.items()}
    return {(h,): i for h, i in table.items.items() if not isinstance(i, dict)}


def _image(item: Any) -> Any:
    return None if item is None else item.to_json()


# Copies on their way to another replica: (due, seq, account, region, table, key, item or None
# for a delete, written at). Delivered before any DynamoDB request is answered once due, in order.
_in_flight: list[tuple[float, int, str, str, str, tuple, Any, float]] = []
# (account, region, table, key) -> when the item there was last written, for last writer wins.
_written: dict[tuple[str, str, str, tuple], float] = {}
_sequence = itertools.count()


def _send(table: Table, key: tuple, item: Any) -> None:
    """Queues the copy of one written item to the table's other replicas, after the lag."""
    now = time.monotonic()
    _written[(table.account_id, table.region_name, table.name, key)] = now
    for peer in _peers(table):
        heapq.heappush(_in_flight, (now + emulator_time.replication_lag(table.account_id), next(_sequence),
                                    table.account_id, peer.region_name, table.name, key,
                                    copy.deepcopy(item), now))


def deliver() -> None:
    """Applies the copies whose lag has passed. A copy older than the replica's own last write of
    the item is dropped: "last writer wins" ("Global tables: how it works", conflict resolution,
    docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html)."""
    now = time.monotonic()
    while _in_flight and _in_flight[0][0] <= now:
        _, _, account, region, name, key, item, written = heapq.heappop(_in_flight)
        peer = _table(account, region, name)
        if peer is None or _written.get((account, region, name, key), -1.0) > written:
            continue
        _written[(account, region, name, key)] = written
        hash_key, range_key = key[0], (key[1] if len(key) > 1 else None)
        if peer.has_range_key:
            if item is None:
                peer.items.get(hash_key, {}).pop(range_key, None)
                if hash_key in peer.items and not peer.items[hash_key]:
                    del peer.items[hash_key]
            else:
                peer.items[hash_key][range_key] = item
        elif item is None:
            peer.items.pop(hash_key, None)
        else:
            peer.items[hash_key] = item


def _replicated_writes(method: Any) -> Any:
    """Sends each item a write request changed in a replicated table to the other replicas,
    asynchronously (DynamoDB replicates "in the background", item by item: "Global tables core
    concepts", docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-
    CoreConcepts.html): a read in another region right after the write sees the old item."""

    def handler(self: DynamoHandler) -> Any:
        body = self.body
        names = {body.get("TableName")} | set(body.get("RequestItems") or {})
        for item in body.get("TransactItems") or []:
            names |= {op.get("TableName") for op in item.values()}
        before = {}
        for name in names - {None}:
            table = self.dynamodb_backend.tables.get(name)
            if table is not None and _peers(table):
                before[name] = (table, {k: _image(i) for k, i in _flat(table).items()})
        response = method(self)
        for table, old in before.values():
            new = _flat(table)
            for key in old.keys() | new.keys():
                if old.get(key) != _image(new.get(key)):
                    _send(table, key, new.get(key))
        return response

    return handler


_moto_call_action = DynamoHandler.call_action


def _call_action(self: DynamoHandler) -> Any:
    deliver()
    return _moto_call_action(self)


_moto_delete_table = ddb.DynamoDBBackend.delete_table


def _delete_table(backend: Any, name: str) -> Table:
    # Deleting one replica's table takes that region out of the global table.
    table = _moto_delete_table(backend, name)
    group = _groups.get((backend.account_id, name))
    if group is not None:
        group.discard(backend.region_name)
        if len(group) <= 1:
            _groups.pop((backend.account_id, name), None)
    return table


# ---- S3 replication ---------------------------------------------------------------------------

_replicating = threading.local()


def _matching_rule(bucket: Any, key_name: str) -> dict[str, Any] | None:
    """The enabled rule of highest priority whose prefix matches ("Replication configuration",
    docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html)."""
    config = getattr(bucket, "replication", None) or {}
    rules = [r for r in config.get("Rule") or [] if r.get("Status") == "Enabled"]
    for rule in sorted(rules, key=lambda r: -int(r.get("Priority") or 0)):
        selector = rule.get("Filter")
        if selector is None:
            prefix = rule.get("Prefix") or ""
        else:
            prefix = (selector or {}).get("Prefix") or ((selector or {}).get("And") or {}).get(
                "Prefix") or ""
        if key_name.startswith(prefix):
            return rule
    return None


def _destination(backend: Any, rule: dict[str, Any]) -> Any:
    name = rule["Destination"]["Bucket"].split(":::", 1)[-1]
    return backend.buckets.get(name)


# What S3 does as the replication role ("Setting up permissions for live replication", step 2,
# docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html): the role
# trusts s3.amazonaws.com, reads the source's configuration and object versions, and replicates
# into the destination; tags need s3:ReplicateTags, delete markers s3:ReplicateDelete.
SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
SOURCE_OBJECT_ACTIONS = ("s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                         "s3:GetObjectVersionTagging")
REPLICATE_OBJECT, REPLICATE_TAGS, REPLICATE_DELETE = (
    "s3:ReplicateObject", "s3:ReplicateTags", "s3:ReplicateDelete")


def _document(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(urllib.parse.unquote(text))


def _role(source: Any) -> Any:
    arn = ((getattr(source, "replication", None) or {}).get("Role")) or ""
    try:
        return iam_backends[source.account_id][get_partition(source.region_name)] \
            .get_role_by_arn(arn)
    except Exception:  # noqa: BLE001 - moto raises IAMNotFoundException; any miss is no role
        return None


def _trusts_s3(role: Any, source: Any) -> bool:
    """The trust policy lets s3.amazonaws.com assume the role, its conditions evaluated with what
    S3 sets when it does (aws:SourceAccount, aws:SourceArn: the source bucket)."""
    context = {"aws:SourceAccount": source.account_id, "aws:SourceArn": source.arn}
    for statement in _as_list(_document(role.assume_role_policy_document).get("Statement")):
        services = _as_list(((statement.get("Principal") or {}) if isinstance(
            statement.get("Principal"), dict) else {}).get("Service") or [])
        if (statement.get("Effect") == "Allow" and "s3.amazonaws.com" in services
                and "sts:AssumeRole" in _as_list(statement.get("Action") or [])
                and conditions_hold(statement.get("Condition"), context)):
            return True
    return False


def _allowed(role: Any, action: str, resource: str) -> bool:
    """IAM's evaluation over the role's identity policies, inline and attached: an explicit Deny
    wins, else an Allow permits, else the implicit deny ("Policy evaluation logic", IAM User
    Guide, docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""
    documents = [_document(d) for d in role.policies.values()]
    for policy in role.managed_policies.values():
        documents += [_document(v.document) for v in policy.versions if v.is_default]
    caller = {"account": role.account_id, "arn": role.arn}
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement") or []):
            if statement_applies(statement, action, resource, caller, {}):
                if statement.get("Effect") == "Deny":
                    return False
                allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def role_may_replicate(source: Any, key: Any, target: Any, delete_marker: bool = False) -> bool:
    role = _role(source)
    if role is None or not _trusts_s3(role, source):
        return False
    wanted = [(a, source.arn) for a in SOURCE_BUCKET_ACTIONS]
    wanted += [(a, f"{source.arn}/{key.name}") for a in SOURCE_OBJECT_ACTIONS]
    destination = f"{target.arn}/{key.name}"
    if delete_marker:
        wanted.append((REPLICATE_DELETE, destination))
    else:
        wanted.append((REPLICATE_OBJECT, destination))
        backend = s3.s3_backends[source.account_id][get_partition(source.region_name)]
        if backend.tagger.list_tags_for_resource(key.arn).get("Tags"):
            wanted.append((REPLICATE_TAGS, destination))
    return all(_allowed(role, action, resource) for action, resource in wanted)


_moto_put_object = s3.S3Backend.put_object


def _put_object(backend: Any, bucket_name: str, key_name: str, value: bytes, *args: Any,
                **kwargs: Any) -> Any:
    key = _moto_put_object(backend, bucket_name, key_name, value, *args, **kwargs)
    if getattr(_replicating, "active", False):
        return key
    rule = _matching_rule(backend.get_bucket(bucket_name), key_name)
    if rule is None:
        return key
    # "Replication status information" (docs.aws.amazon.com/AmazonS3/latest/userguide/
    # replication-status.html): the source reads PENDING, then COMPLETED or FAILED; the copy
    # reads REPLICA. A destination that is missing or not versioned fails the replication.
    target = _destination(backend, rule)
    if target is None or not target.is_versioned or not role_may_replicate(
            backend.get_bucket(bucket_name), key, target):
        key.replication_status = "FAILED"
        return key
    key.replication_status = "PENDING"
    due = time.monotonic() + object_lag(backend.account_id)
    with _objects_lock:
        heapq.heappush(_objects_in_flight, (due, next(_sequence), backend, key, target.name,
                                            args, kwargs))
    deliver_objects()
    return key


# Object copies on their way: (due, sequence, backend, source key, target bucket, put's args).
_objects_in_flight: list[tuple[Any, ...]] = []
_objects_lock = threading.Lock()
# Per account, as set by the lag control (emulator_metrics.py), in seconds.
_object_lags: dict[str, float] = {}


def object_lag(account: str) -> float:
    """How long an object takes to replicate: the lag set for the account, or the time model's
    OBJECT_REPLICATION (scaled; nothing when the time model is off)."""
    with _objects_lock:
        lag = _object_lags.get(account)
    if lag is not None:
        return lag
    return emulator_time.OBJECT_REPLICATION / emulator_time.SCALE if emulator_time.enabled() else 0.0


def set_object_lag(account: str, seconds: float) -> None:
    with _objects_lock:
        _object_lags[account] = seconds


def objects_pending(account: str, bucket_name: str) -> int:
    """The object versions of a source bucket still on their way."""
    with _objects_lock:
        return sum(1 for entry in _objects_in_flight
                   if entry[2].account_id == account and entry[3].bucket_name == bucket_name)


def deliver_objects() -> None:
    """Copies the objects whose lag has passed; the source reads COMPLETED once its copy is
    there. A version deleted meanwhile is not copied (deleting a version is not replicated)."""
    now = time.monotonic()
    while True:
        with _objects_lock:
            if not _objects_in_flight or _objects_in_flight[0][0] > now:
                return
            _, _, backend, key, target_name, args, kwargs = heapq.heappop(_objects_in_flight)
        try:
            current = backend.get_object(key.bucket_name, key.name, version_id=key.version_id)
        except Exception:  # noqa: BLE001 - the version or its bucket is gone
            current = None
        if current is None:
            continue
        _replicating.active = True
        try:
            replica = _moto_put_object(backend, target_name, key.name, key.value, *args, **kwargs)
        except Exception:  # noqa: BLE001 - the destination went away: S3 reports FAILED
            key.replication_status = "FAILED"
            continue
        finally:
            _replicating.active = False
        replica.replication_status = "REPLICA"
        # Where the replica came from: replica modification sync writes back to that version.
        replica.replica_of = (key.bucket_name, key.version_id)
        if key.replication_status == "PENDING":
            key.replication_status = "COMPLETED"


_moto_put_tagging = s3.S3Backend.put_object_tagging


def _put_object_tagging(backend: Any, key: Any, tags: Any) -> Any:
    # moto tags a new object after putting it (PutObject's x-amz-tagging): the tags travel with
    # the replica only when the role may replicate them; otherwise the replication failed.
    result = _moto_put_tagging(backend, key, tags)
    if getattr(_replicating, "active", False):
        return result
    if getattr(key, "replication_status", None) == "REPLICA":
        _sync_replica_modification(backend, key, tags)
        return result
    if tags and getattr(key, "replication_status", None) in ("PENDING", "COMPLETED"):
        source = backend.get_bucket(key.bucket_name)
        rule = _matching_rule(source, key.name)
        target = _destination(backend, rule) if rule else None
        if target is None or not role_may_replicate(source, key, target):
            key.replication_status = "FAILED"
    return result


def _sync_replica_modification(backend: Any, replica: Any, tags: Any) -> None:
    """A replica's new tags onto its source object, when replica modification sync applies: a
    rule of the replica's bucket that selects the key, names the source's bucket, has
    ReplicaModifications Enabled, and a role that may replicate the tags there. The source's copy
    is written as replication writes (under _replicating): it is not sent back again."""
    origin = getattr(replica, "replica_of", None)
    here = backend.get_bucket(replica.bucket_name)
    rule = _matching_rule(here, replica.name)
    if origin is None or rule is None:
        return
    sync = ((rule.get("SourceSelectionCriteria") or {}).get("ReplicaModifications") or {})
    target = _destination(backend, rule)
    if sync.get("Status") != "Enabled" or target is None or target.name != origin[0] or (
            not role_may_replicate(here, replica, target)):
        return
    try:
        source = backend.get_object(origin[0], replica.name, version_id=origin[1])
    except Exception:  # noqa: BLE001 - the source version is gone: nothing to sync
        return
    if source is None:
        return
    _replicating.active = True
    try:
        _moto_put_tagging(backend, source, tags)
    finally:
        _replicating.active = False


_moto_delete_object = s3.S3Backend.delete_object


class _Named:
    """The key a delete marker is made for (a marker carries no tags)."""

    def __init__(self, name: str):
        self.name = name


def _delete_object(backend: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                   bypass: bool = False) -> Any:
    result = _moto_delete_object(backend, bucket_name, key_name, version_id, bypass)
    bucket = backend.get_bucket(bucket_name)
    rule = _matching_rule(bucket, key_name)
    # "Replicating delete markers between buckets" (docs.aws.amazon.com/AmazonS3/latest/
    # userguide/delete-marker-replication.html): a delete without a version id makes a delete
    # marker, replicated when the rule's DeleteMarkerReplication is Enabled (a rule without a
    # Filter, the V1 schema, replicates them); deleting a version is never replicated.
    if version_id is not None or rule is None or not bucket.is_versioned:
        return result
    enabled = (rule.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled"
    target = _destination(backend, rule)
    if (enabled or "Filter" not in rule) and target is not None and target.is_versioned and (
            role_may_replicate(bucket, _Named(key_name), target, delete_marker=True)):
        _moto_delete_object(backend, target.name, key_name, None, bypass)
    return result


_moto_response_dict = s3.FakeKey.response_dict


def _response_dict(key: Any) -> dict[str, Any]:
    headers = _moto_response_dict.fget(key)
    status = getattr(key, "replication_status", None)
    if status:
        headers["x-amz-replication-status"] = status
    return headers


def _get_bucket_replication(response: S3Response) -> Any:
    # moto answers every rule with delete-marker replication Disabled and an empty prefix; S3
    # returns the configuration as it was put.
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError

    response.data["Action"] = "GetBucketReplication"
    replication = response.backend.get_bucket_replication(response.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=response.bucket_name)
    return response.serialized(ActionResult({"ReplicationConfiguration": {
        "Role": replication["Role"], "Rules": _empty_strings(replication["Rule"])}}))


def _empty_strings(value: Any) -> Any:
    """moto parses an empty element (<Prefix></Prefix>) as None, which would be left out."""
    if isinstance(value, dict):
        return {k: _empty_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_empty_strings(v) for v in value]
    return "" if value is None else value


def install() -> None:
    """Patches moto's handlers; called once, before the server starts."""
    DynamoHandler.update_table = _update_table
    for name in ("put_item", "update_item", "delete_item", "batch_write_item",
                 "transact_write_items"):
        setattr(DynamoHandler, name, _replicated_writes(getattr(DynamoHandler, name)))
    DynamoHandler.call_action = _call_action
    Table.describe = _describe
    ddb.DynamoDBBackend.delete_table = _delete_table
    s3.S3Backend.put_object = _put_object
    s3.S3Backend.delete_object = _delete_object
    s3.S3Backend.put_object_tagging = _put_object_tagging
    s3.FakeKey.response_dict = property(_response_dict)
    S3Response.get_bucket_replication = _get_bucket_replication
    moto_call = DomainDispatcherApplication.__call__

    def call(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
        # Objects due arrive before any request is answered, as time passes on AWS.
        deliver_objects()
        return moto_call(app, environ, start_response)

    DomainDispatcherApplication.__call__ = call
