"""CloudFormation resource types the emulator adds to moto: ACM certificates and API Gateway
custom domains (AWS::CertificateManager::Certificate, AWS::ApiGateway::DomainName,
AWS::ApiGateway::BasePathMapping).

moto 5.2.5's CloudFormation skips these types with a warning, and `!GetAtt` on a skipped
resource fails CreateStack with HTTP 500. mraa's templates use them, and AWS supports them.
The models below act through moto's own ACM, API Gateway and Route 53 backends, so tests see
the effects through those services' APIs, and they keep the checks AWS makes (a certificate
must be ISSUED, in the domain's region, and cover its name).

emulator.py imports this module before the server starts: moto finds models through
CloudFormationModel.__subclasses__(), cached at the first stack operation. Stacks of StackSet
instances go through the same parsing, in the instance's account and region.

moto's limits, not these models': it runs resource handlers inside the CreateStack,
ExecuteChangeSet or CreateStackInstances request, so a failing resource fails that request
(sent in CloudFormation's protocol, the service's code and message kept) where AWS would record
CREATE_FAILED and roll back. The stack stays CREATE_IN_PROGRESS, and DescribeStacks on it
retries a failed resource that its outputs refer to (HTTP 500).
"""
import functools
from typing import Any

from moto.acm.exceptions import CertificateNotFound
from moto.acm.models import TagHolder, acm_backends
from moto.apigateway import models as apigw
from moto.apigateway.exceptions import (
    BadRequestException,
    BasePathNotFoundException,
    ConflictException,
    DomainNameNotFound,
)
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation import utils as cfn_utils
from moto.cloudformation.exceptions import (
    CloudFormationError,
    UnformattedGetAttTemplateException,
    ValidationError,
)
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.route53.models import route53_backends
from moto.utilities.utils import get_partition

import emulator_time

# Route 53 hosted zones of API Gateway's regional endpoints, from the table "Amazon API Gateway
# endpoints and quotas" of the AWS General Reference (docs.aws.amazon.com/general/latest/gr/
# apigateway.html). Only the regions whose ids agree across every copy of that table we could
# check; another region gets a clear error rather than a made-up id.
REGIONAL_ZONES = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "ca-central-1": "Z19DQILCV0OWEC",
    "sa-east-1": "ZCMLWB8V5SYIT",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-west-3": "Z3KY65QIEKYHQQ",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
    "ap-south-1": "Z3VO1THU9YC4UR",
    "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ap-northeast-2": "Z20JF4UZKIW1U8",
    "ap-southeast-1": "ZL327KTPIQFUL",
    "ap-southeast-2": "Z2RPCDW04V8134",
}
# The same reference: edge-optimized (CloudFront) endpoints, every region.
EDGE_ZONE = "Z2FDTNDATAQYW2"
# ACM documents no TTL for the records CloudFormation writes; a common DNS default.
VALIDATION_TTL = 300
# moto files every model class under the service named by its module path (moto.<service>.x);
# these are CloudFormation's.
MODULE = "emulator_cfn.cloudformation"


class NotEmulated(ServiceException):
    """A case the emulator cannot answer as AWS would: refuse rather than invent."""

    code = "NotImplemented"


def _reported(fn: Any) -> Any:
    """moto runs resource handlers inside the CreateStack/UpdateStack/DeleteStack request (no
    CREATE_FAILED event, no rollback), so a resource's failure is that request's error. A
    service's JSON error would be unparseable there: send it in CloudFormation's protocol."""

    @functools.wraps(fn)
    def wrapper(first: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(first, *args, **kwargs)
        except JsonRESTError as error:
            raise CloudFormationError(
                error.error_type, f"{first.cloudformation_type()}: {error.message}"
            ) from error

    return wrapper


def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
    return props.get("Tags") or []


def _without(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


class IdModel:
    """A resource whose Ref is its id and whose GetAtt attributes are properties of the model.
    A mixin: moto finds models among CloudFormationModel's direct subclasses only, so each
    resource type names both (`class X(IdModel, CloudFormationModel)`)."""

    __module__ = MODULE
    TYPE = ""
    ATTRIBUTES: dict[str, str] = {}

    def __init__(self, account_id: str, region: str, resource_id: str, props: dict[str, Any]):
        self.account_id, self.region, self.id, self.props = account_id, region, resource_id, props

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.ATTRIBUTES[attribute_name])


class Certificate(CloudFormationModel):
    """An ACM certificate; with DNS validation and a hosted zone per name, CloudFormation
    writes the validation CNAMEs and completes once ACM has issued the certificate."""

    __module__ = MODULE

    def __init__(self, account_id: str, region: str, arn: str, props: dict[str, Any]):
        self.account_id, self.region, self.arn, self.props = account_id, region, arn, props

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CertificateManager::Certificate"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False  # AWS gives Ref (the ARN) only

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def _bundle(self) -> Any:
        return acm_backends[self.account_id][self.region].get_certificate(self.arn)

    def is_created(self) -> bool:
        return self._bundle().status == "ISSUED"

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "Certificate":
        props = cloudformation_json["Properties"]
        acm = acm_backends[account_id][region_name]
        arn = acm.request_certificate(
            domain_name=props["DomainName"],
            idempotency_token=None,
            subject_alt_names=props.get("SubjectAlternativeNames") or [],
            tags=_tags(props),
        )
        cert = cls(account_id, region_name, arn, props)
        if props.get("ValidationMethod") == "DNS":
            cert._validate()
        return cert

    def _validate(self) -> None:
        zones = {
            o["DomainName"]: o["HostedZoneId"]
            for o in self.props.get("DomainValidationOptions") or []
            if o.get("HostedZoneId")
        }
        bundle = self._bundle()
        route53 = route53_backends[self.account_id][get_partition(self.region)]
        options = bundle.describe()["Certificate"]["DomainValidationOptions"]
        for option in options:
            zone = zones.get(option["DomainName"])
            if zone is None:
                continue  # AWS waits for someone to add this name's record
            record = option["ResourceRecord"]
            route53.change_resource_record_sets(zone, [{
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": record["Name"], "Type": record["Type"], "TTL": VALIDATION_TTL,
                    "ResourceRecords": [{"Value": record["Value"]}],
                },
            }])
        # ACM issues once every name's record is in place; until then the stack waits.
        if all(o["DomainName"] in zones for o in options):
            bundle.status = "ISSUED"
            emulator_time.start(("certificate", self.arn), emulator_time.CERTIFICATE_VALIDATION)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "Certificate", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "Certificate":
        props = cloudformation_json["Properties"]
        if _without(props, "Tags") == _without(original_resource.props, "Tags"):
            bundle = original_resource._bundle()
            bundle.tags = TagHolder()
            bundle.tags.add(_tags(props))
            original_resource.props = props
            return original_resource
        # Every other property requires replacement: a new certificate, then the old one goes.
        new = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        original_resource.delete(account_id, region_name)
        return new

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        # The validation record stays: AWS leaves it (same-name certificates share it).
        try:
            acm_backends[self.account_id][self.region].delete_certificate(self.arn)
        except CertificateNotFound:
            pass  # already gone: CloudFormation counts that as deleted


class _DomainName(apigw.DomainName):
    # AWS leaves out the fields of the endpoint type a domain does not have.
    __module__ = "emulator_cfn.apigateway"

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in super().to_json().items() if v is not None}


class DomainName(CloudFormationModel):
    """An API Gateway custom domain name (edge or regional) with an ACM certificate."""

    __module__ = MODULE

    ATTRIBUTES = {
        "RegionalDomainName": "regional_domain_name",
        "RegionalHostedZoneId": "regional_hosted_zone_id",
        "DistributionDomainName": "distribution_domain_name",
        "DistributionHostedZoneId": "distribution_hosted_zone_id",
    }

    def __init__(self, account_id: str, region: str, name: str, props: dict[str, Any]):
        self.account_id, self.region, self.name, self.props = account_id, region, name, props

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DomainName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::DomainName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def _backend(self) -> Any:
        return apigw.apigateway_backends[self.account_id][self.region]

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        value = getattr(self._backend().get_domain_name(self.name), self.ATTRIBUTES[attribute_name])
        if value is None:
            raise ValidationError(
                message=f"emulator: {attribute_name} has no value for the endpoint type of "
                f"domain name {self.name}"
            )
        return value

    @staticmethod
    def _types(props: dict[str, Any]) -> list[str]:
        return (props.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"]

    @staticmethod
    def _check_certificate(account_id: str, region: str, arn: str | None, name: str) -> None:
        """AWS refuses a certificate that is missing, not ISSUED, from another region (regional
        endpoints use the domain's region, edge ones us-east-1) or not covering the name."""
        reason = (f"The certificate {arn} does not exist in {region}" if arn
                  else f"A certificate is required for the domain name {name}")
        bundle = acm_backends[account_id][region]._certificates.get(arn) if arn else None
        if bundle is not None:
            bundle.check()
            names = set(bundle.sans) | {bundle.common_name}
            parent = name.split(".", 1)[-1]
            if bundle.status != "ISSUED":
                reason = f"The certificate {arn} is {bundle.status}, not ISSUED"
            elif name not in names and f"*.{parent}" not in names:
                reason = f"The certificate {arn} does not cover {name}"
            else:
                return
        raise BadRequestException(reason)

    @classmethod
    def _configure(cls, account_id: str, region: str, props: dict[str, Any], name: str) -> dict:
        types = cls._types(props)
        if types not in (["REGIONAL"], ["EDGE"]):
            raise NotEmulated(f"emulator: endpoint types {types} (REGIONAL or EDGE only)")
        if types == ["REGIONAL"]:
            if region not in REGIONAL_ZONES:
                raise NotEmulated(
                    f"emulator: no API Gateway regional hosted zone id known for {region}; add the "
                    "published one to REGIONAL_ZONES in scripts/emulator_cfn.py"
                )
            cls._check_certificate(account_id, region, props.get("RegionalCertificateArn"), name)
        else:
            cls._check_certificate(account_id, "us-east-1", props.get("CertificateArn"), name)
        return {"types": types}

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "DomainName":
        props = cloudformation_json["Properties"]
        name = props.get("DomainName")
        backend = apigw.apigateway_backends[account_id][region_name]
        if name in backend.domain_names:
            raise ConflictException("The domain name you provided already exists.")
        endpoint = cls._configure(account_id, region_name, props, name)
        domain = backend.create_domain_name(
            domain_name=name,
            certificate_name=None,
            tags={t["Key"]: t["Value"] for t in _tags(props)},
            certificate_arn=props.get("CertificateArn"),
            certificate_body=None,
            certificate_private_key=None,
            certificate_chain=None,
            regional_certificate_name=None,
            regional_certificate_arn=props.get("RegionalCertificateArn"),
            endpoint_configuration=endpoint,
            security_policy=props.get("SecurityPolicy"),
        )
        domain.__class__ = _DomainName
        # moto gives every domain a CloudFront name and the edge zone; AWS gives only the
        # endpoint type's own pair, and the regional zone is the region's.
        if endpoint["types"] == ["REGIONAL"]:
            domain.regional_hosted_zone_id = REGIONAL_ZONES[region_name]
            domain.distribution_domain_name = domain.distribution_hosted_zone_id = None
        else:
            domain.distribution_hosted_zone_id = EDGE_ZONE
            domain.regional_domain_name = domain.regional_hosted_zone_id = None
        # moto's GetBasePathMappings fails (500) on a domain that never had a mapping.
        backend.base_path_mappings.setdefault(name, {})
        return cls(account_id, region_name, name, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "DomainName", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "DomainName":
        props = cloudformation_json["Properties"]
        old = original_resource
        if props.get("DomainName") != old.name:
            # Replacement. moto does not update resources whose Ref changed, so the mappings
            # move with the domain, as AWS's replaced mappings would end up.
            new = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            backend = old._backend()
            mappings = backend.base_path_mappings.pop(old.name, {})
            for mapping in mappings.values():
                mapping.domain_name = new.name
            backend.base_path_mappings[new.name] = mappings
            old.delete(account_id, region_name)
            return new
        if cls._types(props) != cls._types(old.props):
            raise NotEmulated("emulator: changing a custom domain's endpoint type")
        cls._configure(account_id, region_name, props, old.name)
        domain = old._backend().get_domain_name(old.name)
        domain.certificate_arn = props.get("CertificateArn")
        domain.regional_certificate_arn = props.get("RegionalCertificateArn")
        domain.security_policy = props.get("SecurityPolicy")
        domain.tags = {t["Key"]: t["Value"] for t in _tags(props)}
        old.props = props
        return old

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        backend = self._backend()
        try:
            backend.delete_domain_name(self.name)
        except DomainNameNotFound:
            pass  # already gone: CloudFormation counts that as deleted
        backend.base_path_mappings.pop(self.name, None)  # AWS deletes them with the domain


class BasePathMapping(CloudFormationModel):
    """A custom domain's base path routed to a REST API stage."""

    __module__ = MODULE

    def __init__(self, account_id: str, region: str, mapping: Any, props: dict[str, Any]):
        self.account_id, self.region, self.mapping, self.props = account_id, region, mapping, props

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::BasePathMapping"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        # AWS documents no Ref value for this type; this one names the mapping.
        return f"{self.mapping.domain_name}/{self.mapping.base_path}"

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "BasePathMapping":
        props = cloudformation_json["Properties"]
        backend = apigw.apigateway_backends[account_id][region_name]
        mapping = backend.create_base_path_mapping(
            props["DomainName"], props.get("RestApiId"), props.get("BasePath"), props.get("Stage")
        )
        return cls(account_id, region_name, mapping, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "BasePathMapping", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "BasePathMapping":
        props = cloudformation_json["Properties"]
        old = original_resource
        # DomainName and BasePath require replacement; the mapping's current domain counts, as
        # a replaced DomainName takes its mappings along.
        if (props["DomainName"], props.get("BasePath")) != (
                old.mapping.domain_name, old.props.get("BasePath")):
            new = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            old.delete(account_id, region_name)
            return new
        backend = apigw.apigateway_backends[account_id][region_name]
        backend.update_base_path_mapping(old.mapping.domain_name, old.mapping.base_path, [
            {"op": "replace", "path": "/restapiId", "value": props.get("RestApiId")},
            {"op": "replace", "path": "/stage", "value": props.get("Stage")},
        ])
        old.props = props
        return old

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        backend = apigw.apigateway_backends[self.account_id][self.region]
        try:
            backend.delete_base_path_mapping(self.mapping.domain_name, self.mapping.base_path)
        except (DomainNameNotFound, BasePathNotFoundException):
            pass  # gone with its domain name: CloudFormation counts that as deleted


# AWS::NoValue in a list: "Pseudo parameters reference" (docs.aws.amazon.com/AWSCloudFormation/
# latest/TemplateReference/pseudo-parameter-reference.html) — returned by Fn::If, it removes the
# property; a list element chosen that way is removed from the list. moto drops such values from
# objects but keeps them in lists as null (a bucket policy then stores a `null` statement).
_moto_clean_json = cfn_parsing.clean_json


def _no_value(item: Any, resources_map: Any) -> bool:
    if not isinstance(item, dict):
        return False
    if item == {"Ref": "AWS::NoValue"}:
        return True
    if set(item) == {"Fn::If"}:
        condition, if_true, if_false = item["Fn::If"]
        chosen = if_true if resources_map.lazy_condition_map[condition] else if_false
        return _no_value(chosen, resources_map)
    return False


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    if isinstance(resource_json, list):
        resource_json = [v for v in resource_json if not _no_value(v, resources_map)]
    return _moto_clean_json(resource_json, resources_map)


cfn_parsing.clean_json = _clean_json


# `!Condition Name` inside Fn::And, Fn::Or and Fn::Not names another condition: "Condition
# functions" (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
# intrinsic-function-reference-conditions.html) gives its YAML short form, `!Condition`, which
# stands for `{"Condition": Name}`. moto's YAML loader turns every short form `!X` into
# `{"Fn::X": ...}`, so a condition named that way would be read as an unknown function.
_moto_yaml_tag = cfn_utils.yaml_tag_constructor


def _yaml_tag(loader: Any, tag: Any, node: Any) -> Any:
    if tag == "!Condition":
        return {"Condition": node.value}
    return _moto_yaml_tag(loader, tag, node)


cfn_models.yaml_tag_constructor = _yaml_tag
cfn_responses.yaml_tag_constructor = _yaml_tag
