// Stock y-websocket providers on a 3-node notes cluster behind HAProxy
// (examples/notes/tests/cluster.rs starts it): the note's owner is killed
// with SIGKILL while one provider types; both providers reconnect through
// HAProxy to the node that takes the room over, which loads the document
// from Redis, and they converge. Everything the watching provider had
// received before the kill (which the room sent only once Redis held it)
// is in the final document, and so is everything typed during the outage.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import WebSocket from "ws";

const front = process.env.STATEROOM_NOTES_FRONT;
const nodes = JSON.parse(process.env.STATEROOM_NOTES_NODES ?? "[]");
const cleanups = [];
after(() => cleanups.forEach((f) => f()));

function provider(room) {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(`${front}/ws`, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    maxBackoffTime: 500,
  });
  cleanups.push(() => {
    p.destroy();
    doc.destroy();
  });
  return { doc, p, text: doc.getText("body") };
}

async function until(check, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The node that owns `room`, from any live node's directory. */
async function owner(room) {
  for (const node of nodes) {
    try {
      const res = await fetch(`http://127.0.0.1:${node.port}/rooms`);
      const { rooms } = await res.json();
      const found = rooms.find((r) => r.id === room);
      if (found) return nodes.find((n) => n.id === found.node);
    } catch {
      // a dead node: ask the next
    }
  }
  return undefined;
}

test("kill -9 of the owner: providers reconnect through HAProxy and converge, nothing received lost", async () => {
  assert.ok(front && nodes.length === 3, "the cluster test sets STATEROOM_NOTES_FRONT and _NODES");
  const typist = provider("failover");
  const watcher = provider("failover");
  await until(() => typist.p.synced && watcher.p.synced, "both providers to sync");
  let typed = "";
  const typing = setInterval(() => {
    const c = String(typed.length % 10);
    typist.text.insert(typist.text.length, c);
    typed += c;
  }, 5);
  await until(() => watcher.text.length >= 100, "the watcher to receive 100 characters");
  let victim;
  await until(async () => (victim = await owner("failover")) !== undefined, "the room in the directory");
  const seen = watcher.text.toString();
  process.kill(victim.pid, "SIGKILL");
  // Typing goes on through the outage; the providers reconnect by themselves.
  await until(() => typed.length >= seen.length + 300, "typing during the failover");
  clearInterval(typing);
  await until(
    () => watcher.text.toString() === typed && typist.text.toString() === typed,
    "both providers to converge on everything typed",
  );
  // The directory drops the dead owner's entry within its lease (2 s here).
  await until(async () => (await owner("failover"))?.id !== victim.id, `the room to move off ${victim.id}`);
  assert.ok(typed.startsWith(seen), "what the watcher had received is in the final document");
  // A fresh provider, through HAProxy, loads it all from the new owner.
  const reader = provider("failover");
  await until(() => reader.p.synced && reader.text.toString() === typed, "a fresh provider to load it all");
});

test("kill -9 of the owner with every provider gone: a new one loads all that was received from Redis", async () => {
  const typist = provider("durable");
  const watcher = provider("durable");
  await until(() => typist.p.synced && watcher.p.synced, "both providers to sync");
  let typed = 0;
  const typing = setInterval(() => typist.text.insert(typist.text.length, String(typed++ % 10)), 3);
  await until(() => watcher.text.length >= 150, "the watcher to receive 150 characters");
  let victim;
  await until(async () => (victim = (await owner("durable"))) !== undefined, "the room in the directory");
  const seen = watcher.text.toString();
  process.kill(victim.pid, "SIGKILL");
  // Both copies go with the owner: only what Redis holds can come back.
  clearInterval(typing);
  typist.p.destroy();
  watcher.p.destroy();
  const reader = provider("durable");
  await until(() => reader.p.synced, "a new provider to sync through HAProxy");
  const restored = reader.text.toString();
  assert.ok(
    restored.startsWith(seen),
    `the new owner's document (${restored.length} chars) lacks what was received (${seen.length} chars)`,
  );
  assert.ok(restored.length <= typed, "nothing invented");
});
