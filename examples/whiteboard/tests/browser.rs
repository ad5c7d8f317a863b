//! The whiteboard page and the development page in headless Chromium
//! (Debian's `chromium`, driven by `playwright-core` from `clients/js`):
//! two pages draw together, one is cut off and resumes; the dev page opens
//! clients and sends from its templates. Screenshots: `target/browser/`.

use stateroom_test_support::node;

use std::path::Path;

#[test]
fn whiteboard_and_dev_page_in_a_real_browser() {
    if !node::installed("node") || !node::installed("chromium") {
        return;
    }
    node::node_test(
        &["test/browser.test.mjs"],
        &[(
            "STATEROOM_WHITEBOARD_BIN",
            Path::new(env!("CARGO_BIN_EXE_example-whiteboard")),
        )],
    );
}
