//! How a run ends, whatever the command: missing credentials told apart from
//! a region that does not answer, the JSON error object on stdout, clap's
//! errors as clap renders them, and a closed stdout. None of these needs
//! the emulator: nothing here may reach an endpoint at all.

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{clean_env, mraa, show, stderr_of, stdout_of, with_var};

/// Nothing listens on port 9 (discard) of loopback: a run that sent a
/// request there would end as `unreachable` (exit 4), the defect this guards
/// against.
fn no_credentials() -> Vec<(String, String)> {
    let env = with_var(clean_env(), "AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    with_var(env, "AWS_REGION", "us-east-1")
}

#[test]
fn status_without_credentials_names_them_and_the_call_with_exit_5() {
    let output = mraa(&["status"], &no_credentials(), None);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(5), "{}", show(&output));
    assert!(!stderr.contains("did not answer"), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    for part in [
        "no AWS credentials found",
        // Where they were looked for, and the call that needed them.
        "from the default chain",
        "cloudformation:DescribeStacks mraa-mraa-bootstrap in us-east-1",
    ] {
        assert!(error.contains(part), "`{part}` in {stderr}");
    }
    assert!(
        stderr.contains("  next: set AWS_PROFILE or --profile"),
        "{stderr}"
    );

    // A named profile is the source it names.
    let profile = with_var(no_credentials(), "AWS_PROFILE", "oncall");
    let output = mraa(&["failover", "--reason", "drill"], &profile, None);
    assert_eq!(output.status.code(), Some(5), "{}", show(&output));
    assert!(
        stderr_of(&output).contains("profile `oncall` (AWS_PROFILE)"),
        "{}",
        show(&output)
    );
}

#[test]
fn every_error_is_a_json_object_on_stdout_with_output_json() {
    let output = mraa(&["status", "--output", "json"], &no_credentials(), None);
    assert_eq!(output.status.code(), Some(5), "{}", show(&output));
    let report: Value = serde_json::from_str(stdout_of(&output).trim())
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {}", show(&output)));
    assert_eq!(report["type"], "error", "{report}");
    assert_eq!(report["schema_version"], 1, "{report}");
    assert_eq!(report["command"], "status", "{report}");
    assert_eq!(report["exit_code"], 5, "{report}");
    assert_eq!(report["error"]["kind"], "credentials", "{report}");
    assert_eq!(report["error"]["problem"], "missing", "{report}");
    assert_eq!(report["error"]["region"], "us-east-1", "{report}");
    assert!(
        report["error"]["credentials"]
            .as_str()
            .is_some_and(|c| c.starts_with("the default chain")),
        "{report}"
    );

    // Bad input, refused before any call: the same object, exit 2.
    let output = mraa(
        &["status", "--output", "json", "--app", "Shop!"],
        &no_credentials(),
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let report: Value = serde_json::from_str(stdout_of(&output).trim())
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {}", show(&output)));
    assert_eq!(report["error"]["kind"], "input", "{report}");

    // A command line that does not parse.
    let output = mraa(
        &["status", "--output", "json", "--planet", "mars"],
        &no_credentials(),
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let report: Value = serde_json::from_str(stdout_of(&output).trim())
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {}", show(&output)));
    assert_eq!(report["error"]["kind"], "usage", "{report}");
    assert!(
        report["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--planet")),
        "{report}"
    );
}

#[test]
fn clap_errors_keep_their_lines() {
    let output = mraa(&["status", "--planet", "mars"], &no_credentials(), None);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, 1, "{stderr}");
    // clap's usage line stays its own line, not joined onto the error.
    assert!(
        stderr.lines().any(|l| l.starts_with("Usage: mraa status")),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mraa"))
        .args([
            "permissions",
            "--app",
            "shop",
            "--primary",
            "us-east-1",
            "--secondary",
            "eu-west-1",
            "--for",
            "all",
        ])
        .env_clear()
        .envs(clean_env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mraa");
    // The reader goes away before mraa writes a byte.
    drop(child.stdout.take());
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("read stderr");
    }
    let status = child.wait().expect("mraa ends");
    assert_eq!(stderr, "", "nothing on stderr for a closed stdout");
    assert_eq!(status.code(), Some(141), "exit code of a closed stdout");
}

#[test]
fn each_command_help_shows_the_flags_it_reads_examples_and_exit_codes() {
    let help = |command: &str| {
        let output = mraa(&[command, "--help"], &clean_env(), None);
        assert_eq!(output.status.code(), Some(0), "{}", show(&output));
        stdout_of(&output)
    };
    let permissions = help("permissions");
    assert!(permissions.contains("--app"), "{permissions}");
    assert!(permissions.contains("--secondary"), "{permissions}");
    for unread in ["--endpoint-url", "--user-replication", "--yes"] {
        assert!(!permissions.contains(unread), "{unread} in:\n{permissions}");
    }
    let status = help("status");
    assert!(status.contains("--endpoint-url"), "{status}");
    assert!(!status.contains("--allowed-origin"), "{status}");
    assert!(status.contains("Examples:\n  mraa status"), "{status}");
    assert!(status.contains("3 degraded"), "{status}");
    let deploy = help("deploy");
    for read in [
        "--allowed-origin",
        "--user-replication",
        "--yes",
        "--secondary",
    ] {
        assert!(deploy.contains(read), "{read} missing in:\n{deploy}");
    }
    assert!(deploy.contains("5 credentials"), "{deploy}");
    // Hidden, not refused: a flag a command ignores still parses.
    let output = mraa(
        &[
            "permissions",
            "--yes",
            "--app",
            "shop",
            "--primary",
            "us-east-1",
            "--secondary",
            "eu-west-1",
        ],
        &clean_env(),
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
}
