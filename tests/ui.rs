//! Compile errors of `#[agent_tool]`, pinned by `trybuild` (`tests/ui/*.stderr`), and
//! one file that must compile and run with every supported shape of tool.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
