// @stateroom/client: a typed client for Stateroom rooms, for browsers and
// Node 20+. Zero runtime dependencies. The wire protocol it speaks is
// docs/protocol.md in the Stateroom repository.

import { type MatchRequest, type Reservation, matchmake, wsBase } from "./directory.js";
import {
  type DocHandler,
  type PathHandler,
  RESYNC_REQUEST,
  SyncedDoc,
  isSyncFrame,
  soleMember,
} from "./sync.js";

export { applyPatch, parsePointer } from "./sync.js";
export { DirectoryError, Lobby, listRooms, matchmake, watchRooms } from "./directory.js";
export type { LobbyOptions, MatchRequest, Reservation, RoomInfo, RoomQuery } from "./directory.js";
export type { DocHandler, PatchOperation, PathHandler, SyncFrame } from "./sync.js";

/**
 * A service's message types, as `--emit-ts` writes them: pass the generated
 * constant (for example `Chat`) as `options.service` to type a room.
 */
export interface ServiceTypes<In, Out, Tag extends string | null, State = unknown, Private = unknown> {
  /** The Rust service's name. */
  readonly service: string;
  /** The field that tells the outbound variants apart (`#[serde(tag = "…")]`), or null. */
  readonly tag: Tag;
  /** The same for inbound messages. */
  readonly inTag?: string | null;
  /** Phantom: what the room accepts. */
  readonly in?: In;
  /** Phantom: what the room sends. */
  readonly out?: Out;
  /** Phantom: the state every client sees (the service's `view`). */
  readonly state?: State;
  /** Phantom: the state only this client sees (`private_view`). */
  readonly private?: Private;
}

/** Where a room handle's connection is. */
export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "closed";

/** The session frame a room with reconnection on sends first (docs/protocol.md). */
export interface Session {
  /** This client's id in the room. */
  readonly client: number;
  /** The single-use token the next resume presents. */
  readonly token: string;
  /** Whether this connection resumed the previous session. */
  readonly resumed: boolean;
  /** How many missed frames the server replays after the session frame. */
  readonly replayed: number;
  /** Why a resume was refused (the connection goes on as a new client). */
  readonly refused?: string;
}

/** A close of the underlying socket. */
export interface CloseInfo {
  /** The WebSocket close code (1006: the connection dropped without one). */
  readonly code: number;
  /** The close reason the server gave, if any. */
  readonly reason: string;
  /** Whether the handle will reconnect. */
  readonly willReconnect: boolean;
}

/** Details of a status change. */
export interface StatusDetail {
  /** For `reconnecting`: which attempt comes next (1, 2, …). */
  readonly attempt?: number;
  /** For `reconnecting`: how long until it. */
  readonly delayMs?: number;
  /** For `reconnecting` and `closed`: the close that caused it. */
  readonly close?: CloseInfo;
}

/** An error frame from the server: `{"error":{"code":…,"message":…}}`. */
export class StateroomError extends Error {
  /** Stable: `invalid_json`, `invalid_message`, `unsupported_frame`, or the service's own code. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "StateroomError";
    this.code = code;
  }
}

/** Thrown by `send` when the offline queue is full (and `queue.whenFull` is `"throw"`). */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`the offline send queue is full (${limit} messages)`);
    this.name = "QueueFullError";
  }
}

/** Thrown by `send` after `close()` or a final close. */
export class ClosedError extends Error {
  constructor() {
    super("the room handle is closed");
    this.name = "ClosedError";
  }
}

/**
 * What `new WebSocket(url)` needs to be: the browser's, Node 22's, or the
 * `ws` package's. The handlers take `any` because each implementation has
 * its own event classes; the client reads only `data` (messages) and
 * `code` and `reason` (closes).
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Reconnection with exponential backoff and jitter. */
export interface ReconnectOptions {
  /** Delay before the first retry, in ms (default 250). */
  initialDelayMs?: number;
  /** Longest delay, in ms (default 10 000). */
  maxDelayMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of each delay that is random (default 0.5: between half and all of it). */
  jitter?: number;
  /** Give up after this many attempts in a row (default: never). */
  maxAttempts?: number;
  /** Whether a close with this code should be retried (default: see `retriedCloseCode`). */
  shouldReconnect?: (close: { code: number; reason: string }) => boolean;
}

/** The queue of messages sent while the socket is not open. */
export interface QueueOptions {
  /**
   * Most messages held while offline (default 100). Messages sent on an
   * open socket are also kept until the server says it applied them (up to
   * ten times this, at least 1 000; past that the oldest is let go and is
   * at-most-once), to resend after a dropped connection.
   */
  maxMessages?: number;
  /**
   * When full: `"throw"` (default) makes `send` throw `QueueFullError` and
   * keeps what is queued; `"drop-oldest"` discards the oldest queued message
   * to make room.
   */
  whenFull?: "throw" | "drop-oldest";
}

/** Options of `connect`. */
export interface ConnectOptions<In, Out, Tag extends string | null, State = unknown, Private = unknown> {
  /** The generated types constant (for example `Chat` from `room-types.ts`). */
  service?: ServiceTypes<In, Out, Tag, State, Private>;
  /** Query parameters for every connection (a token for the `join` hook, say). */
  query?: Record<string, string>;
  /** Path of rooms on the server (default `/ws/`). */
  prefix?: string;
  /** The room's kind, on a server of several (`/ws/{kind}/{room}`). */
  kind?: string;
  /**
   * A seat reservation from the matchmaker, presented by the first
   * connection only (later ones resume, or join as anyone would).
   * `joinOrCreate` and `joinReservation` set it.
   */
  reservation?: string;
  /** The WebSocket constructor (default: the global one). */
  WebSocket?: WebSocketConstructor;
  /** `false` turns reconnection off; an object tunes it. */
  reconnect?: boolean | ReconnectOptions;
  /** The offline send queue. */
  queue?: QueueOptions;
  /** Give up on a connection attempt that has not opened after this long, in ms (default 10 000). */
  connectTimeoutMs?: number;
  /** Random numbers in [0, 1) for the jitter (tests pass their own). */
  random?: () => number;

  /**
   * Number the messages sent, keep them until the room says it applied
   * them, and resend the rest after a dropped connection, so that each is
   * applied exactly once (rooms with reconnection on; default `true`).
   * `false`: at most once, as a plain WebSocket.
   */
  exactlyOnce?: boolean;
}

/** The value of the tag field across the outbound union. */
export type TagValue<Out, Tag> = Tag extends string
  ? Out extends { readonly [K in Tag]: infer V }
    ? V & string
    : never
  : never;

/** The outbound variant whose tag is `V`. */
export type Variant<Out, Tag, V> = Tag extends string ? Extract<Out, { readonly [K in Tag]: V }> : never;

/** The handle's own events. */
export interface RoomEvents<Out> {
  /** Every message the room sends (decoded JSON), whatever its tag. */
  message: (message: Out) => void;
  /** An error frame from the server. */
  error: (error: StateroomError) => void;
  /** The connection status changed. */
  status: (status: ConnectionStatus, detail: StatusDetail) => void;
  /** A connection opened (queued messages have just been sent on it). */
  open: () => void;
  /** The session frame arrived (rooms with reconnection on): resumed or new. */
  session: (session: Session) => void;
  /** The room applied every message numbered up to this one (exactly-once). */
  applied: (applied: number) => void;
  /** A socket closed. */
  close: (close: CloseInfo) => void;
  /** A binary frame. */
  binary: (data: ArrayBuffer) => void;
  /** A text frame that is not JSON. */
  text: (text: string) => void;
}

type Handler = (...args: any[]) => void;

/**
 * Close codes after which the handle reconnects by default: the server went
 * away or restarted (1001, 1012), the connection dropped (1005, 1006), the
 * room failed (1011), or the server is busy (1013, 1014). A normal close,
 * a protocol error, a kick (1008, 3000–4999) or a message too big (1009) is
 * final.
 */
export function retriedCloseCode(code: number): boolean {
  return [1001, 1005, 1006, 1011, 1012, 1013, 1014].includes(code);
}

/**
 * A connection to one room that comes back by itself, holding the room's
 * synced state (rooms whose service has a `view`).
 */
export class Room<
  In = unknown,
  Out = unknown,
  Tag extends string | null = null,
  State = unknown,
  Private = unknown,
  Presence = unknown,
> {
  readonly url: string;
  #options: ConnectOptions<In, Out, Tag, State, Private>;
  #WebSocket: WebSocketConstructor;
  #socket: WebSocketLike | null = null;
  #status: ConnectionStatus = "connecting";
  #shared = new SyncedDoc<State>();
  #private = new SyncedDoc<Private>();
  #presence = new SyncedDoc<Record<string, Presence>>();
  #reservation: string | null;
  #handlers = new Map<string, Set<Handler>>();
  #queue: string[] = [];
  /** Sent on an open socket, not yet applied: [number, text], oldest first. */
  #unacked: Array<[number, string]> = [];
  /** The number the next message sent gets. */
  #next = 1;
  #session: Session | null = null;
  #ack = 0;
  #firstFrame = true;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(url: string, options: ConnectOptions<In, Out, Tag, State, Private> = {}) {
    this.url = url;
    this.#options = options;
    this.#reservation = options.reservation ?? null;
    const WebSocketImpl = options.WebSocket ?? (globalThis as any).WebSocket;
    if (!WebSocketImpl) {
      throw new TypeError(
        "no WebSocket: pass options.WebSocket (for example from the `ws` package), or run Node 22+ (or Node 20 with --experimental-websocket)",
      );
    }
    this.#WebSocket = WebSocketImpl;
    this.#open();
    // The first `connecting`, once the caller has had a chance to listen.
    queueMicrotask(() => {
      if (this.#status === "connecting") this.#emit("status", "connecting", {});
    });
  }

  /** Where the connection is. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /**
   * The room's shared state (its `view`), kept current by the server's
   * patches; `undefined` until the first snapshot. Never a state the server
   * did not have: a patch that does not fit is refused, and a fresh snapshot
   * asked for. Replaced, not mutated: each change is a new object along the
   * changed paths, the rest shared.
   */
  get state(): State | undefined {
    return this.#shared.value;
  }

  /** The state only this client sees (its `private_view`), the same way. */
  get privateState(): Private | undefined {
    return this.#private.value;
  }

  /**
   * Who is in the room (services with `presence`): each client's id to
   * what it set with `ctx.set_presence` (`null` until it did), or
   * `{count: N}` for `presence = "count"`. `undefined` until the first
   * snapshot; replaced, not mutated, on each change.
   */
  get presence(): Record<string, Presence> | undefined {
    return this.#presence.value;
  }

  /**
   * Watches presence, as [`onState`](#onState) watches the state:
   * `room.onPresence("/*", (value, path) => …)` once per client that
   * joined (`value` set), changed, or left (`value` undefined).
   */
  onPresence(handler: DocHandler<Record<string, Presence>>): () => void;
  onPresence(pattern: string, handler: PathHandler): () => void;
  onPresence(pattern: string | DocHandler<Record<string, Presence>>, handler?: PathHandler): () => void {
    return typeof pattern === "function" ? this.#presence.watch(null, pattern) : this.#presence.watch(pattern, handler!);
  }

  /** The version of `state` (0 before the first snapshot). */
  get stateVersion(): number {
    return this.#shared.version;
  }

  /**
   * Watches the synced state. With a handler alone: after every change,
   * `(state, previous)`. With a JSON Pointer pattern (`*` for any key):
   * `(value, path, previous)` once per matching path whose value may have
   * changed, after the whole patch applied (`value` is `undefined` where it
   * was removed): `room.onState("/units/*\/hp", (hp, path) => …)`.
   * Returns a function that stops watching.
   */
  onState(handler: DocHandler<State>): () => void;
  onState(pattern: string, handler: PathHandler): () => void;
  onState(pattern: string | DocHandler<State>, handler?: PathHandler): () => void {
    return typeof pattern === "function" ? this.#shared.watch(null, pattern) : this.#shared.watch(pattern, handler!);
  }

  /** [`onState`](#onState) for the private state. */
  onPrivateState(handler: DocHandler<Private>): () => void;
  onPrivateState(pattern: string, handler: PathHandler): () => void;
  onPrivateState(pattern: string | DocHandler<Private>, handler?: PathHandler): () => void {
    return typeof pattern === "function" ? this.#private.watch(null, pattern) : this.#private.watch(pattern, handler!);
  }

  /** The current session (rooms with reconnection on), or null. */
  get session(): Session | null {
    return this.#session;
  }

  /** Frames received in this session: the `ack` a resume presents. */
  get received(): number {
    return this.#ack;
  }

  /** Messages waiting for the socket to open. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Messages sent and not yet applied by the room (exactly-once). */
  get unacknowledged(): number {
    return this.#unacked.length;
  }

  /**
   * Sends a message (as JSON). While the socket is not open it is queued and
   * sent, in order, once one is. With `exactlyOnce` (the default) and a room
   * with reconnection on, a message handed to a socket that then drops is
   * resent on the next connection, and the room applies it once.
   */
  send(message: In): void {
    this.#sendText(JSON.stringify(message));
  }

  /** Sends a text frame as it is (for services that take raw text). */
  sendText(text: string): void {
    this.#sendText(text);
  }

  /** Listens to one of the handle's events, or to the messages with one tag. */
  on<E extends keyof RoomEvents<Out>>(event: E, handler: RoomEvents<Out>[E]): () => void;
  on<V extends Exclude<TagValue<Out, Tag>, keyof RoomEvents<Out>>>(
    tag: V,
    handler: (message: Variant<Out, Tag, V>) => void,
  ): () => void;
  on(event: string, handler: Handler): () => void {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Closes for good: no reconnection; queued messages are dropped. */
  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#unacked = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= 1) socket.close(code, reason);
    this.#setStatus("closed", { close: { code, reason, willReconnect: false } });
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const handler of this.#handlers.get(event) ?? []) {
      try {
        handler(...args);
      } catch (error) {
        // A throwing handler must not break the connection or other handlers.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #setStatus(status: ConnectionStatus, detail: StatusDetail = {}): void {
    this.#status = status;
    this.#emit("status", status, detail);
  }

  #sendText(text: string): void {
    if (this.#closed) throw new ClosedError();
    if (this.#socket && this.#status === "open") {
      this.#transmit(this.#socket, text);
      return;
    }
    const limit = this.#options.queue?.maxMessages ?? 100;
    if (this.#queue.length >= limit) {
      if ((this.#options.queue?.whenFull ?? "throw") === "throw") throw new QueueFullError(limit);
      this.#queue.shift();
    }
    this.#queue.push(text);
  }

  /** Sends `text` as the next numbered message, kept until applied. */
  #transmit(socket: WebSocketLike, text: string): void {
    if (this.#options.exactlyOnce !== false) {
      this.#unacked.push([this.#next++, text]);
      const keep = Math.max(1_000, 10 * (this.#options.queue?.maxMessages ?? 100));
      if (this.#unacked.length > keep) this.#unacked.shift();
    }
    socket.send(text);
  }

  #connectionUrl(): string {
    const query = new URLSearchParams(this.#options.query ?? {});
    if (this.#reservation !== null) query.set("reservation", this.#reservation);
    if (this.#session) {
      query.set("resume", this.#session.token);
      query.set("ack", String(this.#ack));
    }
    if (this.#options.exactlyOnce !== false) {
      // The messages of this connection are numbered from the oldest one
      // not yet applied (resent first), or the next new one.
      query.set("next", String(this.#unacked[0]?.[0] ?? this.#next));
    }
    const search = query.toString();
    return search ? `${this.url}?${search}` : this.url;
  }

  #open(): void {
    const socket = new this.#WebSocket(this.#connectionUrl());
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    this.#firstFrame = true;
    // A socket that neither opens nor fails (a black-holed network) counts
    // as a dropped connection after the timeout.
    const timeout = setTimeout(() => lost(), this.#options.connectTimeoutMs ?? 10_000);
    const lost = () => {
      clearTimeout(timeout);
      if (socket !== this.#socket) return;
      this.#socket = null;
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      if (socket.readyState <= 1) socket.close();
      this.#closedBy(1006, "");
    };
    socket.onopen = () => {
      clearTimeout(timeout);
      if (socket !== this.#socket) return;
      this.#attempt = 0;
      // A reservation is single-use: later connections resume instead.
      this.#reservation = null;
      this.#setStatus("open");
      // What the room may not have applied goes again (it drops what it
      // did apply), then what waited offline.
      for (const [, text] of this.#unacked) socket.send(text);
      const queued = this.#queue;
      this.#queue = [];
      for (const text of queued) this.#transmit(socket, text);
      this.#emit("open");
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#frame(event.data);
    };
    socket.onclose = (event) => {
      clearTimeout(timeout);
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#closedBy(event.code, event.reason ?? "");
    };
    socket.onerror = () => {
      // On an open socket a close event follows with its code. A socket that
      // never opened may get no close event at all (Node 20's WebSocket after
      // a reset during the handshake): it failed, so retry now.
      if (socket.readyState !== 1) lost();
    };
  }

  #frame(data: unknown): void {
    // Only a connection's first frame can be its session frame.
    const first = this.#firstFrame;
    this.#firstFrame = false;
    if (typeof data !== "string") {
      this.#ack++;
      this.#emit("binary", data);
      return;
    }
    let value: any;
    try {
      value = JSON.parse(data);
    } catch {
      this.#ack++;
      this.#emit("text", data);
      return;
    }
    if (isApplied(value)) {
      const applied: number = value.stateroom.applied;
      while (this.#unacked.length > 0 && this.#unacked[0][0] <= applied) this.#unacked.shift();
      this.#emit("applied", applied);
      return;
    }
    if (first && !isSession(value)) {
      // No session: the room has no reconnection, and nothing is numbered.
      this.#unacked = [];
    }
    if (first && isSession(value)) {
      const session: Session = value.stateroom;
      // A fresh session counts from zero; a resumed one goes on counting.
      if (!session.resumed) this.#ack = 0;
      this.#session = session;
      this.#emit("session", session);
      return;
    }
    this.#ack++;
    if (isSyncFrame(value)) {
      const frame = value.stateroom;
      const doc: SyncedDoc<any> =
        frame.sync === "shared" ? this.#shared : frame.sync === "presence" ? this.#presence : this.#private;
      const fits = doc.apply(frame, (error) => this.#emit("error", new StateroomError("bad_patch", String(error))));
      // A patch that does not fit: ask for snapshots (once; until they come
      // the document ignores patches and stays as it was).
      if (!fits && !this.#closed) this.#sendText(RESYNC_REQUEST);
      return;
    }
    if (isErrorFrame(value)) {
      this.#emit("error", new StateroomError(value.error.code, value.error.message));
      return;
    }
    this.#emit("message", value);
    const tag = this.#options.service?.tag;
    if (tag && value && typeof value === "object" && typeof value[tag] === "string") {
      const name: string = value[tag];
      if (!RESERVED.has(name)) this.#emit(name, value);
    }
  }

  #closedBy(code: number, reason: string): void {
    if (this.#closed) return;
    const reconnect = this.#options.reconnect ?? true;
    const tuning: ReconnectOptions = typeof reconnect === "object" ? reconnect : {};
    const retried = (tuning.shouldReconnect ?? ((c) => retriedCloseCode(c.code)))({ code, reason });
    const attempt = this.#attempt + 1;
    const willReconnect =
      reconnect !== false && retried && attempt <= (tuning.maxAttempts ?? Infinity);
    const close: CloseInfo = { code, reason, willReconnect };
    this.#emit("close", close);
    if (!willReconnect) {
      this.#closed = true;
      this.#queue = [];
      this.#unacked = [];
      this.#setStatus("closed", { close });
      return;
    }
    this.#attempt = attempt;
    const initial = tuning.initialDelayMs ?? 250;
    const max = tuning.maxDelayMs ?? 10_000;
    const factor = tuning.factor ?? 2;
    const jitter = Math.min(Math.max(tuning.jitter ?? 0.5, 0), 1);
    // A restarting server (1012) is ready for its clients at once.
    const base = code === 1012 && attempt === 1 ? 0 : Math.min(max, initial * factor ** (attempt - 1));
    const random = this.#options.random ?? Math.random;
    const delayMs = Math.round(base * (1 - jitter * random()));
    this.#setStatus("reconnecting", { attempt, delayMs, close });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#closed) return;
      this.#setStatus("connecting", { attempt });
      this.#open();
    }, delayMs);
  }
}

const RESERVED = new Set([
  "message",
  "error",
  "status",
  "open",
  "session",
  "applied",
  "close",
  "binary",
  "text",
]);

/** The runtime's `{"stateroom":{"applied":N}}`: messages up to N were applied. */
function isApplied(value: any): value is { stateroom: { applied: number } } {
  return typeof soleMember(value, "stateroom")?.applied === "number";
}

function isSession(value: any): value is { stateroom: Session } {
  const session = soleMember(value, "stateroom");
  return typeof session?.client === "number" && typeof session.token === "string";
}

function isErrorFrame(value: any): value is { error: { code: string; message: string } } {
  const error = soleMember(value, "error");
  return typeof error?.code === "string" && typeof error.message === "string";
}

/**
 * Opens a room: `connect("ws://localhost:8080", "lobby", { service: Chat })`.
 * `url` is the server (`ws:`, `wss:`, `http:` or `https:`; a page may pass
 * `location.origin`); the room's socket is at `{url}{prefix}{room}`.
 */
export function connect<
  In = unknown,
  Out = unknown,
  Tag extends string | null = null,
  State = unknown,
  Private = unknown,
>(
  url: string,
  room: string,
  options: ConnectOptions<In, Out, Tag, State, Private> = {},
): Room<In, Out, Tag, State, Private> {
  const prefix = options.prefix ?? "/ws/";
  const path = options.kind ? `${encodeURIComponent(options.kind)}/${encodeURIComponent(room)}` : encodeURIComponent(room);
  return new Room<In, Out, Tag, State, Private>(`${wsBase(url)}${prefix}${path}`, options);
}

/**
 * Joins the seat a `matchmake` call reserved: the first connection presents
 * the reservation; later ones (after a dropped connection) resume.
 */
export function joinReservation<
  In = unknown,
  Out = unknown,
  Tag extends string | null = null,
  State = unknown,
  Private = unknown,
>(
  url: string,
  reservation: Reservation,
  options: ConnectOptions<In, Out, Tag, State, Private> = {},
): Room<In, Out, Tag, State, Private> {
  const path = reservation.url.split("?")[0];
  return new Room<In, Out, Tag, State, Private>(`${wsBase(url)}${path}`, {
    ...options,
    reservation: reservation.reservation,
  });
}

/**
 * Matchmaking, then joining: a seat in a room of `kind` whose metadata
 * matches `request.filter` with a free seat, or in a new one
 * (`joinOrCreate(location.origin, "match", {filter: {mode: "duel"}})`).
 * Rejects with a `DirectoryError` when no seat can be had.
 */
export async function joinOrCreate<
  In = unknown,
  Out = unknown,
  Tag extends string | null = null,
  State = unknown,
  Private = unknown,
>(
  url: string,
  kind: string,
  request: MatchRequest = {},
  options: ConnectOptions<In, Out, Tag, State, Private> & { fetch?: typeof fetch } = {},
): Promise<Room<In, Out, Tag, State, Private>> {
  const reservation = await matchmake(url, kind, request, { fetch: options.fetch });
  return joinReservation(url, reservation, options);
}
