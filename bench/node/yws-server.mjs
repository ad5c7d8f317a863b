// y-websocket's own server (@y/websocket-server, pinned in package-lock.json),
// as its `y-websocket-server` binary runs it: one Y.Doc per room in memory,
// no persistence. PORT and HOST from the environment.
process.env.HOST ??= "127.0.0.1";
// Its bin (src/server.js) by path: the package exports only its utils.
await import(new URL("./node_modules/@y/websocket-server/src/server.js", import.meta.url));
