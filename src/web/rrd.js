// What rrd outputs and top-talkers stages add, where the API links it: graphs (PNGs fetched
// with the token, shown through blob: URLs, since an <img src> cannot send a bearer token),
// alerts and top talkers.
import { all, get, link, request } from "./api.js";
import { ago, h, message, num, route, table } from "./dom.js";
import { filtered } from "./lists.js";

export const PERIODS = [["1 hour", "-1h"], ["1 day", "-1d"], ["1 week", "-1w"], ["1 month", "-1mon"]];
const GRAPHS_MAX = 8; // of one resource (an exporter's interfaces can be many)
const GRAPH_TTL_MS = 60000; // a graph is drawn again at most this often
const graphs = new Map(); // graph URL -> {at, url}
let shownPeriod = "-1h";

// Blob URLs live as long as a graph may be on the page; older ones are revoked.
function graphUrl(href, blob) {
  const old = graphs.get(href);
  if (old) {
    setTimeout(() => URL.revokeObjectURL(old.url), GRAPH_TTL_MS);
  }
  const url = URL.createObjectURL(blob);
  graphs.set(href, { at: Date.now(), url });
  return url;
}

async function graph(series, start) {
  const sep = link(series, "graph").includes("?") ? "&" : "?";
  const href = link(series, "graph") + sep + "start=" + encodeURIComponent(start) +
    "&width=700&height=200";
  let cached = graphs.get(href);
  if (!cached || Date.now() - cached.at >= GRAPH_TTL_MS) {
    const blob = (await request(href, { asBlob: true, accept: "image/png" })).body;
    graphUrl(href, blob);
    cached = Object.assign(graphs.get(href), { size: blob.size, type: blob.type });
  }
  return h("figure", null, h("img", { class: "graph", src: cached.url,
    alt: "graph of " + series.id, "data-series": series.id, "data-start": start,
    "data-bytes": cached.size, "data-type": cached.type }),
    h("figcaption", null, series.kind, " ", series.id));
}

// The graphs of a resource's series (its _links.timeseries) over a period the user picks.
export async function seriesGraphs(res, kinds, redraw) {
  if (!link(res, "timeseries")) {
    return null;
  }
  const list = (await all(link(res, "timeseries"), "timeseries"))
    .filter((s) => !kinds || kinds.includes(s.kind)).slice(0, GRAPHS_MAX);
  const pick = h("div", { class: "periods", role: "group", "aria-label": "period" },
    PERIODS.map(([label, start]) => h("button", { type: "button", "data-start": start,
      "aria-pressed": String(start === shownPeriod),
      onclick: () => { shownPeriod = start; redraw(); } }, label)));
  const figs = [];
  for (const s of list) {
    figs.push(await graph(s, shownPeriod)); // one at a time: graphs are drawn on one thread
  }
  return h("div", { class: "graphs" }, h("h3", null, "Graphs"), pick,
    figs.length ? figs : message("empty", "no series yet: the rrd output writes its first " +
      "points within a step"));
}

function alertTable(items) {
  return table([
    { title: "state", value: (a) => h("span", { class: a.state === "firing" ? "bad" : "good" },
      a.state), sort: (a) => a.state },
    { title: "kind", value: (a) => a.kind, sort: (a) => a.kind },
    { title: "exporter", value: (a) => (link(a, "exporter")
      ? h("a", { href: route("exporter", link(a, "exporter")) }, a.exporter) : a.exporter),
    sort: (a) => a.exporter || "" },
    { title: "since", value: (a) => ago(a.since), sort: (a) => a.since || "" },
    { title: "until", value: (a) => (a.until ? ago(a.until) : "—"), wide: true,
      sort: (a) => a.until || "" },
    { title: "summary", value: (a) => a.summary, wide: true, sort: (a) => a.summary },
  ], items);
}

export async function alerts(root) {
  if (!link(root, "alerts")) {
    return message("empty", "No rrd output runs: there are no alerts to show.");
  }
  const items = await all(link(root, "alerts"), "alerts");
  return h("section", null, h("h2", null, "Alerts"), items.length
    ? filtered("alerts", (st) => alertTable(items.filter((a) => !st.filter ||
      JSON.stringify([a.state, a.kind, a.exporter, a.summary]).toLowerCase()
        .includes(st.filter.toLowerCase()))))
    : message("empty", "No alert has been raised."));
}

// An exporter's alerts: those of the root's list whose exporter link is the exporter's.
export async function alertsOf(root, e) {
  if (!link(root, "alerts")) {
    return null;
  }
  const mine = (await all(link(root, "alerts"), "alerts"))
    .filter((a) => link(a, "exporter") === link(e, "self"));
  return [h("h3", null, "Alerts"), mine.length ? alertTable(mine)
    : message("empty", "none raised")];
}

function topTables(body) {
  const dims = Object.entries(body.top || {});
  if (!dims.length) {
    return message("empty", "No window of the top-talkers stage has ended yet.");
  }
  return dims.map(([dim, d]) => h("div", { "data-dimension": dim }, h("h3", null, dim),
    !d.items.length ? message("empty", "nothing counted") : table([
      { title: "key", value: (i) => i.key },
      { title: body.by, value: (i) => num(i[body.by]), num: true },
      { title: "share", value: (i) => num(i.share * 100, 1) + " %", num: true },
      { title: "± error", value: (i) => num(i.error), num: true, wide: true },
    ], d.items)));
}

const topQuery = { by: "octets", exporter: "", window: "", limit: 10 };

export async function top(root, arg, redraw) {
  if (!link(root, "top")) {
    return message("empty", "No pipeline has a top-talkers stage.");
  }
  const exps = await all(link(root, "exporters"), "exporters");
  const body = await get(link(root, "top", { by: topQuery.by, limit: topQuery.limit,
    exporter: topQuery.exporter || undefined, window: topQuery.window || undefined }));
  const sel = (name, options) => h("select", { name, "aria-label": name,
    onchange: (ev) => { topQuery[name] = ev.target.value; redraw(); } },
  options.map(([v, label]) => h("option", { value: v, selected: String(topQuery[name]) === v },
    label)));
  return h("section", null, h("h2", null, "Top talkers"),
    h("div", { class: "top-query" },
      sel("by", [["octets", "by octets"], ["packets", "by packets"]]),
      sel("exporter", [["", "every exporter"], ...exps.map((e) => [e.id, e.address])]),
      sel("window", [["", "the whole window"], ["60", "1 min"], ["300", "5 min"],
        ["900", "15 min"], ["3600", "1 h"]]),
      sel("limit", [["5", "5"], ["10", "10"], ["25", "25"], ["100", "100"]])),
    h("p", null, `over ${num(body.window)} s`, body.from ? `, ${body.from} to ${body.to}` : ""),
    topTables(body));
}

// An exporter's top talkers (its _links.top), a few per dimension.
export async function topOf(e) {
  if (!link(e, "top")) {
    return null;
  }
  const href = link(e, "top");
  const body = await get(href + (href.includes("?") ? "&" : "?") + "limit=5");
  return [h("h3", null, "Top talkers"), topTables(body)];
}
