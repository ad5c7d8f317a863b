//! Compile-fail (`tests/fail`) and compile-pass (`tests/pass`) cases of
//! `#[stateroom::service]`, run by trybuild from `tests/ui.rs`.
