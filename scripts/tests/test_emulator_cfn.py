"""The emulator's CloudFormation support for ACM certificates and API Gateway custom domains
(scripts/emulator_cfn.py), checked through the services' own APIs.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import json
import re

import pytest
from botocore.exceptions import ClientError

ZONE_NAME = "example.test"
API = f"api.{ZONE_NAME}"
# The published API Gateway regional hosted zones of the project's two default regions.
REGIONAL_ZONES = {"us-east-1": "Z1UJRXOUMOOFQ8", "ap-northeast-1": "Z1YSHQZHG15GKL"}


@pytest.fixture(scope="module")
def zone_id(client):
    zone = client("route53").create_hosted_zone(Name=ZONE_NAME, CallerReference="tests")
    return zone["HostedZone"]["Id"].removeprefix("/hostedzone/")


def certificate(zone):
    return {
        "Type": "AWS::CertificateManager::Certificate",
        "Properties": {
            "DomainName": API,
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": API, "HostedZoneId": zone}],
            "Tags": [{"Key": "mraa:app", "Value": "tests"}],
        },
    }


def domain_template(zone, certificate_arn=None):
    """A REST API with a prod stage, served under api.example.test/routing."""
    cert = certificate_arn or {"Ref": "Cert"}
    resources = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Name": "tests", "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
        "State": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "PathPart": "state"}},
        # moto's Method model reads IntegrationHttpMethod and Uri whatever the type (no MOCK).
        "Get": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "State"}, "HttpMethod": "GET",
            "AuthorizationType": "NONE", "Integration": {
                "Type": "HTTP_PROXY", "IntegrationHttpMethod": "GET",
                "Uri": "https://example.test/state"}}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "Get",
                       "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "prod"}},
        "Domain": {"Type": "AWS::ApiGateway::DomainName", "Properties": {
            "DomainName": API, "RegionalCertificateArn": cert,
            "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2",
            "Tags": [{"Key": "mraa:app", "Value": "tests"}]}},
        "Mapping": {"Type": "AWS::ApiGateway::BasePathMapping", "DependsOn": "Deployment",
                    "Properties": {"DomainName": {"Ref": "Domain"}, "RestApiId": {"Ref": "Api"},
                                   "Stage": "prod", "BasePath": "routing"}},
    }
    if certificate_arn is None:
        resources["Cert"] = certificate(zone)
    return json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources,
        "Outputs": {
            "RegionalDomainName": {"Value": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]}},
            "RegionalHostedZoneId": {"Value": {"Fn::GetAtt": ["Domain", "RegionalHostedZoneId"]}},
            "ApiId": {"Value": {"Ref": "Api"}},
            "CertificateArn": {"Value": cert},
        },
    })


def outputs(stack):
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def records(client, zone):
    sets = client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {(r["Name"], r["Type"]): [v["Value"] for v in r.get("ResourceRecords", [])]
            for r in sets}


def assert_validation_record_in(client, zone, cert):
    (option,) = cert["DomainValidationOptions"]
    record = option["ResourceRecord"]
    assert records(client, zone)[(record["Name"], record["Type"])] == [record["Value"]]
    return record


@pytest.mark.parametrize("region", sorted(REGIONAL_ZONES))
def test_custom_domain_stack_creates_and_deletes_through_the_services(client, zone_id, region):
    cfn, acm, apigw = client("cloudformation", region), client("acm", region), client(
        "apigateway", region)
    name = f"domain-{region}"
    cfn.create_stack(StackName=name, TemplateBody=domain_template(zone_id))
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    out = outputs(stack)

    cert = acm.describe_certificate(CertificateArn=out["CertificateArn"])["Certificate"]
    assert cert["Status"] == "ISSUED" and cert["DomainName"] == API
    record = assert_validation_record_in(client, zone_id, cert)
    assert record["Type"] == "CNAME" and record["Name"].endswith(f".{API}.")

    domain = apigw.get_domain_name(domainName=API)
    assert re.fullmatch(rf"d-[a-z0-9]{{10}}\.execute-api\.{region}\.amazonaws\.com",
                        domain["regionalDomainName"])
    assert domain["regionalDomainName"] == out["RegionalDomainName"]
    assert domain["regionalHostedZoneId"] == out["RegionalHostedZoneId"] == REGIONAL_ZONES[region]
    assert domain["regionalCertificateArn"] == out["CertificateArn"]
    assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert "distributionDomainName" not in domain  # AWS gives none to a regional domain

    (mapping,) = apigw.get_base_path_mappings(domainName=API)["items"]
    assert (mapping["basePath"], mapping["restApiId"], mapping["stage"]) == (
        "routing", out["ApiId"], "prod")

    cfn.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="NotFound"):
        apigw.get_domain_name(domainName=API)
    with pytest.raises(ClientError, match="NotFound"):
        apigw.get_base_path_mappings(domainName=API)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        acm.describe_certificate(CertificateArn=out["CertificateArn"])
    # ACM's validation record stays, as on AWS.
    assert records(client, zone_id)[(record["Name"], "CNAME")] == [record["Value"]]


def test_a_certificate_from_another_region_fails_the_domain(client, zone_id):
    """API Gateway takes a regional certificate from its own region only."""
    west = client("cloudformation", "us-west-2")
    west.create_stack(StackName="cert-west", TemplateBody=json.dumps(
        {"Resources": {"Cert": certificate(zone_id)},
         "Outputs": {"Arn": {"Value": {"Ref": "Cert"}}}}))
    (stack,) = west.describe_stacks(StackName="cert-west")["Stacks"]
    arn = outputs(stack)["Arn"]
    assert client("acm", "us-west-2").describe_certificate(
        CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"

    east = client("cloudformation", "us-east-1")
    # moto creates resources inside CreateStack, so the failure is that call's error (AWS would
    # accept the call, then fail and roll back the stack); either way the stack never completes.
    with pytest.raises(ClientError) as failure:
        east.create_stack(StackName="domain-wrong-region",
                          TemplateBody=domain_template(zone_id, certificate_arn=arn))
    error = failure.value.response["Error"]
    assert error["Code"] == "BadRequestException", error
    assert arn in error["Message"] and "us-east-1" in error["Message"], error
    # ListStacks, not DescribeStacks: moto would evaluate the outputs, retrying the failed
    # resource (see the report in emulator_cfn.py's docstring).
    (summary,) = [s for s in east.list_stacks()["StackSummaries"]
                  if s["StackName"] == "domain-wrong-region"]
    assert summary["StackStatus"] != "CREATE_COMPLETE"
    with pytest.raises(ClientError, match="NotFound"):
        client("apigateway", "us-east-1").get_domain_name(domainName=API)


def test_stack_set_instances_get_a_certificate_per_region_sharing_one_record(
        client, zone_id):
    """The api-domain StackSet's shape: one certificate per region, for the same name."""
    cfn = client("cloudformation")
    cfn.create_stack_set(StackSetName="certs", TemplateBody=json.dumps(
        {"Resources": {"Cert": certificate(zone_id)}}))
    regions = sorted(REGIONAL_ZONES)
    cfn.create_stack_instances(StackSetName="certs", Accounts=["123456789012"],
                               Regions=regions)
    arns = []
    for region in regions:
        acm = client("acm", region)
        (summary,) = acm.list_certificates()["CertificateSummaryList"]
        cert = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
        assert cert["Status"] == "ISSUED" and f":{region}:" in cert["CertificateArn"]
        assert_validation_record_in(client, zone_id, cert)
        arns.append(cert["CertificateArn"])
    cfn.delete_stack_instances(StackSetName="certs", Accounts=["123456789012"],
                               Regions=regions, RetainStacks=False)
    for region, arn in zip(regions, arns):
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            client("acm", region).describe_certificate(CertificateArn=arn)
