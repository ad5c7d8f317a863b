//! Which room ids the server accepts.
//!
//! A room id is the last segment of `/ws/{room_id}`. It must be 1 to
//! [`Limits::max_room_id_len`](crate::Limits::max_room_id_len) bytes long (64 by
//! default) and use only the URL-safe characters `A–Z a–z 0–9 - _ . ~`, so it needs
//! no percent-decoding and reads the same in logs, URLs and file names. Anything
//! else is refused with HTTP 400 before the WebSocket upgrade.

/// Why a room id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomIdError {
    /// The id is empty (`/ws/`).
    #[error("the room id is empty")]
    Empty,
    /// The id is longer than the configured limit.
    #[error("the room id is {len} bytes long; the limit is {max}")]
    TooLong {
        /// The id's length in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The id contains a character outside `A–Z a–z 0–9 - _ . ~`.
    #[error("the room id contains {found:?}; use only A-Z, a-z, 0-9, '-', '_', '.' and '~'")]
    BadCharacter {
        /// The first offending character.
        found: char,
    },
}

/// Checks `id` against the room-id rules described in the [module docs](self).
///
/// ```
/// use stateroom_server::room_id::{validate_room_id, RoomIdError};
///
/// assert_eq!(validate_room_id("lobby-1", 64), Ok(()));
/// assert_eq!(validate_room_id("", 64), Err(RoomIdError::Empty));
/// assert_eq!(validate_room_id("a/b", 64), Err(RoomIdError::BadCharacter { found: '/' }));
/// ```
pub fn validate_room_id(id: &str, max_len: usize) -> Result<(), RoomIdError> {
    if id.is_empty() {
        return Err(RoomIdError::Empty);
    }
    if id.len() > max_len {
        return Err(RoomIdError::TooLong {
            len: id.len(),
            max: max_len,
        });
    }
    match id
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
    {
        Some(found) => Err(RoomIdError::BadCharacter { found }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_url_safe_ids_up_to_the_limit() {
        assert_eq!(validate_room_id("A-z_0.9~", 64), Ok(()));
        assert_eq!(validate_room_id(&"x".repeat(64), 64), Ok(()));
    }

    #[test]
    fn refuses_long_ids_and_other_characters() {
        assert_eq!(
            validate_room_id(&"x".repeat(65), 64),
            Err(RoomIdError::TooLong { len: 65, max: 64 })
        );
        for bad in ["a b", "a%20b", "é", "a?b", "a/b", "a\0"] {
            assert!(
                matches!(
                    validate_room_id(bad, 64),
                    Err(RoomIdError::BadCharacter { .. })
                ),
                "{bad:?} was accepted"
            );
        }
    }
}
