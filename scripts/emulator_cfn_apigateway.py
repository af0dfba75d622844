"""API Gateway in the emulator's CloudFormation, on moto's API Gateway backend:
AWS::ApiGateway::Authorizer, GatewayResponse, Model and RequestValidator (moto skips them), and
the parts of AWS::ApiGateway::Method that moto's model drops (request templates, integration
responses, method responses, credentials, passthrough behaviour, request parameters, authorizer,
validator, operation name), so that a method reads back, and runs, as the template defines it.

Each type follows its page of the CloudFormation Template Reference (docs.aws.amazon.com/
AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-<type>.html) for its Ref
value and which property changes replace it.
"""
import json
from typing import Any

from moto.apigateway import models as apigw
from moto.apigateway.exceptions import (
    AuthorizerNotFoundException,
    BadRequestException,
    ConflictException,
    ModelNotFound,
    ResourceIdNotFoundException,
    RestAPINotFound,
)
from moto.core.common_models import CloudFormationModel

from emulator_cfn import MODULE, IdModel, _reported


def _backend(account_id: str, region: str) -> apigw.APIGatewayBackend:
    return apigw.apigateway_backends[account_id][region]


def _replacing(props: dict[str, Any], old: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return any(props.get(k) != old.get(k) for k in keys)


class _ApiChild(IdModel):
    """A resource of one REST API; RestApiId requires replacement for every type here."""

    REPLACE: tuple[str, ...] = ("RestApiId",)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "_ApiChild", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "_ApiChild":
        props = cloudformation_json["Properties"]
        old = original_resource
        if _replacing(props, old.props, cls.REPLACE):
            new = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
            old.delete(account_id, region_name)
            return new
        old._update(props)
        old.props = props
        return old

    def _update(self, props: dict[str, Any]) -> None:
        raise NotImplementedError

    def _api(self) -> Any:
        return _backend(self.account_id, self.region).get_rest_api(self.props["RestApiId"])


class Authorizer(_ApiChild, CloudFormationModel):
    """AWS::ApiGateway::Authorizer: Ref is the authorizer id; attribute AuthorizerId."""

    __module__ = MODULE
    TYPE = "AWS::ApiGateway::Authorizer"
    ATTRIBUTES = {"AuthorizerId": "id"}
    # Properties by their names in UpdateAuthorizer's patch paths.
    PATCHED = {"AuthorizerCredentials": "/authorizerCredentials",
               "AuthorizerResultTtlInSeconds": "/authorizerResultTtlInSeconds",
               "AuthorizerUri": "/authorizerUri", "AuthType": "/authType",
               "IdentitySource": "/identitySource",
               "IdentityValidationExpression": "/identityValidationExpression",
               "Name": "/name", "Type": "/type"}

    @staticmethod
    def _check(props: dict[str, Any]) -> None:
        # "CreateAuthorizer" (API Gateway API Reference): a Cognito authorizer needs its pools,
        # a TOKEN or REQUEST one its Lambda function's URI.
        kind = props.get("Type")
        if kind == "COGNITO_USER_POOLS" and not props.get("ProviderARNs"):
            raise BadRequestException("ProviderARNs are required for COGNITO_USER_POOLS")
        if kind in ("TOKEN", "REQUEST") and not props.get("AuthorizerUri"):
            raise BadRequestException(f"AuthorizerUri is required for {kind} authorizers")
        if kind not in ("TOKEN", "REQUEST", "COGNITO_USER_POOLS"):
            raise BadRequestException(f"Invalid authorizer type {kind}")

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "Authorizer":
        props = cloudformation_json["Properties"]
        cls._check(props)
        ttl = props.get("AuthorizerResultTtlInSeconds")
        authorizer = _backend(account_id, region_name).create_authorizer(
            props["RestApiId"], props.get("Name"), props["Type"],
            provider_arns=props.get("ProviderARNs"), auth_type=props.get("AuthType"),
            authorizer_uri=props.get("AuthorizerUri"),
            authorizer_credentials=props.get("AuthorizerCredentials"),
            identity_source=props.get("IdentitySource"),
            identiy_validation_expression=props.get("IdentityValidationExpression"),
            authorizer_result_ttl=int(ttl) if ttl is not None else 300)
        return cls(account_id, region_name, authorizer.id, props)

    def _update(self, props: dict[str, Any]) -> None:
        self._check(props)
        authorizer = self._api().authorizers[self.id]
        authorizer.apply_operations([
            {"op": "replace", "path": path, "value": str(props.get(name) or "")}
            for name, path in self.PATCHED.items() if props.get(name) != self.props.get(name)])
        authorizer.provider_arns = props.get("ProviderARNs")

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_authorizer(
                self.props["RestApiId"], self.id)
        except (RestAPINotFound, KeyError, AuthorizerNotFoundException):
            pass  # gone with its API: CloudFormation counts that as deleted


class GatewayResponse(_ApiChild, CloudFormationModel):
    """AWS::ApiGateway::GatewayResponse: Ref is its id (here the API and response type);
    ResponseType and RestApiId require replacement."""

    __module__ = MODULE
    TYPE = "AWS::ApiGateway::GatewayResponse"
    REPLACE = ("RestApiId", "ResponseType")

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "GatewayResponse":
        props = cloudformation_json["Properties"]
        api = _backend(account_id, region_name).get_rest_api(props["RestApiId"])
        # One response per type and API: a second resource for the same type is refused.
        if props["ResponseType"] in api.gateway_responses:
            raise ConflictException(
                f"Gateway response {props['ResponseType']} already exists for API {api.id}")
        cls._put(account_id, region_name, props)
        return cls(account_id, region_name, f"{api.id}-{props['ResponseType']}", props)

    @staticmethod
    def _put(account_id: str, region_name: str, props: dict[str, Any]) -> None:
        _backend(account_id, region_name).put_gateway_response(
            props["RestApiId"], props["ResponseType"], props.get("StatusCode"),
            props.get("ResponseParameters") or {}, props.get("ResponseTemplates") or {})

    def _update(self, props: dict[str, Any]) -> None:
        self._put(self.account_id, self.region, props)

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_gateway_response(
                self.props["RestApiId"], self.props["ResponseType"])
        except RestAPINotFound:
            pass


class Model(_ApiChild, CloudFormationModel):
    """AWS::ApiGateway::Model: Ref is the model's name; ContentType, Name and RestApiId
    require replacement; Schema is a JSON object in the template, a string in the API."""

    __module__ = MODULE
    TYPE = "AWS::ApiGateway::Model"
    REPLACE = ("RestApiId", "Name", "ContentType")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def _schema(props: dict[str, Any]) -> str | None:
        schema = props.get("Schema")
        return schema if schema is None or isinstance(schema, str) else json.dumps(schema)

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "Model":
        props = cloudformation_json["Properties"]
        # Without a Name, CloudFormation generates one (resource_name comes from moto).
        name = props.get("Name") or resource_name.replace("-", "")
        api = _backend(account_id, region_name).get_rest_api(props["RestApiId"])
        if name in api.models:
            raise ConflictException("Model name already exists for this REST API")
        _backend(account_id, region_name).create_model(
            props["RestApiId"], name, props.get("ContentType") or "application/json",
            props.get("Description"), cls._schema(props))
        return cls(account_id, region_name, name, props)

    def _update(self, props: dict[str, Any]) -> None:
        model = self._api().models[self.id]
        model.description = props.get("Description")
        model.schema = self._schema(props)

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_model(self.props["RestApiId"], self.id)
        except (RestAPINotFound, ModelNotFound):
            pass


class RequestValidator(_ApiChild, CloudFormationModel):
    """AWS::ApiGateway::RequestValidator: Ref is the validator's id; attribute
    RequestValidatorId; Name and RestApiId require replacement."""

    __module__ = MODULE
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRIBUTES = {"RequestValidatorId": "id"}
    REPLACE = ("RestApiId", "Name")

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "RequestValidator":
        props = cloudformation_json["Properties"]
        validator = _backend(account_id, region_name).create_request_validator(
            props["RestApiId"], props.get("Name") or resource_name,
            _flag(props.get("ValidateRequestBody")),
            _flag(props.get("ValidateRequestParameters")))
        return cls(account_id, region_name, validator.id, props)

    def _update(self, props: dict[str, Any]) -> None:
        validator = self._api().request_validators[self.id]
        validator.validate_request_body = _flag(props.get("ValidateRequestBody"))
        validator.validate_request_parameters = _flag(props.get("ValidateRequestParameters"))

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_request_validator(
                self.props["RestApiId"], self.id)
        except (RestAPINotFound, KeyError):
            pass


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# ---- AWS::ApiGateway::Method: the whole definition -------------------------------------------

def _put_method(account_id: str, region: str, props: dict[str, Any]) -> apigw.Method:
    backend = _backend(account_id, region)
    api, resource, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
    method = backend.put_method(
        api, resource, verb, props.get("AuthorizationType") or "NONE",
        api_key_required=_flag(props.get("ApiKeyRequired")),
        request_parameters=props.get("RequestParameters"),
        request_models=props.get("RequestModels"),
        operation_name=props.get("OperationName"), authorizer_id=props.get("AuthorizerId"),
        authorization_scopes=props.get("AuthorizationScopes"),
        request_validator_id=props.get("RequestValidatorId"))
    method.cfn_props = props  # what an update compares against
    for response in props.get("MethodResponses") or []:
        backend.put_method_response(
            api, resource, verb, str(response["StatusCode"]), response.get("ResponseModels"),
            response.get("ResponseParameters"))
    integration = props.get("Integration")
    if integration:
        backend.put_integration(
            api, resource, verb, integration["Type"], integration.get("Uri"),
            integration.get("IntegrationHttpMethod"),
            credentials=integration.get("Credentials"),
            request_templates=integration.get("RequestTemplates"),
            passthrough_behavior=integration.get("PassthroughBehavior"),
            cache_namespace=integration.get("CacheNamespace"),
            timeout_in_millis=integration.get("TimeoutInMillis"),
            request_parameters=integration.get("RequestParameters"),
            content_handling=integration.get("ContentHandling"),
            connection_type=integration.get("ConnectionType"))
        for response in integration.get("IntegrationResponses") or []:
            backend.put_integration_response(
                api, resource, verb, str(response["StatusCode"]),
                response.get("SelectionPattern"), response.get("ResponseTemplates") or {},
                response.get("ResponseParameters") or {}, response.get("ContentHandling"))
    return method


@classmethod  # type: ignore[misc]
@_reported
def _create_method(cls: Any, resource_name: str, cloudformation_json: dict[str, Any],
                   account_id: str, region_name: str, **kwargs: Any) -> apigw.Method:
    return _put_method(account_id, region_name, cloudformation_json["Properties"])


@classmethod  # type: ignore[misc]
@_reported
def _update_method(cls: Any, original_resource: apigw.Method, new_resource_name: str,
                   cloudformation_json: dict[str, Any], account_id: str,
                   region_name: str) -> apigw.Method:
    # RestApiId, ResourceId and HttpMethod name the method: changed, the old one goes.
    props = cloudformation_json["Properties"]
    old = getattr(original_resource, "cfn_props", None)
    method = _put_method(account_id, region_name, props)
    if old and _replacing(props, old, ("RestApiId", "ResourceId", "HttpMethod")):
        try:
            _backend(account_id, region_name).delete_method(
                old["RestApiId"], old["ResourceId"], old["HttpMethod"])
        except (RestAPINotFound, ResourceIdNotFoundException):
            pass  # gone with its resource or API
    return method

apigw.Method.create_from_cloudformation_json = _create_method
apigw.Method.update_from_cloudformation_json = _update_method
