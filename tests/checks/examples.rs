//! The example configuration stays valid and shows every key.

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
