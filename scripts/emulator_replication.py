"""Replication in the emulator, on moto's own DynamoDB and S3 backends:

- DynamoDB global tables, version 2019.11.21: UpdateTable with ReplicaUpdates creates (or deletes)
  the table in the other region, describe_table lists the replicas with their status, and every
  write to one replica appears in the others (the emulator serializes requests, so the last
  writer wins, as on AWS).
- S3 replication: each object version put after a rule exists is copied to the rule's
  destination bucket, the source reading x-amz-replication-status PENDING then COMPLETED and the
  copy REPLICA; delete markers follow the rule's DeleteMarkerReplication; the stored
  configuration reads back as stored.
"""
import copy
import threading
from typing import Any

from moto.dynamodb import models as ddb
from moto.dynamodb.exceptions import MockValidationException, ResourceInUseException
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.s3 import models as s3
from moto.s3.responses import S3Response

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


def _replicated_writes(method: Any) -> Any:
    """Mirrors each replicated table a write request touched to its peers. Every write is
    mirrored as it happens, so the replicas stay equal and the latest write wins everywhere."""

    def handler(self: DynamoHandler) -> Any:
        response = method(self)
        body = self.body
        names = {body.get("TableName")} | set(body.get("RequestItems") or {})
        for item in body.get("TransactItems") or []:
            names |= {op.get("TableName") for op in item.values()}
        for name in names - {None}:
            table = self.dynamodb_backend.tables.get(name)
            for peer in _peers(table) if table is not None else []:
                peer.items = copy.deepcopy(table.items)
        return response

    return handler


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
    if target is None or not target.is_versioned:
        key.replication_status = "FAILED"
        return key
    _replicating.active = True
    try:
        replica = _moto_put_object(backend, target.name, key_name, key.value, *args, **kwargs)
    finally:
        _replicating.active = False
    replica.replication_status = "REPLICA"
    key.replication_status = "COMPLETED"
    emulator_time.start(("object", bucket_name, key_name, key.version_id),
                        emulator_time.OBJECT_REPLICATION)
    return key


_moto_delete_object = s3.S3Backend.delete_object


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
    if (enabled or "Filter" not in rule) and target is not None and target.is_versioned:
        _moto_delete_object(backend, target.name, key_name, None, bypass)
    return result


_moto_response_dict = s3.FakeKey.response_dict


def _response_dict(key: Any) -> dict[str, Any]:
    headers = _moto_response_dict.fget(key)
    status = getattr(key, "replication_status", None)
    if status == "COMPLETED" and emulator_time.pending(
            ("object", key.bucket_name, key.name, key.version_id)):
        status = "PENDING"
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
    Table.describe = _describe
    ddb.DynamoDBBackend.delete_table = _delete_table
    s3.S3Backend.put_object = _put_object
    s3.S3Backend.delete_object = _delete_object
    s3.FakeKey.response_dict = property(_response_dict)
    S3Response.get_bucket_replication = _get_bucket_replication
