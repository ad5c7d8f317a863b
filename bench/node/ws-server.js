// The Node `ws` peer: the same fair scenario as every other benchmarked server.
// Parse the inbound JSON once, add the sender, serialise once, send to every
// member of the room (MODE=fanout) or back to the sender (MODE=echo).
//   PORT=8090 MODE=fanout node ws-server.js
"use strict";
const { WebSocketServer } = require("ws");

const port = Number(process.env.PORT || 8090);
const mode = process.env.MODE || "fanout";
const rooms = new Map();
let nextId = 1;

const wss = new WebSocketServer({
  port,
  host: "127.0.0.1",
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});

wss.on("connection", (ws, req) => {
  const match = /^\/ws\/([A-Za-z0-9._~-]{1,64})$/.exec(req.url || "");
  if (!match) {
    ws.close(1008, "bad room id");
    return;
  }
  const room = match[1];
  const id = nextId++;
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
  ws.on("message", (data) => {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    message.from = id;
    const out = JSON.stringify(message);
    if (mode === "echo") {
      ws.send(out);
    } else {
      for (const peer of members) peer.send(out);
    }
  });
  ws.on("close", () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
});

wss.on("listening", () => console.log(`ws peer listening on 127.0.0.1:${port} (${mode})`));
