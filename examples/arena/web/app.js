// @ts-check
// The arena page: who is in the lobby (presence), the races (a live lobby of
// the directory), and a race joined through matchmaking. Nothing here polls
// or rebuilds a list by hand: each list is a synced document.
import { connect, joinReservation, matchmake, watchRooms } from "/__stateroom/client.js";

const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (document.querySelector(selector));
const params = new URLSearchParams(location.search);
const nameInput = /** @type {HTMLInputElement} */ ($("#name"));
nameInput.value = params.get("name") ?? `player-${Math.floor(Math.random() * 1000)}`;

/** What the page knows, for the browser test and the console. */
const page = {
  lobby: connect(location.origin, "main", { kind: "lobby", query: { name: nameInput.value } }),
  races: watchRooms(location.origin, { kind: "race" }),
  /** @type {any} */ race: null,
  /** @type {number | null} */ you: null,
  /** @type {string[]} */ errors: [],
};
// @ts-ignore: exposed for the browser test and the console.
window.arena = page;

function renderHere() {
  const here = page.lobby.presence ?? {};
  $("#here").replaceChildren(
    ...Object.entries(here).map(([id, value]) => {
      const li = document.createElement("li");
      li.dataset.client = id;
      li.textContent = /** @type {any} */ (value)?.name ?? "…";
      return li;
    }),
  );
}
page.lobby.onPresence(renderHere);

function renderRaces() {
  const races = Object.values(page.races.rooms ?? {});
  $("#races").replaceChildren(
    ...races.map((race) => {
      const li = document.createElement("li");
      li.dataset.room = race.id;
      li.dataset.locked = String(race.locked);
      li.textContent = `${race.id}: ${race.clients}/${race.capacity ?? "∞"}${race.locked ? " (under way)" : ""}`;
      return li;
    }),
  );
}
page.races.onChange(renderRaces);

function renderRace() {
  /** @type {any} */
  const board = page.race?.state;
  if (!board) return;
  $("#racers").replaceChildren(
    ...Object.entries(board.racers).map(([id, racer]) => {
      const li = document.createElement("li");
      li.dataset.client = id;
      li.textContent = `${racer.name}${Number(id) === page.you ? " (you)" : ""}: ${racer.score}`;
      return li;
    }),
  );
  $("#status").textContent = board.started ? "racing" : "waiting for a second player";
  const winner = board.winner === null ? null : board.racers[board.winner]?.name ?? "?";
  $("#winner").textContent = winner ? `${winner} wins` : "";
}

$("#play").addEventListener("click", async () => {
  if (page.race) return;
  try {
    const reservation = await matchmake(location.origin, "race", { filter: { mode: "race" }, options: { name: nameInput.value } });
    page.race = joinReservation(location.origin, reservation, { reconnect: { initialDelayMs: 100 } });
    page.race.on("session", (/** @type {{client: number}} */ session) => {
      page.you = session.client;
      renderRace();
    });
    page.race.onState(renderRace);
    page.race.on("error", (/** @type {Error} */ error) => page.errors.push(String(error)));
    $("#race").hidden = false;
    $("#race-id").textContent = reservation.room;
  } catch (error) {
    $("#error").textContent = String(error);
    page.errors.push(String(error));
  }
});

$("#click").addEventListener("click", () => page.race?.send({ type: "click" }));
