"""Cognito user pool tags (moto's Cognito has no TagResource, UntagResource or
ListTagsForResource; the calls answer HTTP 500).

The rules of the Amazon Cognito API Reference (TagResource, UntagResource, ListTagsForResource:
docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_TagResource.html) and of
"Tagging Amazon Cognito resources" (docs.aws.amazon.com/cognito/latest/developerguide/
tagging.html): the resource is a user pool named by its ARN; an unknown pool is
ResourceNotFoundException; a pool holds at most 50 tags, a key up to 128 characters and a value
up to 256; a tag with an existing key replaces its value; untagging an absent key is no error.
The tags are the pool's UserPoolTags, so DescribeUserPool shows them as AWS does.
"""
import re
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.responses import ActionResult, EmptyResult

MAX_TAGS = 50
MAX_KEY, MAX_VALUE = 128, 256
POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/(.+)$")


def _pool(response: CognitoIdpResponse) -> Any:
    arn = response._get_param("ResourceArn") or ""
    match = POOL_ARN.match(arn)
    if match is None:
        raise InvalidParameterException(f"Invalid ResourceArn: {arn}")
    pool = response.backend.user_pools.get(match.group(1))
    if pool is None or pool.arn != arn:
        raise ResourceNotFoundError(f"User pool {match.group(1)} does not exist.")
    return pool


def _tags(pool: Any) -> dict[str, str]:
    return pool.extended_config.setdefault("UserPoolTags", {})


def tag_resource(response: CognitoIdpResponse) -> Any:
    pool = _pool(response)
    new = response._get_param("Tags") or {}
    for key, value in new.items():
        if not 1 <= len(key) <= MAX_KEY or len(value) > MAX_VALUE or key.startswith("aws:"):
            raise InvalidParameterException(f"Invalid tag: {key}")
    if len({**_tags(pool), **new}) > MAX_TAGS:
        raise InvalidParameterException(f"A user pool can have at most {MAX_TAGS} tags")
    _tags(pool).update(new)
    return EmptyResult()


def untag_resource(response: CognitoIdpResponse) -> Any:
    pool = _pool(response)
    for key in response._get_param("TagKeys") or []:
        _tags(pool).pop(key, None)
    return EmptyResult()


def list_tags_for_resource(response: CognitoIdpResponse) -> Any:
    return ActionResult({"Tags": dict(_tags(_pool(response)))})


def install() -> None:
    CognitoIdpResponse.tag_resource = tag_resource
    CognitoIdpResponse.untag_resource = untag_resource
    CognitoIdpResponse.list_tags_for_resource = list_tags_for_resource
