//! SDK clients that answer from scripted responses (aws-smithy-mocks), for
//! the AWS behaviour the emulator cannot show. Built by hand rather than with
//! `mock_client!`, which needs the SDK crates' `test-util` feature.

/// A client of `$sdk` answering from `$rules` under rule mode `$mode`, with
/// retry configuration `$retry` (disabled: each scripted answer is exactly
/// one call).
macro_rules! scripted_client {
    ($sdk:ident, $mode:expr, $region:expr, $rules:expr, $retry:expr) => {{
        let mut interceptor = ::aws_smithy_mocks::MockResponseInterceptor::new().rule_mode($mode);
        let rules: &[&::aws_smithy_mocks::Rule] = $rules;
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new($region.to_string()))
                .credentials_provider($sdk::config::Credentials::new(
                    "AKIDSCRIPTED",
                    "scripted-secret",
                    None,
                    None,
                    "scripted",
                ))
                .http_client(::aws_smithy_mocks::create_mock_http_client())
                .interceptor(interceptor)
                .retry_config($retry)
                .build(),
        )
    }};
}

/// A client of `$sdk` answering from `$rules` in order
/// (`RuleMode::Sequential`). Retries are off unless a retry config is given,
/// so each scripted answer is exactly one call.
macro_rules! scripted {
    ($sdk:ident, $region:expr, $rules:expr) => {
        scripted!(
            $sdk,
            $region,
            $rules,
            $sdk::config::retry::RetryConfig::disabled()
        )
    };
    ($sdk:ident, $region:expr, $rules:expr, $retry:expr) => {
        scripted_client!(
            $sdk,
            ::aws_smithy_mocks::RuleMode::Sequential,
            $region,
            $rules,
            $retry
        )
    };
}

/// One region's clients: CloudFormation answers from `cfn_rules`, every
/// other service from an empty script (any call to it fails the test).
pub fn region_clients(
    region: &str,
    cfn_rules: &[&::aws_smithy_mocks::Rule],
) -> mraa::aws::RegionClients {
    mraa::aws::RegionClients {
        region: region.to_string(),
        cfn: scripted!(aws_sdk_cloudformation, region, cfn_rules),
        s3: scripted!(aws_sdk_s3, region, &[]),
        dynamodb: scripted!(aws_sdk_dynamodb, region, &[]),
        cognito: scripted!(aws_sdk_cognitoidentityprovider, region, &[]),
        apigateway: scripted!(aws_sdk_apigateway, region, &[]),
    }
}
