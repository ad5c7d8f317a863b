// Opens ROOMS rooms on a server (a join, its first frame, a close each), 200
// at a time: node scripts/open-rooms.mjs ws://127.0.0.1:9001 10000 [prefix]
import { createRequire } from 'node:module';
const require = createRequire(new URL('../clients/js/package.json', import.meta.url));
const WebSocket = require('ws');

const [base, count, prefix = 'load'] = process.argv.slice(2);
const total = Number(count);
let next = 0;
let opened = 0;
async function one(i) {
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}/ws/${prefix}-${i}`);
    ws.once('message', () => { ws.close(); resolve(); });
    ws.once('error', reject);
  });
  opened += 1;
}
async function worker() {
  while (next < total) {
    const i = next++;
    await one(i);
  }
}
await Promise.all(Array.from({ length: 200 }, worker));
console.log(`opened ${opened} rooms`);
