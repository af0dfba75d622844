//! Settings: flags > `MRAA_*` environment > config file > defaults, merged in
//! one place and validated before any AWS call. clap already resolves a flag
//! over its environment variable; this module slots the file in beneath them.

use std::io::IsTerminal;
use std::path::Path;

use serde::Deserialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::InputError;
use crate::names;
use crate::regions;

pub const DEFAULT_APP: &str = "mraa";

/// The YAML configuration file. Keys mirror the long flags (with `_` for `-`);
/// an unknown key is an error, so a typo never silently falls back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub app: Option<String>,
    pub primary: Option<String>,
    pub secondary: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub allowed_origin: Option<String>,
    pub output: Option<OutputFormat>,
    pub no_color: Option<bool>,
    pub admin_name: Option<String>,
    pub admin_email: Option<String>,
    pub admin_phone: Option<String>,
    pub domain: Option<String>,
    pub hosted_zone_id: Option<String>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| InputError::ConfigUnreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, InputError> {
        // An empty file (or only comments) is a valid, empty configuration.
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line());
            let mut message = e.to_string();
            if let Some(at) = message.find(" at line ") {
                message.truncate(at);
            }
            if message.contains("expected struct FileConfig") {
                message = "expected a mapping of settings (`key: value` lines)".to_string();
            }
            InputError::ConfigMalformed {
                path: path.to_path_buf(),
                line,
                message,
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose(u8),
}

/// The optional administrator user of the original solution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admin {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Validated settings every command starts from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub app: String,
    pub primary: String,
    pub secondary: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// CORS origin of the regional APIs; `*` unless set.
    pub allowed_origin: String,
    pub output: OutputFormat,
    pub color: bool,
    pub verbosity: Verbosity,
    pub yes: bool,
    pub admin: Admin,
    /// Custom domain of the deployment (`mraa deploy --domain`); `None`:
    /// nothing of Route 53 is touched.
    pub domain: Option<String>,
    /// The Route 53 hosted zone of `domain`; found by name when `None`.
    pub hosted_zone_id: Option<String>,
}

impl Settings {
    /// Merges and validates. Only reads local files (config, AWS profile);
    /// never calls AWS.
    pub async fn resolve(args: &GlobalArgs) -> Result<Self, InputError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let profile = args.profile.clone().or(file.profile.clone());
        let fallback = match args.primary.is_none() && file.primary.is_none() {
            true => aws_profile_region(profile.as_deref()).await,
            false => None,
        };
        Self::merge(args, file, fallback)
    }

    /// The pure part of [`Settings::resolve`]: `primary_fallback` is what the
    /// AWS environment or profile says when neither flag nor file names one.
    pub fn merge(
        args: &GlobalArgs,
        file: FileConfig,
        primary_fallback: Option<String>,
    ) -> Result<Self, InputError> {
        let app = args
            .app
            .clone()
            .or(file.app)
            .unwrap_or_else(|| DEFAULT_APP.to_string());
        let primary = args
            .primary
            .clone()
            .or(file.primary)
            .or(primary_fallback)
            .ok_or(InputError::MissingPrimary)?;
        let secondary = args.secondary.clone().or(file.secondary);
        let endpoint_url = args.endpoint_url.clone().or(file.endpoint_url);
        let no_color = args.no_color
            || file.no_color.unwrap_or(false)
            || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let verbosity = if args.quiet {
            Verbosity::Quiet
        } else if args.verbose > 0 {
            Verbosity::Verbose(args.verbose)
        } else {
            Verbosity::Normal
        };
        let settings = Settings {
            app,
            primary,
            secondary,
            profile: args.profile.clone().or(file.profile),
            endpoint_url,
            allowed_origin: args
                .allowed_origin
                .clone()
                .or(file.allowed_origin)
                .unwrap_or_else(|| "*".to_string()),
            output: args.output.or(file.output).unwrap_or(OutputFormat::Text),
            color: !no_color && std::io::stderr().is_terminal(),
            verbosity,
            yes: args.yes,
            admin: Admin {
                name: file.admin_name,
                email: file.admin_email,
                phone: file.admin_phone,
            },
            domain: file.domain,
            hosted_zone_id: file.hosted_zone_id,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Replaces the admin settings with those given on the command line (flags
    /// win over the file) and validates the result.
    pub fn with_admin(mut self, admin: Admin) -> Result<Self, InputError> {
        self.admin = Admin {
            name: admin.name.or(self.admin.name),
            email: admin.email.or(self.admin.email),
            phone: admin.phone.or(self.admin.phone),
        };
        validate_admin(&self.admin)?;
        Ok(self)
    }

    /// Replaces the custom-domain settings with those given on the command
    /// line (flags win over the file) and validates the result.
    pub fn with_domain(
        mut self,
        domain: Option<String>,
        hosted_zone_id: Option<String>,
    ) -> Result<Self, InputError> {
        self.domain = domain.or(self.domain);
        self.hosted_zone_id = hosted_zone_id.or(self.hosted_zone_id);
        validate_domain(self.domain.as_deref(), self.hosted_zone_id.as_deref())?;
        if let Some(domain) = &mut self.domain {
            *domain = domain.trim_end_matches('.').to_ascii_lowercase();
        }
        if let Some(zone) = &mut self.hosted_zone_id {
            *zone = zone.trim_start_matches("/hostedzone/").to_string();
        }
        Ok(self)
    }

    fn validate(&self) -> Result<(), InputError> {
        check_region(&self.primary, "primary")?;
        if let Some(secondary) = &self.secondary {
            check_region(secondary, "secondary")?;
            if secondary == &self.primary {
                return Err(InputError::SameRegions {
                    region: secondary.clone(),
                });
            }
        }
        let longest_region = [Some(&self.primary), self.secondary.as_ref()]
            .into_iter()
            .flatten()
            .max_by_key(|r| r.len())
            .map(String::as_str)
            .unwrap_or(&self.primary);
        validate_app_name(&self.app, longest_region)?;
        if let Some(url) = &self.endpoint_url {
            validate_endpoint(url)?;
        }
        validate_origin(&self.allowed_origin)?;
        validate_domain(self.domain.as_deref(), self.hosted_zone_id.as_deref())?;
        validate_admin(&self.admin)
    }

    /// The secondary region, which deploy and render cannot do without.
    pub fn require_secondary(&self) -> Result<&str, InputError> {
        self.secondary
            .as_deref()
            .ok_or(InputError::MissingSecondary)
    }
}

/// The region the AWS SDK would use: environment first, then the profile.
/// Deliberately not the instance metadata service, which would be a network
/// call (and a multi-second timeout off EC2).
async fn aws_profile_region(profile: Option<&str>) -> Option<String> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(region) = std::env::var(var)
            && !region.trim().is_empty()
        {
            return Some(region.trim().to_string());
        }
    }
    let mut provider = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        provider = provider.profile_name(profile);
    }
    use aws_config::meta::region::ProvideRegion;
    provider
        .build()
        .region()
        .await
        .map(|region| region.as_ref().to_string())
}

fn check_region(region: &str, role: &'static str) -> Result<(), InputError> {
    if regions::is_known(region) {
        Ok(())
    } else {
        Err(InputError::UnknownRegion {
            region: region.to_string(),
            role,
            suggestion: regions::suggest(region),
        })
    }
}

pub fn validate_app_name(name: &str, longest_region: &str) -> Result<(), InputError> {
    let invalid = |reason| InputError::InvalidAppName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(invalid("use only lower-case letters, digits and hyphens"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(invalid("it must start with a letter"));
    }
    if name.ends_with('-') {
        return Err(invalid("it must not end with a hyphen"));
    }
    if name.contains("--") {
        return Err(invalid("it must not contain two hyphens in a row"));
    }
    let bucket = names::longest_bucket_name(name, longest_region);
    if bucket.len() > names::S3_MAX_BUCKET_NAME {
        let overhead = bucket.len() - name.len();
        return Err(InputError::AppNameTooLong {
            name: name.to_string(),
            len: bucket.len(),
            bucket,
            max: names::S3_MAX_BUCKET_NAME - overhead,
        });
    }
    Ok(())
}

fn validate_endpoint(url: &str) -> Result<(), InputError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let host = rest
        .map(|r| r.split('/').next().unwrap_or_default())
        .unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(InputError::InvalidEndpoint(url.to_string()));
    }
    Ok(())
}

/// `*`, or a scheme and host (and port) with no path, as CORS compares them.
fn validate_origin(origin: &str) -> Result<(), InputError> {
    if origin == "*" {
        return Ok(());
    }
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or_default();
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
    if valid {
        Ok(())
    } else {
        Err(InputError::InvalidOrigin(origin.to_string()))
    }
}

/// A DNS name mraa can put `api.` in front of, and a hosted zone id only
/// with a domain.
fn validate_domain(domain: Option<&str>, zone: Option<&str>) -> Result<(), InputError> {
    if let Some(domain) = domain
        && let Err(reason) = check_dns_name(domain)
    {
        return Err(InputError::InvalidDomain {
            domain: domain.to_string(),
            reason,
        });
    }
    if let Some(zone) = zone {
        let id = zone.trim_start_matches("/hostedzone/");
        if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(InputError::InvalidHostedZoneId(zone.to_string()));
        }
        if domain.is_none() {
            return Err(InputError::HostedZoneWithoutDomain);
        }
    }
    Ok(())
}

/// RFC 1035 host name rules, as Route 53 records need them: at least two
/// labels of letters, digits and inner hyphens, 63 characters a label, and
/// room for the `api.` prefix within 253 characters.
pub fn check_dns_name(name: &str) -> Result<(), &'static str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() + "api.".len() > 253 {
        return Err("it is too long for `api.` to be put in front of it (253 characters at most)");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("expected at least two labels, like app.example.com");
    }
    for label in &labels {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row)");
        }
        if label.len() > 63 {
            return Err("a label is longer than 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("use only letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label must not start or end with a hyphen");
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("a domain name, not an IP address, is expected");
    }
    Ok(())
}

fn validate_admin(admin: &Admin) -> Result<(), InputError> {
    if let Some(name) = &admin.name
        && (name.trim().is_empty()
            || name.chars().count() > 128
            || name.chars().any(char::is_control))
    {
        return Err(InputError::InvalidAdminName(name.clone()));
    }
    if let Some(email) = &admin.email
        && !is_email(email)
    {
        return Err(InputError::InvalidEmail(email.clone()));
    }
    if let Some(phone) = &admin.phone
        && !is_e164(phone)
    {
        return Err(InputError::InvalidPhone(phone.clone()));
    }
    Ok(())
}

/// A pragmatic address check: what Cognito would accept as an `email`
/// attribute and can deliver to. Not RFC 5322 in full, on purpose.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// E.164: a plus, a non-zero country code digit, at most 15 digits in all.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> GlobalArgs {
        GlobalArgs {
            secondary: Some("ap-northeast-1".into()),
            ..GlobalArgs::default()
        }
    }

    fn merge(args: &GlobalArgs, file: &str) -> Result<Settings, InputError> {
        let file = FileConfig::parse(Path::new("mraa.yaml"), file)?;
        Settings::merge(args, file, Some("us-east-1".into()))
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let from_file = merge(&args(), "app: shop\noutput: json\n").expect("valid");
        assert_eq!(from_file.app, "shop");
        assert_eq!(from_file.output, OutputFormat::Json);

        let mut flags = args();
        flags.app = Some("flagged".into());
        let from_flag = merge(&flags, "app: shop\n").expect("valid");
        assert_eq!(from_flag.app, "flagged");

        // The primary: flag, then file, then the AWS environment's region.
        assert_eq!(from_file.primary, "us-east-1");
        let file_primary = merge(&args(), "primary: eu-west-1\n").expect("valid");
        assert_eq!(file_primary.primary, "eu-west-1");

        let defaults = merge(&args(), "").expect("valid");
        assert_eq!(defaults.app, DEFAULT_APP);
        assert_eq!(defaults.output, OutputFormat::Text);
    }

    #[test]
    fn unknown_config_keys_name_their_line() {
        let err = merge(&args(), "app: shop\nprimry: eu-west-1\n").expect_err("typo");
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("unknown field `primry`"), "{text}");
    }

    #[test]
    fn a_config_that_is_not_a_mapping_is_refused() {
        let err = merge(&args(), "- just\n- a list\n").expect_err("list");
        assert!(err.to_string().contains("expected a mapping"), "{err}");
    }

    #[test]
    fn app_names_are_checked_against_the_longest_bucket() {
        assert!(validate_app_name("shop-2", "us-east-1").is_ok());
        // 22 characters fit with the longest region code, 23 do not.
        assert!(validate_app_name(&"a".repeat(22), "ap-southeast-2").is_ok());
        let err = validate_app_name(&"a".repeat(23), "ap-southeast-2").expect_err("long");
        assert!(err.to_string().contains("use at most 22"), "{err}");
        // Shorter regions leave room for a longer name.
        assert!(validate_app_name(&"a".repeat(27), "us-east-1").is_ok());
        for bad in ["", "Shop", "1shop", "shop-", "sh--op", "shop_1", "shöp"] {
            assert!(validate_app_name(bad, "us-east-1").is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_are_dns_names() {
        for ok in [
            "app.example.com",
            "App.Example.COM.",
            "a-1.b.test",
            "xn--bcher-kva.example",
        ] {
            assert!(check_dns_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "localhost",
            "a..b",
            "-a.b",
            "a-.b",
            "a_b.com",
            "a b.com",
            "https://a.com",
            "10.0.0.1",
        ] {
            assert!(check_dns_name(bad).is_err(), "{bad}");
        }
        assert!(check_dns_name(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(validate_domain(None, Some("Z123")).is_err());
        assert!(validate_domain(Some("app.example.com"), Some("Z0123ABC")).is_ok());
        assert!(validate_domain(Some("app.example.com"), Some("/hostedzone/Z0123")).is_ok());
        assert!(validate_domain(Some("app.example.com"), Some("Z-1")).is_err());
    }

    #[test]
    fn emails_and_phones() {
        for ok in ["admin@example.com", "a.b+tag@sub.example.co.uk"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "admin",
            "admin@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            "a@@example.com",
            "a@example.c0m",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        for ok in ["+15555550100", "+442071838750"] {
            assert!(is_e164(ok), "{ok}");
        }
        for bad in [
            "5555550100",
            "+0123456",
            "+1 555 555 0100",
            "+1234567890123456",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }
}
