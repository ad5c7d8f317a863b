// Rooms that find each other: the room directory (`GET /rooms`), the live
// lobby (the same URL as a WebSocket: a `rooms` document, then patches), and
// matchmaking (`POST /matchmake/{kind}`). The wire form is docs/protocol.md,
// "The room directory" and "Matchmaking".

import { type DocHandler, type PathHandler, SyncedDoc, isSyncFrame, RESYNC_REQUEST } from "./sync.js";

/** A live room, as the directory shows it. */
export interface RoomInfo<Metadata = unknown> {
  /** The room's kind (empty on a server of one service). */
  readonly kind: string;
  readonly id: string;
  /** Clients in the room (connected, or away with a held seat). */
  readonly clients: number;
  /** The most clients it seats, if it said (`ctx.set_capacity`). */
  readonly capacity: number | null;
  /** Seats held for clients on their way in (reservations, opening joins). */
  readonly reserved: number;
  /** It refuses new clients (`ctx.lock()`). */
  readonly locked: boolean;
  /** What it published with `ctx.set_metadata` (null if nothing). */
  readonly metadata: Metadata;
}

/** Which rooms to list: `{kind: "match", filter: {mode: "duel"}, sort: "-clients"}`. */
export interface RoomQuery {
  kind?: string;
  /** Metadata fields that must equal these values. */
  filter?: Record<string, string | number | boolean>;
  /** `clients`, `-clients` (the default), `id`, `metadata.field` or `-metadata.field`. */
  sort?: string;
  /** Only rooms that could take a client now (unlocked, a seat free). */
  available?: boolean;
}

/** What a matchmaking call asks for. */
export interface MatchRequest {
  /** Metadata fields the room must have (a room created for the call starts with them). */
  filter?: Record<string, string | number | boolean>;
  /** Which matching room to try first (default `-clients`: fill rooms up). */
  sort?: string;
  /** What the room's `join` hook reads with `JoinRequest::reservation`. */
  options?: unknown;
}

/** A reserved seat, valid for `expires_in_ms`. */
export interface Reservation {
  readonly kind: string;
  readonly room: string;
  /** The single-use token. */
  readonly reservation: string;
  /** The path to connect to, token included. */
  readonly url: string;
  readonly expires_in_ms: number;
  /** The room was created for this call. */
  readonly created: boolean;
}

/** A directory or matchmaking call the server refused: its HTTP status and why. */
export class DirectoryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "DirectoryError";
  }
}

/** `http(s)://host` from a server URL in any of the accepted schemes. */
export function httpBase(url: string): string {
  return url.replace(/^ws(s?):/, "http$1:").replace(/\/+$/, "");
}

/** `ws(s)://host` from a server URL in any of the accepted schemes. */
export function wsBase(url: string): string {
  return url.replace(/^http(s?):/, "ws$1:").replace(/\/+$/, "");
}

function searchOf(query: RoomQuery): string {
  const params = new URLSearchParams();
  if (query.kind !== undefined) params.set("kind", query.kind);
  for (const [field, value] of Object.entries(query.filter ?? {})) params.set(`filter[${field}]`, String(value));
  if (query.sort !== undefined) params.set("sort", query.sort);
  if (query.available) params.set("available", "true");
  const search = params.toString();
  return search ? `?${search}` : "";
}

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = JSON.parse(text)?.error?.message ?? text;
    } catch {
      // Not JSON: the body is the message.
    }
    throw new DirectoryError(response.status, message);
  }
  return JSON.parse(text) as T;
}

/** The rooms the directory lists now (`GET /rooms`). */
export async function listRooms<Metadata = unknown>(
  url: string,
  query: RoomQuery = {},
  options: { fetch?: typeof fetch; prefix?: string } = {},
): Promise<RoomInfo<Metadata>[]> {
  const fetcher = options.fetch ?? fetch;
  const path = (options.prefix ?? "/rooms/").replace(/\/$/, "");
  const body = await answer<{ rooms: RoomInfo<Metadata>[] }>(await fetcher(`${httpBase(url)}${path}${searchOf(query)}`));
  return body.rooms;
}

/**
 * Reserves a seat in a room of `kind` that matches `request.filter` and has
 * a free seat, or in a new room (`POST /matchmake/{kind}`). Join it within
 * `expires_in_ms` with `joinReservation` (or call `joinOrCreate`, which does both).
 */
export async function matchmake(
  url: string,
  kind: string,
  request: MatchRequest = {},
  options: { fetch?: typeof fetch } = {},
): Promise<Reservation> {
  const fetcher = options.fetch ?? fetch;
  const path = kind ? `/matchmake/${encodeURIComponent(kind)}` : "/matchmake";
  const response = await fetcher(`${httpBase(url)}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  return answer<Reservation>(response);
}

/** What a live lobby is told and how it reconnects. */
export interface LobbyOptions {
  /** The WebSocket constructor (default: the global one). */
  WebSocket?: new (url: string) => any;
  /** The directory's path (default `/rooms`). */
  prefix?: string;
  /** Delay before reconnecting after a dropped connection, in ms (default 1 000). */
  retryMs?: number;
}

/**
 * A live lobby: the rooms a query lists, kept current by the server's
 * patches (one per tick in which a listed room was created, changed or
 * freed). Reconnects after a dropped connection and starts again from a
 * snapshot; `close()` stops it.
 */
export class Lobby<Metadata = unknown> {
  #doc = new SyncedDoc<Record<string, RoomInfo<Metadata>>>();
  #socket: any = null;
  #closed = false;
  #url: string;
  #options: LobbyOptions;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(url: string, query: RoomQuery = {}, options: LobbyOptions = {}) {
    const path = (options.prefix ?? "/rooms/").replace(/\/$/, "");
    this.#url = `${wsBase(url)}${path}${searchOf(query)}`;
    this.#options = options;
    this.#open();
  }

  /** The listed rooms by path (`{kind}/{id}`, or `{id}` on a server of one service); undefined until the first snapshot. */
  get rooms(): Record<string, RoomInfo<Metadata>> | undefined {
    return this.#doc.value;
  }

  /**
   * Watches the list: with a handler alone, after every change; with a
   * pattern (`"/*"`), once per room added (value set), changed, or removed
   * (value undefined). Returns a function that stops watching.
   */
  onChange(handler: DocHandler<Record<string, RoomInfo<Metadata>>>): () => void;
  onChange(pattern: string, handler: PathHandler): () => void;
  onChange(pattern: string | DocHandler<Record<string, RoomInfo<Metadata>>>, handler?: PathHandler): () => void {
    return typeof pattern === "function" ? this.#doc.watch(null, pattern) : this.#doc.watch(pattern, handler!);
  }

  /** Stops watching and closes the socket. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#socket?.close(1000);
  }

  #open(): void {
    const WebSocketImpl = this.#options.WebSocket ?? (globalThis as any).WebSocket;
    const socket = new WebSocketImpl(this.#url);
    this.#socket = socket;
    socket.onmessage = (event: { data: unknown }) => {
      if (typeof event.data !== "string") return;
      let value: unknown;
      try {
        value = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!isSyncFrame(value) || value.stateroom.sync !== "rooms") return;
      const fits = this.#doc.apply(value.stateroom, () => {});
      if (!fits) socket.send(RESYNC_REQUEST);
    };
    socket.onclose = () => {
      if (socket !== this.#socket || this.#closed) return;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (!this.#closed) this.#open();
      }, this.#options.retryMs ?? 1000);
    };
  }
}

/** Opens a live lobby (`new Lobby(url, query, options)`). */
export function watchRooms<Metadata = unknown>(url: string, query: RoomQuery = {}, options: LobbyOptions = {}): Lobby<Metadata> {
  return new Lobby<Metadata>(url, query, options);
}
