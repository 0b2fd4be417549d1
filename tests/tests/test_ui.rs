//! Compile-time behaviour of the macros: every malformed attribute is one error at the user's
//! tokens (`ui/`, one mistake per file), and every valid form compiles into axum handlers
//! (`pass/`). Regenerate the expected output with `TRYBUILD=overwrite`, then read it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

#[test]
fn pass() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
}
