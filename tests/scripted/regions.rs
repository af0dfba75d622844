//! An opt-in region the account has not enabled, as STS there answers: the
//! deploy's preflight names it and how to enable it, before any change. The
//! same answer from a region enabled by default means bad credentials, not a
//! disabled region, and is reported as such.

use aws_sdk_sts as sts;
use aws_smithy_mocks::{Rule, mock};

use sts::operation::get_caller_identity::GetCallerIdentityOutput;

use mraa::aws::disabled_opt_in_regions;
use mraa::error::MraaError;
use mraa::regions::refuse_disabled;

fn client(region: &str, rules: &[&Rule]) -> sts::Client {
    scripted!(sts, region, rules)
}

/// STS's answer in a region the account has not enabled (query protocol,
/// HTTP 403), as in aws/aws-sdk-ruby issue 2850 and remotion-dev issue 34.
fn rejected() -> Rule {
    mock!(sts::Client::get_caller_identity)
        .sequence()
        .http_status(
            403,
            Some(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                 <Message>The security token included in the request is invalid.</Message>\
                 </Error><RequestId>5ccc7dcd</RequestId></ErrorResponse>"
                    .to_string(),
            ),
        )
        .build()
}

fn accepted() -> Rule {
    mock!(sts::Client::get_caller_identity).then_output(|| {
        GetCallerIdentityOutput::builder()
            .account("123456789012")
            .arn("arn:aws:iam::123456789012:user/ci")
            .build()
    })
}

#[tokio::test]
async fn a_disabled_opt_in_region_is_refused_with_how_to_enable_it() {
    let (south, home) = (rejected(), accepted());
    let disabled = disabled_opt_in_regions(&["eu-west-1", "eu-south-1"], |region| match region {
        "eu-south-1" => client(region, &[&south]),
        "us-east-1" => client(region, &[&home]),
        other => panic!("no call expected in {other}: it is enabled by default"),
    })
    .await
    .expect("the probe answers");
    assert_eq!(disabled, ["eu-south-1"]);
    assert_eq!(south.num_calls(), 1);
    assert_eq!(home.num_calls(), 1, "the credentials are confirmed once");
    let Err(MraaError::Refused(message)) = refuse_disabled(&disabled) else {
        panic!("a refusal");
    };
    for needle in [
        "eu-south-1 is not enabled for this account",
        "aws account enable-region --region-name eu-south-1",
        "nothing was changed",
    ] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
}

#[tokio::test]
async fn enabled_regions_pass_with_one_call_per_opt_in_region() {
    let (south, cape) = (accepted(), accepted());
    let disabled = disabled_opt_in_regions(&["eu-south-1", "af-south-1"], |region| match region {
        "eu-south-1" => client(region, &[&south]),
        "af-south-1" => client(region, &[&cape]),
        other => panic!("no call expected in {other}"),
    })
    .await
    .expect("the probe answers");
    assert!(disabled.is_empty());
    assert!(refuse_disabled(&disabled).is_ok());
    assert_eq!((south.num_calls(), cape.num_calls()), (1, 1));
}

#[tokio::test]
async fn rejected_credentials_everywhere_are_a_credentials_error() {
    let (south, home) = (rejected(), rejected());
    let result = disabled_opt_in_regions(&["eu-west-1", "eu-south-1"], |region| match region {
        "eu-south-1" => client(region, &[&south]),
        _ => client(region, &[&home]),
    })
    .await;
    assert!(
        matches!(result, Err(MraaError::Credentials(_))),
        "{result:?}"
    );
}
