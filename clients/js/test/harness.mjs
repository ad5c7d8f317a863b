// Test harness: a real Stateroom server (the example binary cargo built, path
// in an environment variable), and a TCP proxy in front of it that a test
// can cut, to drop connections the way a lost network does (no close frame).

import { spawn } from "node:child_process";
import net from "node:net";

/** Starts `bin` with `args` on a free port; resolves once it listens. */
export async function startServer(bin, args = []) {
  if (!bin) throw new Error("set STATEROOM_CHAT_BIN (cargo test sets it) to the server binary");
  const child = spawn(bin, ["--port", "0", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: "info" },
  });
  let log = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 20_000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const found = /ws:\/\/[\d.]+:(\d+)\/ws\//.exec(log);
      if (found) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}):\n${log}`)));
  });
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        // Exited, or already killed (a signal leaves exitCode null).
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.on("exit", resolve);
        child.kill("SIGKILL");
      }),
  };
}

/** A TCP proxy to `port`; `cut()` resets every connection through it. */
export async function startProxy(port) {
  const pairs = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.resetAndDestroy();
    const upstream = net.connect(port, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxyPort = server.address().port;
  return {
    port: proxyPort,
    url: `ws://127.0.0.1:${proxyPort}`,
    get connections() {
      return pairs.size;
    },
    /** Resets every connection (both ends see a dropped TCP connection). */
    cut() {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    /** Stops forwarding what the server sends (the client hears nothing). */
    mute() {
      for (const { client, upstream } of pairs) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    /** While on, new connections are reset at once (the network is down). */
    refuse(on) {
      refusing = on;
    },
    /** Stops accepting and resets what is still open. */
    close() {
      refusing = true;
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Resolves with the first event `event` of `room` that passes `test`. */
export function next(room, event, test = () => true, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = room.on(event, (...args) => {
      if (!test(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args.length > 1 ? args : args[0]);
    });
  });
}

/** Debian's headless Chromium, through playwright-core (`CHROMIUM_PATH` overrides where it is). */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
