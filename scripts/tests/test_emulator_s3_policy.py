"""Bucket policies evaluated with their conditions and principals (scripts/emulator_s3_policy.py),
and AWS::NoValue dropping a policy statement made by CloudFormation (scripts/emulator_cfn.py)."""
import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
TLS_ONLY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::{b}", "arn:aws:s3:::{b}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def with_policy(s3, bucket, *statements):
    s3.create_bucket(Bucket=bucket)
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    s3.put_bucket_policy(Bucket=bucket, Policy=text.replace("{b}", bucket))


def put_allowed(s3, bucket):
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    except ClientError as error:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error
        return False
    return True


def deny(condition=None, principal="*", action="s3:PutObject"):
    statement = {"Effect": "Deny", "Principal": principal, "Action": action,
                 "Resource": "arn:aws:s3:::{b}/*"}
    return {**statement, "Condition": condition} if condition else statement


def test_the_tls_only_deny_lets_sdk_requests_through(client):
    s3 = client("s3")
    with_policy(s3, "tls-only", TLS_ONLY)
    assert put_allowed(s3, "tls-only")
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"x"


@pytest.mark.parametrize("name,statement,allowed", [
    ("plain", deny(), False),
    ("wildcard-action", deny(action="s3:Put*"), False),
    ("other-action", deny(action="s3:GetObject"), True),
    ("secure", deny({"Bool": {"aws:SecureTransport": "true"}}), False),
    ("own-account", deny(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), False),
    ("own-account-id", deny(principal={"AWS": ACCOUNT}), False),
    ("other-account", deny(principal={"AWS": "arn:aws:iam::210987654321:root"}), True),
    ("service", deny(principal={"Service": "logging.s3.amazonaws.com"}), True),
    # aws:SourceAccount is absent from an SDK request: false, but true for a negated operator
    # and for IfExists; Null "true" holds.
    ("source", deny({"StringEquals": {"aws:SourceAccount": ACCOUNT}}), True),
    ("not-source", deny({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}), False),
    ("if-exists", deny({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}), False),
    ("null", deny({"Null": {"aws:SourceArn": "true"}}), False),
    ("caller", deny({"StringEquals": {"aws:PrincipalAccount": [ACCOUNT, "1"]}}), False),
    ("arn-like", deny({"ArnLike": {"aws:PrincipalArn": f"arn:aws:*::{ACCOUNT}:*"}}), False),
    ("both", deny({"Bool": {"aws:SecureTransport": "true"},
                   "StringEquals": {"aws:PrincipalAccount": "1"}}), True),
])
def test_a_deny_applies_when_its_principal_action_and_conditions_match(
        client, name, statement, allowed):
    s3 = client("s3")
    with_policy(s3, f"deny-{name}", statement)
    assert put_allowed(s3, f"deny-{name}") is allowed


def test_an_operator_not_evaluated_is_refused(client):
    s3 = client("s3")
    with_policy(s3, "dated", deny({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00Z"}}))
    with pytest.raises(ClientError, match="NotImplemented"):
        s3.put_object(Bucket="dated", Key="k", Body=b"x")


POLICY_TEMPLATE = """\
Parameters:
  Distribution:
    Type: String
    Default: ''
Conditions:
  HasDistribution: !Not [!Equals [!Ref Distribution, '']]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${AWS::StackName}-site'
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: '*'
            Action: s3:*
            Resource: !Sub '${Bucket.Arn}/*'
            Condition:
              Bool:
                aws:SecureTransport: 'false'
          - !If
            - HasDistribution
            - Sid: CloudFront
              Effect: Allow
              Principal:
                Service: cloudfront.amazonaws.com
              Action: s3:GetObject
              Resource: !Sub '${Bucket.Arn}/*'
            - !Ref AWS::NoValue
"""


@pytest.mark.parametrize("distribution,sids", [("", ["DenyInsecureTransport"]),
                                               ("E123", ["DenyInsecureTransport", "CloudFront"])])
def test_no_value_drops_the_statement(client, distribution, sids):
    stack = f"policy{distribution.lower()}"
    client("cloudformation").create_stack(
        StackName=stack, TemplateBody=POLICY_TEMPLATE,
        Parameters=[{"ParameterKey": "Distribution", "ParameterValue": distribution}])
    s3 = client("s3")
    stored = json.loads(s3.get_bucket_policy(Bucket=f"{stack}-site")["Policy"])
    assert [s["Sid"] for s in stored["Statement"]] == sids
    assert put_allowed(s3, f"{stack}-site")
