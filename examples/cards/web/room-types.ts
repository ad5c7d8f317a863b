// The message types of the Stateroom service `Cards`, generated from its
// Rust definitions: do not edit. Regenerate with `cargo run -- --emit-ts <this file>`.

/**
 * A card: rank 1 (ace) to 13 (king), suit 0 to 3 (♠ ♥ ♦ ♣). Its id is
 * `suit * 13 + rank - 1`, 0 to 51.
 */
export type Card = number;

/**
 * What a page sends.
 */
export type Move = { "type": "play", 
/**
 * The card, which must be in your hand.
 */
card: Card, } | { "type": "draw" } | { "type": "name", 
/**
 * The name.
 */
name: string, };

/**
 * A player as everyone sees them: never their cards, only how many.
 */
export type Seat = { 
/**
 * The name they picked.
 */
name: string, 
/**
 * How many cards they hold.
 */
cards: number, 
/**
 * Their points.
 */
score: number, };

/**
 * The table: what every client sees (`view`).
 */
export type Table = { 
/**
 * The players, keyed by client id: one entry each, so a changed score
 * is one small patch operation.
 */
players: { [key in number]: Seat }, 
/**
 * Whose turn it is.
 */
turn: number | null, 
/**
 * The pile, last card on top (only the top eight are shown).
 */
pile: Array<Card>, 
/**
 * Cards left in the deck.
 */
deck: number, 
/**
 * Moves made so far.
 */
moves: number, };

/**
 * One player's own view (`private_view`): their hand.
 */
export type Hand = { 
/**
 * The cards, in the order they were dealt and drawn.
 */
cards: Array<Card>, };

/** `Cards`: what its rooms accept (`in`) and send (`out`), the field
 * that tells their variants apart, and the state they sync (`state`: every
 * client's view; `private`: each client's own). Pass it to `connect` from
 * `@stateroom/client`. */
export const Cards: {
  readonly service: "Cards";
  readonly tag: null;
  readonly inTag: "type";
  readonly in?: Move;
  readonly out?: unknown;
  readonly state?: Table;
  readonly private?: Hand;
} = { service: "Cards", tag: null, inTag: "type" };
