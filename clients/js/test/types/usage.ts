// Type-checked against the types `example-chat --emit-ts` generates (the
// test writes them to test-output/room-types.ts first). Everything here must
// compile; test/types.test.mjs also checks that misuses do not.
import { connect, StateroomError } from "../../src/index.js";
import { Chat, type ChatIn, type ChatOut } from "../../test-output/room-types.js";

const room = connect("ws://localhost:8080", "lobby", { service: Chat });
room.send({ type: "join", name: "ada" });
room.send({ type: "say", text: "hello" });
room.send({ type: "kick", client: 7 });
room.on("said", (message) => {
  const text: string = message.text;
  const from: number = message.from;
  void [text, from];
});
room.on("welcome", (message) => message.members.map((member) => member.name.toUpperCase()));
room.on("message", (message: ChatOut) => message.type);
room.on("error", (error: StateroomError) => error.code);
room.on("status", (state, detail) => (state === "closed" ? detail.close?.code : undefined));
const incoming: ChatIn = { type: "leave" };
room.send(incoming);
room.close();

// The `ws` package's constructor is a WebSocket the client accepts (Node
// before 22, or servers).
import WebSocket from "ws";
const fromNode = connect("ws://localhost:8080", "lobby", { service: Chat, WebSocket });
fromNode.on("status", (state) => (state === "connecting" ? 1 : 0));
