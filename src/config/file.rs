//! The YAML configuration file, the lowest layer of the settings.

use std::path::Path;

use serde::Deserialize;

use crate::error::InputError;

use super::OutputFormat;

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
    pub user_replication: Option<crate::plan::UserReplication>,
    pub mode: Option<crate::plan::Mode>,
    pub output: Option<OutputFormat>,
    pub no_color: Option<bool>,
    pub admin_name: Option<String>,
    pub admin_email: Option<String>,
    pub admin_phone: Option<String>,
    pub domain: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub no_domain: Option<bool>,
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
