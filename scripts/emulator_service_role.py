"""A stack's service role, which moto 5.2.5 stores and never assumes: CloudFormation acts as the
role a stack operation names (RoleARN on CreateStack, UpdateStack, DeleteStack and
CreateChangeSet), or as the role the stack already holds when none is named, and refuses the
operation when it cannot assume it ("CloudFormation service role",
docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html: "Specify
CloudFormation (cloudformation.amazonaws.com) as the service that can assume the role"; "If you
don't specify a value, CloudFormation uses the role that was previously associated with the
stack", API Reference, CreateStack's RoleARN). The refusal is AWS's: a ValidationError "Role <arn>
is invalid or cannot be assumed" (as the AWS CDK CLI reports it, aws-amplify/amplify-backend pull
request 2325).

The role must exist in the stack's account, and its trust policy must allow sts:AssumeRole to the
service principal cloudformation.amazonaws.com with no Deny doing otherwise. Conditions are
evaluated against what the request carries: aws:SourceAccount, the stack's account ("Cross-service
confused deputy prevention", .../UserGuide/cross-service-confused-deputy-prevention.html); a
condition on any other key is not met here (the emulator does not know that CloudFormation sets it,
so it is refused rather than assumed). An executed change set leaves its role with the stack, as
DescribeStacks shows (RoleARN)."""
import fnmatch
import json
import urllib.parse
from typing import Any

from moto.cloudformation import models as cfn
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.iam.models import iam_backends

SERVICE = "cloudformation.amazonaws.com"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(operator: str, actual: str | None, wanted: list[str]) -> bool:
    base = operator.removesuffix("IfExists")
    if actual is None:
        return operator.endswith("IfExists")
    if base in ("StringEquals", "ArnEquals"):
        return actual in wanted
    if base in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, w) for w in wanted)
    if base == "StringNotEquals":
        return actual not in wanted
    return False  # an operator this stand-in does not evaluate is not met


def _holds(condition: dict[str, Any] | None, context: dict[str, str]) -> bool:
    for operator, keys in (condition or {}).items():
        for key, wanted in keys.items():
            if not _matches(operator, context.get(key.lower()),
                            [str(w) for w in _listed(wanted)]):
                return False
    return True


def _names(statement: dict[str, Any]) -> bool:
    """The statement is about CloudFormation assuming the role."""
    actions = [a.lower() for a in _listed(statement.get("Action", []))]
    if not any(a in ("sts:assumerole", "sts:*", "*") for a in actions):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return SERVICE in _listed(principal.get("Service", [])) or "*" in _listed(
        principal.get("AWS", []))


def trusts_cloudformation(document: Any, account: str) -> bool:
    """Whether a trust policy lets CloudFormation, acting in `account`, assume the role."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    context = {"aws:sourceaccount": account}
    allowed = False
    for statement in _listed(document.get("Statement", [])):
        if not _names(statement) or not _holds(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def check(account: str, role_arn: str | None) -> None:
    """Refuses the operation as AWS does when CloudFormation cannot assume `role_arn`."""
    if not role_arn:
        return
    refused = ValidationError(message=f"Role {role_arn} is invalid or cannot be assumed")
    if f":iam::{account}:role/" not in role_arn:
        raise refused
    for role in iam_backends[account]["aws"].roles.values():
        if role.arn == role_arn:
            if trusts_cloudformation(role.assume_role_policy_document, account):
                return
            raise refused
    raise refused


def _stack_role(response: CloudFormationResponse) -> str | None:
    name = response._get_param("StackName")
    for stack in response.cloudformation_backend.stacks.values():
        if name in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE":
            return getattr(stack, "role_arn", None)
    return None


def _guarded(operation: Any) -> Any:
    def guarded(response: CloudFormationResponse) -> Any:
        role = response._get_param("RoleARN") or _stack_role(response)
        check(response.cloudformation_backend.account_id, role)
        result = operation(response)
        if operation.__name__ == "create_change_set" and response._get_param("RoleARN"):
            # Kept with the change set: executing it associates the role with the stack.
            made = response.cloudformation_backend.change_sets.get(result.result["Id"])
            if made is not None:
                made.role_arn = response._get_param("RoleARN")
        return result
    guarded.__name__ = operation.__name__
    return guarded


_prior_execute = cfn.CloudFormationBackend.execute_change_set


def execute_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> Any:
    change_set = None
    for made in backend.change_sets.values():
        if change_set_name in (made.change_set_id, made.change_set_name) and (
                stack_name is None or stack_name in (made.stack.name, made.stack.stack_id)):
            change_set = made
    result = _prior_execute(backend, change_set_name, stack_name)
    if change_set is not None and getattr(change_set, "role_arn", None):
        change_set.stack.role_arn = change_set.role_arn
    return result


def install() -> None:
    """Last: the outermost wrapper of every stack operation that takes a RoleARN."""
    for name in ("create_stack", "update_stack", "delete_stack", "create_change_set"):
        setattr(CloudFormationResponse, name, _guarded(getattr(CloudFormationResponse, name)))
    global _prior_execute
    _prior_execute = cfn.CloudFormationBackend.execute_change_set
    cfn.CloudFormationBackend.execute_change_set = execute_change_set
