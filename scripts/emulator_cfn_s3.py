"""S3 in the emulator's CloudFormation: AWS::S3::BucketPolicy (moto skips it), and the
AWS::S3::Bucket properties moto's model drops that mraa relies on (VersioningConfiguration,
PublicAccessBlockConfiguration), applied through moto's S3 backend."""
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3 import models as s3
from moto.s3.exceptions import MissingBucket
from moto.utilities.utils import get_partition

from emulator_cfn import MODULE, IdModel, _reported


def _backend(account_id: str, region: str) -> s3.S3Backend:
    return s3.s3_backends[account_id][get_partition(region)]


def _apply_bucket_properties(bucket: Any, props: dict[str, Any], account_id: str,
                             region: str) -> None:
    # AWS::S3::Bucket (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    # aws-resource-s3-bucket.html): both update without interruption.
    backend = _backend(account_id, region)
    versioning = (props.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(bucket.name, versioning)
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket.name, {k: bool(v) for k, v in block.items()})


def _with_properties(fn: Any, names: tuple[str, ...]) -> Any:
    """Wraps moto's bound create/update classmethod; `names` are its positional parameters."""

    def wrapper(cls: Any, *args: Any, **kwargs: Any) -> Any:
        bucket = fn(*args, **kwargs)
        given = dict(zip(names, args), **kwargs)
        _apply_bucket_properties(bucket, given["cloudformation_json"].get("Properties") or {},
                                 given["account_id"], given["region_name"])
        return bucket

    return classmethod(wrapper)


s3.FakeBucket.create_from_cloudformation_json = _with_properties(
    s3.FakeBucket.create_from_cloudformation_json,
    ("resource_name", "cloudformation_json", "account_id", "region_name"))
s3.FakeBucket.update_from_cloudformation_json = _with_properties(
    s3.FakeBucket.update_from_cloudformation_json,
    ("original_resource", "new_resource_name", "cloudformation_json", "account_id",
     "region_name"))


class BucketPolicy(IdModel, CloudFormationModel):
    """AWS::S3::BucketPolicy (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-resource-s3-bucketpolicy.html): no attributes; Ref here is the bucket's name."""

    __module__ = MODULE
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "BucketPolicy":
        props = cloudformation_json["Properties"]
        document = props["PolicyDocument"]
        if not isinstance(document, str):
            document = json.dumps(document)
        _backend(account_id, region_name).put_bucket_policy(props["Bucket"], document.encode())
        return cls(account_id, region_name, props["Bucket"], props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "BucketPolicy", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "BucketPolicy":
        # Bucket requires replacement; PolicyDocument updates in place.
        if cloudformation_json["Properties"]["Bucket"] != original_resource.id:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_bucket_policy(self.id)
        except MissingBucket:
            pass  # gone with its bucket: CloudFormation counts that as deleted
