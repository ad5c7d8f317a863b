use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies one client connection.
///
/// The server hands out ids that are unique within one server process and start
/// at 1; a client that reconnects gets a new id. On the wire (serde) a `ClientId`
/// is a plain number.
///
/// ```
/// use stateroom_core::ClientId;
///
/// let client = ClientId::from(7);
/// assert_eq!(u32::from(client), 7);
/// assert_eq!(client.to_string(), "7");
/// assert_eq!(serde_json::to_string(&client).unwrap(), "7");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(u32);

impl From<u32> for ClientId {
    fn from(id: u32) -> Self {
        ClientId(id)
    }
}

impl From<ClientId> for u32 {
    fn from(client: ClientId) -> Self {
        client.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// On the wire a `ClientId` is a number, so it is one in TypeScript too.
#[cfg(feature = "typescript")]
impl ts_rs::TS for ClientId {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;

    fn name(_: &ts_rs::Config) -> String {
        "number".to_owned()
    }

    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}
