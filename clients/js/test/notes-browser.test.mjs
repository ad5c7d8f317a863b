// The notes example in a real browser (Debian's headless Chromium, driven by
// playwright-core): two pages load the committed bundle of the stock `yjs` and
// `y-websocket` packages, type into the same note and see each other's text
// and presence (awareness); a read-only link shows the text and cannot edit.
// Screenshots go to target/browser/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { startServer, launchChromium } from "./harness.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const shots = process.env.STATEROOM_ARTIFACTS ?? path.join(repo, "target", "browser");
const data = mkdtempSync(path.join(tmpdir(), "stateroom-notes-browser-"));
let server, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startServer(process.env.STATEROOM_NOTES_BIN, [
    "--static-dir",
    path.join(repo, "examples", "notes", "web"),
    "--data-dir",
    data,
  ]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(data, { recursive: true, force: true });
});

async function open(query) {
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`http://127.0.0.1:${server.port}/?${query}`);
  await page.waitForFunction(() => window.notes?.provider.synced === true);
  page.errors = errors;
  return page;
}

const body = (page) => page.locator("#body").inputValue();

test("two pages edit one note and see each other; a view link only reads", async () => {
  const ada = await open("room=pad&name=ada");
  const bob = await open("room=pad&name=bob");
  assert.equal(await ada.locator("#title").inputValue(), "Untitled note");
  await ada.locator("#body").click();
  await ada.keyboard.type("Hello from Ada. ");
  await bob.waitForFunction(() => document.getElementById("body").value.includes("Hello from Ada."));
  await bob.locator("#body").click();
  await bob.keyboard.press("End");
  await bob.keyboard.type("And Bob.");
  await ada.waitForFunction(() => document.getElementById("body").value.endsWith("And Bob."));
  assert.equal(await body(ada), await body(bob));
  // Presence through awareness: both names on both pages.
  for (const page of [ada, bob]) {
    await page.waitForFunction(() => document.querySelectorAll("#people li").length === 2);
    const names = await page.locator("#people li").allTextContents();
    assert.deepEqual(names.sort(), ["ada", "bob"]);
  }
  // A read-only link sees the note and cannot change it.
  const viewer = await open("room=pad&name=cy&mode=view");
  assert.equal(await body(viewer), await body(ada));
  assert.equal(await viewer.locator("#body").getAttribute("readonly"), "");
  // Even past the page's guard, the room refuses the change and says so.
  await viewer.evaluate(() => window.notes.body.insert(0, "vandalism "));
  await viewer.waitForFunction(() => window.notes.denied.length > 0);
  assert.match((await viewer.evaluate(() => window.notes.denied))[0], /read-only/);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!(await body(ada)).includes("vandalism"));
  await ada.screenshot({ path: path.join(shots, "notes-ada.png") });
  await bob.screenshot({ path: path.join(shots, "notes-bob.png") });
  for (const page of [ada, bob, viewer]) assert.deepEqual(page.errors, []);
});
