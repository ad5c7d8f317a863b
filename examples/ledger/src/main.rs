//! The ledger's server: `cargo run -p example-ledger` (see the crate's
//! documentation in `src/lib.rs`). Flags, environment variables and the
//! `data` subcommands are the generated ones.

fn main() {
    stateroom::run::<example_ledger::Ledger>();
}
