// State sync against the cards example (a real server, real sockets), with an
// independent checker: every sync frame each client receives is also applied
// with `fast-json-patch`, a JSON Patch library that is not ours. After a
// random run of plays, draws, renames, joins, leaves and dropped connections
// (cut at the TCP level, then resumed), every client's documents, rebuilt
// both ways, equal the room's view as the server answers it over HTTP, and
// the hands add up.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fastJsonPatch from "fast-json-patch";
import { connect } from "../dist/index.js";
import { startServer, startProxy, next } from "./harness.mjs";

const { applyPatch } = fastJsonPatch;
let server, proxy;

before(async () => {
  server = await startServer(process.env.STATEROOM_CARDS_BIN);
  proxy = await startProxy(server.port);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
});

/** A deterministic random source (tests print the seed on failure). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A WebSocket that shows every frame it receives to `tap` first: the
 * independent checker sees exactly what the client sees.
 */
function tapped(tap) {
  return class extends WebSocket {
    set onmessage(handler) {
      super.onmessage = handler && ((event) => {
        tap(event.data);
        handler(event);
      });
    }
    get onmessage() {
      return super.onmessage;
    }
  };
}

/** A player: the client, and the same documents rebuilt with fast-json-patch. */
function player(roomId) {
  const docs = { shared: null, private: null };
  const errors = [];
  let patches = 0;
  const tap = (data) => {
    if (typeof data !== "string" || !data.startsWith('{"stateroom":{"sync"')) return;
    const frame = JSON.parse(data).stateroom;
    if ("v" in frame) {
      docs[frame.sync] = { v: frame.v, doc: structuredClone(frame.state) };
      return;
    }
    const held = docs[frame.sync];
    if (!held || held.v !== frame.base) {
      errors.push(`patch on ${frame.base}, holding ${held?.v}`);
      return;
    }
    held.doc = applyPatch(held.doc, frame.patch, true, false).newDocument;
    held.v += 1;
    patches++;
  };
  const room = connect(proxy.url, roomId, {
    WebSocket: tapped(tap),
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  return { room, docs, errors, patches: () => patches };
}

async function table(roomId) {
  const response = await fetch(`http://127.0.0.1:${server.port}/rooms/${roomId}`);
  assert.equal(response.status, 200);
  return response.json();
}

/** Waits until `check` passes (it throws until then). */
async function eventually(check, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

test("every client's state, rebuilt by fast-json-patch, is the server's view after a random run", async (t) => {
  const seed = Number(process.env.STATEROOM_SYNC_SEED ?? Date.now() % 100_000);
  const random = rng(seed);
  const roomId = `cards-${seed}`;
  const players = [];
  const join = async () => {
    const p = player(roomId);
    await next(p.room, "session");
    players.push(p);
    return p;
  };
  t.after(() => players.forEach((p) => p.room.close()));
  for (let i = 0; i < 3; i++) await join();
  let cuts = 0;
  for (let step = 0; step < 150; step++) {
    const roll = random();
    const open = players.filter((p) => p.room.status === "open" && p.room.session);
    if (roll < 0.04 && players.length < 6) {
      await join();
    } else if (roll < 0.07 && players.length > 2) {
      const [gone] = players.splice(Math.floor(random() * players.length), 1);
      gone.room.close();
    } else if (roll < 0.11) {
      // A lost network: every connection reset, no close frames.
      proxy.cut();
      cuts++;
    } else if (roll < 0.2 && open.length > 0) {
      const p = open[Math.floor(random() * open.length)];
      const name = `p${step}`;
      p.room.send({ type: "name", name });
      const me = p.room.session.client;
      await eventually(() => assert.equal(p.room.state.players[me]?.name, name), 500).catch(() => {});
    } else {
      const turn = players.find((p) => p.room.state && p.room.state.turn === p.room.session?.client);
      const hand = turn?.room.privateState?.cards ?? [];
      if (turn && turn.room.status === "open") {
        const moves = turn.room.state.moves;
        if (hand.length > 0 && random() < 0.7) {
          turn.room.send({ type: "play", card: hand[Math.floor(random() * hand.length)] });
        } else {
          turn.room.send({ type: "draw" });
        }
        // Most of the time, let the move land before the next step (a cut
        // may still come first: the client resends after its resume).
        if (random() < 0.8) {
          await eventually(() => assert.ok(turn.room.state.moves > moves), 500).catch(() => {});
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, random() < 0.5 ? 0 : 10));
  }
  assert.ok(cuts > 0 || process.env.STATEROOM_SYNC_SEED, `seed ${seed}: the run cut no connection`);

  const view = await eventually(async () => {
    const view = await table(roomId);
    for (const p of players) {
      assert.equal(p.room.status, "open", `seed ${seed}`);
      assert.deepEqual(p.errors, [], `seed ${seed}: fast-json-patch saw a patch out of order`);
      assert.deepEqual(p.docs.shared?.doc, view, `seed ${seed}: fast-json-patch's state is not the view`);
      assert.deepEqual(p.room.state, view, `seed ${seed}: the client's state is not the view`);
      assert.equal(p.docs.shared.v, p.room.stateVersion);
      assert.deepEqual(p.room.privateState, p.docs.private?.doc, `seed ${seed}: the private states differ`);
    }
    return view;
  });
  // The hands add up: each client holds as many cards as the table says it
  // does, no card is in two hands, and no card in a hand is on the pile.
  const held = new Set();
  for (const p of players) {
    const hand = p.room.privateState.cards;
    assert.equal(hand.length, view.players[p.room.session.client].cards, `seed ${seed}`);
    for (const card of hand) {
      assert.ok(!held.has(card), `seed ${seed}: card ${card} is in two hands`);
      assert.ok(!view.pile.includes(card), `seed ${seed}: card ${card} is in a hand and on the pile`);
      held.add(card);
    }
  }
  const seated = Object.keys(view.players).map(Number);
  for (const p of players) assert.ok(seated.includes(p.room.session.client), `seed ${seed}`);
  // (Other seats may be held: a player that closed while cut off, or a seat
  // whose session frame or resume answer the cut swallowed, stays until the
  // reconnection window ends.)
  const patches = players.reduce((sum, p) => sum + p.patches(), 0);
  assert.ok(patches >= 20, `seed ${seed}: only ${patches} patches were applied`);
  for (const p of players) p.room.close();
});

/** A socket the test drives: it records what the client sends. */
class FakeSocket {
  static last = null;
  readyState = 0;
  binaryType = "blob";
  sent = [];
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  constructor(url) {
    this.url = url;
    FakeSocket.last = this;
  }
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(value) {
    this.onmessage?.({ data: typeof value === "string" ? value : JSON.stringify(value) });
  }
}

test("a patch on a version the client does not hold is refused, and snapshots asked for", () => {
  const room = connect("ws://x", "r", { WebSocket: FakeSocket, reconnect: false });
  const socket = FakeSocket.last;
  socket.open();
  socket.receive({ stateroom: { client: 1, token: "1.ab", resumed: false, replayed: 0 } });
  const changes = [];
  room.onState("/units/*/hp", (hp, path, previous) => changes.push([path, previous, hp]));
  socket.receive({ stateroom: { sync: "shared", v: 4, state: { units: { a: { hp: 3 }, b: { hp: 5 } } } } });
  assert.deepEqual(room.state, { units: { a: { hp: 3 }, b: { hp: 5 } } });
  assert.equal(room.stateVersion, 4);
  const first = room.state;
  socket.receive({ stateroom: { sync: "shared", base: 4, patch: [{ op: "replace", path: "/units/a/hp", value: 2 }] } });
  assert.equal(room.stateVersion, 5);
  // Replaced along the changed path, shared elsewhere.
  assert.notEqual(room.state, first);
  assert.equal(room.state.units.b, first.units.b);
  assert.equal(first.units.a.hp, 3);
  // A patch on a version it does not hold: refused, the state unchanged, a
  // resync asked for once, and later patches ignored until a snapshot.
  socket.receive({ stateroom: { sync: "shared", base: 9, patch: [{ op: "remove", path: "/units/b" }] } });
  socket.receive({ stateroom: { sync: "shared", base: 5, patch: [{ op: "remove", path: "/units/b" }] } });
  assert.deepEqual(room.state, { units: { a: { hp: 2 }, b: { hp: 5 } } });
  assert.deepEqual(socket.sent.filter((f) => f === '{"stateroom":{"resync":true}}').length, 1);
  socket.receive({ stateroom: { sync: "shared", v: 7, state: { units: { a: { hp: 1 } } } } });
  assert.deepEqual(room.state, { units: { a: { hp: 1 } } });
  socket.receive({ stateroom: { sync: "shared", base: 7, patch: [{ op: "add", path: "/units/c", value: { hp: 9 } }] } });
  assert.equal(room.state.units.c.hp, 9);
  // The path watcher saw each concrete path that changed, with its previous value.
  assert.deepEqual(changes, [
    ["/units/a/hp", undefined, 3],
    ["/units/b/hp", undefined, 5],
    ["/units/a/hp", 3, 2],
    ["/units/a/hp", 2, 1],
    ["/units/b/hp", 5, undefined],
    ["/units/c/hp", undefined, 9],
  ]);
  // Sync frames count for `ack` like any frame (they are replayed on resume).
  assert.equal(room.received, 6);
  room.close();
});

test("patches never write through to an object's prototype", () => {
  const room = connect("ws://x", "r", { WebSocket: FakeSocket, reconnect: false });
  const socket = FakeSocket.last;
  socket.open();
  socket.receive('{"stateroom":{"sync":"private","v":1,"state":{}}}');
  socket.receive('{"stateroom":{"sync":"private","base":1,"patch":[{"op":"add","path":"/__proto__","value":{"polluted":true}}]}}');
  assert.equal({}.polluted, undefined);
  assert.equal(Object.getPrototypeOf(room.privateState), Object.prototype);
  assert.deepEqual(Object.keys(room.privateState), ["__proto__"]);
  room.close();
});
