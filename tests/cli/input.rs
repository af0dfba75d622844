//! Bad input is refused before any AWS call: a one-line error naming the
//! problem, exit code 2, and nothing written.

use std::path::Path;

use crate::support::{clean_env, mraa, stderr_of, stdout_of};

const USAGE: i32 = 2;

fn env_with_region() -> Vec<(String, String)> {
    let mut env = clean_env();
    env.push(("AWS_REGION".into(), "us-east-1".into()));
    env
}

/// Runs `mraa render --out <tmp>/out <args>` and checks the refusal: exit 2,
/// one `error:` line containing `expected`, no output dir created.
fn refused(args: &[&str], env: &[(String, String)], config: Option<&str>, expected: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let out_arg = out.display().to_string();
    let mut full: Vec<String> = vec!["render".into(), "--out".into(), out_arg];
    if let Some(text) = config {
        let path = dir.path().join("mraa.yaml");
        std::fs::write(&path, text).expect("write config");
        full.push("--config".into());
        full.push(path.display().to_string());
    }
    full.extend(args.iter().map(|a| a.to_string()));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let output = mraa(&full, env, Some(dir.path()));

    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(USAGE), "{full:?}: {stderr}");
    // One error; clap's own (a flag's value) keeps its usage lines.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "one error expected, got:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    assert!(stdout_of(&output).is_empty(), "nothing on stdout");
    assert!(!Path::new(&out).exists(), "nothing written");
}

#[test]
fn unknown_secondary_region() {
    refused(
        &["--secondary", "ap-northeast-9"],
        &env_with_region(),
        None,
        "unknown secondary region `ap-northeast-9`; did you mean `ap-northeast-1`?",
    );
}

#[test]
fn unknown_primary_region() {
    refused(
        &["--primary", "moon-1", "--secondary", "eu-west-1"],
        &clean_env(),
        None,
        "unknown primary region `moon-1`",
    );
}

#[test]
fn primary_equal_to_secondary() {
    refused(
        &["--secondary", "us-east-1"],
        &env_with_region(),
        None,
        "must differ from the primary (both are us-east-1)",
    );
}

#[test]
fn app_name_with_invalid_characters() {
    refused(
        &["--app", "My_Shop", "--secondary", "eu-west-1"],
        &env_with_region(),
        None,
        "invalid app name `My_Shop`: use only lower-case letters, digits and hyphens",
    );
}

#[test]
fn app_name_too_long_for_s3() {
    let name = "a-very-long-application-name";
    refused(
        &[
            "--app",
            name,
            "--primary",
            "ap-southeast-2",
            "--secondary",
            "ap-northeast-1",
        ],
        &clean_env(),
        None,
        "S3 allows 63; use at most 22 characters",
    );
}

#[test]
fn malformed_admin_email() {
    refused(
        &["--secondary", "eu-west-1"],
        &env_with_region(),
        Some("admin_email: admin-at-example.com\n"),
        "invalid admin e-mail `admin-at-example.com`",
    );
}

#[test]
fn admin_phone_not_e164() {
    refused(
        &["--secondary", "eu-west-1"],
        &env_with_region(),
        Some("admin_phone: 555-0100\n"),
        "invalid admin phone `555-0100`: expected E.164",
    );
}

#[test]
fn unreadable_config_file() {
    refused(
        &[
            "--secondary",
            "eu-west-1",
            "--config",
            "/nonexistent/mraa.yaml",
        ],
        &env_with_region(),
        None,
        "cannot read config file /nonexistent/mraa.yaml",
    );
}

#[test]
fn malformed_config_file_names_the_line() {
    refused(
        &["--secondary", "eu-west-1"],
        &env_with_region(),
        Some("app: shop\nprimary: [us-east-1\n"),
        "line 2",
    );
}

#[test]
fn unknown_config_key_names_the_line() {
    refused(
        &["--secondary", "eu-west-1"],
        &env_with_region(),
        Some("# settings\napp: shop\nsecondry: eu-west-1\n"),
        "line 3: unknown field `secondry`",
    );
}

#[test]
fn missing_secondary_region() {
    refused(&[], &env_with_region(), None, "no secondary region");
}

#[test]
fn missing_primary_region() {
    refused(
        &["--secondary", "eu-west-1"],
        &clean_env(),
        None,
        "no primary region",
    );
}

#[test]
fn invalid_endpoint_url() {
    refused(
        &[
            "--secondary",
            "eu-west-1",
            "--endpoint-url",
            "localhost:4566",
        ],
        &env_with_region(),
        None,
        "invalid endpoint URL `localhost:4566`",
    );
}

#[test]
fn unknown_output_format() {
    refused(
        &["--secondary", "eu-west-1", "--output", "xml"],
        &env_with_region(),
        None,
        "invalid value 'xml' for '--output <FORMAT>'",
    );
}

#[test]
fn environment_variables_are_validated_like_flags() {
    let mut env = env_with_region();
    env.push(("MRAA_SECONDARY".into(), "eu-wets-1".into()));
    refused(
        &[],
        &env,
        None,
        "unknown secondary region `eu-wets-1`; did you mean `eu-west-1`?",
    );
}

#[test]
fn allowed_origin_with_a_path() {
    refused(
        &[
            "--secondary",
            "eu-west-1",
            "--allowed-origin",
            "https://photos.example.com/app",
        ],
        &env_with_region(),
        None,
        "invalid allowed origin `https://photos.example.com/app`",
    );
}

/// Deploy refuses bad admin flags before any AWS call: no endpoint is even
/// configured, so reaching AWS would fail differently.
fn deploy_refused(args: &[&str], expected: &str) {
    let mut full = vec!["deploy", "--secondary", "eu-west-1"];
    full.extend_from_slice(args);
    let output = mraa(&full, &env_with_region(), None);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(USAGE), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
}

#[test]
fn deploy_with_malformed_admin_email_flag() {
    deploy_refused(&["--admin-email", "jane@"], "invalid admin e-mail `jane@`");
}

#[test]
fn deploy_with_admin_phone_flag_not_e164() {
    deploy_refused(
        &["--admin-phone", "0044 20 7183 8750"],
        "invalid admin phone",
    );
}

#[test]
fn malformed_domain_for_render() {
    refused(
        &["--secondary", "eu-west-1", "--domain", "bad_domain"],
        &env_with_region(),
        None,
        "invalid domain `bad_domain`",
    );
}

/// `render --domain` shows the custom domain's units offline: the site
/// certificate in us-east-1 whatever the regions, the API domain last.
#[test]
fn render_with_a_domain_adds_its_units() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let out_arg = out.display().to_string();
    let output = mraa(
        &[
            "render",
            "--primary",
            "eu-west-1",
            "--secondary",
            "eu-central-1",
            "--domain",
            "App.Example.com.",
            "--out",
            &out_arg,
        ],
        &clean_env(),
        Some(dir.path()),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    for file in ["site-certificate.yaml", "api-domain.yaml", "edge.yaml"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
    )
    .expect("manifest JSON");
    let units = manifest["units"].as_array().expect("units");
    let unit = |id: &str| {
        units
            .iter()
            .find(|u| u["unit"] == id)
            .unwrap_or_else(|| panic!("{id} in {manifest:#}"))
    };
    assert_eq!(
        unit("site-certificate")["regions"],
        serde_json::json!(["us-east-1"])
    );
    assert_eq!(
        unit("api-domain")["regions"],
        serde_json::json!(["eu-west-1", "eu-central-1"])
    );
    let last_wave = units.iter().filter_map(|u| u["wave"].as_u64()).max();
    assert_eq!(unit("api-domain")["wave"].as_u64(), last_wave);
    assert_eq!(
        unit("edge")["parameters"]["SiteDomain"]["value"],
        "app.example.com",
        "{manifest:#}"
    );
}
