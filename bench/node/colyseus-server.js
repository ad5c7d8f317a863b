// The Colyseus peer: one room type whose rooms are picked by the client's
// `room` option (filterBy), doing the same fair scenario: the message arrives
// decoded (msgpack, Colyseus's own framing), gets the sender added, and is
// broadcast once to the room (MODE=fanout) or sent back (MODE=echo).
//   PORT=8091 MODE=fanout node colyseus-server.js
"use strict";
const { Server, Room } = require("@colyseus/core");
const { Schema, ArraySchema, defineTypes } = require("@colyseus/schema");
const { WebSocketTransport } = require("@colyseus/ws-transport");

const port = Number(process.env.PORT || 8091);
const mode = process.env.MODE || "fanout";

class BenchRoom extends Room {
  onCreate() {
    this.maxClients = 100000;
    this.autoDispose = true;
    this.onMessage("m", (client, message) => {
      message.from = client.sessionId;
      if (mode === "echo") {
        client.send("m", message);
      } else {
        this.broadcast("m", message);
      }
    });
  }
}

// MODE=sync: the state-sync twin of `SyncRoom` (bench/src/servers/rooms.rs):
// 1,000 entities in an ArraySchema, 5 % of their 4,000 fields changed each
// 50 ms tick by the same xorshift sequence, patched at the same 50 ms rate
// by @colyseus/schema, and an echo of every "m" message for the probe.
class Entity extends Schema {}
defineTypes(Entity, { id: "number", x: "number", y: "number", hp: "number", angle: "number" });
class World extends Schema {}
defineTypes(World, { entities: [Entity] });

const ENTITIES = 1000;
const CHANGES = (ENTITIES * 4) / 20;

class SyncRoom extends Room {
  onCreate() {
    this.maxClients = 100000;
    this.autoDispose = true;
    const world = new World();
    world.entities = new ArraySchema();
    for (let id = 0; id < ENTITIES; id++) {
      const e = new Entity();
      e.id = id;
      e.x = (id * 7) % 1000;
      e.y = (id * 13) % 1000;
      e.hp = 100;
      e.angle = 0;
      world.entities.push(e);
    }
    this.setState(world);
    this.setPatchRate(50);
    let seed = 0x2545f4914f6cdd1dn;
    const mask = (1n << 64n) - 1n;
    const next = () => {
      seed ^= (seed << 13n) & mask;
      seed ^= seed >> 7n;
      seed ^= (seed << 17n) & mask;
      return seed;
    };
    this.clock.setInterval(() => {
      for (let i = 0; i < CHANGES; i++) {
        const r = next();
        const e = world.entities[Number(r % 1000n)];
        const delta = Number((r >> 32n) % 21n) - 10;
        switch (Number((r >> 16n) % 4n)) {
          case 0: e.x += delta; break;
          case 1: e.y += delta; break;
          case 2: e.hp = Math.min(100, Math.max(0, e.hp + delta)); break;
          default: e.angle = (((e.angle + delta) % 360) + 360) % 360;
        }
      }
    }, 50);
    this.onMessage("m", (client, message) => client.send("m", message));
  }
}

const server = new Server({ transport: new WebSocketTransport({ perMessageDeflate: false }) });
server.define("bench", mode === "sync" ? SyncRoom : BenchRoom).filterBy(["room"]);
server.listen(port, "127.0.0.1").then(() => {
  console.log(`colyseus peer listening on 127.0.0.1:${port} (${mode})`);
});
