// @ts-check
// The whiteboard page: @stateroom/client from the server itself (no bundler),
// typed in editors by the types generated from the Rust service.
import { connect } from "/__stateroom/client.js";

/** @typedef {import("./room-types.ts").BoardIn} BoardIn */
/** @typedef {import("./room-types.ts").BoardOut} BoardOut */
/** @typedef {import("./room-types.ts").Stroke} Stroke */

// The generated constant, as a value (room-types.ts is TypeScript).
const Board = /** @type {typeof import("./room-types.ts").Board} */ ({
  service: "Board",
  tag: "type",
  inTag: "type",
});

const SIZE = 10_000;
const roomId = new URLSearchParams(location.search).get("room") ?? "lobby";
const canvas = /** @type {HTMLCanvasElement} */ (document.querySelector("#board"));
const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
const status = /** @type {HTMLElement} */ (document.querySelector("#status"));
const peersLabel = /** @type {HTMLElement} */ (document.querySelector("#peers"));
const colorInput = /** @type {HTMLInputElement} */ (document.querySelector("#color"));
/** @type {HTMLElement} */ (document.querySelector("#room")).textContent = roomId;

/** What the page knows, for people and for tests to read. */
const state = {
  /** @type {number | null} */ you: null,
  /** @type {Stroke[]} */ strokes: [],
  /** @type {Set<number>} */ peers: new Set(),
  /** @type {string[]} */ errors: [],
  sessions: 0,
  resumed: 0,
};
// @ts-ignore: exposed for the browser test and the console.
window.whiteboard = state;

const room = connect(location.origin, roomId, {
  service: Board,
  reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
});

const toCanvas = (/** @type {number} */ v, /** @type {number} */ size) => (v / SIZE) * size;

function redraw() {
  context.clearRect(0, 0, canvas.width, canvas.height);
  for (const stroke of state.strokes) paint(stroke);
}

/** @param {Stroke} stroke */
function paint(stroke) {
  context.strokeStyle = stroke.color;
  context.lineWidth = stroke.width;
  context.lineCap = context.lineJoin = "round";
  context.beginPath();
  stroke.points.forEach((p, i) => {
    const [x, y] = [toCanvas(p.x, canvas.width), toCanvas(p.y, canvas.height)];
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  if (stroke.points.length === 1) context.lineTo(toCanvas(stroke.points[0].x, canvas.width) + 0.1, toCanvas(stroke.points[0].y, canvas.height));
  context.stroke();
}

function showPeers() {
  peersLabel.textContent = `${state.peers.size} other${state.peers.size === 1 ? "" : "s"} here`;
}

room.on("status", (now, detail) => {
  status.dataset.state = now;
  status.textContent = detail.close && now !== "open" ? `${now} (${detail.close.code})` : now;
});
room.on("session", (session) => {
  state.sessions++;
  if (session.resumed) state.resumed++;
});
room.on("welcome", (message) => {
  state.you = message.you;
  state.strokes = [...message.strokes];
  state.peers = new Set(message.peers);
  showPeers();
  redraw();
});
room.on("drew", (message) => {
  state.strokes.push(message.stroke);
  paint(message.stroke);
});
room.on("cleared", () => {
  state.strokes = [];
  redraw();
});
room.on("joined", (message) => {
  state.peers.add(message.client);
  showPeers();
});
room.on("left", (message) => {
  state.peers.delete(message.client);
  showPeers();
});
room.on("error", (error) => state.errors.push(error.code));

// Drawing: collect a stroke while the pointer is down, send it on release.
/** @type {{x: number, y: number}[] | null} */
let points = null;
/** @param {PointerEvent} event */
const at = (event) => {
  const box = canvas.getBoundingClientRect();
  const clamp = (/** @type {number} */ v) => Math.min(SIZE, Math.max(0, Math.round(v)));
  return {
    x: clamp(((event.clientX - box.left) / box.width) * SIZE),
    y: clamp(((event.clientY - box.top) / box.height) * SIZE),
  };
};
canvas.addEventListener("pointerdown", (event) => {
  canvas.setPointerCapture(event.pointerId);
  points = [at(event)];
});
canvas.addEventListener("pointermove", (event) => {
  if (!points || points.length >= 1000) return;
  const point = at(event);
  const last = points[points.length - 1];
  // Draw locally at once; the server's echo makes it everyone's.
  context.strokeStyle = colorInput.value;
  context.lineWidth = 3;
  context.beginPath();
  context.moveTo(toCanvas(last.x, canvas.width), toCanvas(last.y, canvas.height));
  context.lineTo(toCanvas(point.x, canvas.width), toCanvas(point.y, canvas.height));
  context.stroke();
  points.push(point);
});
canvas.addEventListener("pointerup", () => {
  if (!points) return;
  /** @type {BoardIn} */
  const draw = { type: "draw", color: colorInput.value, width: 3, points };
  points = null;
  room.send(draw);
});
/** @type {HTMLElement} */ (document.querySelector("#clear")).onclick = () => room.send({ type: "clear" });
