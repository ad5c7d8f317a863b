// @stateroom/client: a typed client for Stateroom rooms, for browsers and
// Node 20+. Zero runtime dependencies. The wire protocol it speaks is
// docs/protocol.md in the Stateroom repository.
import { matchmake, wsBase } from "./directory.js";
import { RESYNC_REQUEST, SyncedDoc, isSyncFrame, soleMember, } from "./sync.js";
export { applyPatch, parsePointer } from "./sync.js";
export { DirectoryError, Lobby, listRooms, matchmake, watchRooms } from "./directory.js";
/** An error frame from the server: `{"error":{"code":…,"message":…}}`. */
export class StateroomError extends Error {
    /** Stable: `invalid_json`, `invalid_message`, `unsupported_frame`, or the service's own code. */
    code;
    constructor(code, message) {
        super(message);
        this.name = "StateroomError";
        this.code = code;
    }
}
/** Thrown by `send` when the offline queue is full (and `queue.whenFull` is `"throw"`). */
export class QueueFullError extends Error {
    constructor(limit) {
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
 * Close codes after which the handle reconnects by default: the server went
 * away or restarted (1001, 1012), the connection dropped (1005, 1006), the
 * room failed (1011), or the server is busy (1013, 1014). A normal close,
 * a protocol error, a kick (1008, 3000–4999) or a message too big (1009) is
 * final.
 */
export function retriedCloseCode(code) {
    return [1001, 1005, 1006, 1011, 1012, 1013, 1014].includes(code);
}
/**
 * A connection to one room that comes back by itself, holding the room's
 * synced state (rooms whose service has a `view`).
 */
export class Room {
    url;
    #options;
    #WebSocket;
    #socket = null;
    #status = "connecting";
    #shared = new SyncedDoc();
    #private = new SyncedDoc();
    #presence = new SyncedDoc();
    #reservation;
    #handlers = new Map();
    #queue = [];
    /** Sent on an open socket, not yet applied: [number, text], oldest first. */
    #unacked = [];
    /** The number the next message sent gets. */
    #next = 1;
    #session = null;
    #ack = 0;
    #firstFrame = true;
    #attempt = 0;
    #timer = null;
    #closed = false;
    constructor(url, options = {}) {
        this.url = url;
        this.#options = options;
        this.#reservation = options.reservation ?? null;
        const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
        if (!WebSocketImpl) {
            throw new TypeError("no WebSocket: pass options.WebSocket (for example from the `ws` package), or run Node 22+ (or Node 20 with --experimental-websocket)");
        }
        this.#WebSocket = WebSocketImpl;
        this.#open();
        // The first `connecting`, once the caller has had a chance to listen.
        queueMicrotask(() => {
            if (this.#status === "connecting")
                this.#emit("status", "connecting", {});
        });
    }
    /** Where the connection is. */
    get status() {
        return this.#status;
    }
    /**
     * The room's shared state (its `view`), kept current by the server's
     * patches; `undefined` until the first snapshot. Never a state the server
     * did not have: a patch that does not fit is refused, and a fresh snapshot
     * asked for. Replaced, not mutated: each change is a new object along the
     * changed paths, the rest shared.
     */
    get state() {
        return this.#shared.value;
    }
    /** The state only this client sees (its `private_view`), the same way. */
    get privateState() {
        return this.#private.value;
    }
    /**
     * Who is in the room (services with `presence`): each client's id to
     * what it set with `ctx.set_presence` (`null` until it did), or
     * `{count: N}` for `presence = "count"`. `undefined` until the first
     * snapshot; replaced, not mutated, on each change.
     */
    get presence() {
        return this.#presence.value;
    }
    onPresence(pattern, handler) {
        return typeof pattern === "function" ? this.#presence.watch(null, pattern) : this.#presence.watch(pattern, handler);
    }
    /** The version of `state` (0 before the first snapshot). */
    get stateVersion() {
        return this.#shared.version;
    }
    onState(pattern, handler) {
        return typeof pattern === "function" ? this.#shared.watch(null, pattern) : this.#shared.watch(pattern, handler);
    }
    onPrivateState(pattern, handler) {
        return typeof pattern === "function" ? this.#private.watch(null, pattern) : this.#private.watch(pattern, handler);
    }
    /** The current session (rooms with reconnection on), or null. */
    get session() {
        return this.#session;
    }
    /** Frames received in this session: the `ack` a resume presents. */
    get received() {
        return this.#ack;
    }
    /** Messages waiting for the socket to open. */
    get queued() {
        return this.#queue.length;
    }
    /** Messages sent and not yet applied by the room (exactly-once). */
    get unacknowledged() {
        return this.#unacked.length;
    }
    /**
     * Sends a message (as JSON). While the socket is not open it is queued and
     * sent, in order, once one is. With `exactlyOnce` (the default) and a room
     * with reconnection on, a message handed to a socket that then drops is
     * resent on the next connection, and the room applies it once.
     */
    send(message) {
        this.#sendText(JSON.stringify(message));
    }
    /** Sends a text frame as it is (for services that take raw text). */
    sendText(text) {
        this.#sendText(text);
    }
    on(event, handler) {
        let set = this.#handlers.get(event);
        if (!set)
            this.#handlers.set(event, (set = new Set()));
        set.add(handler);
        return () => set.delete(handler);
    }
    /** Closes for good: no reconnection; queued messages are dropped. */
    close(code = 1000, reason = "") {
        if (this.#closed)
            return;
        this.#closed = true;
        this.#queue = [];
        this.#unacked = [];
        if (this.#timer)
            clearTimeout(this.#timer);
        this.#timer = null;
        const socket = this.#socket;
        this.#socket = null;
        if (socket && socket.readyState <= 1)
            socket.close(code, reason);
        this.#setStatus("closed", { close: { code, reason, willReconnect: false } });
    }
    #emit(event, ...args) {
        for (const handler of this.#handlers.get(event) ?? []) {
            try {
                handler(...args);
            }
            catch (error) {
                // A throwing handler must not break the connection or other handlers.
                queueMicrotask(() => {
                    throw error;
                });
            }
        }
    }
    #setStatus(status, detail = {}) {
        this.#status = status;
        this.#emit("status", status, detail);
    }
    #sendText(text) {
        if (this.#closed)
            throw new ClosedError();
        if (this.#socket && this.#status === "open") {
            this.#transmit(this.#socket, text);
            return;
        }
        const limit = this.#options.queue?.maxMessages ?? 100;
        if (this.#queue.length >= limit) {
            if ((this.#options.queue?.whenFull ?? "throw") === "throw")
                throw new QueueFullError(limit);
            this.#queue.shift();
        }
        this.#queue.push(text);
    }
    /** Sends `text` as the next numbered message, kept until applied. */
    #transmit(socket, text) {
        if (this.#options.exactlyOnce !== false) {
            this.#unacked.push([this.#next++, text]);
            const keep = Math.max(1_000, 10 * (this.#options.queue?.maxMessages ?? 100));
            if (this.#unacked.length > keep)
                this.#unacked.shift();
        }
        socket.send(text);
    }
    #connectionUrl() {
        const query = new URLSearchParams(this.#options.query ?? {});
        if (this.#reservation !== null)
            query.set("reservation", this.#reservation);
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
    #open() {
        const socket = new this.#WebSocket(this.#connectionUrl());
        socket.binaryType = "arraybuffer";
        this.#socket = socket;
        this.#firstFrame = true;
        // A socket that neither opens nor fails (a black-holed network) counts
        // as a dropped connection after the timeout.
        const timeout = setTimeout(() => lost(), this.#options.connectTimeoutMs ?? 10_000);
        const lost = () => {
            clearTimeout(timeout);
            if (socket !== this.#socket)
                return;
            this.#socket = null;
            socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
            if (socket.readyState <= 1)
                socket.close();
            this.#closedBy(1006, "");
        };
        socket.onopen = () => {
            clearTimeout(timeout);
            if (socket !== this.#socket)
                return;
            this.#attempt = 0;
            // A reservation is single-use: later connections resume instead.
            this.#reservation = null;
            this.#setStatus("open");
            // What the room may not have applied goes again (it drops what it
            // did apply), then what waited offline.
            for (const [, text] of this.#unacked)
                socket.send(text);
            const queued = this.#queue;
            this.#queue = [];
            for (const text of queued)
                this.#transmit(socket, text);
            this.#emit("open");
        };
        socket.onmessage = (event) => {
            if (socket !== this.#socket)
                return;
            this.#frame(event.data);
        };
        socket.onclose = (event) => {
            clearTimeout(timeout);
            if (socket !== this.#socket)
                return;
            this.#socket = null;
            this.#closedBy(event.code, event.reason ?? "");
        };
        socket.onerror = () => {
            // On an open socket a close event follows with its code. A socket that
            // never opened may get no close event at all (Node 20's WebSocket after
            // a reset during the handshake): it failed, so retry now.
            if (socket.readyState !== 1)
                lost();
        };
    }
    #frame(data) {
        // Only a connection's first frame can be its session frame.
        const first = this.#firstFrame;
        this.#firstFrame = false;
        if (typeof data !== "string") {
            this.#ack++;
            this.#emit("binary", data);
            return;
        }
        let value;
        try {
            value = JSON.parse(data);
        }
        catch {
            this.#ack++;
            this.#emit("text", data);
            return;
        }
        if (isApplied(value)) {
            const applied = value.stateroom.applied;
            while (this.#unacked.length > 0 && this.#unacked[0][0] <= applied)
                this.#unacked.shift();
            this.#emit("applied", applied);
            return;
        }
        if (first && !isSession(value)) {
            // No session: the room has no reconnection, and nothing is numbered.
            this.#unacked = [];
        }
        if (first && isSession(value)) {
            const session = value.stateroom;
            // A fresh session counts from zero; a resumed one goes on counting.
            if (!session.resumed)
                this.#ack = 0;
            this.#session = session;
            this.#emit("session", session);
            return;
        }
        this.#ack++;
        if (isSyncFrame(value)) {
            const frame = value.stateroom;
            const doc = frame.sync === "shared" ? this.#shared : frame.sync === "presence" ? this.#presence : this.#private;
            const fits = doc.apply(frame, (error) => this.#emit("error", new StateroomError("bad_patch", String(error))));
            // A patch that does not fit: ask for snapshots (once; until they come
            // the document ignores patches and stays as it was).
            if (!fits && !this.#closed)
                this.#sendText(RESYNC_REQUEST);
            return;
        }
        if (isErrorFrame(value)) {
            this.#emit("error", new StateroomError(value.error.code, value.error.message));
            return;
        }
        this.#emit("message", value);
        const tag = this.#options.service?.tag;
        if (tag && value && typeof value === "object" && typeof value[tag] === "string") {
            const name = value[tag];
            if (!RESERVED.has(name))
                this.#emit(name, value);
        }
    }
    #closedBy(code, reason) {
        if (this.#closed)
            return;
        const reconnect = this.#options.reconnect ?? true;
        const tuning = typeof reconnect === "object" ? reconnect : {};
        const retried = (tuning.shouldReconnect ?? ((c) => retriedCloseCode(c.code)))({ code, reason });
        const attempt = this.#attempt + 1;
        const willReconnect = reconnect !== false && retried && attempt <= (tuning.maxAttempts ?? Infinity);
        const close = { code, reason, willReconnect };
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
            if (this.#closed)
                return;
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
function isApplied(value) {
    return typeof soleMember(value, "stateroom")?.applied === "number";
}
function isSession(value) {
    const session = soleMember(value, "stateroom");
    return typeof session?.client === "number" && typeof session.token === "string";
}
function isErrorFrame(value) {
    const error = soleMember(value, "error");
    return typeof error?.code === "string" && typeof error.message === "string";
}
/**
 * Opens a room: `connect("ws://localhost:8080", "lobby", { service: Chat })`.
 * `url` is the server (`ws:`, `wss:`, `http:` or `https:`; a page may pass
 * `location.origin`); the room's socket is at `{url}{prefix}{room}`.
 */
export function connect(url, room, options = {}) {
    const prefix = options.prefix ?? "/ws/";
    const path = options.kind ? `${encodeURIComponent(options.kind)}/${encodeURIComponent(room)}` : encodeURIComponent(room);
    return new Room(`${wsBase(url)}${prefix}${path}`, options);
}
/**
 * Joins the seat a `matchmake` call reserved: the first connection presents
 * the reservation; later ones (after a dropped connection) resume.
 */
export function joinReservation(url, reservation, options = {}) {
    const path = reservation.url.split("?")[0];
    return new Room(`${wsBase(url)}${path}`, {
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
export async function joinOrCreate(url, kind, request = {}, options = {}) {
    const reservation = await matchmake(url, kind, request, { fetch: options.fetch });
    return joinReservation(url, reservation, options);
}
