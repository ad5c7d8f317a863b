// The development page: clients side by side in one room, every frame in and
// out with its time, messages pre-filled from the service's TypeScript types.
// Plain browser JavaScript, embedded in the server binary: no build step.

const info = await fetch("/__stateroom/dev/info.json").then((r) => r.json());
const clients = document.querySelector("#clients");
const template = document.querySelector("#client-template");
let selected = null;
let opened = 0;

const stamp = () => new Date().toISOString().slice(11, 23);

function log(card, kind, text) {
  const list = card.querySelector(".log");
  const item = document.createElement("li");
  item.className = kind;
  item.dataset.kind = kind;
  const time = document.createElement("span");
  time.className = "t";
  time.textContent = stamp();
  const arrow = { in: "↓ ", out: "↑ ", sys: "• ", err: "! " }[kind] ?? "";
  item.append(time, arrow + text);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

function setState(card, state, detail = "") {
  const badge = card.querySelector(".state");
  badge.className = "state " + state;
  badge.textContent = detail ? `${state} ${detail}` : state;
  card.dataset.state = state;
}

function select(card) {
  selected?.classList.remove("selected");
  selected = card;
  card.classList.add("selected");
}

function openClient(room, query) {
  const card = template.content.firstElementChild.cloneNode(true);
  const n = ++opened;
  card.dataset.client = String(n);
  card.querySelector(".name").textContent = `#${n} ${room}`;
  clients.append(card);
  select(card);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${info.wsPrefix}${encodeURIComponent(room)}${query ? "?" + query : ""}`;
  log(card, "sys", `connecting to ${url}`);
  setState(card, "connecting");
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    setState(card, "open");
    log(card, "sys", "open");
  };
  socket.onmessage = (event) => {
    const text = typeof event.data === "string"
      ? event.data
      : `<binary, ${event.data.byteLength} bytes>`;
    const isError = typeof event.data === "string" && /^\{"error":\{"code"/.test(event.data);
    log(card, isError ? "err" : "in", text);
  };
  socket.onerror = () => log(card, "err", "socket error (see the close code)");
  socket.onclose = (event) => {
    setState(card, "closed", String(event.code));
    log(card, "sys", `closed ${event.code}${event.reason ? " " + event.reason : ""}`);
  };
  card.addEventListener("click", () => select(card));
  card.querySelector(".close").onclick = () => socket.close(1000, "closed from the dev page");
  card.querySelector(".send").onsubmit = (event) => {
    event.preventDefault();
    const box = card.querySelector("textarea");
    const text = box.value.trim();
    if (!text || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    log(card, "out", text);
  };
  return card;
}

document.querySelector("#open").onsubmit = (event) => {
  event.preventDefault();
  openClient(document.querySelector("#room").value, document.querySelector("#query").value.trim());
};

// ---- message templates from the generated TypeScript ----

/** Splits `text` at `sep` where no bracket or string is open. */
function splitTop(text, sep) {
  const parts = [];
  let depth = 0, quote = null, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) { if (c === "\\") i++; else if (c === quote) quote = null; continue; }
    if (c === '"' || c === "'") quote = c;
    else if ("{[(<".includes(c)) depth++;
    else if ("}])>".includes(c)) depth--;
    else if (c === sep && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** A JSON value of the TypeScript type `ts`, as a starting point to edit. */
function sample(ts, decls, depth = 0) {
  ts = ts.trim();
  if (depth > 4) return null;
  const union = splitTop(ts, "|");
  if (union.length > 1) return sample(union.find((u) => u !== "null") ?? "null", decls, depth + 1);
  if (/^"(.*)"$/.test(ts)) return JSON.parse(ts);
  if (ts === "string") return "";
  if (ts === "number") return 0;
  if (ts === "boolean") return false;
  if (ts === "null") return null;
  if (/^Array<.*>$/.test(ts) || ts.endsWith("[]")) return [];
  if (ts.startsWith("{")) {
    const object = {};
    for (const field of splitTop(ts.slice(1, -1), ",")) {
      const colon = field.indexOf(":");
      if (colon < 0) continue;
      const key = field.slice(0, colon).trim().replace(/^"(.*)"$/, "$1").replace(/\?$/, "");
      object[key] = sample(field.slice(colon + 1), decls, depth + 1);
    }
    return object;
  }
  if (decls[ts]) return sample(decls[ts], decls, depth + 1);
  return null;
}

function templates(types) {
  const decls = {};
  for (const match of types.matchAll(/export type (\w+) = ([^;]*);/g)) decls[match[1]] = match[2];
  const inName = /readonly in\?: (\w+);/.exec(types)?.[1];
  if (!inName || !decls[inName]) return [];
  return splitTop(decls[inName], "|").map((variant) => sample(variant, decls));
}

if (info.types) {
  document.querySelector("#types").textContent = info.types;
  const box = document.querySelector("#templates");
  for (const message of templates(info.types)) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = JSON.stringify(message);
    button.onclick = () => {
      if (!selected) return;
      selected.querySelector("textarea").value = JSON.stringify(message);
      selected.querySelector("textarea").focus();
    };
    box.append(button);
  }
} else {
  document.querySelector("#templates-note").textContent =
    "No message types known: mark them #[stateroom::message] and name outbound = … to see them here.";
  document.querySelector("#types-box").hidden = true;
}

// A fresh page opens two clients, side by side, in the room of ?room= (or lobby).
const params = new URLSearchParams(location.search);
if (params.get("room")) document.querySelector("#room").value = params.get("room");
const first = Number(params.get("clients") ?? 2);
for (let i = 0; i < first; i++) openClient(document.querySelector("#room").value, "");
