"""S3 bucket policies evaluated with their conditions and principals (moto ignores conditions, so a
`Deny` made conditional, like the templates' TLS-only statement, denies every request).

The rules followed:
- "Policy evaluation logic" (IAM User Guide, docs.aws.amazon.com/IAM/latest/UserGuide/
  reference_policies_evaluation-logic.html): an applicable Deny wins over any Allow; an
  applicable Allow permits; otherwise the policy neither permits nor denies (moto's NEUTRAL).
- A statement applies when its Action/NotAction, Resource/NotResource, Principal/NotPrincipal
  and Condition all match ("IAM JSON policy element reference"): actions compare without case,
  resources with case, both with the `*` and `?` wildcards.
- "IAM JSON policy elements: Condition operators" (docs.aws.amazon.com/IAM/latest/UserGuide/
  reference_policies_elements_condition_operators.html): operators in a block, and keys under an
  operator, must all hold; any one of a key's values may match; a key absent from the request
  context makes the condition false, except for the negated operators (true), ...IfExists (true)
  and Null (which tests presence). Operators not evaluated here are refused (NotImplemented)
  rather than guessed.
- HeadObject is authorized as s3:GetObject ("Amazon S3 actions", Amazon S3 User Guide,
  docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-actions.html).

The request context of an SDK request: the caller's account and ARN (as moto's STS reports them
for its access key), and aws:SecureTransport. The emulator is reached over plain HTTP on loopback,
but it stands in for S3's HTTPS endpoints, which every AWS SDK uses: aws:SecureTransport is
"true". aws:SourceArn and aws:SourceAccount exist only when a service calls on behalf of a
resource, so they are absent, and a Service principal never matches an SDK request.
"""
import json
import re
import threading
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3 import models as s3
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

ACTION_ALIASES = {"s3:HeadObject": "s3:GetObject"}


class NotEmulated(S3ClientError):
    code = "NotImplemented"


_request = threading.local()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) \
        is not None


def _arn_like(pattern: str, value: str) -> bool:
    # ARN operators match each of the six colon-delimited parts on its own.
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(actual) == 6 and all(
        _wildcard(w, a) for w, a in zip(wanted, actual))


def _number(text: Any) -> float:
    return float(text)


MATCHERS = {
    "StringEquals": lambda want, got: want == got,
    "StringEqualsIgnoreCase": lambda want, got: want.lower() == got.lower(),
    "StringLike": lambda want, got: _wildcard(want, got),
    "Bool": lambda want, got: str(want).lower() == str(got).lower(),
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "NumericEquals": lambda want, got: _number(got) == _number(want),
    "NumericLessThan": lambda want, got: _number(got) < _number(want),
    "NumericLessThanEquals": lambda want, got: _number(got) <= _number(want),
    "NumericGreaterThan": lambda want, got: _number(got) > _number(want),
    "NumericGreaterThanEquals": lambda want, got: _number(got) >= _number(want),
}
NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
           "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
           "NumericNotEquals": "NumericEquals"}


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, str]) -> bool:
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    values = [str(v) if not isinstance(v, bool) else str(v).lower() for v in _as_list(wanted)]
    if operator == "Null":
        # "true": the key must be absent; "false": present.
        return any((actual is None) == (v.lower() == "true") for v in values)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    negated = base in NEGATED
    matcher = MATCHERS.get(NEGATED.get(base, base))
    if matcher is None:
        raise NotEmulated(f"emulator: bucket policy condition operator {operator}")
    if actual is None:
        return if_exists or negated
    matched = any(matcher(v, actual) for v in values)
    return not matched if negated else matched


def conditions_hold(block: dict[str, Any] | None, context: dict[str, str]) -> bool:
    return all(_condition_holds(operator, key, wanted, context)
               for operator, keys in (block or {}).items()
               for key, wanted in keys.items())


def _principal_matches(principal: Any, caller: dict[str, str]) -> bool:
    if principal == "*":
        return True
    for kind, names in (principal or {}).items():
        for name in _as_list(names):
            if kind != "AWS":
                continue  # Service, Federated, CanonicalUser: not an SDK caller here
            if name == "*" or name == caller["arn"]:
                return True
            account = name if re.fullmatch(r"\d{12}", name) else (
                name.split(":")[4] if name.endswith(":root") else None)
            if account == caller["account"]:
                return True
    return False


def _element_matches(statement: dict[str, Any], name: str, value: str,
                     ignore_case: bool) -> bool:
    if name in statement:
        return any(_wildcard(p, value, ignore_case) for p in _as_list(statement[name]))
    negated = f"Not{name}"
    if negated in statement:
        return not any(_wildcard(p, value, ignore_case) for p in _as_list(statement[negated]))
    return False


def statement_applies(statement: dict[str, Any], action: str, resource: str,
                      caller: dict[str, str], context: dict[str, str]) -> bool:
    if "Principal" in statement:
        principal = _principal_matches(statement["Principal"], caller)
    else:
        principal = not _principal_matches(statement.get("NotPrincipal"), caller)
    return (principal
            and _element_matches(statement, "Action", action, ignore_case=True)
            and _element_matches(statement, "Resource", resource, ignore_case=False)
            and conditions_hold(statement.get("Condition"), context))


def evaluate(document: dict[str, Any], action: str, resource: str,
             caller: dict[str, str]) -> PermissionResult:
    action = ACTION_ALIASES.get(action, action)
    context = {
        "aws:SecureTransport": "true",  # stands in for S3's HTTPS endpoints (module docstring)
        "aws:PrincipalAccount": caller["account"],
        "aws:PrincipalArn": caller["arn"],
    }
    result = PermissionResult.NEUTRAL
    for statement in _as_list(document.get("Statement") or []):
        if statement_applies(statement, action, resource, caller, context):
            if statement.get("Effect") == "Deny":
                return PermissionResult.DENIED
            result = PermissionResult.PERMITTED
    return result


def _caller(bucket: Any) -> dict[str, str]:
    found = getattr(_request, "caller", None)
    if found is not None:
        return found
    # Not through an S3 request (another stand-in calling the backend): the bucket's owner.
    return {"account": bucket.account_id, "arn": f"arn:aws:iam::{bucket.account_id}:root"}


def get_permission(bucket: Any, action: str, resource: str) -> PermissionResult:
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    return evaluate(json.loads(bucket.policy.decode()), action, resource, _caller(bucket))


_moto_setup = S3Response.setup_class


def setup_class(response: S3Response, request: Any, *args: Any, **kwargs: Any) -> Any:
    result = _moto_setup(response, request, *args, **kwargs)
    account = response.current_account
    key = re.search(r"Credential=([^/]+)/", request.headers.get("Authorization") or "")
    region = response.region or "us-east-1"
    _, arn, _ = sts_backends[account][get_partition(region)].get_caller_identity(
        key.group(1) if key else "", region)
    _request.caller = {"account": account, "arn": arn}
    return result


def install() -> None:
    s3.FakeBucket.get_permission = get_permission
    S3Response.setup_class = setup_class
