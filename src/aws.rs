//! AWS clients: one SDK configuration loaded once (profile, credentials,
//! endpoint, retries), then one client per (service, region), passed down
//! explicitly. Never a process-wide region.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use crate::config::Settings;
use crate::error::{AccessError, AccessKind, AwsError, MraaError, Result};
use crate::ui::silence::Watch;

/// Retries: the SDK's standard mode (exponential backoff with jitter, and a
/// retry-quota token bucket that stops retry storms), with more attempts than
/// its default 3 because a deploy makes hundreds of calls and throttling on
/// CloudFormation and S3 control planes is routine under load.
pub const MAX_ATTEMPTS: u32 = 6;
/// A region that does not accept a TCP connection in this time is treated as
/// unreachable (status exits 4 instead of hanging).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One HTTP attempt; a whole call may take `MAX_ATTEMPTS` of them.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// A whole call, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);
/// The first call to a region (finding the deployment, probing a region for
/// status) gets a short budget, so that a region that does not answer is
/// known as such in seconds instead of after every retry of every call.
pub const PROBE_ATTEMPTS: u32 = 2;
pub const PROBE_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(12);
/// The search for the deployment record asks every other region at once,
/// each call with this budget; the whole search ends after `SEARCH_TIMEOUT`
/// whatever the regions do, so that a command with the primary down still
/// finishes in well under 30 s.
pub const SEARCH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const SEARCH_CALL_TIMEOUT: Duration = Duration::from_secs(5);
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(6);

/// CloudFormation configuration override for a probe call.
pub fn probe_budget() -> aws_sdk_cloudformation::config::Builder {
    aws_sdk_cloudformation::config::Builder::default()
        .retry_config(probe_retries())
        .timeout_config(probe_timeouts())
}

fn probe_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(PROBE_ATTEMPTS)
}

fn probe_timeouts() -> TimeoutConfig {
    short_timeouts(PROBE_ATTEMPT_TIMEOUT, PROBE_TIMEOUT)
}

fn short_timeouts(attempt: Duration, call: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(attempt)
        .operation_timeout(call)
        .build()
}

/// The identity behind the credentials.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

/// The clients of one region.
#[derive(Clone, Debug)]
pub struct RegionClients {
    pub region: String,
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub apigateway: aws_sdk_apigateway::Client,
}

/// Clients for the deployment's two regions and the global services.
#[derive(Clone, Debug)]
pub struct Aws {
    pub primary: RegionClients,
    pub secondary: RegionClients,
    /// CloudFront is global; its control plane lives in us-east-1.
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub sts: aws_sdk_sts::Client,
    /// The loaded configuration, for clients made on demand (STS in a region).
    pub base: SdkConfig,
    /// True when calls go to an endpoint other than AWS's own (an emulator):
    /// effects such an endpoint cannot show are reported as unverified.
    pub custom_endpoint: bool,
}

impl Aws {
    /// Builds every client from one loaded configuration. Makes no AWS call.
    pub async fn new(settings: &Settings, secondary: &str) -> Aws {
        let base = load(settings).await;
        let custom_endpoint = base.endpoint_url().is_some();
        Aws {
            primary: RegionClients::new(&base, &settings.primary, custom_endpoint),
            secondary: RegionClients::new(&base, secondary, custom_endpoint),
            cloudfront: aws_sdk_cloudfront::Client::new(&in_region(&base, "us-east-1")),
            sts: aws_sdk_sts::Client::new(&base),
            custom_endpoint,
            base,
        }
    }

    pub fn regions(&self) -> [&RegionClients; 2] {
        [&self.primary, &self.secondary]
    }

    pub fn region(&self, region: &str) -> &RegionClients {
        if self.secondary.region == region {
            &self.secondary
        } else {
            &self.primary
        }
    }

    /// CloudFormation in `region`: the deployment's own clients for its two
    /// regions, a new one elsewhere (the site certificate's us-east-1).
    pub fn cfn_in(&self, region: &str) -> aws_sdk_cloudformation::Client {
        match self.regions().into_iter().find(|c| c.region == region) {
            Some(clients) => clients.cfn.clone(),
            None => aws_sdk_cloudformation::Client::new(&in_region(&self.base, region)),
        }
    }

    /// ACM in `region`: a certificate lives in the region that serves it
    /// (the site's in us-east-1). Made on demand, like Route 53.
    pub fn acm_in(&self, region: &str) -> aws_sdk_acm::Client {
        aws_sdk_acm::Client::new(&in_region(&self.base, region))
    }

    /// CloudWatch in `region`, where AWS publishes that region's replication
    /// figures. Made on demand, with the probe budget: `status` and the state
    /// commands read it and must not hang on a region that does not answer.
    pub fn cloudwatch_in(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        let config = aws_sdk_cloudwatch::config::Builder::from(&in_region(&self.base, region))
            .retry_config(probe_retries())
            .timeout_config(probe_timeouts())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(config)
    }

    /// SNS in `region`, where the alarms' topic of that region lives; with
    /// the probe budget, since `status` reads it.
    pub fn sns_in(&self, region: &str) -> aws_sdk_sns::Client {
        let config = aws_sdk_sns::config::Builder::from(&in_region(&self.base, region))
            .retry_config(probe_retries())
            .timeout_config(probe_timeouts())
            .build();
        aws_sdk_sns::Client::from_conf(config)
    }

    /// Route 53 is global; its control plane lives in us-east-1. Made on
    /// demand: only a deployment with a custom domain calls it.
    pub fn route53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&in_region(&self.base, "us-east-1"))
    }

    /// The same with the probe budget: for `status` and the state commands,
    /// which must not hang when Route 53's control plane (in us-east-1) does
    /// not answer.
    pub fn route53_probe(&self) -> aws_sdk_route53::Client {
        let config = aws_sdk_route53::config::Builder::from(&in_region(&self.base, "us-east-1"))
            .retry_config(probe_retries())
            .timeout_config(probe_timeouts())
            .build();
        aws_sdk_route53::Client::from_conf(config)
    }

    /// STS in `region` with the probe budget: the one cheap call that tells
    /// whether the account may use an opt-in region at all.
    pub fn sts_probe_in(&self, region: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&in_region(&self.base, region))
            .retry_config(probe_retries())
            .timeout_config(probe_timeouts())
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// DynamoDB in `region` with the search's budget: one of the many
    /// regions asked at once for the deployment record.
    pub fn dynamodb_search_in(&self, region: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(&in_region(&self.base, region))
            .retry_config(probe_retries())
            .timeout_config(short_timeouts(SEARCH_ATTEMPT_TIMEOUT, SEARCH_CALL_TIMEOUT))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// The same clients with `secondary` as the secondary region (found
    /// after the clients were made); no new configuration is loaded.
    pub fn with_secondary(mut self, secondary: &str) -> Aws {
        self.secondary = RegionClients::new(&self.base, secondary, self.custom_endpoint);
        self
    }

    /// Who the credentials belong to: checks them once, before any change.
    pub async fn caller(&self) -> Result<Caller> {
        caller_via(&self.sts).await
    }

    /// The same, asked of STS in `region` (when the primary does not answer).
    pub async fn caller_in(&self, region: &str) -> Result<Caller> {
        caller_via(&aws_sdk_sts::Client::new(&in_region(&self.base, region))).await
    }
}

async fn caller_via(sts: &aws_sdk_sts::Client) -> Result<Caller> {
    let region = sts
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let identity = sts.get_caller_identity().send().await.map_err(|e| {
        if is_unreachable(&e) {
            MraaError::Unreachable {
                region: region.clone(),
                cause: sdk_message(&e),
            }
        } else {
            let cause = sdk_message(&e);
            // An answer that is not about the credentials still means they
            // could not be confirmed.
            let kind = access_kind(&cause).unwrap_or(AccessKind::Invalid);
            access_error(kind, "sts:GetCallerIdentity", &region, cause)
        }
    })?;
    match (identity.account(), identity.arn()) {
        (Some(account), Some(arn)) => Ok(Caller {
            account: account.to_string(),
            arn: arn.to_string(),
        }),
        _ => Err(aws_error(
            "credentials",
            region,
            "sts:GetCallerIdentity",
            "the caller identity has no account or ARN",
        )),
    }
}

/// The opt-in regions among `regions` that the account has not enabled.
///
/// A region the account has not enabled takes no request of it
/// (<https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html>):
/// STS there answers `GetCallerIdentity` with `InvalidClientTokenId` ("The
/// security token included in the request is invalid", as reported in
/// aws/aws-sdk-ruby issue 2850 for eu-south-1), the answer it gives bad
/// credentials too. So it is taken as "not enabled" only once STS in a
/// region enabled by default, us-east-1, accepts the same credentials.
/// Regions enabled by default cost no call.
pub async fn disabled_opt_in_regions(
    regions: &[&str],
    sts_in: impl Fn(&str) -> aws_sdk_sts::Client,
) -> Result<Vec<String>> {
    let mut rejected = Vec::new();
    for region in regions.iter().filter(|r| crate::regions::is_opt_in(r)) {
        match sts_in(region).get_caller_identity().send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("InvalidClientTokenId") => rejected.push(region.to_string()),
            Err(e) => return Err(aws_error("preflight", *region, "sts", sdk_message(&e))),
        }
    }
    if !rejected.is_empty() {
        caller_via(&sts_in("us-east-1")).await?;
    }
    Ok(rejected)
}

/// The region did not answer at all (connection refused or reset, DNS,
/// timeouts), as opposed to answering with an error. Credentials that could
/// not be loaded also end the call before it is sent, as a dispatch failure:
/// those are the caller's to fix, not an outage.
pub fn is_unreachable<E, R>(err: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) && !is_missing_credentials(err)
}

/// The same rule for a cause already turned into text by [`sdk_message`]
/// (whose error chain names the dispatch failure or timeout): the one place
/// that says which words mean the region did not answer.
pub fn says_unreachable(cause: &str) -> bool {
    if access_kind(cause).is_some() {
        return false;
    }
    let cause = cause.to_ascii_lowercase();
    [
        "dispatch failure",
        "timeout",
        "timed out",
        "connection refused",
        "connection reset",
        "connection closed",
        "error trying to connect",
        "dns error",
    ]
    .iter()
    .any(|needle| cause.contains(needle))
}

/// What the SDK's credential providers say when they could not load any
/// credentials (aws-credential-types' `CredentialsError` and the default
/// chain's own message).
const CREDENTIALS_NOT_LOADED: [&str; 6] = [
    "no credentials found",
    "credential provider was not enabled",
    "error occurred while loading credentials",
    "credentials provider was not properly configured",
    "credentials provider timed out",
    "unexpected credentials error",
];

/// Whether an answer, as [`sdk_message`] renders it (`Code: message`), is
/// about the caller's credentials or access, and which. The codes are AWS's
/// common errors ("Common Errors", AWS Management Console documentation,
/// https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html:
/// AccessDeniedException, ExpiredTokenException, IncompleteSignature,
/// MissingAuthenticationToken, UnrecognizedClientException; STS's
/// InvalidClientTokenId and ExpiredToken; S3's AccessDenied,
/// InvalidAccessKeyId and SignatureDoesNotMatch). Only the leading code
/// counts: a resource's failure inside a stack that quotes AccessDenied is
/// the template's business, not the caller's.
pub fn access_kind(cause: &str) -> Option<AccessKind> {
    let lower = cause.to_ascii_lowercase();
    if CREDENTIALS_NOT_LOADED.iter().any(|n| lower.contains(n)) {
        return Some(AccessKind::Missing);
    }
    let code = cause
        .split(|c: char| c == ':' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    match code {
        "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => {
            Some(AccessKind::Expired)
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "AuthFailure" => Some(AccessKind::Invalid),
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            Some(AccessKind::Denied)
        }
        _ => None,
    }
}

/// A call refused for the caller's credentials or access.
pub fn access_error(
    kind: AccessKind,
    call: impl Into<String>,
    region: impl Into<String>,
    cause: impl Into<String>,
) -> MraaError {
    MraaError::Credentials(AccessError {
        kind,
        call: call.into(),
        region: region.into(),
        cause: cause.into(),
        credentials: None,
    })
}

/// Where the SDK's default chain takes credentials from, as far as the
/// profile setting and the environment tell. The chain's order
/// (aws-config's `DefaultCredentialsChain`): environment variables, then
/// the profile (with SSO), web identity, the container's role, the
/// instance's role.
pub fn credential_source(profile: Option<&str>) -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if var("AWS_ACCESS_KEY_ID").is_some() {
        "the environment (AWS_ACCESS_KEY_ID)".to_string()
    } else if let Some(profile) = profile {
        format!("profile `{profile}`")
    } else if let Some(profile) = var("AWS_PROFILE") {
        format!("profile `{profile}` (AWS_PROFILE)")
    } else if var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)".to_string()
    } else if var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        "the container's role".to_string()
    } else {
        "the default chain: environment, profile `default` (SSO included), web identity, \
         container and instance role"
            .to_string()
    }
}

impl RegionClients {
    fn new(base: &SdkConfig, region: &str, custom_endpoint: bool) -> RegionClients {
        let config = in_region(base, region);
        // Emulators serve buckets on one host: no virtual-hosted names.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(custom_endpoint)
            .interceptor(Watch::new("s3", region))
            .build();
        // Each call is watched, so that a row can say which endpoint keeps
        // it waiting (src/ui/silence.rs).
        let watch = |service| Watch::new(service, region);
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::config::Builder::from(&config)
                .interceptor(watch("cloudformation"))
                .build(),
        );
        // Asked after Ctrl-C what of the run still goes on.
        crate::ui::in_flight::keep_client(region, &cfn);
        RegionClients {
            region: region.to_string(),
            cfn,
            s3: aws_sdk_s3::Client::from_conf(s3),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&config)
                    .interceptor(watch("dynamodb"))
                    .build(),
            ),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(&config),
            apigateway: aws_sdk_apigateway::Client::new(&config),
        }
    }
}

async fn load(settings: &Settings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.primary.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

fn in_region(base: &SdkConfig, region: &str) -> SdkConfig {
    base.to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

/// `Code: message` of a service error, or the whole error chain otherwise
/// (connection refused, timeouts, credential problems).
pub fn sdk_message<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => match err {
            // A body the SDK could not read; the raw response is noise here.
            SdkError::ServiceError(e) => unreadable(e.raw()),
            SdkError::ResponseError(e) => unreadable(e.raw()),
            _ => error_chain(err),
        },
    }
}

/// The error and its causes, one after the other, without the debug dump
/// the SDK's own context display appends.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    let text = parts.join(": ");
    text.lines().next().unwrap_or_default().to_string()
}

/// No credentials could be found at all (as opposed to rejected ones).
pub fn is_missing_credentials<E, R>(err: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if !matches!(err, SdkError::DispatchFailure(_)) {
        return false;
    }
    let text = aws_sdk_cloudformation::error::DisplayErrorContext(err)
        .to_string()
        .to_ascii_lowercase();
    CREDENTIALS_NOT_LOADED.iter().any(|n| text.contains(n))
}

fn unreadable(raw: &HttpResponse) -> String {
    let body = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(&b[..b.len().min(160)]).into_owned())
        .unwrap_or_default();
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "the service answered HTTP {} with a body the SDK cannot read: {body}",
        raw.status().as_u16()
    )
}

/// True when the error means the named resource does not exist.
pub fn is_not_found<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    let code = err.code().unwrap_or_default();
    let message = err.message().unwrap_or_default();
    code.contains("NotFound")
        || code == "NoSuchBucket"
        || code == "NoSuchKey"
        || code == "ResourceNotFoundException"
        || (code == "ValidationError" && message.contains("does not exist"))
}

/// An AWS failure at a named place. A cause that is about the caller's
/// credentials or access, or that says the region never answered, is told
/// apart here, once for every command: exit 5 and exit 4, not 1.
pub fn aws_error(
    unit: impl Into<String>,
    region: impl Into<String>,
    resource: impl Into<String>,
    cause: impl Into<String>,
) -> MraaError {
    let (unit, region, resource, cause) =
        (unit.into(), region.into(), resource.into(), cause.into());
    if let Some(kind) = access_kind(&cause) {
        return access_error(kind, format!("{unit}: {resource}"), region, cause);
    }
    if no_answer(&cause) {
        return MraaError::Unreachable {
            region,
            cause: format!("{unit}: {resource}: {cause}"),
        };
    }
    MraaError::Aws(AwsError {
        unit,
        region,
        resource,
        cause,
    })
}

/// A cause that is the SDK's own "no answer" (as [`sdk_message`] renders a
/// dispatch failure or a timeout), not a reason quoted from a stack event
/// that happens to mention a timeout.
fn no_answer(cause: &str) -> bool {
    let lower = cause.to_ascii_lowercase();
    (lower.starts_with("dispatch failure")
        || lower.starts_with("request has timed out")
        || lower.starts_with("timeout"))
        && says_unreachable(cause)
}
