//! The examples stay valid: the configuration shows every key, and the CI
//! pipelines run commands mraa accepts and read diff's exit codes right.

use std::path::Path;

use mraa::config::{FileConfig, GlobalArgs, OutputFormat, Settings};

const EXAMPLE: &str = include_str!("../../examples/mraa.yaml");

#[test]
fn example_config_loads_and_validates() {
    let file = FileConfig::parse(Path::new("examples/mraa.yaml"), EXAMPLE).expect("parses");
    let settings = Settings::merge(&GlobalArgs::default(), file, None).expect("validates");
    assert_eq!(settings.app, "photos");
    assert_eq!(settings.primary, "us-east-1");
    assert_eq!(settings.secondary.as_deref(), Some("ap-northeast-1"));
    assert_eq!(settings.output, OutputFormat::Text);
    assert_eq!(settings.admin.email.as_deref(), Some("jane@example.com"));
}

#[test]
fn example_config_mentions_every_key() {
    // Keys as the file parser knows them: an unknown key's error lists them all.
    let err = FileConfig::parse(Path::new("x.yaml"), "not_a_key: 1\n").expect_err("unknown key");
    let listed = err.to_string();
    let keys: Vec<&str> = listed
        .split('`')
        .skip(3) // "unknown field `not_a_key`, expected one of `app`, ..."
        .step_by(2)
        .collect();
    assert!(keys.len() >= 10, "{listed}");
    for key in keys {
        assert!(
            EXAMPLE.contains(&format!("{key}:")),
            "examples/mraa.yaml lacks `{key}`"
        );
    }
}

/// Every CI example: its steps' scripts, as GitHub Actions runs them.
fn ci_steps() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir("examples/ci")
        .expect("examples/ci")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read the example");
        let doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
        let jobs = doc["jobs"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{} has no jobs", path.display()));
        for (_, job) in jobs {
            for step in job["steps"].as_sequence().into_iter().flatten() {
                if let Some(run) = step["run"].as_str() {
                    found.push((path.display().to_string(), run.to_string()));
                }
            }
        }
    }
    found
}

/// The words of each `mraa` command in a script, up to a redirection.
fn mraa_commands(script: &str) -> Vec<Vec<String>> {
    script
        .lines()
        .flat_map(|l| l.split("&&"))
        .map(str::trim)
        .filter(|c| c.starts_with("mraa "))
        .map(|c| {
            c.split_whitespace()
                .take_while(|w| !w.starts_with('>') && *w != "|")
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn ci_examples_run_commands_mraa_accepts() {
    use clap::Parser;
    let mut seen = 0;
    for (file, script) in ci_steps() {
        for words in mraa_commands(&script) {
            seen += 1;
            if let Err(e) = mraa::cli::Cli::try_parse_from(&words) {
                panic!("{file}: `{}` is refused: {e}", words.join(" "));
            }
        }
    }
    assert!(seen >= 5, "{seen} mraa commands found");
}

/// A plan on a pull request: `mraa diff` exiting 2 (changes) passes the step,
/// 1 (an error) and 4 (a region did not answer) fail it. Each step that runs
/// diff is run by bash as GitHub Actions runs it, with an `mraa` that exits
/// with the given code.
#[test]
fn ci_examples_treat_diff_changes_as_a_plan_and_errors_as_failures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fake = dir.path().join("mraa");
    std::fs::write(&fake, "#!/bin/sh\nexit \"$MRAA_EXIT\"\n").expect("write");
    std::process::Command::new("chmod")
        .args(["+x", &fake.display().to_string()])
        .status()
        .expect("chmod");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let steps: Vec<(String, String)> = ci_steps()
        .into_iter()
        .filter(|(_, run)| run.contains("mraa diff"))
        .collect();
    assert!(!steps.is_empty(), "no CI example plans with `mraa diff`");
    for (file, script) in steps {
        for (code, passes) in [(0, true), (2, true), (1, false), (4, false)] {
            let status = std::process::Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("MRAA_EXIT", code.to_string())
                .status()
                .expect("run bash");
            assert_eq!(
                status.success(),
                passes,
                "{file}: mraa diff exiting {code} should {} the step",
                if passes { "pass" } else { "fail" }
            );
        }
    }
}
