// The arena example in a real browser (Debian's headless Chromium, driven by
// playwright-core): two pages see each other in the lobby (presence), the
// first page's race appears in the second's live list, matchmaking seats the
// second page in that race (which then shows as under way), and a race is
// won. Screenshots go to target/browser/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { startServer, launchChromium } from "./harness.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const shots = process.env.STATEROOM_ARTIFACTS ?? path.join(repo, "target", "browser");
let server, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startServer(process.env.STATEROOM_ARENA_BIN, [
    "--static-dir",
    path.join(repo, "examples", "arena", "web"),
  ]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(name) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 500 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`http://127.0.0.1:${server.port}/?name=${name}`);
  await page.waitForFunction(() => window.arena?.races.rooms !== undefined && window.arena.lobby.presence !== undefined);
  page.errors = errors;
  return page;
}

test("two pages meet in the lobby, find one race through matchmaking, and race", async () => {
  const ada = await open("ada");
  const bob = await open("bob");
  // Presence: each page lists both names.
  for (const page of [ada, bob]) {
    await page.waitForFunction(() => document.querySelectorAll("#here li").length === 2);
    const names = await page.locator("#here li").allTextContents();
    assert.deepEqual(names.sort(), ["ada", "bob"]);
  }
  assert.deepEqual(await bob.evaluate(() => Object.keys(window.arena.races.rooms)), []);

  // Ada matchmakes: a race is created, and Bob's live list shows it.
  await ada.locator("#play").click();
  await ada.waitForFunction(() => window.arena.race?.state?.racers !== undefined && window.arena.you !== null);
  const raceId = await ada.locator("#race-id").textContent();
  await bob.waitForFunction((id) => document.querySelector(`#races li[data-room="${id}"]`)?.textContent?.includes("1/2"), raceId);

  // Bob matchmakes: the open race is filled, not a new one made; it is then under way.
  await bob.locator("#play").click();
  await bob.waitForFunction(() => window.arena.race?.state?.started === true);
  assert.equal(await bob.locator("#race-id").textContent(), raceId);
  await ada.waitForFunction((id) => document.querySelector(`#races li[data-room="${id}"]`)?.dataset.locked === "true", raceId);
  assert.equal(await ada.locator("#races li").count(), 1);

  // Ada clicks to the goal; both pages show her win.
  for (let i = 0; i < 10; i++) await ada.locator("#click").click();
  for (const page of [ada, bob]) await page.waitForFunction(() => document.querySelector("#winner").textContent === "ada wins");
  await ada.screenshot({ path: path.join(shots, "arena-ada.png") });
  await bob.screenshot({ path: path.join(shots, "arena-bob.png") });

  // Bob leaves: the lobby drops him from both pages' presence... on Ada's page.
  await bob.close();
  await ada.waitForFunction(() => document.querySelectorAll("#here li").length === 1);
  assert.deepEqual(await ada.locator("#here li").allTextContents(), ["ada"]);
  assert.deepEqual(ada.errors, []);
});
