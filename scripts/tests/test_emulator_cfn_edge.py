"""The emulator's CloudFormation types for the edge and the front end (CloudFront distribution,
origin access control, response headers policy; Cognito user pool and client; S3 bucket policy),
and CloudFront's origin-group rules, checked through the services' own APIs."""
import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]


def bucket_domain(region):
    return f"site-{region}.s3.{region}.amazonaws.com"


def distribution_config(methods=("GET", "HEAD", "OPTIONS"), target="website-group",
                        comment="tests"):
    return {
        "Comment": comment, "Enabled": True, "IPV6Enabled": True, "DefaultRootObject": "index.html",
        "Origins": [
            {"Id": origin, "DomainName": bucket_domain(region),
             "OriginAccessControlId": {"Ref": "Oac"}, "S3OriginConfig": {"OriginAccessIdentity": ""}}
            for origin, region in (("primary", "us-east-1"), ("secondary", "ap-northeast-1"))
        ],
        "OriginGroups": {"Quantity": 1, "Items": [{
            "Id": "website-group",
            "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [403, 500]}},
            "Members": {"Quantity": 2, "Items": [{"OriginId": "primary"},
                                                 {"OriginId": "secondary"}]},
        }]},
        "DefaultCacheBehavior": {
            "TargetOriginId": target, "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": list(methods), "CachedMethods": ["GET", "HEAD"],
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "ResponseHeadersPolicyId": {"Ref": "Headers"},
        },
    }


def edge_template(**config):
    return json.dumps({
        "Resources": {
            "Oac": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {
                "OriginAccessControlConfig": {
                    "Name": "tests-website", "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always", "SigningProtocol": "sigv4"}}},
            "Headers": {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {
                "ResponseHeadersPolicyConfig": {"Name": "tests-headers", "SecurityHeadersConfig": {
                    "ContentTypeOptions": {"Override": True}}}}},
            "Distribution": {"Type": "AWS::CloudFront::Distribution", "Properties": {
                "DistributionConfig": distribution_config(**config)}},
        },
        "Outputs": {
            "Id": {"Value": {"Ref": "Distribution"}},
            "DomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
            "OacId": {"Value": {"Fn::GetAtt": ["Oac", "Id"]}},
            "HeadersId": {"Value": {"Ref": "Headers"}},
        },
    })


def outputs(cfn, name):
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"].endswith("_COMPLETE"), stack["StackStatus"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_edge_stack_makes_a_distribution_over_an_origin_group(client):
    cfn, cloudfront = client("cloudformation"), client("cloudfront")
    cfn.create_stack(StackName="edge", TemplateBody=edge_template())
    out = outputs(cfn, "edge")

    dist = cloudfront.get_distribution(Id=out["Id"])["Distribution"]
    assert dist["DomainName"] == out["DomainName"]
    assert re.fullmatch(r"[a-z0-9]+\.cloudfront\.net", out["DomainName"])
    config = dist["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "website-group"
    assert config["OriginGroups"]["Items"][0]["Id"] == "website-group"
    assert [o["OriginAccessControlId"] for o in config["Origins"]["Items"]] == [out["OacId"]] * 2
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == out["HeadersId"]
    assert sorted(config["DefaultCacheBehavior"]["AllowedMethods"]["Items"]) == [
        "GET", "HEAD", "OPTIONS"]
    oac = cloudfront.get_origin_access_control(Id=out["OacId"])["OriginAccessControl"]
    assert oac["OriginAccessControlConfig"]["Name"] == "tests-website"

    cfn.update_stack(StackName="edge", TemplateBody=edge_template(comment="changed"))
    assert outputs(cfn, "edge")["Id"] == out["Id"]  # updated in place
    assert cloudfront.get_distribution(Id=out["Id"])["Distribution"]["DistributionConfig"][
        "Comment"] == "changed"

    cfn.delete_stack(StackName="edge")
    with pytest.raises(ClientError, match="NoSuchDistribution"):
        cloudfront.get_distribution(Id=out["Id"])
    with pytest.raises(ClientError, match="NoSuchOriginAccessControl"):
        cloudfront.get_origin_access_control(Id=out["OacId"])


def test_an_origin_group_behind_a_behaviour_that_allows_post_is_refused(client):
    cfn = client("cloudformation")
    with pytest.raises(ClientError) as failure:
        cfn.create_stack(StackName="edge-post", TemplateBody=edge_template(
            methods=("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")))
    error = failure.value.response["Error"]
    assert error["Code"] == "InvalidArgument" and "website-group" in error["Message"], error
    assert not client("cloudfront").list_distributions()["DistributionList"].get("Items")


def test_the_api_takes_an_origin_group_target_and_refuses_an_unknown_one(client):
    cloudfront = client("cloudfront")
    config = distribution_config()
    # The API's shape of the same configuration.
    config["Origins"] = {"Quantity": 2, "Items": [
        {k: v for k, v in o.items() if k != "OriginAccessControlId"} for o in config["Origins"]]}
    behaviour = config["DefaultCacheBehavior"]
    behaviour.pop("ResponseHeadersPolicyId")
    behaviour["AllowedMethods"] = {"Quantity": 2, "Items": ["GET", "HEAD"], "CachedMethods": {
        "Quantity": 2, "Items": ["GET", "HEAD"]}}
    behaviour.pop("CachedMethods")
    config.pop("IPV6Enabled")
    config["CallerReference"] = "api"
    dist = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
    assert dist["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"] == "website-group"
    config["CallerReference"] = "api-unknown"
    behaviour["TargetOriginId"] = "no-such-group"
    with pytest.raises(ClientError, match="NoSuchOrigin"):
        cloudfront.create_distribution(DistributionConfig=config)


def front_end_template(deletion_protection="INACTIVE"):
    return json.dumps({
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
                "BucketName": "tests-website",
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True}}},
            "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "Bucket"}, "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::tests-website/*"}]}}},
            "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {
                "UserPoolName": "tests-users", "DeletionProtection": deletion_protection,
                "MfaConfiguration": "OPTIONAL", "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}}},
            "Client": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
                "ClientName": "tests-web", "UserPoolId": {"Ref": "Pool"},
                "GenerateSecret": False, "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}},
        },
        "Outputs": {
            "PoolId": {"Value": {"Ref": "Pool"}},
            "PoolArn": {"Value": {"Fn::GetAtt": ["Pool", "Arn"]}},
            "ProviderName": {"Value": {"Fn::GetAtt": ["Pool", "ProviderName"]}},
            "ProviderURL": {"Value": {"Fn::GetAtt": ["Pool", "ProviderURL"]}},
            "ClientId": {"Value": {"Ref": "Client"}},
            "ClientName": {"Value": {"Fn::GetAtt": ["Client", "Name"]}},
        },
    })


@pytest.mark.parametrize("region", ["us-east-1", "ap-northeast-1"])
def test_front_end_stack_makes_pool_client_and_bucket_policy(client, region):
    cfn, idp, s3 = client("cloudformation", region), client("cognito-idp", region), client(
        "s3", region)
    name = f"front-{region}"
    cfn.create_stack(StackName=name, TemplateBody=front_end_template())
    out = outputs(cfn, name)

    pool = idp.describe_user_pool(UserPoolId=out["PoolId"])["UserPool"]
    assert pool["Name"] == "tests-users" and pool["Arn"] == out["PoolArn"]
    assert out["PoolArn"] == f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{out['PoolId']}"
    assert out["ProviderName"] == f"cognito-idp.{region}.amazonaws.com/{out['PoolId']}"
    assert out["ProviderURL"] == f"https://{out['ProviderName']}"
    assert idp.get_user_pool_mfa_config(UserPoolId=out["PoolId"])[
        "SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    app = idp.describe_user_pool_client(UserPoolId=out["PoolId"], ClientId=out["ClientId"])
    assert app["UserPoolClient"]["ClientName"] == out["ClientName"] == "tests-web"

    policy = json.loads(s3.get_bucket_policy(Bucket="tests-website")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert s3.get_bucket_versioning(Bucket="tests-website")["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket="tests-website")[
        "PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True

    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        idp.describe_user_pool(UserPoolId=out["PoolId"])
    with pytest.raises(ClientError, match="NoSuchBucket"):
        s3.get_bucket_policy(Bucket="tests-website")


def test_a_protected_pool_is_not_deleted_until_protection_is_off(client):
    idp = client("cognito-idp")
    pool = idp.create_user_pool(PoolName="protected", DeletionProtection="ACTIVE")["UserPool"]
    with pytest.raises(ClientError, match="deletion protection"):
        idp.delete_user_pool(UserPoolId=pool["Id"])
    idp.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool["Id"])


def test_a_domain_added_later_gives_the_distribution_its_alias_and_certificate(client):
    """The project's edge template, deployed without a domain, then given one through a change
    set of the same template text: the condition HasDomain flips, so Fn::If picks the alias and
    the ACM certificate ("Condition functions", docs.aws.amazon.com/AWSCloudFormation/latest/
    TemplateReference/intrinsic-function-reference-conditions.html), and CloudFront's API shows
    them once the change set is executed."""
    cfn, cloudfront, acm = client("cloudformation"), client("cloudfront"), client("acm")
    body = (REPO / "templates/edge.yaml").read_text()
    base = {"AppName": "later", "PrimaryRegion": "us-east-1", "SecondaryRegion": "ap-northeast-1",
            "SiteCertificateArn": ""}
    cfn.create_stack(StackName="edge-later", TemplateBody=body, Parameters=[
        {"ParameterKey": k, "ParameterValue": v} for k, v in base.items()])
    dist_id = outputs(cfn, "edge-later")["DistributionId"]
    config = cloudfront.get_distribution(Id=dist_id)["Distribution"]["DistributionConfig"]
    assert config["Aliases"]["Quantity"] == 0
    assert config["ViewerCertificate"]["CloudFrontDefaultCertificate"] is True

    arn = acm.request_certificate(DomainName="app.example.test",
                                  ValidationMethod="DNS")["CertificateArn"]
    later = dict(base, SiteDomain="app.example.test", SiteCertificateArn=arn)
    cfn.create_change_set(StackName="edge-later", ChangeSetName="domain", ChangeSetType="UPDATE",
                          TemplateBody=body, Parameters=[
                              {"ParameterKey": k, "ParameterValue": v} for k, v in later.items()])
    described = cfn.describe_change_set(StackName="edge-later", ChangeSetName="domain")
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    found = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
             for c in described["Changes"]}
    assert found["Distribution"]["Action"] == "Modify"
    assert found["Distribution"]["Replacement"] == "False"
    assert found["SecurityHeadersPolicy"]["Action"] == "Modify"  # its CSP names api.<domain>
    cfn.execute_change_set(StackName="edge-later", ChangeSetName="domain")

    config = cloudfront.get_distribution(Id=dist_id)["Distribution"]["DistributionConfig"]
    assert config["Aliases"] == {"Quantity": 1, "Items": ["app.example.test"]}
    certificate = config["ViewerCertificate"]
    assert certificate["ACMCertificateArn"] == arn
    assert certificate["CloudFrontDefaultCertificate"] is False
    assert certificate["SSLSupportMethod"] == "sni-only"
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_an_alias_without_a_certificate_is_refused(client):
    # "Requirements for using alternate domain names" (docs.aws.amazon.com/AmazonCloudFront/
    # latest/DeveloperGuide/CNAMEs.html): the alias needs a certificate that covers it.
    cfn = client("cloudformation")
    config = distribution_config(comment="alias")
    config["Aliases"] = ["nocert.example.test"]
    body = json.loads(edge_template())
    body["Resources"]["Distribution"]["Properties"]["DistributionConfig"] = config
    # Names of their own: a refused stack leaves its policies behind in the emulator.
    body["Resources"]["Oac"]["Properties"]["OriginAccessControlConfig"]["Name"] = "nocert"
    body["Resources"]["Headers"]["Properties"]["ResponseHeadersPolicyConfig"]["Name"] = "nocert"
    with pytest.raises(ClientError, match="InvalidViewerCertificate"):
        cfn.create_stack(StackName="edge-nocert", TemplateBody=json.dumps(body))
