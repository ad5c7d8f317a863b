//! The ledger's server: `cargo run -p example-ledger` (see the crate's
//! documentation in `src/lib.rs`). The service is declared `no_main` in the
//! library, so that the `ledger-app` binary can embed it too; this `main` is
//! the one the macro would have generated (flags, environment variables,
//! `--emit-ts`, the `data` subcommands).

fn main() {
    stateroom::main::<example_ledger::Ledger>();
}
