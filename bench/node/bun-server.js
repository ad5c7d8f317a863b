// The Bun peer (uWebSockets inside): the same fair scenario as every other
// benchmarked server. Parse the inbound JSON once, add the sender, serialise
// once, publish to the room's topic (MODE=fanout; uWebSockets' fastest
// fan-out) or send back to the sender (MODE=echo).
//   PORT=8090 MODE=fanout node_modules/.bin/bun bun-server.js
const port = Number(process.env.PORT || 8090);
const mode = process.env.MODE || "fanout";
let nextId = 1;

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const url = new URL(req.url);
    const match = /^\/ws\/([A-Za-z0-9._~-]{1,64})$/.exec(url.pathname);
    if (!match) return new Response("bad room id", { status: 400 });
    if (server.upgrade(req, { data: { room: match[1], id: nextId++ } })) return undefined;
    return new Response("upgrade required", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    maxPayloadLength: 64 * 1024,
    open(ws) {
      ws.subscribe(ws.data.room);
    },
    message(ws, data) {
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      message.from = ws.data.id;
      const out = JSON.stringify(message);
      if (mode === "echo") {
        ws.send(out);
      } else {
        // server.publish reaches every subscriber, the sender included
        // (ws.publish would skip it), like the other servers' fan-out.
        server.publish(ws.data.room, out);
      }
    },
  },
});

console.log(`bun peer listening on 127.0.0.1:${server.port} (${mode})`);
