// The copy of the built client that the server embeds (and serves at
// /__stateroom/client.js, sync.js and directory.js) is what `tsc` builds from
// src/ now.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

test("the server's embedded copy matches a fresh build", () => {
  const fresh = mkdtempSync(path.join(tmpdir(), "stateroom-client-"));
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.json"), "--outDir", fresh]);
  for (const [asset, built] of [
    ["client.js", "index.js"],
    ["sync.js", "sync.js"],
    ["directory.js", "directory.js"],
  ]) {
    const embedded = path.join(root, "..", "..", "stateroom-server", "assets", asset);
    assert.equal(
      readFileSync(embedded, "utf8"),
      readFileSync(path.join(fresh, built), "utf8"),
      `stateroom-server/assets/${asset} is stale: run \`npm run build\` in clients/js`,
    );
  }
});

test("npm install from the checkout builds and installs a package that imports", async () => {
  const app = mkdtempSync(path.join(tmpdir(), "stateroom-app-"));
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", type: "module" }));
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // --install-links packs the checkout as a registry would (its `prepare`
  // builds dist/), rather than linking to it.
  execFileSync(npm, ["install", "--install-links", "--no-audit", "--no-fund", "--loglevel=error", root], {
    cwd: app,
    stdio: "pipe",
  });
  const installed = path.join(app, "node_modules", "@stateroom", "client", "dist", "index.js");
  const client = await import(pathToFileURL(installed).href);
  assert.equal(typeof client.connect, "function");
  assert.equal(typeof client.StateroomError, "function");
});
