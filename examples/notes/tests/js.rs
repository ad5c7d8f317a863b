//! The notes example with the real `yjs` and `y-websocket` packages, in Node
//! (`clients/js/test/yjs.test.mjs`) and in headless Chromium
//! (`clients/js/test/notes-browser.test.mjs`). Node's test runner runs them.

use stateroom_test_support::node;
use std::path::Path;

const SERVER: &str = env!("CARGO_BIN_EXE_example-notes");

#[test]
fn stock_y_websocket_providers_sync_refuse_and_survive_kill_9() {
    if !node::installed("node") {
        return;
    }
    node::node_test(
        &["test/yjs.test.mjs"],
        &[("STATEROOM_NOTES_BIN", Path::new(SERVER))],
    );
}

#[test]
fn two_pages_edit_one_note_in_a_real_browser() {
    if !node::installed("node") || !node::installed("chromium") {
        return;
    }
    node::node_test(
        &["test/notes-browser.test.mjs"],
        &[("STATEROOM_NOTES_BIN", Path::new(SERVER))],
    );
}
