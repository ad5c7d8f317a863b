// The message types of the Stateroom service `Board`, generated from its
// Rust definitions: do not edit. Regenerate with `cargo run -- --emit-ts <this file>`.

/**
 * A point on the board.
 */
export type Point = { x: number, y: number, };

/**
 * What a page sends.
 */
export type BoardIn = { "type": "draw", color: string, width: number, points: Array<Point>, } | { "type": "clear" };

/**
 * One line someone drew.
 */
export type Stroke = { by: number, 
/**
 * `#rrggbb`.
 */
color: string, width: number, points: Array<Point>, };

/**
 * What the board sends.
 */
export type BoardOut = { "type": "welcome", you: number, strokes: Array<Stroke>, peers: Array<number>, } | { "type": "drew", stroke: Stroke, } | { "type": "cleared", by: number, } | { "type": "joined", client: number, } | { "type": "left", client: number, };

/** `Board`: what its rooms accept (`in`) and send (`out`), the field
 * that tells their variants apart, and the state they sync (`state`: every
 * client's view; `private`: each client's own). Pass it to `connect` from
 * `@stateroom/client`. */
export const Board: {
  readonly service: "Board";
  readonly tag: "type";
  readonly inTag: "type";
  readonly in?: BoardIn;
  readonly out?: BoardOut;
  readonly state?: never;
  readonly private?: never;
} = { service: "Board", tag: "type", inTag: "type" };
