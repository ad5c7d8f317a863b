// Types cross the language line: generate them from the Rust example with
// `--emit-ts`, then type-check TypeScript that uses them with `tsc --noEmit`.
// Correct use compiles; each deliberate misuse fails with the expected error.

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, "test-output");
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const flags = [
  "--noEmit", "--strict", "--target", "ES2022", "--module", "ES2022",
  "--moduleResolution", "Bundler", "--lib", "ES2022,DOM", "--skipLibCheck",
];

function check(file) {
  const run = spawnSync(process.execPath, [tsc, ...flags, file], { encoding: "utf8" });
  return { ok: run.status === 0, output: run.stdout + run.stderr };
}

before(() => {
  mkdirSync(out, { recursive: true });
  const bin = process.env.STATEROOM_CHAT_BIN;
  assert.ok(bin, "set STATEROOM_CHAT_BIN (cargo test sets it)");
  execFileSync(bin, ["--emit-ts", path.join(out, "room-types.ts")], { stdio: "pipe" });
});

test("the generated types follow the Rust definitions", () => {
  const ts = readFileSync(path.join(out, "room-types.ts"), "utf8");
  // Variants, serde's tag and rename_all, ClientId as number, nested types.
  assert.match(ts, /export type ChatIn = \{ "type": "join", name: string, \} \|/);
  assert.match(ts, /\{ "type": "kick", client: number, \}/);
  assert.match(ts, /export type Member = \{ client: number, name: string, \};/);
  assert.match(ts, /\{ "type": "welcome", you: number, members: Array<Member>, \}/);
  assert.match(ts, /readonly tag: "type";/);
});

test("correct use type-checks", () => {
  const result = check(path.join(root, "test", "types", "usage.ts"));
  assert.ok(result.ok, result.output);
});

test("synced state is typed from the service's views", () => {
  const result = check(path.join(root, "test", "types", "sync-usage.ts"));
  assert.ok(result.ok, result.output);
});

test("misuse does not type-check: a field the view does not have", () => {
  const file = path.join(out, "misuse-state.ts");
  writeFileSync(
    file,
    `import { connect } from "../src/index.js";\n` +
      `import { Cards } from "../../../examples/cards/web/room-types.js";\n` +
      `const room = connect("ws://x", "t", { service: Cards });\n` +
      `const secret: number[] | undefined = room.state?.hands;\n`,
  );
  const result = check(file);
  assert.ok(!result.ok, "a misuse type-checked");
  assert.match(result.output, /TS2339/);
});

const misuses = [
  ["an unknown message", `room.send({ type: "shout", text: "x" });`, "TS2322"],
  ["a missing field", `room.send({ type: "say" });`, "TS2345"],
  ["a field of the wrong type", `room.send({ type: "join", name: 7 });`, "TS2322"],
  ["a field another variant has", `room.on("said", (m) => m.members);`, "TS2339"],
  ["a tag the room never sends", `room.on("shouted", () => {});`, "TS2769"],
];

for (const [what, line, code] of misuses) {
  test(`misuse does not type-check: ${what}`, () => {
    const file = path.join(out, `misuse-${code}-${misuses.findIndex((m) => m[1] === line)}.ts`);
    writeFileSync(
      file,
      `import { connect } from "../src/index.js";\n` +
        `import { Chat } from "./room-types.js";\n` +
        `const room = connect("ws://localhost:8080", "lobby", { service: Chat });\n${line}\n`,
    );
    const result = check(file);
    assert.equal(result.ok, false, `expected a type error for: ${line}`);
    const name = path.basename(file).replace(".", "\\.");
    assert.match(result.output, new RegExp(`${name}\\(4,\\d+\\): error ${code}`), result.output);
  });
}
