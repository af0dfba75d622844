"""Cognito in the emulator: AWS::Cognito::UserPool and AWS::Cognito::UserPoolClient (moto's
CloudFormation skips both) through moto's Cognito backend, and the deletion protection that
moto's DeleteUserPool ignores."""
from typing import Any

from moto.cognitoidp import models as idp
from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.core.common_models import CloudFormationModel

from emulator_cfn import MODULE, IdModel, _reported


def _backend(account_id: str, region: str) -> idp.CognitoIdpBackend:
    return idp.cognitoidp_backends[account_id][region]


# "Deletion protection" (docs.aws.amazon.com/cognito/latest/developerguide/
# user-pool-settings-deletion-protection.html): with DeletionProtection ACTIVE, DeleteUserPool
# fails until an UpdateUserPool sets it INACTIVE.
_moto_delete_pool = idp.CognitoIdpBackend.delete_user_pool


def _delete_pool(self: idp.CognitoIdpBackend, user_pool_id: str) -> None:
    pool = self.describe_user_pool(user_pool_id)
    if pool.extended_config.get("DeletionProtection") == "ACTIVE":
        raise InvalidParameterException(
            "The user pool cannot be deleted because deletion protection is activated. "
            "Deletion protection must be inactivated first.")
    _moto_delete_pool(self, user_pool_id)


idp.CognitoIdpBackend.delete_user_pool = _delete_pool


def _pool_config(props: dict[str, Any]) -> dict[str, Any]:
    # CloudFormation's property names are CreateUserPool's, except EnabledMfas (set through
    # SetUserPoolMfaConfig) and the name.
    return {k: v for k, v in props.items() if k not in ("UserPoolName", "EnabledMfas")}


class UserPool(IdModel, CloudFormationModel):
    """Ref is the pool id; GetAtt Arn, ProviderName, ProviderURL, UserPoolId
    (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-resource-cognito-userpool.html#aws-resource-cognito-userpool-return-values)."""

    __module__ = MODULE

    TYPE = "AWS::Cognito::UserPool"
    ATTRIBUTES = {"Arn": "arn", "ProviderName": "provider_name",
                  "ProviderURL": "provider_url", "UserPoolId": "id"}

    @staticmethod
    def cloudformation_name_type() -> str:
        return "UserPoolName"

    @property
    def arn(self) -> str:
        return _backend(self.account_id, self.region).describe_user_pool(self.id).arn

    @property
    def provider_name(self) -> str:
        return f"cognito-idp.{self.region}.amazonaws.com/{self.id}"

    @property
    def provider_url(self) -> str:
        return f"https://{self.provider_name}"

    def _apply_mfa(self, props: dict[str, Any]) -> None:
        enabled = props.get("EnabledMfas") or []
        _backend(self.account_id, self.region).set_user_pool_mfa_config(
            self.id, {"SmsConfiguration": props["SmsConfiguration"]}
            if "SMS_MFA" in enabled and props.get("SmsConfiguration") else None,
            {"Enabled": True} if "SOFTWARE_TOKEN_MFA" in enabled else None,
            props.get("MfaConfiguration") or "OFF")

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "UserPool":
        props = cloudformation_json["Properties"]
        name = props.get("UserPoolName") or resource_name
        pool = _backend(account_id, region_name).create_user_pool(name, _pool_config(props))
        model = cls(account_id, region_name, pool.id, props)
        model._apply_mfa(props)
        return model

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "UserPool", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "UserPool":
        props = cloudformation_json["Properties"]
        old = original_resource
        if props.get("UserPoolName") != old.props.get("UserPoolName"):
            # The only property that requires replacement besides attributes' schema.
            new = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
            old.delete(account_id, region_name)
            return new
        _backend(account_id, region_name).update_user_pool(old.id, _pool_config(props))
        old.props = props
        old._apply_mfa(props)
        return old

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_user_pool(self.id)
        except ResourceNotFoundError:
            pass  # already gone: CloudFormation counts that as deleted


class UserPoolClient(IdModel, CloudFormationModel):
    """Ref is the client id; GetAtt ClientId, ClientSecret, Name
    (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    aws-resource-cognito-userpoolclient.html#aws-resource-cognito-userpoolclient-return-values)."""

    __module__ = MODULE

    TYPE = "AWS::Cognito::UserPoolClient"
    ATTRIBUTES = {"ClientId": "id", "ClientSecret": "secret", "Name": "name"}

    def _client(self) -> Any:
        return _backend(self.account_id, self.region).describe_user_pool_client(
            self.props["UserPoolId"], self.id)

    @property
    def secret(self) -> str:
        client = self._client()
        if not client.generate_secret:
            from moto.cloudformation.exceptions import ValidationError

            raise ValidationError(message="ClientSecret: the client has no secret")
        return client.secret

    @property
    def name(self) -> str:
        return self._client().extended_config.get("ClientName")

    @staticmethod
    def _config(props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k not in ("UserPoolId", "GenerateSecret")}

    @classmethod
    @_reported
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> "UserPoolClient":
        props = cloudformation_json["Properties"]
        client = _backend(account_id, region_name).create_user_pool_client(
            props["UserPoolId"], bool(props.get("GenerateSecret")), cls._config(props))
        return cls(account_id, region_name, client.id, props)

    @classmethod
    @_reported
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: "UserPoolClient", new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> "UserPoolClient":
        props = cloudformation_json["Properties"]
        old = original_resource
        # UserPoolId and GenerateSecret require replacement.
        if (props["UserPoolId"], bool(props.get("GenerateSecret"))) != (
                old.props["UserPoolId"], bool(old.props.get("GenerateSecret"))):
            new = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name)
            old.delete(account_id, region_name)
            return new
        client = old._client()
        client.extended_config = {**client.extended_config, **cls._config(props)}
        old.props = props
        return old

    @_reported
    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _backend(self.account_id, self.region).delete_user_pool_client(
                self.props["UserPoolId"], self.id)
        except ResourceNotFoundError:
            pass  # gone with its pool: CloudFormation counts that as deleted

