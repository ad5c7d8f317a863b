use crate::ClientId;
use serde::{Deserialize, Serialize};

/// Why a resume token was not honoured. The connection then goes on as a new
/// client, and its [`SessionFrame`] says why in `refused`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResumeRefused {
    /// The token is not of the form the server hands out.
    MalformedToken,
    /// This room holds no session for the token: it expired, it ended (a
    /// clean close, a kick), it belongs to another room or server, or it was
    /// made up.
    UnknownToken,
    /// The session exists but the token is not its current one: it was
    /// spent (the session was resumed with a newer one) or forged.
    InvalidToken,
    /// The `ack` is missing, not a number, or counts more frames than the
    /// server ever sent this client.
    BadAck,
    /// Frames the client has not seen are no longer kept (the resume buffer's
    /// bound was hit), so the session cannot continue without a gap.
    FramesLost,
}

/// The frame a room of a service with reconnection enabled sends first on
/// every connection: who the client is, and the token that resumes the
/// session on a new connection.
///
/// On the wire it is one text frame, sent before anything the service sends
/// and not counted among the data frames that `ack` counts:
///
/// ```json
/// {"stateroom":{"client":7,"token":"7.8c1f…","resumed":true,"replayed":3}}
/// ```
///
/// ```
/// use stateroom_core::{ClientId, ResumeRefused, SessionFrame};
///
/// let frame = SessionFrame {
///     client: ClientId::from(9),
///     token: "9.00ff".into(),
///     resumed: false,
///     replayed: 0,
///     refused: Some(ResumeRefused::UnknownToken),
/// };
/// let json = frame.to_json();
/// assert_eq!(json, r#"{"stateroom":{"client":9,"token":"9.00ff","resumed":false,"replayed":0,"refused":"unknown_token"}}"#);
/// assert_eq!(SessionFrame::from_json(&json), Some(frame));
/// assert_eq!(SessionFrame::from_json(r#"{"type":"said"}"#), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFrame {
    /// The client's id: on a resume, the same as before the drop.
    pub client: ClientId,
    /// Presents the session on a new connection (`?resume=TOKEN&ack=N`).
    /// Single-use: each connection gets a fresh one.
    pub token: String,
    /// Whether this connection continues an earlier session.
    pub resumed: bool,
    /// On a resume, how many frames the server sent again (those after `ack`).
    pub replayed: u64,
    /// Set when the connection presented a token that was not honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<ResumeRefused>,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    stateroom: T,
}

impl SessionFrame {
    /// The frame's wire form: `{"stateroom":{…}}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Numbers, strings, booleans and a unit enum always serialise.
        serde_json::to_string(&Envelope { stateroom: self }).unwrap_or_default()
    }

    /// Reads a frame's wire form; `None` if `text` is not a session frame.
    #[must_use]
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str::<Envelope<SessionFrame>>(text)
            .ok()
            .map(|envelope| envelope.stateroom)
    }
}
