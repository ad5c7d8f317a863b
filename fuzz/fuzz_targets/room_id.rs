//! Room ids arrive straight from the request path. Whatever the bytes, the
//! validator must not panic, and must accept exactly the documented ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stateroom::room_id::validate_room_id;

fuzz_target!(|data: &[u8]| {
    let Ok(id) = std::str::from_utf8(data) else {
        return;
    };
    let documented = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    assert_eq!(validate_room_id(id, 64).is_ok(), documented, "{id:?}");
});
