"""DynamoDB in the emulator's CloudFormation: what moto's AWS::DynamoDB::Table lacks.

- PointInTimeRecoverySpecification: moto's model ignores it, so a table made by a stack reports
  point-in-time recovery DISABLED through DescribeContinuousBackups (and drift detection reports
  every such table drifted). Here it is applied on create and update, through moto's own
  UpdateContinuousBackups ("Update requires: No interruption",
  docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
  aws-properties-dynamodb-table-pointintimerecoveryspecification.html).
- SSESpecification: moto keeps the template's object as the table's, but the template names the
  switch SSEEnabled ("AWS::DynamoDB::Table SSESpecification", docs.aws.amazon.com/
  AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-ssespecification.html:
  true means KMS with the AWS managed key alias/aws/dynamodb unless KMSMasterKeyId names another;
  false or absent, the AWS owned key) while DescribeTable reads the API's Enabled, so a table made
  by a stack showed no SSEDescription. Here the template's form is turned into the API's on
  create and update ("Update requires: No interruption"), with the key resolved to its ARN, as
  DescribeTable's SSEDescription.KMSMasterKeyArn reports it (docs.aws.amazon.com/amazondynamodb/
  latest/APIReference/API_SSEDescription.html); a key that does not exist is refused.
- Updates: moto's model has no update at all; an UpdateStack that modifies a table leaves the
  stack holding no resource for it, and DescribeStacks answers HTTP 500 from then on. Here an
  update follows "Update behaviors of stack resources" (docs.aws.amazon.com/AWSCloudFormation/
  latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html): a change to a create-only
  property (AWS's registry schema, as emulator_changeset_changes reads it) replaces the table
  (the new one is created first; the old one is deleted afterwards unless the resource's
  UpdateReplacePolicy is Retain, docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
  aws-attribute-updatereplacepolicy.html); any other change is applied in place.
"""
import copy
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.kms.models import kms_backends

from emulator_changeset_changes import recreation

TYPE = "AWS::DynamoDB::Table"


def _apply_pitr(table: Table, props: dict[str, Any], account_id: str, region: str) -> None:
    spec = props.get("PointInTimeRecoverySpecification")
    if spec is None:
        return
    wanted = {"PointInTimeRecoveryEnabled": bool(_bool(spec.get("PointInTimeRecoveryEnabled")))}
    if "RecoveryPeriodInDays" in spec:
        wanted["RecoveryPeriodInDays"] = int(spec["RecoveryPeriodInDays"])
    dynamodb_backends[account_id][region].update_continuous_backups(table.name, wanted)


def _sse(props: dict[str, Any], account_id: str, region: str) -> dict[str, Any] | None:
    """The API's SSESpecification for the template's, or None for the AWS owned key (for which
    DescribeTable shows no SSEDescription). Resolved before the table is made, so that a key that
    does not exist leaves no table behind."""
    spec = props.get("SSESpecification") or {}
    if not _bool(spec.get("SSEEnabled")):
        return None
    if spec.get("SSEType", "KMS") != "KMS":
        raise ValueError(f"SSESpecification.SSEType must be KMS, not {spec['SSEType']}")
    named = spec.get("KMSMasterKeyId") or "alias/aws/dynamodb"
    try:
        key_arn = kms_backends[account_id][region].describe_key(named).arn
    except KeyError as missing:
        raise ValueError(f"SSESpecification.KMSMasterKeyId {named}: no such key in "
                         f"{region}") from missing
    return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}


_moto_create = Table.create_from_cloudformation_json


def _bool(value: Any) -> bool | None:
    # Templates may give booleans as strings ("true"); the schema's type decides.
    return None if value is None else str(value).lower() == "true"


def _create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
            region_name: str, **kwargs: Any) -> Table:
    props = cloudformation_json.get("Properties") or {}
    sse = _sse(props, account_id, region_name)
    # A copy: moto writes its default key into the SSESpecification it is given, which would
    # change the template's properties kept below.
    table = _moto_create(resource_name, copy.deepcopy(cloudformation_json), account_id,
                         region_name, **kwargs)
    table.sse_specification = sse
    _apply_pitr(table, props, account_id, region_name)
    # The template's properties, to tell a replacement from an in-place update later.
    table.mraa_properties = props
    return table


def _replaces(region: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The create-only properties whose values differ."""
    return sorted(p for p in set(old) | set(new)
                  if old.get(p) != new.get(p) and recreation(region, TYPE, p) == "Always")


def _update(cls: Any, original_resource: Table, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Table:
    props = cloudformation_json.get("Properties") or {}
    backend = dynamodb_backends[account_id][region_name]
    old = getattr(original_resource, "mraa_properties", None) or {
        "TableName": original_resource.name, "KeySchema": original_resource.schema}
    if original_resource.name != new_resource_name or _replaces(region_name, old, props):
        table = _create(cls, new_resource_name, cloudformation_json, account_id, region_name)
        if cloudformation_json.get("UpdateReplacePolicy") != "Retain":
            backend.delete_table(name=original_resource.name)
        return table
    table = original_resource
    sse = _sse(props, account_id, region_name)
    stream = props.get("StreamSpecification")
    current = (table.stream_specification or {}).get("StreamViewType")
    backend.update_table(
        name=table.name,
        attr_definitions=props.get("AttributeDefinitions"),
        global_index=[],
        throughput=props.get("ProvisionedThroughput"),
        billing_mode=props.get("BillingMode"),
        # DynamoDB refuses to enable a stream that is already on.
        stream_spec=stream if stream and stream.get("StreamViewType") != current else None,
        deletion_protection_enabled=_bool(props.get("DeletionProtectionEnabled")),
        warm_throughput=None,
    )
    table.sse_specification = sse
    _apply_pitr(table, props, account_id, region_name)
    table.mraa_properties = props
    return table


def install() -> None:
    Table.create_from_cloudformation_json = classmethod(_create)
    Table.update_from_cloudformation_json = classmethod(_update)
