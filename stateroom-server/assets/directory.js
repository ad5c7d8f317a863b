// Rooms that find each other: the room directory (`GET /rooms`), the live
// lobby (the same URL as a WebSocket: a `rooms` document, then patches), and
// matchmaking (`POST /matchmake/{kind}`). The wire form is docs/protocol.md,
// "The room directory" and "Matchmaking".
import { SyncedDoc, isSyncFrame, RESYNC_REQUEST } from "./sync.js";
/** A directory or matchmaking call the server refused: its HTTP status and why. */
export class DirectoryError extends Error {
    status;
    constructor(status, message) {
        super(message);
        this.status = status;
        this.name = "DirectoryError";
    }
}
/** `http(s)://host` from a server URL in any of the accepted schemes. */
export function httpBase(url) {
    return url.replace(/^ws(s?):/, "http$1:").replace(/\/+$/, "");
}
/** `ws(s)://host` from a server URL in any of the accepted schemes. */
export function wsBase(url) {
    return url.replace(/^http(s?):/, "ws$1:").replace(/\/+$/, "");
}
function searchOf(query) {
    const params = new URLSearchParams();
    if (query.kind !== undefined)
        params.set("kind", query.kind);
    for (const [field, value] of Object.entries(query.filter ?? {}))
        params.set(`filter[${field}]`, String(value));
    if (query.sort !== undefined)
        params.set("sort", query.sort);
    if (query.available)
        params.set("available", "true");
    const search = params.toString();
    return search ? `?${search}` : "";
}
async function answer(response) {
    const text = await response.text();
    if (!response.ok) {
        let message = text;
        try {
            message = JSON.parse(text)?.error?.message ?? text;
        }
        catch {
            // Not JSON: the body is the message.
        }
        throw new DirectoryError(response.status, message);
    }
    return JSON.parse(text);
}
/** The rooms the directory lists now (`GET /rooms`). */
export async function listRooms(url, query = {}, options = {}) {
    const fetcher = options.fetch ?? fetch;
    const path = (options.prefix ?? "/rooms/").replace(/\/$/, "");
    const body = await answer(await fetcher(`${httpBase(url)}${path}${searchOf(query)}`));
    return body.rooms;
}
/**
 * Reserves a seat in a room of `kind` that matches `request.filter` and has
 * a free seat, or in a new room (`POST /matchmake/{kind}`). Join it within
 * `expires_in_ms` with `joinReservation` (or call `joinOrCreate`, which does both).
 */
export async function matchmake(url, kind, request = {}, options = {}) {
    const fetcher = options.fetch ?? fetch;
    const path = kind ? `/matchmake/${encodeURIComponent(kind)}` : "/matchmake";
    const response = await fetcher(`${httpBase(url)}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
    });
    return answer(response);
}
/**
 * A live lobby: the rooms a query lists, kept current by the server's
 * patches (one per tick in which a listed room was created, changed or
 * freed). Reconnects after a dropped connection and starts again from a
 * snapshot; `close()` stops it.
 */
export class Lobby {
    #doc = new SyncedDoc();
    #socket = null;
    #closed = false;
    #url;
    #options;
    #timer = null;
    constructor(url, query = {}, options = {}) {
        const path = (options.prefix ?? "/rooms/").replace(/\/$/, "");
        this.#url = `${wsBase(url)}${path}${searchOf(query)}`;
        this.#options = options;
        this.#open();
    }
    /** The listed rooms by path (`{kind}/{id}`, or `{id}` on a server of one service); undefined until the first snapshot. */
    get rooms() {
        return this.#doc.value;
    }
    onChange(pattern, handler) {
        return typeof pattern === "function" ? this.#doc.watch(null, pattern) : this.#doc.watch(pattern, handler);
    }
    /** Stops watching and closes the socket. */
    close() {
        this.#closed = true;
        if (this.#timer !== null)
            clearTimeout(this.#timer);
        this.#socket?.close(1000);
    }
    #open() {
        const WebSocketImpl = this.#options.WebSocket ?? globalThis.WebSocket;
        const socket = new WebSocketImpl(this.#url);
        this.#socket = socket;
        socket.onmessage = (event) => {
            if (typeof event.data !== "string")
                return;
            let value;
            try {
                value = JSON.parse(event.data);
            }
            catch {
                return;
            }
            if (!isSyncFrame(value) || value.stateroom.sync !== "rooms")
                return;
            const fits = this.#doc.apply(value.stateroom, () => { });
            if (!fits)
                socket.send(RESYNC_REQUEST);
        };
        socket.onclose = () => {
            if (socket !== this.#socket || this.#closed)
                return;
            this.#timer = setTimeout(() => {
                this.#timer = null;
                if (!this.#closed)
                    this.#open();
            }, this.#options.retryMs ?? 1000);
        };
    }
}
/** Opens a live lobby (`new Lobby(url, query, options)`). */
export function watchRooms(url, query = {}, options = {}) {
    return new Lobby(url, query, options);
}
