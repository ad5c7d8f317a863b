// Hocuspocus (@hocuspocus/server, pinned in package-lock.json) with no
// extensions: documents in memory, no persistence, no authentication hook.
import { Server } from "@hocuspocus/server";

const server = new Server({
  port: Number(process.env.PORT ?? 1234),
  address: "127.0.0.1",
  quiet: true,
  // Its default debounce only delays the (absent) store; keep it.
});
await server.listen();
console.log(`hocuspocus on ${process.env.PORT}`);
