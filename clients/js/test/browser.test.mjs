// A real browser (Debian's headless Chromium, driven by playwright-core):
// two pages of the whiteboard example draw in one room and see each other's
// strokes (typed messages through @stateroom/client); one page's connection
// is cut, and it reconnects, resumes and catches up. Then the development
// page (--dev) opens two clients and sends a message from its templates.
// Screenshots go to target/browser/.

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
  server = await startServer(process.env.STATEROOM_WHITEBOARD_BIN, ["--dev"]);
  proxy = await startProxy(server.port);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
});

/** Opens the whiteboard at `base` and waits until it has its welcome. */
async function board(base, room) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/?room=${room}`);
  await page.waitForFunction(() => window.whiteboard?.you !== null && window.whiteboard?.you !== undefined);
  page.errors = errors;
  return page;
}

/** Draws a line across the canvas with the mouse, from (x0, y) to (x1, y) in canvas pixels. */
async function drawLine(page, x0, x1, y) {
  const box = await page.locator("#board").boundingBox();
  await page.mouse.move(box.x + x0, box.y + y);
  await page.mouse.down();
  for (let x = x0; x <= x1; x += 20) await page.mouse.move(box.x + x, box.y + y);
  await page.mouse.up();
}

const strokes = (page) => page.evaluate(() => window.whiteboard.strokes.length);
const you = (page) => page.evaluate(() => window.whiteboard.you);

test("two pages draw together; a cut page reconnects, resumes and catches up", async () => {
  const direct = `http://127.0.0.1:${server.port}`;
  const viaProxy = `http://127.0.0.1:${proxy.port}`;
  const alice = await board(viaProxy, "art");
  const bob = await board(direct, "art");
  await alice.waitForFunction(() => window.whiteboard.peers.size === 1);
  const [aliceId, bobId] = [await you(alice), await you(bob)];
  assert.notEqual(aliceId, bobId);

  await drawLine(alice, 100, 500, 150);
  await bob.waitForFunction(() => window.whiteboard.strokes.length === 1);
  const seenByBob = await bob.evaluate(() => window.whiteboard.strokes[0]);
  assert.equal(seenByBob.by, aliceId);
  assert.equal(seenByBob.color, "#3366ff");
  assert.ok(seenByBob.points.length > 5, JSON.stringify(seenByBob));
  await drawLine(bob, 200, 700, 300);
  await alice.waitForFunction(() => window.whiteboard.strokes.length === 2);
  await alice.screenshot({ path: path.join(shots, "whiteboard-alice.png") });
  await bob.screenshot({ path: path.join(shots, "whiteboard-bob.png") });

  // Cut Alice's network: no close frame, the server holds her seat.
  proxy.refuse(true);
  proxy.cut();
  await alice.waitForFunction(() => document.querySelector("#status").dataset.state !== "open");
  await drawLine(bob, 150, 650, 400);
  await drawLine(bob, 150, 650, 450);
  await bob.waitForFunction(() => window.whiteboard.strokes.length === 4);
  assert.equal(await strokes(alice), 2, "Alice is away");
  await alice.screenshot({ path: path.join(shots, "whiteboard-alice-cut.png") });
  proxy.refuse(false);
  await alice.waitForFunction(() => document.querySelector("#status").dataset.state === "open", null, { timeout: 15_000 });
  await alice.waitForFunction(() => window.whiteboard.strokes.length === 4);
  assert.equal(await you(alice), aliceId, "the same client after the resume");
  assert.equal(await alice.evaluate(() => window.whiteboard.resumed), 1);
  assert.equal(await bob.evaluate(() => window.whiteboard.peers.size), 1, "Bob never saw Alice leave");
  await alice.screenshot({ path: path.join(shots, "whiteboard-alice-resumed.png") });
  assert.deepEqual([...alice.errors, ...bob.errors], []);
});

test("the development page opens clients side by side and shows their frames", async () => {
  const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
  await page.goto(`http://127.0.0.1:${server.port}/__stateroom/dev/?room=dev-room`);
  const cards = page.locator(".client");
  await page.waitForFunction(() => document.querySelectorAll('.client[data-state="open"]').length === 2);
  assert.equal(await cards.count(), 2);
  // Each saw its session frame and its welcome.
  await page.waitForFunction(() =>
    [...document.querySelectorAll(".client")].every((card) => card.textContent.includes('"type":"welcome"')),
  );
  // Templates come from the service's types; "clear" goes to the selected client's box.
  const templates = await page.locator("#templates button").allTextContents();
  assert.ok(templates.includes('{"type":"clear"}'), templates.join("\n"));
  assert.ok(templates.some((t) => t.startsWith('{"type":"draw"')), templates.join("\n"));
  await cards.nth(0).click();
  await page.locator("#templates button", { hasText: '{"type":"clear"}' }).click();
  await cards.nth(0).locator(".send button").click();
  await page.waitForFunction(() =>
    [...document.querySelectorAll(".client")].every((card) => card.textContent.includes('"type":"cleared"')),
  );
  // A bad frame's error is shown as an error line.
  await cards.nth(1).locator("textarea").fill('{"type":"paint"}');
  await cards.nth(1).locator(".send button").click();
  await page.waitForFunction(() => document.querySelectorAll('.client:nth-child(2) li[data-kind="err"]').length > 0);
  // Closing shows the code.
  await cards.nth(1).locator(".close").click();
  await page.waitForFunction(() => document.querySelector(".client:nth-child(2)").dataset.state === "closed");
  assert.match(await cards.nth(1).locator(".state").textContent(), /closed 1000/);
  await page.screenshot({ path: path.join(shots, "dev-page.png") });
});
