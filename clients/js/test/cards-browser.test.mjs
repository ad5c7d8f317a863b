// The cards example in a real browser (Debian's headless Chromium, driven by
// playwright-core): two pages render the room's synced state and never build
// it by hand. Each sees the same table and only its own hand; a play on one
// page reaches the other as a patch; a page whose network is cut resumes and
// gets fresh snapshots. Screenshots go to target/browser/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { startServer, startProxy, launchChromium } from "./harness.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const shots = process.env.STATEROOM_ARTIFACTS ?? path.join(repo, "target", "browser");
let server, proxy, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startServer(process.env.STATEROOM_CARDS_BIN);
  proxy = await startProxy(server.port);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
});

async function open(base, room) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/?room=${room}`);
  await page.waitForFunction(() => window.cards?.you != null && window.cards.room.privateState !== undefined);
  page.errors = errors;
  return page;
}

const hand = (page) => page.evaluate(() => window.cards.room.privateState.cards);
const shown = (page) => page.locator("#hand .card").evaluateAll((cards) => cards.map((c) => Number(c.dataset.card)));

test("two pages play from their synced state; a cut page resumes with fresh snapshots", async () => {
  const alice = await open(`http://127.0.0.1:${proxy.port}`, "game");
  const bob = await open(`http://127.0.0.1:${server.port}`, "game");
  await alice.waitForFunction(() => document.querySelectorAll("#players li").length === 2);
  const [aliceHand, bobHand] = [await hand(alice), await hand(bob)];
  assert.equal(aliceHand.length, 5);
  assert.equal(bobHand.length, 5);
  assert.ok(aliceHand.every((card) => !bobHand.includes(card)), "the hands overlap");
  assert.deepEqual(await shown(alice), aliceHand, "the page renders its own hand");
  // Bob's page shows his hand, and its table says how many cards Alice
  // holds, never which.
  assert.deepEqual(await shown(bob), bobHand);
  assert.ok(!(await bob.evaluate(() => JSON.stringify(window.cards.room.state))).includes('"cards":['));

  // Alice (first to sit) plays her first card: Bob's table shows it on the pile.
  await alice.locator(`#hand .card[data-card="${aliceHand[0]}"]`).click();
  await bob.waitForFunction((card) => window.cards.room.state.pile.at(-1) === card, aliceHand[0]);
  await bob.waitForFunction(() => document.querySelector("#pile .card:last-child") !== null);
  assert.equal(await bob.locator("#pile .card").last().getAttribute("data-card"), String(aliceHand[0]));
  await alice.waitForFunction(() => window.cards.room.privateState.cards.length === 4);
  await alice.screenshot({ path: path.join(shots, "cards-alice.png") });
  await bob.screenshot({ path: path.join(shots, "cards-bob.png") });

  // Alice's network is cut; Bob draws and renames meanwhile.
  const aliceId = await alice.evaluate(() => window.cards.you);
  proxy.refuse(true);
  proxy.cut();
  await alice.waitForFunction(() => window.cards.room.status !== "open");
  await bob.locator("#draw").click();
  await bob.locator("#name").fill("Bob");
  await bob.locator("#name").dispatchEvent("change");
  await bob.waitForFunction(() => Object.values(window.cards.room.state.players).some((p) => p.name === "Bob"));
  proxy.refuse(false);
  await alice.waitForFunction(() => window.cards.room.status === "open", null, { timeout: 15_000 });
  await alice.waitForFunction(() => Object.values(window.cards.room.state.players).some((p) => p.name === "Bob"));
  assert.equal(await alice.evaluate(() => window.cards.you), aliceId, "the same seat after the resume");
  const [aliceState, bobState] = await Promise.all([
    alice.evaluate(() => window.cards.room.state),
    bob.evaluate(() => window.cards.room.state),
  ]);
  assert.deepEqual(aliceState, bobState, "both pages hold the same table");
  const table = await (await fetch(`http://127.0.0.1:${server.port}/rooms/game`)).json();
  assert.deepEqual(aliceState, table, "and it is the room's view");
  assert.equal(await alice.locator("#players li").count(), 2);
  await alice.screenshot({ path: path.join(shots, "cards-alice-resumed.png") });
  assert.deepEqual([...alice.errors, ...bob.errors], []);
});
