"""Cognito user pool tags (scripts/emulator_cognito.py): TagResource, UntagResource and
ListTagsForResource on a user pool's ARN, seen by DescribeUserPool too."""
import pytest
from botocore.exceptions import ClientError


def test_tags_on_a_user_pool(client):
    idp = client("cognito-idp")
    pool = idp.create_user_pool(PoolName="kept", UserPoolTags={"app": "mraa"})["UserPool"]
    arn = pool["Arn"]
    idp.tag_resource(ResourceArn=arn, Tags={"mraa:kept": "2026-01-01", "app": "other"})
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {
        "app": "other", "mraa:kept": "2026-01-01"}
    idp.untag_resource(ResourceArn=arn, TagKeys=["app", "absent"])
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"mraa:kept": "2026-01-01"}
    described = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["UserPoolTags"] == {"mraa:kept": "2026-01-01"}


def test_an_unknown_pool_or_a_bad_tag_is_refused(client):
    idp = client("cognito-idp")
    arn = idp.create_user_pool(PoolName="limits")["UserPool"]["Arn"]
    gone = arn.rsplit("/", 1)[0] + "/us-east-1_missing"
    for call in (lambda: idp.list_tags_for_resource(ResourceArn=gone),
                 lambda: idp.tag_resource(ResourceArn=gone, Tags={"a": "b"}),
                 lambda: idp.untag_resource(ResourceArn=gone, TagKeys=["a"])):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # The pool in another region is another pool.
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client("cognito-idp", "eu-west-1").list_tags_for_resource(ResourceArn=arn)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        idp.tag_resource(ResourceArn=arn, Tags={f"k{i}": "v" for i in range(51)})
    with pytest.raises(ClientError, match="InvalidParameterException"):
        idp.tag_resource(ResourceArn=arn, Tags={"k" * 129: "v"})
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}
