// The client against a real server: the chat example (reconnection on, 30 s).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, QueueFullError, StateroomError, ClosedError } from "../dist/index.js";
import { startServer, startProxy, next } from "./harness.mjs";

const Chat = { service: "Chat", tag: "type", inTag: "type" };
let server;

before(async () => {
  server = await startServer(process.env.STATEROOM_CHAT_BIN);
});
after(async () => {
  await server?.stop();
});

const rooms = [];
function open(url, room, options = {}) {
  const handle = connect(url, room, { service: Chat, ...options });
  rooms.push(handle);
  return handle;
}
after(() => rooms.forEach((room) => room.close()));

test("typed round trip: one client's message reaches another by its tag", async () => {
  const ada = open(server.url, "round-trip");
  const bob = open(server.url, "round-trip");
  // Both listeners before either await: bob's session may arrive while ada's is awaited.
  const [adaSession] = await Promise.all([next(ada, "session"), next(bob, "session")]);
  assert.equal(typeof adaSession.client, "number");
  assert.equal(adaSession.resumed, false);
  ada.send({ type: "join", name: "ada" });
  bob.send({ type: "join", name: "bob" });
  const said = next(bob, "said", (m) => m.name === "ada");
  ada.send({ type: "say", text: "hello bob" });
  const message = await said;
  assert.deepEqual(message, {
    type: "said",
    from: adaSession.client,
    name: "ada",
    text: "hello bob",
  });
  assert.equal(ada.status, "open");
});

test("an error frame reaches on('error') as a StateroomError, not as a message", async () => {
  const room = open(server.url, "errors");
  await next(room, "open");
  const messages = [];
  room.on("message", (m) => messages.push(m));
  const error = next(room, "error");
  room.send({ type: "shout", text: "x" });
  const got = await error;
  assert.ok(got instanceof StateroomError);
  assert.equal(got.code, "invalid_message");
  assert.match(got.message, /unknown variant `shout`/);
  room.sendText("{not json");
  assert.equal((await next(room, "error")).code, "invalid_json");
  assert.ok(messages.every((m) => !("error" in m)), JSON.stringify(messages));
  assert.equal(room.status, "open");
});

test("after the network drops, it reconnects, resumes and gets what it missed, once", async () => {
  const proxy = await startProxy(server.port);
  try {
    const watcher = open(proxy.url, "resume", { reconnect: { initialDelayMs: 50 } });
    const talker = open(server.url, "resume");
    const talkerOpen = next(talker, "open");
    const first = await next(watcher, "session");
    await talkerOpen;
    const joined = Promise.all([
      next(watcher, "joined", (m) => m.name === "watcher"),
      next(watcher, "joined", (m) => m.name === "talker"),
    ]);
    watcher.send({ type: "join", name: "watcher" });
    talker.send({ type: "join", name: "talker" });
    await joined;
    const seen = [];
    watcher.on("said", (m) => seen.push(m.text));
    proxy.refuse(true);
    proxy.cut();
    const reconnecting = await next(watcher, "status", (s) => s === "reconnecting");
    assert.equal(reconnecting[1].close.code, 1006);
    // Said while the watcher is away: the server holds them for it.
    for (let i = 0; i < 5; i++) talker.send({ type: "say", text: `missed ${i}` });
    await new Promise((r) => setTimeout(r, 200));
    proxy.refuse(false);
    const again = await next(watcher, "session");
    assert.equal(again.resumed, true, JSON.stringify(again));
    assert.equal(again.client, first.client, "the same client after a resume");
    assert.equal(again.replayed, 5);
    talker.send({ type: "say", text: "live" });
    await next(watcher, "said", (m) => m.text === "live");
    assert.deepEqual(seen, ["missed 0", "missed 1", "missed 2", "missed 3", "missed 4", "live"]);
  } finally {
    await proxy.close();
  }
});

test("messages in flight when the network drops are resent and applied exactly once", async () => {
  const proxy = await startProxy(server.port);
  try {
    const listener = open(server.url, "exactly-once");
    await next(listener, "open");
    const heard = [];
    listener.on("said", (m) => heard.push(m.text));
    const sender = open(proxy.url, "exactly-once", { reconnect: { initialDelayMs: 20 } });
    await next(sender, "session");
    sender.send({ type: "join", name: "sender" });
    await next(listener, "joined", (m) => m.name === "sender");
    // The room applies all 100 but the sender hears nothing back (no acks),
    // then the connection is reset: all 100 are resent on the next one.
    proxy.mute();
    const texts = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const all = next(listener, "said", (m) => m.text === "m99");
    for (const text of texts) sender.send({ type: "say", text });
    await all;
    assert.equal(sender.unacknowledged, 101, "nothing acknowledged through the muted proxy");
    proxy.cut();
    const again = await next(sender, "session");
    assert.equal(again.resumed, true, JSON.stringify(again));
    sender.send({ type: "say", text: "last" });
    await next(listener, "said", (m) => m.text === "last");
    assert.deepEqual(heard, [...texts, "last"], "each message once, in order");
    while (sender.unacknowledged > 0) await next(sender, "applied");
  } finally {
    await proxy.close();
  }
});

test("messages sent while offline wait in a bounded queue and go out in order", async () => {
  const proxy = await startProxy(server.port);
  try {
    proxy.refuse(true);
    const room = open(proxy.url, "queue", {
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
      queue: { maxMessages: 3 },
    });
    room.send({ type: "join", name: "q" });
    room.send({ type: "say", text: "one" });
    room.send({ type: "say", text: "two" });
    assert.throws(() => room.send({ type: "say", text: "three" }), QueueFullError);
    assert.equal(room.queued, 3);
    await next(room, "status", (s) => s === "reconnecting");
    const listener = open(server.url, "queue");
    await next(listener, "open");
    const heard = [];
    listener.on("said", (m) => heard.push(m.text));
    proxy.refuse(false);
    await next(listener, "said", (m) => m.text === "two");
    assert.deepEqual(heard, ["one", "two"]);
    assert.equal(room.queued, 0);
  } finally {
    await proxy.close();
  }
});

test("the drop-oldest rule keeps the newest messages", () => {
  class Never {
    readyState = 0;
    binaryType = "";
    send() {}
    close() {}
  }
  const room = connect("ws://127.0.0.1:9", "x", {
    WebSocket: Never,
    queue: { maxMessages: 2, whenFull: "drop-oldest" },
  });
  room.sendText("a");
  room.sendText("b");
  room.sendText("c");
  assert.equal(room.queued, 2);
  room.close();
  assert.throws(() => room.sendText("d"), ClosedError);
});

test("a kick is final: no reconnection, state closed with the code", async () => {
  const host = open(server.url, "kick");
  await next(host, "open");
  host.send({ type: "join", name: "host" });
  await next(host, "welcome");
  const guest = open(server.url, "kick");
  const session = await next(guest, "session");
  guest.send({ type: "join", name: "guest" });
  await next(host, "joined", (m) => m.name === "guest");
  host.send({ type: "kick", client: session.client });
  const [state, detail] = await next(guest, "status", (s) => s === "closed");
  assert.equal(state, "closed");
  assert.equal(detail.close.code, 4000);
  assert.equal(detail.close.willReconnect, false);
  assert.throws(() => guest.send({ type: "say", text: "x" }), ClosedError);
});

test("backoff grows by the factor, is capped, and is jittered (injected WebSocket)", async () => {
  const opened = [];
  class Refused {
    readyState = 0;
    binaryType = "";
    constructor(url) {
      opened.push(url);
      setTimeout(() => this.onclose?.({ code: 1006, reason: "" }), 0);
    }
    send() {}
    close() {}
  }
  const room = connect("http://example.invalid/", "r", {
    WebSocket: Refused,
    random: () => 1,
    reconnect: { initialDelayMs: 4, factor: 2, maxDelayMs: 20, jitter: 0.5, maxAttempts: 5 },
  });
  const delays = [];
  const states = [];
  room.on("status", (state) => states.push(state));
  room.on("status", (state, detail) => state === "reconnecting" && delays.push(detail.delayMs));
  const [, detail] = await next(room, "status", (s) => s === "closed");
  // random() = 1 takes the full jitter: half of 4, 8, 16, 20 (capped), 20.
  assert.deepEqual(delays, [2, 4, 8, 10, 10]);
  // The first state a listener hears is the first `connecting`.
  assert.equal(states[0], "connecting", JSON.stringify(states));
  assert.equal(detail.close.willReconnect, false);
  assert.equal(opened.length, 6);
  // Messages are numbered from 1 (exactly-once, docs/protocol.md).
  assert.equal(opened[0], "ws://example.invalid/ws/r?next=1");
});
