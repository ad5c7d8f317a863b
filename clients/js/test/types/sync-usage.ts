// Type-checked against the cards example's generated types (checked in at
// examples/cards/web/room-types.ts and kept fresh by its Rust test): the
// synced state is typed from the service's `view` and `private_view`.
import { connect } from "../../src/index.js";
import { Cards, type Hand, type Table } from "../../../../examples/cards/web/room-types.js";

const room = connect("ws://localhost:8080", "table", { service: Cards });
const table: Table | undefined = room.state;
const hand: Hand | undefined = room.privateState;
const deck: number | undefined = room.state?.deck;
const cards: number[] | undefined = room.privateState?.cards;
room.onState((state, previous) => state.moves - (previous?.moves ?? 0));
room.onState("/players/*/score", (score, path, previous) => [score, path.length, previous]);
room.onPrivateState((mine) => mine.cards.length);
room.send({ type: "play", card: 7 });
const version: number = room.stateVersion;
void [table, hand, deck, cards, version];
