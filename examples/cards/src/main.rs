//! A card game whose state syncs itself: `view` is the table everyone sees,
//! `private_view` is each player's own hand, and the room sends each client
//! only what changed after every batch of events. No hand-written state
//! messages: the page (`web/`) renders `room.state` and `room.private`.
//!
//! Run: `cargo run -p example-cards`, then open <http://127.0.0.1:8080/> in
//! two browser windows. The page's types are `web/room-types.ts`, generated
//! with `cargo run -p example-cards -- --emit-ts examples/cards/web/room-types.ts`.
//!
//! The rules, kept short: each player is dealt five cards from the room's
//! shuffled deck. On your turn, play a card onto the pile (a point if it
//! matches the top card's suit or rank) or draw one; then the turn passes.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, RoomRequest, RoomResponse, StateroomContext};
use std::collections::BTreeMap;

/// A card: rank 1 (ace) to 13 (king), suit 0 to 3 (♠ ♥ ♦ ♣). Its id is
/// `suit * 13 + rank - 1`, 0 to 51.
#[stateroom::message]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Card(pub u8);

impl Card {
    /// 1 (ace) to 13 (king).
    #[must_use]
    pub fn rank(self) -> u8 {
        self.0 % 13 + 1
    }

    /// 0 to 3.
    #[must_use]
    pub fn suit(self) -> u8 {
        self.0 / 13
    }
}

/// What a page sends.
#[stateroom::message]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Move {
    /// Plays a card from your hand onto the pile (your turn only).
    Play {
        /// The card, which must be in your hand.
        card: Card,
    },
    /// Draws a card from the deck (your turn only).
    Draw,
    /// Picks a name shown to the others (any time; at most 20 characters).
    Name {
        /// The name.
        name: String,
    },
}

/// A player as everyone sees them: never their cards, only how many.
#[stateroom::message]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seat {
    /// The name they picked.
    pub name: String,
    /// How many cards they hold.
    pub cards: u32,
    /// Their points.
    pub score: u32,
}

/// The table: what every client sees (`view`).
#[stateroom::message]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The players, keyed by client id: one entry each, so a changed score
    /// is one small patch operation.
    pub players: BTreeMap<ClientId, Seat>,
    /// Whose turn it is.
    pub turn: Option<ClientId>,
    /// The pile, last card on top (only the top eight are shown).
    pub pile: Vec<Card>,
    /// Cards left in the deck.
    pub deck: u32,
    /// Moves made so far.
    pub moves: u64,
}

/// One player's own view (`private_view`): their hand.
#[stateroom::message]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hand {
    /// The cards, in the order they were dealt and drawn.
    pub cards: Vec<Card>,
}

/// Cards dealt to a player who joins.
const DEAL: usize = 5;
/// Cards of the pile the table shows.
const SHOWN: usize = 8;

/// One room's game.
pub struct Cards {
    deck: Vec<Card>,
    pile: Vec<Card>,
    hands: BTreeMap<ClientId, Vec<Card>>,
    names: BTreeMap<ClientId, String>,
    scores: BTreeMap<ClientId, u32>,
    /// Players in the order they sat down; the turn goes round it.
    order: Vec<ClientId>,
    turn: usize,
    moves: u64,
}

impl Cards {
    /// A game with the deck shuffled from `seed` (the room's id).
    #[must_use]
    pub fn with_seed(seed: &str) -> Self {
        let mut deck: Vec<Card> = (0..52).map(Card).collect();
        // A small deterministic shuffle (FNV-1a of the seed, then an LCG):
        // a room's deal is the same on every run, which tests rely on.
        let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        for i in (1..deck.len()).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap_or(0);
            deck.swap(i, j);
        }
        Cards {
            deck,
            pile: Vec::new(),
            hands: BTreeMap::new(),
            names: BTreeMap::new(),
            scores: BTreeMap::new(),
            order: Vec::new(),
            turn: 0,
            moves: 0,
        }
    }

    fn current(&self) -> Option<ClientId> {
        self.order.get(self.turn).copied()
    }

    fn pass_turn(&mut self) {
        if !self.order.is_empty() {
            self.turn = (self.turn + 1) % self.order.len();
        }
        self.moves += 1;
    }
}

#[stateroom::service(reconnect = "30s", static_dir = "web")]
impl Cards {
    fn new(room_id: &str) -> Self {
        Cards::with_seed(room_id)
    }

    fn connect(&mut self, client: ClientId) {
        let take = DEAL.min(self.deck.len());
        let hand = self.deck.split_off(self.deck.len() - take);
        self.hands.insert(client, hand);
        self.names.insert(client, format!("player {client}"));
        self.scores.insert(client, 0);
        self.order.push(client);
    }

    fn disconnect(&mut self, client: ClientId) {
        // The leaver's cards go back under the deck.
        if let Some(hand) = self.hands.remove(&client) {
            self.deck.splice(0..0, hand);
        }
        self.names.remove(&client);
        self.scores.remove(&client);
        if let Some(at) = self.order.iter().position(|c| *c == client) {
            self.order.remove(at);
            if at < self.turn {
                self.turn -= 1;
            }
            if self.turn >= self.order.len() {
                self.turn = 0;
            }
        }
    }

    fn message(&mut self, client: ClientId, msg: Move, ctx: &impl StateroomContext) {
        match msg {
            Move::Name { name } => {
                let name: String = name.trim().chars().take(20).collect();
                if !name.is_empty() {
                    self.names.insert(client, name);
                }
            }
            _ if self.current() != Some(client) => {
                ctx.send_error(client, "not_your_turn", "wait for your turn");
            }
            Move::Draw => {
                let Some(card) = self.deck.pop() else {
                    ctx.send_error(client, "deck_empty", "the deck is empty: play a card");
                    return;
                };
                self.hands.entry(client).or_default().push(card);
                self.pass_turn();
            }
            Move::Play { card } => {
                let hand = self.hands.entry(client).or_default();
                let Some(at) = hand.iter().position(|c| *c == card) else {
                    ctx.send_error(client, "not_in_hand", "you do not hold that card");
                    return;
                };
                hand.remove(at);
                if let Some(top) = self.pile.last()
                    && (top.suit() == card.suit() || top.rank() == card.rank())
                {
                    *self.scores.entry(client).or_default() += 1;
                }
                self.pile.push(card);
                self.pass_turn();
            }
        }
    }

    /// The table: everyone sees it.
    fn view(&self) -> Table {
        let players = self
            .order
            .iter()
            .map(|client| {
                let seat = Seat {
                    name: self.names.get(client).cloned().unwrap_or_default(),
                    cards: self
                        .hands
                        .get(client)
                        .map_or(0, |hand| u32::try_from(hand.len()).unwrap_or(u32::MAX)),
                    score: self.scores.get(client).copied().unwrap_or(0),
                };
                (*client, seat)
            })
            .collect();
        Table {
            players,
            turn: self.current(),
            pile: self.pile[self.pile.len().saturating_sub(SHOWN)..].to_vec(),
            deck: u32::try_from(self.deck.len()).unwrap_or(u32::MAX),
            moves: self.moves,
        }
    }

    /// A player's hand: only they see it.
    fn private_view(&self, client: ClientId) -> Hand {
        Hand {
            cards: self.hands.get(&client).cloned().unwrap_or_default(),
        }
    }

    /// `GET /rooms/{id}`: the table, for spectators and tests (never a hand).
    fn request(&mut self, _request: &RoomRequest) -> RoomResponse {
        RoomResponse::json(&self.view())
    }
}

#[cfg(test)]
mod tests;
