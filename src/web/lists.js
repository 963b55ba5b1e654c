// Lists: rates of counters between refreshes (and their history, for sparklines), and the
// sort and filter state of each table, kept across refreshes.
import { h } from "./dom.js";

const HISTORY = 60; // samples kept per counter for a sparkline

// Per-second rates of counters between two refreshes, and their recent history.
class Rates {
  constructor() {
    this.seen = new Map();
  }

  // The rate of the counter key at value (null the first time), kept for key's sparkline.
  rate(key, value) {
    const now = performance.now() / 1000;
    const prev = this.seen.get(key);
    if (prev && now - prev.t < 0.5) {
      return prev.last; // asked again within the same refresh
    }
    let r = null;
    const history = prev ? prev.history : [];
    if (prev && now > prev.t && value >= prev.value) {
      r = (value - prev.value) / (now - prev.t);
      history.push(r);
      if (history.length > HISTORY) {
        history.shift();
      }
    }
    this.seen.set(key, { t: now, value, history, last: r !== null ? r : prev && prev.last });
    return r !== null ? r : prev ? prev.last : null;
  }

  history(key) {
    const e = this.seen.get(key);
    return e ? e.history : [];
  }
}
export const rates = new Rates();

const tables = {}; // sort and filter state per list, kept across refreshes

export function listState(name, redraw) {
  if (!tables[name]) {
    tables[name] = { filter: "" };
  }
  const st = tables[name];
  st.onsort = (i) => {
    st.desc = st.sortBy === i ? !st.desc : false;
    st.sortBy = i;
    redraw();
  };
  return st;
}

// A filter box over a table that redraws as the user types (without asking the API again).
export function filtered(name, draw) {
  const box = h("div");
  const st = listState(name, () => paint());
  const input = h("input", { class: "filter", type: "search", placeholder: "filter",
    "aria-label": "filter", value: st.filter });
  const slot = h("div");
  function paint() {
    slot.replaceChildren(draw(st));
  }
  input.addEventListener("input", () => {
    st.filter = input.value;
    paint();
  });
  paint();
  box.append(input, slot);
  return box;
}

