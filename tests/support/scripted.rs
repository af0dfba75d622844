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
