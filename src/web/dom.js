// Building the page: every string goes in as a text node, never as HTML, so what an exporter
// sends (an interface name, a vendor string) is shown, not run.
const SVG = "http://www.w3.org/2000/svg";

// An element: attrs are properties or attributes ("class", "data-*", on* handlers).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k.startsWith("on")) {
      el.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      el.className = v;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      add(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
}

export function message(kind, text, status) {
  return h("p", { class: kind, role: kind === "problem" ? "alert" : null,
    "data-status": status }, text);
}

export function kv(pairs) {
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of pairs) {
    dl.appendChild(h("dt", null, k));
    dl.appendChild(h("dd", null, v === null || v === undefined ? "—" : v));
  }
  return dl;
}

// A table of rows; columns: {title, value(row) -> node/text, num, wide, sort(row) -> key}.
// Sorting (by a click on a sortable title) and filtering keep their state in state.
export function table(columns, rows, state) {
  state = state || {};
  let shown = rows;
  if (state.filter) {
    const f = state.filter.toLowerCase();
    shown = rows.filter((r) => columns.some((c) => c.sort &&
      String(c.sort(r)).toLowerCase().includes(f)));
  }
  if (state.sortBy !== undefined && columns[state.sortBy] && columns[state.sortBy].sort) {
    const key = columns[state.sortBy].sort;
    const dir = state.desc ? -1 : 1;
    shown = shown.slice().sort((a, b) => {
      const x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }
  const head = h("tr", null, columns.map((c, i) => h("th", {
    class: [c.num ? "num" : "", c.wide ? "wide" : "", c.sort ? "sortable" : ""].join(" ").trim(),
    "aria-sort": state.sortBy === i ? (state.desc ? "descending" : "ascending") : null,
    onclick: c.sort && state.onsort ? () => state.onsort(i) : null,
  }, c.title)));
  const body = shown.map((r) => h("tr", null, columns.map((c) =>
    h("td", { class: [c.num ? "num" : "", c.wide ? "wide" : ""].join(" ").trim() }, c.value(r)))));
  return h("div", { class: "scroll" }, h("table", null, h("thead", null, head),
    h("tbody", null, body)));
}

// A sparkline of values (numbers; null gaps skipped) as an inline SVG.
export function sparkline(values, width = 80, height = 18) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const vals = values.filter((v) => typeof v === "number");
  if (vals.length >= 2) {
    const max = Math.max(...vals, 1e-9);
    const pts = vals.map((v, i) => `${(i * (width - 2)) / (vals.length - 1) + 1},` +
      `${height - 1 - (v / max) * (height - 2)}`);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", pts.join(" "));
    svg.appendChild(line);
  }
  return svg;
}

export function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) {
    return "—";
  }
  return Number(v).toLocaleString("en", { maximumFractionDigits: digits });
}

export function ago(iso) {
  if (!iso) {
    return "never";
  }
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 90) {
    return Math.round(s) + " s ago";
  }
  if (s < 5400) {
    return Math.round(s / 60) + " min ago";
  }
  if (s < 172800) {
    return Math.round(s / 3600) + " h ago";
  }
  return Math.round(s / 86400) + " d ago";
}

// A hash route to a view of a resource: the resource's own href, carried, never built.
export function route(view, href) {
  return "#" + view + (href ? "=" + encodeURIComponent(href) : "");
}
