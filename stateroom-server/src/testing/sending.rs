//! What a test client sends: text, JSON and binary frames, numbered when the
//! client numbers its messages, delivered on its current connection.

use super::{TestRoom, inbox, unwrap_hook};
use serde::Serialize;
use stateroom_core::{ClientId, SimpleStateroomService};

impl<S: SimpleStateroomService> TestRoom<S> {
    /// `client` sends a text frame.
    pub fn send_text(&mut self, client: ClientId, text: &str) {
        self.send_outgoing(client, inbox::Outgoing::Text(text.to_owned()), true);
    }

    /// `client` sends `message` as a JSON text frame.
    ///
    /// # Panics
    /// If `message` cannot be serialised as JSON.
    pub fn send<T: Serialize + ?Sized>(&mut self, client: ClientId, message: &T) {
        let text = serde_json::to_string(message)
            .unwrap_or_else(|e| panic!("cannot serialise the message: {e}"));
        self.send_text(client, &text);
    }

    /// `client` sends a binary frame.
    pub fn send_binary(&mut self, client: ClientId, data: &[u8]) {
        self.send_outgoing(client, inbox::Outgoing::Binary(data.to_vec()), true);
    }

    /// Numbers `message` (numbered clients) and, if `arrives`, delivers it.
    pub(super) fn send_outgoing(
        &mut self,
        client: ClientId,
        message: inbox::Outgoing,
        mut arrives: bool,
    ) {
        if let Some(numbering) = self
            .clients
            .get_mut(&client)
            .and_then(|c| c.numbering.as_mut())
        {
            numbering.sent.push_back((numbering.next, message.clone()));
            numbering.next += 1;
            numbering.broken |= !arrives;
            arrives = !numbering.broken;
        }
        if arrives {
            self.transmit(client, &message);
        }
    }

    /// Delivers `message` on `client`'s current connection.
    pub(super) fn transmit(&mut self, client: ClientId, message: &inbox::Outgoing) {
        let conn = self.conn(client);
        match message {
            inbox::Outgoing::Text(text) => {
                unwrap_hook(self.core.text(client, conn, text, self.now));
            }
            inbox::Outgoing::Binary(data) => {
                unwrap_hook(self.core.binary(client, conn, data, self.now));
            }
        }
        self.settle();
    }
}
