"""Settings of global-table replicas in the emulator, on moto's own DynamoDB backend.

Each replica that scripts/emulator_replication.py makes is a table of its own in its region, so
the settings DynamoDB keeps per replica (point-in-time recovery, deletion protection, tags; "Best
practices for global tables", docs.aws.amazon.com/amazondynamodb/latest/developerguide/
globaltables-bestpractices.html: "You must enable deletion protection on each replica") are
already separate there. What moto lacks:

- Encryption of a new replica. A replica of a table encrypted with a KMS key is encrypted with a
  KMS key in its own region: the default DynamoDB key alias/aws/dynamodb unless another is named
  ("AWS::DynamoDB::GlobalTable ReplicaSSESpecification", docs.aws.amazon.com/AWSCloudFormation/
  latest/TemplateReference/aws-properties-dynamodb-globaltable-replicassespecification.html). moto
  makes every replica with the AWS owned key.
- UpdateTable's SSESpecification ("UpdateTable", docs.aws.amazon.com/amazondynamodb/latest/
  APIReference/API_UpdateTable.html): moto answers 200 and changes nothing.
- Time to Live is one setting for the whole global table ("AWS::DynamoDB::GlobalTable
  TimeToLiveSpecification": "All replicas will have the same time to live configuration"): an
  UpdateTimeToLive on one replica applies to every replica. moto changes only the one table.
"""
from typing import Any

from moto.dynamodb import models as ddb
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

import emulator_replication


def _encrypted_with_kms(table: Table) -> bool:
    # A table CloudFormation made holds its template's SSESpecification (SSEEnabled); one made
    # through the API holds the API's (Enabled).
    spec = table.sse_specification or {}
    return str(spec.get("Enabled", spec.get("SSEEnabled", False))).lower() == "true"


def _set_sse(table: Table, enabled: bool, key: str | None) -> None:
    if not enabled:
        table.sse_specification = None
        return
    table.sse_specification = {
        "Enabled": True, "SSEType": "KMS",
        "KMSMasterKeyId": key or table._get_default_encryption_key(
            table.account_id, table.region_name)}


_create_replica = emulator_replication._create_replica


def _create_replica_encrypted(table: Table, region: str) -> None:
    _create_replica(table, region)
    replica = emulator_replication._table(table.account_id, region, table.name)
    if replica is not None:
        _set_sse(replica, _encrypted_with_kms(table), None)
        replica.ttl = dict(table.ttl)


def _update_table(update_table: Any) -> Any:
    def handler(self: DynamoHandler) -> Any:
        spec = self.body.get("SSESpecification")
        if spec is not None:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            enabled = bool(spec.get("Enabled", False))
            if spec.get("SSEType", "KMS") != "KMS" and enabled:
                raise MockValidationException("SSEType must be KMS")
            _set_sse(table, enabled, spec.get("KMSMasterKeyId"))
        return update_table(self)

    return handler


_moto_update_ttl = ddb.DynamoDBBackend.update_time_to_live


def _update_time_to_live(backend: Any, table_name: str, ttl_spec: dict[str, Any]) -> None:
    _moto_update_ttl(backend, table_name, ttl_spec)
    table = backend.get_table(table_name)
    for peer in emulator_replication._peers(table):
        peer.ttl = dict(table.ttl)


def install() -> None:
    """Patches moto and emulator_replication; called after emulator_replication.install()."""
    emulator_replication._create_replica = _create_replica_encrypted
    DynamoHandler.update_table = _update_table(DynamoHandler.update_table)
    ddb.DynamoDBBackend.update_time_to_live = _update_time_to_live
