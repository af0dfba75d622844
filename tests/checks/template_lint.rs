//! cfn-lint (AWS's own resource schemas) over every rendered template, for
//! several region pairs: zero errors and zero warnings. Rules ignored, if any,
//! are in `.cfnlintrc.yaml` with a reason each.

use std::process::Command;

use crate::support::repo_root;
use mraa::plan::notify::Notify;
use mraa::plan::{Plan, Unit};
use mraa::render::render_all;

fn lint(primary: &str, secondary: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    // With a custom domain and someone to notify: every unit there is.
    let plan = Plan::new("lint", primary, secondary)
        .with_domain("app.example.test", "Z0123456789ABCDEFGHIJ")
        .with_notify(&Notify::Emails(vec!["ops@example.test".into()]));
    let rendered = render_all(&plan).expect("every template renders");
    assert_eq!(rendered.len(), Unit::ALL.len(), "every unit");
    let mut files = Vec::new();
    for template in &rendered {
        let path = dir.path().join(&template.file);
        std::fs::write(&path, &template.body).expect("write rendered template");
        files.push(path);
    }
    let cfn_lint = repo_root().join(".venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "cfn-lint is missing: run `make venv` (or `make test`) first"
    );
    let output = Command::new(cfn_lint)
        .current_dir(repo_root())
        .args(["--format", "parseable", "--non-zero-exit-code", "warning"])
        .args(["--regions", primary, secondary, "--"])
        .args(&files)
        .output()
        .expect("run cfn-lint");
    let findings = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cfn-lint found errors or warnings for {primary}/{secondary}:\n{findings}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn us_east_1_and_ap_northeast_1() {
    lint("us-east-1", "ap-northeast-1");
}

#[test]
fn eu_west_1_and_eu_central_1() {
    lint("eu-west-1", "eu-central-1");
}

#[test]
fn us_west_2_and_us_east_2() {
    lint("us-west-2", "us-east-2");
}

#[test]
fn ap_southeast_2_and_ap_northeast_1() {
    lint("ap-southeast-2", "ap-northeast-1");
}
