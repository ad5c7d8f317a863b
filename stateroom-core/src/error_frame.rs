use serde::{Deserialize, Serialize};

/// What went wrong with a frame a client sent; the `code` of an [`ErrorFrame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
}

/// The JSON error frame the runtime sends to a client whose frame a room could
/// not accept. Only that client receives it; the room's state is unchanged and
/// the connection stays open.
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
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorFrame {
            code,
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
