"""CloudFront in the emulator: the CloudFormation types moto skips (AWS::CloudFront::Distribution,
OriginAccessControl, ResponseHeadersPolicy), made through moto's CloudFront backend, and the
origin-group rules of CloudFront's API that moto gets wrong.

moto 5.2.5 refuses a cache behaviour whose TargetOriginId names an origin group (NoSuchOrigin);
on AWS that is how a behaviour uses origin failover. The check below accepts origin groups and
refuses what AWS refuses of them, for CreateDistribution, UpdateDistribution and CloudFormation
alike.
"""
import uuid
from typing import Any

from moto.cloudfront import models as cf
from moto.cloudfront.exceptions import NoSuchOriginAccessControl, OriginDoesNotExist
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import ServiceException
from moto.core.utils import iso_8601_datetime_with_milliseconds, utcnow
from moto.utilities.utils import get_partition

from emulator_cfn import MODULE, IdModel, _reported, _tags


class InvalidArgument(ServiceException):
    code = "InvalidArgument"


class InvalidViewerCertificate(ServiceException):
    code = "InvalidViewerCertificate"


# "Optimizing high availability with CloudFront origin failover"
# (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html):
# an origin group has exactly two origins (a primary and a secondary), and "CloudFront fails over to
# the secondary origin only when the HTTP method of the viewer request is GET, HEAD, or OPTIONS";
# a cache behaviour that targets an origin group may therefore allow only those methods.
GROUP_METHODS = {"GET", "HEAD", "OPTIONS"}


def _behaviours(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [config.get("DefaultCacheBehavior") or {}] + list(
        (config.get("CacheBehaviors") or {}).get("Items") or []
    )


def check_origin_groups(config: dict[str, Any]) -> None:
    """AWS's rules for origin groups and the behaviours that target them (API shape)."""
    origins = {o["Id"] if isinstance(o, dict) else o.id
               for o in (config.get("Origins") or {}).get("Items") or []}
    groups = {g["Id"]: g for g in (config.get("OriginGroups") or {}).get("Items") or []}
    for group_id, group in groups.items():
        members = [m["OriginId"] for m in (group.get("Members") or {}).get("Items") or []]
        if len(members) != 2:
            raise InvalidArgument(
                f"Origin group {group_id} must have exactly two origins, has {len(members)}.")
        if not set(members) <= origins:
            raise OriginDoesNotExist()
    for behaviour in _behaviours(config):
        target = behaviour.get("TargetOriginId")
        if target not in origins and target not in groups:
            raise OriginDoesNotExist()
        if target in groups:
            methods = set((behaviour.get("AllowedMethods") or {}).get("Items") or ["GET", "HEAD"])
            if not methods <= GROUP_METHODS:
                raise InvalidArgument(
                    f"The cache behavior that targets origin group {target} allows "
                    f"{', '.join(sorted(methods - GROUP_METHODS))}: a cache behavior that "
                    "targets an origin group can only allow GET, HEAD and OPTIONS.")


_moto_config_init = cf.DistributionConfig.__init__


def _config_init(self: Any, config: dict[str, Any]) -> None:
    check_origin_groups(config)
    check_aliases(config)
    default = config.get("DefaultCacheBehavior") or {}
    target = default.get("TargetOriginId")
    origins = [o["Id"] for o in config["Origins"]["Items"]]
    if target in origins:
        _moto_config_init(self, config)
        return
    # moto checks the default behaviour's target against origins only: let it see an origin,
    # then give the behaviour its origin group back.
    config["DefaultCacheBehavior"] = dict(default, TargetOriginId=origins[0])
    _moto_config_init(self, config)
    self.DefaultCacheBehavior.target_origin_id = target


cf.DistributionConfig.__init__ = _config_init

_moto_origin_init = cf.Origin.__init__


def _origin_init(self: Any, origin: dict[str, Any]) -> None:
    # moto drops an origin's access control; AWS keeps it (and mraa checks it is there).
    _moto_origin_init(self, origin)
    self.origin_access_control_id = origin.get("OriginAccessControlId") or ""


cf.Origin.__init__ = _origin_init

_moto_certificate_init = cf.ViewerCertificate.__init__


def _certificate_init(self: Any, config: dict[str, Any]) -> None:
    # "ViewerCertificate" (docs.aws.amazon.com/cloudfront/latest/APIReference/
    # API_ViewerCertificate.html): with an ACM certificate, CloudFrontDefaultCertificate is false
    # and CertificateSource is acm; moto keeps true and cloudfront.
    _moto_certificate_init(self, config)
    if self.acm_certificate_arn:
        self.cloud_front_default_certificate = config.get("CloudFrontDefaultCertificate", False)
        self.certificate_source = "acm"
        self.certificate = self.acm_certificate_arn


cf.ViewerCertificate.__init__ = _certificate_init


def check_aliases(config: dict[str, Any]) -> None:
    """"Requirements for using alternate domain names" (docs.aws.amazon.com/AmazonCloudFront/
    latest/DeveloperGuide/CNAMEs.html): a distribution with an alternate domain name must have a
    certificate (ACM or IAM) that covers it; the default *.cloudfront.net one does not."""
    aliases = (config.get("Aliases") or {}).get("Items") or []
    certificate = config.get("ViewerCertificate") or {}
    if not isinstance(certificate, dict):
        return  # moto's own object, checked when it was made
    if aliases and not (certificate.get("ACMCertificateArn")
                        or certificate.get("IAMCertificateId")):
        raise InvalidViewerCertificate(
            "To add an alternate domain name (CNAME) to a CloudFront distribution, you must "
            "attach a trusted certificate that validates your authorization to use the domain "
            f"name. For more details, see: {', '.join(aliases)}")



def _backend(account_id: str, region: str) -> cf.CloudFrontBackend:
    return cf.cloudfront_backends[account_id][get_partition(region)]


def _items(values: list[Any] | None) -> dict[str, Any]:
    values = list(values or [])
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def _api_behaviour(behaviour: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in behaviour.items() if k not in ("AllowedMethods", "CachedMethods")}
    allowed = behaviour.get("AllowedMethods") or ["GET", "HEAD"]
    cached = behaviour.get("CachedMethods") or ["GET", "HEAD"]
    out["AllowedMethods"] = dict(_items(allowed), CachedMethods=_items(cached))
    return out


# The property reference's ViewerCertificate names (aws-properties-cloudfront-distribution-
# viewercertificate.html, as the registry schema spells them) and the API's.
CERTIFICATE_NAMES = {"AcmCertificateArn": "ACMCertificateArn", "IamCertificateId":
                     "IAMCertificateId", "SslSupportMethod": "SSLSupportMethod"}


def api_config(props: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    """CloudFormation's DistributionConfig (lists) in the API's shape (Quantity/Items); the
    property reference: docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-properties-cloudfront-distribution-distributionconfig.html"""
    listed = ("Aliases", "Origins", "CacheBehaviors", "CustomErrorResponses", "IPV6Enabled",
              "DefaultCacheBehavior")
    config = {k: v for k, v in props.items() if k not in listed}
    config["CallerReference"] = caller_reference
    config["Aliases"] = _items(props.get("Aliases"))
    config["Origins"] = _items(props.get("Origins"))
    config["DefaultCacheBehavior"] = _api_behaviour(props.get("DefaultCacheBehavior") or {})
    config["CacheBehaviors"] = _items(
        [_api_behaviour(b) for b in props.get("CacheBehaviors") or []])
    config["CustomErrorResponses"] = _items(props.get("CustomErrorResponses"))
    config["IsIPV6Enabled"] = props.get("IPV6Enabled", False)
    if "ViewerCertificate" in props:
        config["ViewerCertificate"] = {
            CERTIFICATE_NAMES.get(k, k): v for k, v in props["ViewerCertificate"].items()}
    config.setdefault("Comment", "")
    config.setdefault("Enabled", True)
    return config


class _Model(IdModel):
    """CloudFront types share the account's global backend."""

    def backend(self) -> cf.CloudFrontBackend:
        return _backend(self.account_id, self.region)


class Distribution(_Model, CloudFormationModel):
    """AWS::CloudFront::Distribution: Ref is the id; GetAtt DomainName and Id
    (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-resource-cloudfront-distribution.html#aws-resource-cloudfront-distribution-return-values)."""

    __module__ = MODULE

    TYPE = "AWS::CloudFront::Distribution"
    ATTRIBUTES = {"DomainName": "domain_name", "Id": "id"}

    @property
    def domain_name(self) -> str:
        return self.backend().distributions[self.id].domain_name

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "Distribution":
        props = cloudformation_json["Properties"]
        reference = f"{resource_name}-{uuid.uuid4()}"
        config = api_config(props["DistributionConfig"], reference)
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in _tags(props)]
        dist, _, _ = _backend(account_id, region_name).create_distribution(config, tags)
        model = cls(account_id, region_name, dist.id, props)
        model.reference = reference
        return model

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "Distribution", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "Distribution":
        # Every property updates in place (no replacement), as CloudFormation documents.
        props = cloudformation_json["Properties"]
        old = original_resource
        backend = old.backend()
        _, etag = backend.get_distribution(old.id)
        backend.update_distribution(api_config(props["DistributionConfig"], old.reference),
                                    old.id, etag)
        old.props = props
        return old

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        # CloudFormation disables the distribution, waits for it to deploy, then deletes it.
        backend = self.backend()
        if self.id in backend.distributions:
            backend.delete_distribution(self.id, True)


class OriginAccessControl(_Model, CloudFormationModel):
    """AWS::CloudFront::OriginAccessControl: Ref and GetAtt Id
    (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-resource-cloudfront-originaccesscontrol.html)."""

    __module__ = MODULE

    TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRIBUTES = {"Id": "id"}

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "OriginAccessControl":
        props = cloudformation_json["Properties"]
        control = _backend(account_id, region_name).create_origin_access_control(
            props["OriginAccessControlConfig"])
        return cls(account_id, region_name, control.id, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "OriginAccessControl", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "OriginAccessControl":
        props = cloudformation_json["Properties"]
        original_resource.backend().update_origin_access_control(
            original_resource.id, props["OriginAccessControlConfig"])
        original_resource.props = props
        return original_resource

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            self.backend().get_origin_access_control(self.id)
        except NoSuchOriginAccessControl:
            return  # already gone: CloudFormation counts that as deleted
        self.backend().delete_origin_access_control(self.id)


class ResponseHeadersPolicy(_Model, CloudFormationModel):
    """AWS::CloudFront::ResponseHeadersPolicy: Ref and GetAtt Id, GetAtt LastModifiedTime
    (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-resource-cloudfront-responseheaderspolicy.html). moto has no API for these policies:
    the emulator keeps them on the CloudFront backend, where a distribution's behaviour can name
    them, and AWS's rule that a policy name is unique in the account holds."""

    __module__ = MODULE

    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    ATTRIBUTES = {"Id": "id", "LastModifiedTime": "last_modified"}

    @staticmethod
    def _policies(account_id: str, region: str) -> dict[str, "ResponseHeadersPolicy"]:
        backend = _backend(account_id, region)
        if not hasattr(backend, "response_headers_policies"):
            backend.response_headers_policies = {}
        return backend.response_headers_policies

    @classmethod
    def _check_name(cls, account_id: str, region: str, props: dict[str, Any],
                    own_id: str | None) -> None:
        name = props["ResponseHeadersPolicyConfig"]["Name"]
        for policy in cls._policies(account_id, region).values():
            if policy.id != own_id and policy.props["ResponseHeadersPolicyConfig"]["Name"] == name:
                raise ServiceException(
                    "ResponseHeadersPolicyAlreadyExists",
                    f"A response headers policy with the name {name} already exists.")

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "ResponseHeadersPolicy":
        props = cloudformation_json["Properties"]
        cls._check_name(account_id, region_name, props, None)
        policy = cls(account_id, region_name, str(uuid.uuid4()), props)
        policy.last_modified = iso_8601_datetime_with_milliseconds(utcnow())
        cls._policies(account_id, region_name)[policy.id] = policy
        return policy

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "ResponseHeadersPolicy", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "ResponseHeadersPolicy":
        props = cloudformation_json["Properties"]
        cls._check_name(account_id, region_name, props, original_resource.id)
        original_resource.props = props
        original_resource.last_modified = iso_8601_datetime_with_milliseconds(utcnow())
        return original_resource

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        self._policies(self.account_id, self.region).pop(self.id, None)
