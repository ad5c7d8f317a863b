//! The macro's compile errors, as a user sees them. The `.stderr` files are tied
//! to the compiler that blessed them (`TRYBUILD=overwrite cargo test -p ui-tests`)
//! and are skipped on any other.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files were blessed on stable 1.95"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/fail/*.rs");
    cases.pass("tests/pass/*.rs");
}
