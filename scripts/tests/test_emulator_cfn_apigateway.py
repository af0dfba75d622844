"""API Gateway types in the emulator's CloudFormation (scripts/emulator_cfn_apigateway.py), read
back through API Gateway's own API after create, update and delete.

Run from the repository root: .venv/bin/python -m pytest -q scripts/tests
"""
import json

import pytest
from botocore.exceptions import ClientError

POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_example"


def template(validate_body=True, status="401"):
    api = {"Ref": "Api"}
    return json.dumps({"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "types"}},
        "Items": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": api, "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "PathPart": "items"}},
        "Users": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "Name": "users", "RestApiId": api, "Type": "COGNITO_USER_POOLS",
            "IdentitySource": "method.request.header.Authorization", "ProviderARNs": [POOL]}},
        "Input": {"Type": "AWS::ApiGateway::Model", "Properties": {
            "RestApiId": api, "Name": "Input", "ContentType": "application/json",
            "Schema": {"type": "object", "required": ["text"]}}},
        "Validator": {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {
            "RestApiId": api, "Name": "body", "ValidateRequestBody": validate_body,
            "ValidateRequestParameters": False}},
        "Denied": {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {
            "RestApiId": api, "ResponseType": "UNAUTHORIZED", "StatusCode": status,
            "ResponseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}}},
        "Post": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": api, "ResourceId": {"Ref": "Items"}, "HttpMethod": "POST",
            "AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "Users"},
            "RequestValidatorId": {"Ref": "Validator"},
            "RequestModels": {"application/json": {"Ref": "Input"}},
            "Integration": {
                "Type": "AWS", "IntegrationHttpMethod": "POST",
                "Uri": "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem",
                "RequestTemplates": {"application/json": "{}"},
                "IntegrationResponses": [{"StatusCode": "200"},
                                         {"StatusCode": "400", "SelectionPattern": "4\\d{2}"}]},
            "MethodResponses": [{"StatusCode": "200"}, {"StatusCode": "400"}]}},
    }, "Outputs": {
        "Authorizer": {"Value": {"Ref": "Users"}},
        "AuthorizerId": {"Value": {"Fn::GetAtt": ["Users", "AuthorizerId"]}},
        "Model": {"Value": {"Ref": "Input"}},
        "Validator": {"Value": {"Ref": "Validator"}},
    }})


def test_types_round_trip(client):
    cfn, apigw = client("cloudformation"), client("apigateway")
    cfn.create_stack(StackName="types", TemplateBody=template())
    stack = cfn.describe_stacks(StackName="types")["Stacks"][0]
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    api = apigw.get_rest_apis()["items"][0]["id"]
    authorizer = apigw.get_authorizer(restApiId=api, authorizerId=out["Authorizer"])
    assert authorizer["providerARNs"] == [POOL] and out["AuthorizerId"] == authorizer["id"]
    assert out["Model"] == "Input"
    assert json.loads(apigw.get_model(restApiId=api, modelName="Input")["schema"]) == {
        "type": "object", "required": ["text"]}
    validator = apigw.get_request_validator(restApiId=api, requestValidatorId=out["Validator"])
    assert validator["validateRequestBody"] is True
    response = apigw.get_gateway_response(restApiId=api, responseType="UNAUTHORIZED")
    assert response["statusCode"] == "401"
    resource = next(r for r in apigw.get_resources(restApiId=api)["items"]
                    if r.get("pathPart") == "items")
    method = apigw.get_method(restApiId=api, resourceId=resource["id"], httpMethod="POST")
    assert method["authorizerId"] == out["Authorizer"]
    assert method["requestValidatorId"] == out["Validator"]
    integration = method["methodIntegration"]
    assert integration["requestTemplates"] == {"application/json": "{}"}
    assert integration["integrationResponses"]["400"]["selectionPattern"] == "4\\d{2}"
    assert set(method["methodResponses"]) == {"200", "400"}

    cfn.update_stack(StackName="types", TemplateBody=template(validate_body=False, status="403"))
    validator = apigw.get_request_validator(restApiId=api, requestValidatorId=out["Validator"])
    assert validator["validateRequestBody"] is False
    assert apigw.get_gateway_response(restApiId=api, responseType="UNAUTHORIZED")[
        "statusCode"] == "403"

    cfn.delete_stack(StackName="types")
    # moto leaves the RestApi itself behind; the types here go with the stack.
    assert apigw.get_authorizers(restApiId=api)["items"] == []
    assert apigw.get_request_validators(restApiId=api)["items"] == []
    assert apigw.get_models(restApiId=api)["items"] == []


def test_refusals(client):
    """AWS refuses a Cognito authorizer without pools, and a second response of one type."""
    cfn = client("cloudformation")
    body = json.loads(template())
    del body["Resources"]["Users"]["Properties"]["ProviderARNs"]
    with pytest.raises(ClientError, match="ProviderARNs"):
        cfn.create_stack(StackName="no-pools", TemplateBody=json.dumps(body))
    body = json.loads(template())
    body["Resources"]["Denied2"] = body["Resources"]["Denied"]
    with pytest.raises(ClientError, match="already exists"):
        cfn.create_stack(StackName="twice", TemplateBody=json.dumps(body))
