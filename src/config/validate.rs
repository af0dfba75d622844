//! Checks of each setting, before any AWS call: regions, the app name,
//! the endpoint, the CORS origin, the custom domain and the admin user.

use crate::error::InputError;
use crate::names;
use crate::regions;

use super::Admin;

pub fn check_region(region: &str, role: &'static str) -> Result<(), InputError> {
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

pub fn validate_endpoint(url: &str) -> Result<(), InputError> {
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
pub fn validate_origin(origin: &str) -> Result<(), InputError> {
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
pub fn validate_domain(domain: Option<&str>, zone: Option<&str>) -> Result<(), InputError> {
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

pub fn validate_admin(admin: &Admin) -> Result<(), InputError> {
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
