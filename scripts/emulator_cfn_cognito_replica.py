"""CloudFormation types of Cognito's multi-Region replication and of multi-Region KMS keys, which
moto 5.2.5 lacks or half-applies, acting through the emulator's replica model
(emulator_cognito_replica.py) and moto's KMS backend:
- AWS::Cognito::UserPoolReplica (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
  aws-resource-cognito-userpoolreplica.html): declared with the primary pool; every property
  requires replacement; Ref is its primary identifier, `UserPoolId|RegionName`;
- AWS::Cognito::UserPoolRegionalConfigurationAttachment (.../aws-resource-cognito-
  userpoolregionalconfigurationattachment.html): in the replica's region, once the replica is
  ACTIVE or INACTIVE; sets its regional settings and status; Ref is the pool id;
- both complete once the replica's status has landed (CREATING over, the status set), as
  CloudFormation's handlers wait for a resource to stabilize; the API itself is asynchronous;
- AWS::KMS::Key's MultiRegion, which moto's model drops (.../aws-resource-kms-key.html);
- AWS::KMS::ReplicaKey (.../aws-resource-kms-replicakey.html): a replica, in the stack's region,
  of the key named by PrimaryKeyArn; deleting it schedules its deletion (PendingWindowInDays,
  7-30, default 30), as deleting a KMS key always does.
"""
import json
from typing import Any

from moto.cognitoidp import models as idp
from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.core.common_models import CloudFormationModel
from moto.kms import models as kms

import emulator_cognito_replica as replicas
from emulator_cfn import MODULE, IdModel, _reported

DEFAULT_PENDING_DAYS = 30


def _replaced(cls: Any, original: Any, create_only: tuple[str, ...], new_name: str,
              cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
    """The replacement CloudFormation makes when a create-only property (the registry schema's
    createOnlyProperties) changes, or `None` when none did. The old resource goes first: a pool
    has at most one replica, and a key one replica per region."""
    props = cloudformation_json["Properties"]
    if all(props.get(k) == original.props.get(k) for k in create_only):
        return None
    original.delete(account_id, region_name)
    return cls.create_from_cloudformation_json(new_name, cloudformation_json, account_id,
                                               region_name)


class UserPoolReplica(IdModel, CloudFormationModel):
    __module__ = MODULE
    TYPE = "AWS::Cognito::UserPoolReplica"

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "UserPoolReplica":
        props = cloudformation_json["Properties"]
        replica = replicas.create_replica(account_id, region_name, props["UserPoolId"],
                                          props["RegionName"],
                                          props.get("UserPoolTagsAtCreate") or {})
        replica.settle()  # CloudFormation waits out CREATING
        return cls(account_id, region_name, f"{replica.id}|{replica.region}", props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "UserPoolReplica", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "UserPoolReplica":
        # Every property is create-only.
        return _replaced(cls, original_resource,
                         ("UserPoolId", "RegionName", "UserPoolTagsAtCreate"),
                         new_resource_name, cloudformation_json, account_id,
                         region_name) or original_resource

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            replicas.delete_replica(self.account_id, self.region, self.props["UserPoolId"],
                                    self.props["RegionName"])
        except ResourceNotFoundError:
            pass  # already gone: CloudFormation counts that as deleted


class UserPoolRegionalConfigurationAttachment(IdModel, CloudFormationModel):
    __module__ = MODULE
    TYPE = "AWS::Cognito::UserPoolRegionalConfigurationAttachment"

    @staticmethod
    def _apply(account_id: str, region: str, props: dict[str, Any]) -> None:
        pool_id = props["UserPoolId"]
        pool = idp.cognitoidp_backends[account_id][region].user_pools.get(pool_id)
        if not isinstance(pool, replicas.ReplicaPool):
            raise InvalidParameterException(f"{pool_id} has no replica in {region}")
        pool.regional = {k: props[k] for k in replicas.REGIONAL if props.get(k) is not None}
        if props.get("Status"):
            replicas.set_status(account_id, region, pool_id, region, props["Status"]).settle()

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "UserPoolRegionalConfigurationAttachment":
        props = cloudformation_json["Properties"]
        cls._apply(account_id, region_name, props)
        return cls(account_id, region_name, props["UserPoolId"], props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "UserPoolRegionalConfigurationAttachment",
        new_resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str,
    ) -> "UserPoolRegionalConfigurationAttachment":
        replacement = _replaced(cls, original_resource, ("UserPoolId",), new_resource_name,
                                cloudformation_json, account_id, region_name)
        if replacement is not None:
            return replacement
        props = cloudformation_json["Properties"]
        cls._apply(account_id, region_name, props)
        original_resource.props = props
        return original_resource

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        # The regional settings go; the replica and its status stay (they are not this
        # resource's: the replica belongs to the primary's stack).
        pool = idp.cognitoidp_backends[self.account_id][self.region].user_pools.get(self.id)
        if isinstance(pool, replicas.ReplicaPool):
            pool.regional = {"UserPoolTags": pool.regional.get("UserPoolTags", {})}


class ReplicaKey(IdModel, CloudFormationModel):
    __module__ = MODULE
    TYPE = "AWS::KMS::ReplicaKey"
    ATTRIBUTES = {"Arn": "arn", "KeyId": "id"}

    @property
    def arn(self) -> str:
        return kms.kms_backends[self.account_id][self.region].describe_key(self.id).arn

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "ReplicaKey":
        props = cloudformation_json["Properties"]
        primary_arn = props["PrimaryKeyArn"]
        primary_region, key_id = primary_arn.split(":")[3], primary_arn.rsplit("/", 1)[-1]
        replica = kms.kms_backends[account_id][primary_region].replicate_key(key_id, region_name)
        policy = props["KeyPolicy"]
        replica.policy = policy if isinstance(policy, str) else json.dumps(policy)
        replica.description = props.get("Description", "")
        replica.enabled = props.get("Enabled", True)
        if props.get("Tags"):
            kms.kms_backends[account_id][region_name].tag_resource(
                replica.id, {t["Key"]: t.get("Value", "") for t in props["Tags"]})
        return cls(account_id, region_name, replica.id, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "ReplicaKey", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "ReplicaKey":
        replacement = _replaced(cls, original_resource, ("PrimaryKeyArn",), new_resource_name,
                                cloudformation_json, account_id, region_name)
        if replacement is not None:
            return replacement
        props = cloudformation_json["Properties"]
        key = kms.kms_backends[account_id][region_name].describe_key(original_resource.id)
        key.description = props.get("Description", "")
        key.enabled = props.get("Enabled", True)
        original_resource.props = props
        return original_resource

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        backend = kms.kms_backends[self.account_id][self.region]
        if self.id in backend.keys:
            backend.schedule_key_deletion(
                self.id, int(self.props.get("PendingWindowInDays") or DEFAULT_PENDING_DAYS))


_moto_key_from_cfn = kms.Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _kms_tags(props: dict[str, Any]) -> list[dict[str, str]]:
    """CloudFormation's Tags (Key, Value) as KMS takes them (TagKey, TagValue): moto hands the
    former to its tagger, which reads only the latter."""
    return [{"TagKey": t["Key"], "TagValue": t.get("Value", "")} for t in props.get("Tags") or []]


def _key_from_cfn(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                  region_name: str, **kwargs: Any) -> Any:
    cloudformation_json = {**cloudformation_json, "Properties": {
        **cloudformation_json["Properties"], "Tags": _kms_tags(cloudformation_json["Properties"])}}
    key = _moto_key_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name,
                             **kwargs)
    if cloudformation_json["Properties"].get("MultiRegion") in (True, "true", "True"):
        # moto's model drops MultiRegion: remake the key multi-Region, keeping what it applied.
        backend = kms.kms_backends[account_id][region_name]
        backend.keys.pop(key.id)
        multi = backend.create_key(key.policy, key.key_usage, key.key_spec, key.description,
                                   cloudformation_json["Properties"].get("Tags", []),
                                   multi_region=True)
        multi.key_rotation_status, multi.enabled = key.key_rotation_status, key.enabled
        return multi
    return key


kms.Key.create_from_cloudformation_json = classmethod(_key_from_cfn)  # type: ignore[assignment]


def _key_delete(self: Any, account_id: str, region_name: str) -> None:
    # CloudFormation schedules a key's deletion (PendingWindowInDays); moto removed it at once.
    kms.kms_backends[account_id][region_name].schedule_key_deletion(self.id, DEFAULT_PENDING_DAYS)


kms.Key.delete = _key_delete  # type: ignore[method-assign]
