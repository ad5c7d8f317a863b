//! The TypeScript client (`clients/js`) against this server: typed round trip,
//! error frames, reconnection with resume, the offline queue, kicks, backoff;
//! and the generated types (`--emit-ts`), type-checked with `tsc`, correct
//! use compiling and each misuse failing. Node's test runner runs them.

use stateroom_test_support::node;

use std::path::Path;

const SERVER: &str = env!("CARGO_BIN_EXE_example-chat");

#[test]
fn client_against_a_real_server() {
    if !node::installed("node") {
        return;
    }
    node::node_test(
        &["test/client.test.mjs"],
        &[("STATEROOM_CHAT_BIN", Path::new(SERVER))],
    );
}

#[test]
fn generated_types_type_check_and_misuse_does_not() {
    if !node::installed("node") {
        return;
    }
    node::node_test(
        &["test/types.test.mjs", "test/dist.test.mjs"],
        &[("STATEROOM_CHAT_BIN", Path::new(SERVER))],
    );
}
