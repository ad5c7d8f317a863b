use crate::ClientId;

/// Who a message sent through a [`StateroomContext`](crate::StateroomContext) goes to.
///
/// Only clients of the sending room are ever reached. Sending to a client that has
/// already left is a no-op.
///
/// ```
/// use stateroom_core::{ClientId, MessageRecipient};
///
/// let client = ClientId::from(3);
/// assert_eq!(MessageRecipient::from(client), MessageRecipient::Client(client));
/// assert!(MessageRecipient::EveryoneExcept(client).includes(ClientId::from(4)));
/// assert!(!MessageRecipient::EveryoneExcept(client).includes(client));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageRecipient {
    /// Every client in the room, the sender included.
    Broadcast,
    /// One client.
    Client(ClientId),
    /// Every client in the room except this one (typically the sender).
    EveryoneExcept(ClientId),
}

impl MessageRecipient {
    /// Whether `client`, a member of the room, is among the recipients.
    #[must_use]
    pub fn includes(self, client: ClientId) -> bool {
        match self {
            MessageRecipient::Broadcast => true,
            MessageRecipient::Client(c) => c == client,
            MessageRecipient::EveryoneExcept(c) => c != client,
        }
    }
}

impl From<ClientId> for MessageRecipient {
    fn from(client: ClientId) -> Self {
        MessageRecipient::Client(client)
    }
}
