//! The arena example in headless Chromium: two pages see each other in the
//! lobby (presence), see races appear in the live list, and matchmaking
//! puts them in the same race. Node's test runner runs it (`clients/js`).

use stateroom_test_support::node;
use std::path::Path;

const SERVER: &str = env!("CARGO_BIN_EXE_example-arena");

#[test]
fn two_pages_find_each_other_in_a_real_browser() {
    if !node::installed("node") || !node::installed("chromium") {
        return;
    }
    node::node_test(
        &["test/arena-browser.test.mjs"],
        &[("STATEROOM_ARENA_BIN", Path::new(SERVER))],
    );
}
