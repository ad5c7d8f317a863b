// @ts-check
// The cards page: it renders the room's synced state and never builds it by
// hand. `room.state` is the table (the service's `view`), `room.privateState`
// this player's hand (`private_view`); both are kept current by the server's
// patches, and typed from web/room-types.ts.
import { connect } from "/__stateroom/client.js";

/** @typedef {import("./room-types.ts").Table} Table */
/** @typedef {import("./room-types.ts").Hand} Hand */
/** @typedef {import("./room-types.ts").Card} Card */

// The generated constant, as a value (room-types.ts is TypeScript).
const Cards = /** @type {typeof import("./room-types.ts").Cards} */ ({
  service: "Cards",
  tag: null,
  inTag: "type",
});

const roomId = new URLSearchParams(location.search).get("room") ?? "table";
const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (document.querySelector(selector));
$("#room").textContent = roomId;

const room = connect(location.origin, roomId, {
  service: Cards,
  reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
});

/** What the page knows, for the browser test and the console. */
const page = {
  room,
  /** @type {number | null} */ you: null,
  /** @type {string[]} */ errors: [],
  /** Path changes seen through `onState("/players/*\/score")`. */
  scores: 0,
};
// @ts-ignore: exposed for the browser test and the console.
window.cards = page;

const SUITS = ["♠", "♥", "♦", "♣"];
const RANKS = ["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"];

/** @param {Card} card */
function label(card) {
  return RANKS[card % 13] + SUITS[Math.floor(card / 13)];
}

/** @param {Card} card @param {boolean} button */
function cardElement(card, button) {
  const element = document.createElement(button ? "button" : "span");
  element.className = "card" + (Math.floor(card / 13) % 3 === 0 ? "" : " red");
  element.textContent = label(card);
  element.dataset.card = String(card);
  return element;
}

function render() {
  const table = room.state;
  const hand = room.privateState;
  if (!table) return;
  const players = $("#players");
  players.replaceChildren(
    ...Object.entries(table.players).map(([id, seat]) => {
      const item = document.createElement("li");
      item.dataset.client = id;
      item.textContent = `${seat?.name}: ${seat?.cards} cards, ${seat?.score} points`;
      item.classList.toggle("turn", Number(id) === table.turn);
      item.classList.toggle("you", Number(id) === page.you);
      return item;
    }),
  );
  $("#deck").textContent = String(table.deck);
  $("#moves").textContent = `move ${table.moves}`;
  $("#pile").replaceChildren(...table.pile.map((card) => cardElement(card, false)));
  const myTurn = table.turn === page.you;
  /** @type {HTMLButtonElement} */ ($("#draw")).disabled = !myTurn;
  $("#hand").replaceChildren(
    ...(hand?.cards ?? []).map((card) => {
      const button = /** @type {HTMLButtonElement} */ (cardElement(card, true));
      button.disabled = !myTurn;
      button.onclick = () => room.send({ type: "play", card });
      return button;
    }),
  );
  document.body.dataset.version = String(room.stateVersion);
}

room.onState(() => render());
room.onPrivateState(() => render());
room.onState("/players/*/score", () => page.scores++);
room.on("session", (session) => {
  page.you = session.client;
  render();
});
room.on("status", (status) => {
  $("#status").dataset.status = status;
  $("#status").textContent = status;
});
room.on("error", (error) => {
  page.errors.push(error.code);
  $("#error").textContent = error.message;
});
$("#draw").onclick = () => room.send({ type: "draw" });
/** @type {HTMLInputElement} */ ($("#name")).onchange = (event) => {
  const input = /** @type {HTMLInputElement} */ (event.target);
  room.send({ type: "name", name: input.value });
};
