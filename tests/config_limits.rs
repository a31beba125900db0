//! Config files are bounded before they are parsed: the YAML parser's time grows with
//! the square of the nesting depth, and its memory many times the file's size.

use std::time::{Duration, Instant};

use tracing_agent::config::Config;

/// Generous for a debug build on a shared machine; without the bound, 100,000 levels
/// took 16.7 s in release.
const QUICK: Duration = Duration::from_secs(5);

#[test]
fn deep_flow_nesting_is_refused_before_parsing() {
    let levels = 100_000;
    let yaml = format!(
        "logging:\n  events: {}{}\n",
        "[".repeat(levels),
        "]".repeat(levels)
    );
    let started = Instant::now();
    let error = Config::from_yaml_str(&yaml).unwrap_err();
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    assert_eq!(
        error.message(),
        "nested deeper than 64 levels of [ ] and { }"
    );
    assert_eq!(error.line(), Some(2));
    assert!(error.to_string().contains("column 75"), "{error}");
}

#[test]
fn deep_block_nesting_is_refused_before_parsing() {
    // Compact sequences, a level per `- `; and the same after some indentation.
    let compact = format!("logging:\n  x:\n{}1\n", "- ".repeat(100_000));
    let indented = format!("logging:\n  x:\n    {}1\n", "- ".repeat(100_000));
    for yaml in [compact, indented] {
        let started = Instant::now();
        let error = Config::from_yaml_str(&yaml).unwrap_err();
        assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
        assert!(
            error
                .message()
                .starts_with("nested deeper than a config may be"),
            "{error}"
        );
    }
}

#[test]
fn a_config_larger_than_a_mebibyte_is_refused_unread() {
    let big = format!("# {}\nlogging: {{}}\n", "x".repeat(2 << 20));
    let error = Config::from_yaml_str(&big).unwrap_err();
    assert_eq!(
        error.message(),
        "the config is larger than 1024 KiB: not read (a config is a few KiB)"
    );

    let path = std::env::temp_dir().join(format!(
        "tracing-agent-big-config-{}.yaml",
        std::process::id()
    ));
    std::fs::write(&path, &big).unwrap();
    let from_file = Config::from_yaml_file(&path);
    std::fs::remove_file(&path).unwrap();
    let error = from_file.unwrap_err();
    assert!(
        error.to_string().contains("larger than 1024 KiB"),
        "{error}"
    );
    assert!(
        error.to_string().contains("tracing-agent-big-config"),
        "{error}"
    );
}

#[test]
fn ordinary_nesting_brackets_in_strings_and_comments_still_parse() {
    let yaml = "# [[[[ not nesting\nlogging:\n  events:\n    store_args: true # {{{{\n  privacy:\n    redact_keys: [\"[[[[[[\", '{{{{', \"a\\\"[\"]\n";
    Config::from_yaml_str(yaml).unwrap();
}
