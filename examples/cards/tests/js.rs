//! The cards example from outside: `@stateroom/client` and an independent
//! JSON Patch library (`fast-json-patch`) rebuild every client's state over
//! real sockets through a random run with dropped connections; and two pages
//! play in headless Chromium. Node's test runner runs them (`clients/js`).

use stateroom_test_support::node;

use std::path::Path;

const SERVER: &str = env!("CARGO_BIN_EXE_example-cards");

#[test]
fn clients_rebuild_the_view_with_an_independent_json_patch_library() {
    if !node::installed("node") {
        return;
    }
    node::node_test(
        &["test/sync.test.mjs"],
        &[("STATEROOM_CARDS_BIN", Path::new(SERVER))],
    );
}

#[test]
fn two_pages_play_in_a_real_browser() {
    if !node::installed("node") || !node::installed("chromium") {
        return;
    }
    node::node_test(
        &["test/cards-browser.test.mjs"],
        &[("STATEROOM_CARDS_BIN", Path::new(SERVER))],
    );
}
