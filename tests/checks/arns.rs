//! The ARN IAM evaluates when a CloudFormation handler acts on a resource: the
//! resource's own ARN, or for a resource that lives inside another one (a
//! bucket policy, a Lambda permission, a user pool client, the parts of a REST
//! API) the ARN of what it is attached to, in the form the Service
//! Authorization Reference gives for the service.

use serde_yaml::Value;

use crate::cfn::{ACCOUNT, Instance, PARTITION, field, type_of};

/// `None` for a type no check here knows (the handler check then fails and
/// names it, so that a new type is added here rather than passed unseen).
pub fn arn_of(t: &Instance, id: &str, resource: &Value) -> Option<String> {
    let props = field(resource, "Properties");
    let prop = |name: &str| {
        props
            .and_then(|p| field(p, name))
            .and_then(|v| t.resolve(v))
    };
    let own = || t.reference(id);
    let region = &t.region;
    let regional = |service: &str, rest: String| {
        format!("arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{rest}")
    };
    let api = |rest: String| format!("arn:{PARTITION}:apigateway:{region}::/restapis/{rest}");
    Some(match type_of(resource) {
        "AWS::S3::Bucket" => format!("arn:{PARTITION}:s3:::{}", own()?),
        "AWS::S3::BucketPolicy" => format!("arn:{PARTITION}:s3:::{}", prop("Bucket")?),
        "AWS::DynamoDB::Table" => regional("dynamodb", format!("table/{}", own()?)),
        "AWS::IAM::Role" => format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{}", own()?),
        "AWS::Lambda::Function" => regional("lambda", format!("function:{}", own()?)),
        // FunctionName is the function's ARN or its name.
        "AWS::Lambda::Permission" => {
            let function = prop("FunctionName")?;
            if function.starts_with("arn:") {
                function
            } else {
                regional("lambda", format!("function:{function}"))
            }
        }
        "AWS::Logs::LogGroup" => regional("logs", format!("log-group:{}", own()?)),
        "AWS::SSM::Parameter" => regional(
            "ssm",
            format!("parameter/{}", own()?.trim_start_matches('/')),
        ),
        "AWS::Events::Rule" => regional("events", format!("rule/{}", own()?)),
        "AWS::Cognito::UserPool" => regional("cognito-idp", format!("userpool/{}", own()?)),
        // The replica and its regional settings act on the shared pool id.
        "AWS::Cognito::UserPoolClient"
        | "AWS::Cognito::UserPoolReplica"
        | "AWS::Cognito::UserPoolRegionalConfigurationAttachment" => {
            regional("cognito-idp", format!("userpool/{}", prop("UserPoolId")?))
        }
        "AWS::KMS::Key" | "AWS::KMS::ReplicaKey" => regional("kms", format!("key/{}", own()?)),
        "AWS::SNS::Topic" => regional("sns", prop("TopicName")?),
        // Subscribing acts on the topic.
        "AWS::SNS::Subscription" => prop("TopicArn")?,
        "AWS::CloudWatch::Alarm" => regional("cloudwatch", format!("alarm:{}", prop("AlarmName")?)),
        "AWS::CertificateManager::Certificate" => own()?,
        // CloudFront is global: no region in its ARNs, ids only.
        "AWS::CloudFront::Distribution" => {
            format!(
                "arn:{PARTITION}:cloudfront::{ACCOUNT}:distribution/{}",
                own()?
            )
        }
        "AWS::CloudFront::OriginAccessControl" => format!(
            "arn:{PARTITION}:cloudfront::{ACCOUNT}:origin-access-control/{}",
            own()?
        ),
        "AWS::CloudFront::ResponseHeadersPolicy" => format!(
            "arn:{PARTITION}:cloudfront::{ACCOUNT}:response-headers-policy/{}",
            own()?
        ),
        // A presigned URL, not an IAM resource: its handlers name no
        // permission; the ARN is its stack's.
        "AWS::CloudFormation::WaitConditionHandle" => {
            regional("cloudformation", format!("stack/*/{}", own()?))
        }
        "AWS::ApiGateway::RestApi" => api(own()?),
        "AWS::ApiGateway::DomainName" => {
            format!(
                "arn:{PARTITION}:apigateway:{region}::/domainnames/{}",
                own()?
            )
        }
        "AWS::ApiGateway::BasePathMapping" => format!(
            "arn:{PARTITION}:apigateway:{region}::/domainnames/{}/basepathmappings/{}",
            prop("DomainName")?,
            prop("BasePath").unwrap_or_else(|| "(none)".into())
        ),
        kind if kind.starts_with("AWS::ApiGateway::") => {
            let rest_api = prop("RestApiId")?;
            let part = match kind {
                "AWS::ApiGateway::Resource" => format!("resources/{}", own()?),
                "AWS::ApiGateway::Method" => format!(
                    "resources/{}/methods/{}",
                    prop("ResourceId")?,
                    prop("HttpMethod")?
                ),
                "AWS::ApiGateway::Deployment" => format!("deployments/{}", own()?),
                "AWS::ApiGateway::Authorizer" => format!("authorizers/{}", own()?),
                "AWS::ApiGateway::Model" => format!("models/{}", prop("Name")?),
                "AWS::ApiGateway::RequestValidator" => format!("requestvalidators/{}", own()?),
                "AWS::ApiGateway::GatewayResponse" => {
                    format!("gatewayresponses/{}", prop("ResponseType")?)
                }
                _ => return None,
            };
            api(format!("{rest_api}/{part}"))
        }
        _ => return None,
    })
}
