// The Colyseus peer: one room type whose rooms are picked by the client's
// `room` option (filterBy), doing the same fair scenario: the message arrives
// decoded (msgpack, Colyseus's own framing), gets the sender added, and is
// broadcast once to the room (MODE=fanout) or sent back (MODE=echo).
//   PORT=8091 MODE=fanout node colyseus-server.js
"use strict";
const { Server, Room } = require("@colyseus/core");
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

const server = new Server({ transport: new WebSocketTransport({ perMessageDeflate: false }) });
server.define("bench", BenchRoom).filterBy(["room"]);
server.listen(port, "127.0.0.1").then(() => {
  console.log(`colyseus peer listening on 127.0.0.1:${port} (${mode})`);
});
