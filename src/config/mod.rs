//! Settings: flags > `MRAA_*` environment > config file > defaults, merged in
//! one place and validated before any AWS call. clap already resolves a flag
//! over its environment variable; this module slots the file in beneath them.

use std::io::IsTerminal;

use crate::error::InputError;

mod args;
mod file;
mod validate;

pub use args::{DomainArgs, GlobalArgs, OutputFormat};
pub use file::FileConfig;
pub use validate::{check_dns_name, is_e164, is_email, validate_app_name};
use validate::{check_region, validate_admin, validate_domain, validate_endpoint, validate_origin};

pub const DEFAULT_APP: &str = "mraa";

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
    /// How users reach the secondary region (deploy, render, diff); `None`:
    /// the deployment's own, or native where both regions offer it.
    pub user_replication: Option<crate::plan::UserReplication>,
    /// How the Regions serve (deploy, render, diff); `None`: the
    /// deployment's own, or active-passive for a new one.
    pub mode: Option<crate::plan::Mode>,
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
    /// `mraa deploy --no-domain`: a deployed custom domain is removed
    /// instead of kept.
    pub no_domain: bool,
}

/// The app name alone (flag, environment or file), checked, for commands
/// that need no region: `mraa permissions`. The name is checked against the
/// longest region code, as any region may host the deployment.
pub fn app_name(args: &GlobalArgs) -> Result<String, InputError> {
    let file = match &args.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let app = args
        .app
        .clone()
        .or(file.app)
        .unwrap_or_else(|| DEFAULT_APP.to_string());
    let longest_region = crate::regions::KNOWN_REGIONS
        .iter()
        .copied()
        .max_by_key(|r| r.len())
        .unwrap_or_default();
    validate_app_name(&app, longest_region)?;
    Ok(app)
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
            user_replication: args.user_replication.or(file.user_replication),
            mode: file.mode,
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
            no_domain: file.no_domain.unwrap_or(false),
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

    /// The custom-domain flags of deploy and diff (`--domain`,
    /// `--hosted-zone-id`, `--no-domain`) over the file's settings.
    pub fn with_domain_args(self, args: &DomainArgs) -> Result<Self, InputError> {
        Ok(self
            .with_domain(args.domain.clone(), args.hosted_zone_id.clone())?
            .without_domain(args.domain.is_some(), args.no_domain))
    }

    /// `--no-domain` given: no domain, whatever the file names. A domain on
    /// the command line wins over the file's `no_domain`.
    pub fn without_domain(mut self, cli_domain: bool, no_domain: bool) -> Self {
        if no_domain || (self.no_domain && !cli_domain) {
            self.domain = None;
            self.hosted_zone_id = None;
            self.no_domain = true;
        } else {
            self.no_domain = false;
        }
        self
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

    /// Replaces the mode with the one given on the command line or in
    /// `MRAA_MODE` (which win over the file).
    pub fn with_mode(mut self, mode: Option<crate::plan::Mode>) -> Self {
        self.mode = mode.or(self.mode);
        self
    }

    fn validate(&self) -> Result<(), InputError> {
        check_region(&self.primary, "primary")?;
        if let (Some(crate::plan::UserReplication::Native), Some(secondary)) =
            (self.user_replication, &self.secondary)
            && let Some(region) = crate::plan::users::unavailable_in(&self.primary, secondary)
        {
            return Err(InputError::NativeReplicationUnavailable {
                region: region.to_string(),
            });
        }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

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
    fn the_mode_comes_from_the_flag_then_the_file() {
        use crate::plan::Mode;
        let none = merge(&args(), "").expect("valid");
        assert_eq!(none.mode, None);
        let file = merge(&args(), "mode: active-active\n").expect("valid");
        assert_eq!(file.mode, Some(Mode::ActiveActive));
        let flag = file.clone().with_mode(Some(Mode::ActivePassive));
        assert_eq!(flag.mode, Some(Mode::ActivePassive));
        assert_eq!(file.with_mode(None).mode, Some(Mode::ActiveActive));
        let err = merge(&args(), "mode: both\n").expect_err("unknown mode");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn no_domain_drops_the_files_domain_and_a_flagged_domain_wins_over_it() {
        let file = "domain: app.example.com\nno_domain: true\n";
        let none = |cli: DomainArgs| merge(&args(), file).and_then(|s| s.with_domain_args(&cli));
        let from_file = none(DomainArgs::default()).expect("valid");
        assert_eq!((from_file.domain, from_file.no_domain), (None, true));
        let flagged = none(DomainArgs {
            domain: Some("shop.example.com".into()),
            ..DomainArgs::default()
        })
        .expect("valid");
        assert_eq!(
            (flagged.domain.as_deref(), flagged.no_domain),
            (Some("shop.example.com"), false)
        );
        let kept = merge(&args(), "domain: app.example.com\n")
            .and_then(|s| {
                s.with_domain_args(&DomainArgs {
                    no_domain: true,
                    ..DomainArgs::default()
                })
            })
            .expect("valid");
        assert_eq!((kept.domain, kept.no_domain), (None, true));
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
