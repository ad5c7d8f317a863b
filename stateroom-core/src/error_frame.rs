use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong; the `code` of an [`ErrorFrame`]. On the wire it is a
/// snake_case string: the framework's own codes below, or an application's
/// own ([`ErrorCode::App`]).
///
/// ```
/// use stateroom_core::ErrorCode;
///
/// assert_eq!(ErrorCode::from("invalid_json"), ErrorCode::InvalidJson);
/// assert_eq!(ErrorCode::from("not_your_turn"), ErrorCode::App("not_your_turn".into()));
/// assert_eq!(ErrorCode::InvalidMessage.as_str(), "invalid_message");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The text frame is not JSON (a syntax error, or it ended early).
    InvalidJson,
    /// The text frame is JSON but not a message the room accepts: an unknown
    /// variant, a missing field, a field of the wrong type, …
    InvalidMessage,
    /// The room does not accept this kind of frame (binary where it expects
    /// JSON text, or text where it only takes binary).
    UnsupportedFrame,
    /// A code of the application's own, sent with
    /// [`StateroomContext::send_error`](crate::StateroomContext::send_error).
    App(String),
}

impl ErrorCode {
    /// The code as it appears on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::UnsupportedFrame => "unsupported_frame",
            ErrorCode::App(code) => code,
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        match code {
            "invalid_json" => ErrorCode::InvalidJson,
            "invalid_message" => ErrorCode::InvalidMessage,
            "unsupported_frame" => ErrorCode::UnsupportedFrame,
            other => ErrorCode::App(other.to_owned()),
        }
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> Self {
        match ErrorCode::from(code.as_str()) {
            ErrorCode::App(_) => ErrorCode::App(code),
            known => known,
        }
    }
}

impl From<ErrorCode> for String {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::App(code) => code,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one error shape a client receives: the runtime sends it when a room
/// could not accept a client's frame (only that client receives it; the
/// room's state is unchanged and the connection stays open), and a service
/// sends it with its own codes through
/// [`StateroomContext::send_error`](crate::StateroomContext::send_error).
///
/// On the wire it is one text frame:
///
/// ```json
/// {"error":{"code":"invalid_message","message":"unknown variant `shout`, expected `say` or `nick` at line 1 column 16"}}
/// ```
///
/// ```
/// use stateroom_core::{ErrorCode, ErrorFrame};
///
/// let frame = ErrorFrame::new(ErrorCode::InvalidJson, "expected value at line 1 column 1");
/// let json = frame.to_json();
/// assert_eq!(json, r#"{"error":{"code":"invalid_json","message":"expected value at line 1 column 1"}}"#);
/// assert_eq!(ErrorFrame::from_json(&json), Some(frame));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// What kind of problem it was (stable; match on this).
    pub code: ErrorCode,
    /// A human-readable explanation, such as serde's own message (may change).
    pub message: String,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    error: T,
}

impl ErrorFrame {
    /// An error frame with this code and explanation.
    pub fn new(code: impl Into<ErrorCode>, message: impl Into<String>) -> Self {
        ErrorFrame {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Describes why `error`, from decoding a client's text frame, happened.
    #[must_use]
    pub fn from_decode_error(error: &serde_json::Error) -> Self {
        let code = match error.classify() {
            serde_json::error::Category::Data => ErrorCode::InvalidMessage,
            _ => ErrorCode::InvalidJson,
        };
        ErrorFrame::new(code, error.to_string())
    }

    /// The frame's wire form: `{"error":{"code":…,"message":…}}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        // A struct of a unit enum and a string always serialises.
        serde_json::to_string(&Envelope { error: self }).unwrap_or_default()
    }

    /// Reads a frame's wire form; `None` if `text` is not an error frame.
    #[must_use]
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str::<Envelope<ErrorFrame>>(text)
            .ok()
            .map(|envelope| envelope.error)
    }
}
