// The notes page: a Yjs document per room, synced by the stock
// y-websocket provider with a Stateroom doc room. Two plain fields are
// bound to the document's `title` and `body` texts; awareness shows who is
// here. Bundled into ../app.js by esbuild (see package.json in clients/js:
// `npm run bundle:notes`); the bundle is committed so that the example
// serves without npm.

import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";

const params = new URLSearchParams(location.search);
const room = params.get("room") ?? "welcome";
const name = params.get("name") ?? `guest-${Math.floor(Math.random() * 1000)}`;
const mode = params.get("mode") ?? "edit";
const colour = `hsl(${Math.floor(Math.random() * 360)} 60% 40%)`;

const doc = new Y.Doc();
const scheme = location.protocol === "https:" ? "wss" : "ws";
const provider = new WebsocketProvider(`${scheme}://${location.host}/ws`, room, doc, {
  params: { mode },
});
provider.awareness.setLocalStateField("user", { name, colour });

const status = document.getElementById("status");
provider.on("status", ({ status: s }) => {
  status.textContent = s;
  status.className = "";
});
provider.on("sync", (synced) => {
  if (synced) {
    status.textContent = "synced";
    status.className = "synced";
  }
});
// The room refused a change (a read-only link): say so, stop editing.
const denied = document.getElementById("denied");
const warn = console.warn;
console.warn = (...args) => {
  if (String(args[0]).startsWith("Permission denied")) {
    denied.hidden = false;
    denied.textContent = String(args[0]).split("\n").slice(1).join(" ");
    window.notes.denied.push(denied.textContent);
  }
  warn(...args);
};

/** Binds a text field to a Y.Text: local edits as one delete and one insert, remote ones keep the caret. */
function bind(field, text) {
  field.value = text.toString();
  let last = field.value;
  field.addEventListener("input", () => {
    const now = field.value;
    let start = 0;
    while (start < last.length && start < now.length && last[start] === now[start]) start++;
    let end = 0;
    while (end < last.length - start && end < now.length - start && last[last.length - 1 - end] === now[now.length - 1 - end]) end++;
    doc.transact(() => {
      if (last.length - start - end > 0) text.delete(start, last.length - start - end);
      if (now.length - start - end > 0) text.insert(start, now.slice(start, now.length - end));
    }, "local");
    last = now;
  });
  text.observe((event) => {
    if (event.transaction.origin === "local") return;
    const caret = Y.createRelativePositionFromTypeIndex(text, field.selectionStart);
    field.value = last = text.toString();
    const at = Y.createAbsolutePositionFromRelativePosition(caret, doc);
    if (at && document.activeElement === field) field.setSelectionRange(at.index, at.index);
  });
}

const title = doc.getText("title");
const body = doc.getText("body");
bind(document.getElementById("title"), title);
bind(document.getElementById("body"), body);
if (mode === "view") {
  document.getElementById("title").readOnly = true;
  document.getElementById("body").readOnly = true;
}

const people = document.getElementById("people");
provider.awareness.on("change", () => {
  people.replaceChildren(
    ...[...provider.awareness.getStates().values()]
      .filter((state) => state.user)
      .map((state) => {
        const li = document.createElement("li");
        li.textContent = state.user.name;
        li.style.background = state.user.colour;
        return li;
      }),
  );
});

// For the tests (and the curious): the document and the provider.
window.notes = { Y, doc, provider, title, body, denied: [] };
