// Doc rooms with the real peers: the `yjs` and `y-websocket` packages (pinned
// in package-lock.json), unmodified, in Node, against the notes example
// (examples/notes). Two providers edit one Y.Text concurrently and converge;
// a late one gets everything; a read-only link's change is refused and the
// provider told so; and after `kill -9` of the server mid-typing, every
// change another client had received (which the room sends only once it is
// durable) is in the restored document.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import WebSocket from "ws";
import { startServer } from "./harness.mjs";

const bin = process.env.STATEROOM_NOTES_BIN;
const dirs = [];
const stops = [];
after(async () => {
  for (const stop of stops) await stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), "stateroom-notes-"));
  dirs.push(dir);
  return dir;
}

async function serve(dir) {
  const server = await startServer(bin, ["--data-dir", dir]);
  stops.push(server.stop);
  return server;
}

/** A provider on `room` of `server`, with its own document. */
function provider(server, room, params = {}) {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(`${server.url}/ws`, room, doc, {
    WebSocketPolyfill: WebSocket,
    params,
    disableBc: true,
  });
  // The document's destruction ends its awareness timer too.
  stops.push(async () => {
    p.destroy();
    doc.destroy();
  });
  return { doc, p, text: doc.getText("body") };
}

async function until(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const synced = (p) => until(() => p.synced, "the provider to sync");

test("two providers edit one Y.Text concurrently and converge; a late one gets it all", async () => {
  const server = await serve(dataDir());
  const a = provider(server, "pad");
  const b = provider(server, "pad");
  await Promise.all([synced(a.p), synced(b.p)]);
  assert.equal(a.doc.getText("title").toString(), "Untitled note", "the room seeded it");
  // Concurrent: both type at the same place before hearing of the other.
  for (let i = 0; i < 50; i++) {
    a.text.insert(0, "a");
    b.text.insert(0, "b");
  }
  await until(() => a.text.toString() === b.text.toString() && a.text.length === 100, "convergence");
  const late = provider(server, "pad");
  await synced(late.p);
  await until(() => late.text.toString() === a.text.toString(), "the late provider to catch up");
  assert.equal([...late.text.toString()].filter((c) => c === "a").length, 50);
  // Awareness: each sees the others' states.
  a.p.awareness.setLocalStateField("user", { name: "ann" });
  await until(
    () => [...late.p.awareness.getStates().values()].some((s) => s.user?.name === "ann"),
    "ann's awareness to reach the late provider",
  );
  // A provider that leaves disappears from the others' awareness.
  const annId = a.doc.clientID;
  a.p.destroy();
  await until(() => !late.p.awareness.getStates().has(annId), "ann to leave awareness");
});

test("a read-only link's change is refused, and the provider is told so", async () => {
  const server = await serve(dataDir());
  const writer = provider(server, "ro");
  const reader = provider(server, "ro", { mode: "view" });
  await Promise.all([synced(writer.p), synced(reader.p)]);
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.join(" "));
  try {
    reader.text.insert(0, "vandalism");
    await until(() => warnings.some((w) => w.includes("Permission denied")), "the permission-denied message");
  } finally {
    console.warn = warn;
  }
  assert.match(warnings.join("\n"), /read-only: this link can view the note but not edit it/);
  // The writer never sees it; the reader still receives the writer's text.
  writer.text.insert(0, "hello");
  await until(() => reader.text.toString().includes("hello"), "the writer's change to reach the reader");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(writer.text.toString(), "hello");
  // A bad mode is refused at the door (HTTP 400): the socket never opens.
  const status = await new Promise((resolve) => {
    const ws = new WebSocket(`${server.url}/ws/ro?mode=admin`);
    ws.on("unexpected-response", (req, res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    ws.on("error", () => {});
    ws.on("open", () => {
      resolve("open");
      ws.terminate();
    });
  });
  assert.equal(status, 400);
});

test("kill -9 mid-typing: every change another client received is in the restored document", async () => {
  const dir = dataDir();
  const server = await serve(dir);
  const typist = provider(server, "crash");
  const watcher = provider(server, "crash");
  await Promise.all([synced(typist.p), synced(watcher.p)]);
  let typed = 0;
  const typing = setInterval(() => {
    typist.text.insert(typist.text.length, String(typed++ % 10));
  }, 2);
  await until(() => watcher.text.length >= 200, "the watcher to receive 200 characters");
  await server.stop(); // SIGKILL
  clearInterval(typing);
  const seen = watcher.text.toString();
  typist.p.destroy();
  watcher.p.destroy();
  const again = await serve(dir);
  const reader = provider(again, "crash");
  await synced(reader.p);
  const restored = reader.text.toString();
  assert.ok(seen.length >= 200);
  assert.ok(
    restored.startsWith(seen),
    `the restored text (${restored.length} chars) lacks what the watcher saw (${seen.length} chars)`,
  );
  assert.ok(restored.length <= typed, "nothing invented");
});

test("the notes page's committed bundle is what its source builds to", async () => {
  const { build } = await import("esbuild");
  const { readFileSync } = await import("node:fs");
  const web = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../examples/notes/web");
  const out = await build({
    entryPoints: [path.join(web, "src/app.js")],
    bundle: true,
    format: "esm",
    minify: true,
    legalComments: "none",
    nodePaths: [path.resolve(path.dirname(new URL(import.meta.url).pathname), "../node_modules")],
    write: false,
  });
  assert.equal(
    out.outputFiles[0].text,
    readFileSync(path.join(web, "app.js"), "utf8"),
    "examples/notes/web/app.js is stale: run `npm run bundle:notes` in clients/js",
  );
});
