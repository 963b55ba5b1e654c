// Collectors, outputs, pipelines and a config item: each a function of the API's root (and the
// href a route carries) that resolves to the node to show.
import { ApiError, all, follow, get, link, request } from "./api.js";
import { h, kv, message, num, route, sparkline, table } from "./dom.js";
import { createForm, itemForm } from "./forms.js";
import { filtered, rates } from "./lists.js";
import { seriesGraphs } from "./rrd.js";

function counterPairs(counters) {
  return Object.entries(counters || {}).filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k.replace(/_/g, " "), num(v)]);
}

export async function collectors(root) {
  const items = await all(link(root, "collectors"), "collectors");
  if (!items.length) {
    return message("empty", "No collectors are configured.");
  }
  for (const c of items) {
    c.rate = rates.rate("c/" + c.name, c.counters.records); // once per answer, not per redraw
  }
  const cols = [
    { title: "name", value: (c) => h("a", { href: route("collector", link(c, "self")) }, c.name),
      sort: (c) => c.name },
    { title: "transport", value: (c) => c.transport, sort: (c) => c.transport, wide: true },
    { title: "bound", value: (c) => c.bound, sort: (c) => c.bound, wide: true },
    { title: "state", value: (c) => h("span", { class: c.state === "listening" ? "good" : "bad" },
      c.state), sort: (c) => c.state },
    { title: "exporters", value: (c) => num(c.exporters), num: true, sort: (c) => c.exporters },
    { title: "records/s", num: true, sort: (c) => c.rate || 0,
      value: (c) => [sparkline(rates.history("c/" + c.name)), " ", num(c.rate, 1)] },
    { title: "socket drops", value: (c) => num(c.counters.socket_drops), num: true,
      sort: (c) => c.counters.socket_drops },
    { title: "errors", value: (c) => num(c.counters.errors_total), num: true,
      sort: (c) => c.counters.errors_total },
  ];
  return h("section", null, h("h2", null, "Collectors"),
    filtered("collectors", (st) => table(cols, items, st)));
}

export async function collector(root, href, redraw) {
  const c = await get(href);
  const graphs = await seriesGraphs(c, ["collector"], redraw);
  const errors = Object.entries(c.counters.errors || {}).filter(([, v]) => v > 0);
  const input = c.input ? [h("h3", null, "Input counters"), kv(counterPairs(c.input.counters))] : [];
  return h("section", null, h("h2", null, "Collector ", c.name),
    kv([["transport", c.transport], ["listen", c.listen], ["bound", c.bound], ["state", c.state],
      ["sessions", num(c.sessions)], ["TCP connections", num(c.tcp_connections)],
      ["templates", num(c.templates)], ["exporters", num(c.exporters)],
      ["records/s", num(rates.rate("c/" + c.name, c.counters.records), 1)]]),
    h("p", null, h("a", { href: route("exporters", link(c, "exporters")) }, "its exporters"),
      link(c, "config") ? [" · ", h("a", { href: route("config", link(c, "config")) }, "its config")]
        : null),
    graphs, h("h3", null, "Counters"), kv(counterPairs(c.counters)),
    h("h3", null, "Decode errors"),
    errors.length ? kv(errors.map(([k, v]) => [k, num(v)])) : message("empty", "none"),
    input);
}

export async function outputs(root) {
  const items = await all(link(root, "outputs"), "outputs");
  if (!items.length) {
    return message("empty", "No outputs are configured.");
  }
  for (const o of items) {
    o.rate = rates.rate("o/" + o.name, o.counters.records);
  }
  const queue = (o) => (o.destinations || []).reduce((s, d) => s + (d.queue_bytes || 0), 0);
  const cols = [
    { title: "name", value: (o) => h("a", { href: route("output", link(o, "self")) }, o.name),
      sort: (o) => o.name },
    { title: "type", value: (o) => o.type, sort: (o) => o.type },
    { title: "records/s", num: true, sort: (o) => o.rate || 0,
      value: (o) => [sparkline(rates.history("o/" + o.name)), " ", num(o.rate, 1)] },
    { title: "records", value: (o) => num(o.counters.records), num: true, wide: true,
      sort: (o) => o.counters.records },
    { title: "dropped", value: (o) => num(o.counters.dropped), num: true,
      sort: (o) => o.counters.dropped || 0 },
    { title: "queue bytes", value: (o) => num(queue(o)), num: true, sort: queue, wide: true },
  ];
  return h("section", null, h("h2", null, "Outputs"),
    filtered("outputs", (st) => table(cols, items, st)));
}

export async function output(root, href, redraw) {
  const o = await get(href);
  const graphs = await seriesGraphs(o, ["output"], redraw);
  const dests = o.destinations || [];
  const dcols = Object.keys(dests[0] || { name: 1 }).map((k) => ({ title: k.replace(/_/g, " "),
    value: (d) => (typeof d[k] === "number" ? num(d[k]) : d[k]), num: k !== "name" }));
  return h("section", null, h("h2", null, "Output ", o.name),
    kv([["type", o.type], ["state", o.state],
      ["records/s", num(rates.rate("o/" + o.name, o.counters.records), 1)]]),
    link(o, "config") ? h("p", null, h("a", { href: route("config", link(o, "config")) },
      "its config")) : null,
    graphs, h("h3", null, "Counters"), kv(counterPairs(o.counters)),
    h("h3", null, "Destinations"),
    dests.length ? table(dcols, dests) : message("empty", "one destination: see the counters"));
}

// The config's pipelines (from, to, stages, forms: the operator's), or where the token's role
// does not reach the config, the pipelines' state alone (every reader's).
async function configPipelines(root) {
  if (!link(root, "config")) {
    return { section: null, denied: null };
  }
  try {
    return { section: await follow(await follow(root, "config"), "pipelines"), denied: null };
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      return { section: null, denied: e };
    }
    throw e;
  }
}

export async function pipelines(root, arg, redraw) {
  const state = link(root, "pipelines") ? await all(link(root, "pipelines"), "pipelines") : [];
  const { section, denied } = await configPipelines(root);
  const items = section ? (section._embedded && section._embedded.items) || [] : state;
  const note = denied ? message("empty", "From, to and the forms are the config's: " +
    denied.message) : null;
  if (!items.length) {
    return h("section", null, h("h2", null, "Pipelines"), message("empty",
      "The config has no pipelines: every collector feeds every output."), note,
    section ? createForm(section, redraw) : null);
  }
  const byName = new Map(state.map((p) => [p.name, p]));
  const list = (v) => (Array.isArray(v) ? v.join(", ") : v === undefined ? "—" : String(v));
  const stages = (p) => (p.stages || []).map((s) => (s.type ? s.type : Object.keys(s)[0] +
    (typeof Object.values(s)[0] === "string" ? " " + Object.values(s)[0] : ""))).join(" → ");
  const counted = (p) => ((byName.get(p.name) || {}).stages || []).filter((s) => s.counters)
    .map((s) => `${s.type} ${s.index}: ${num(s.counters.records)} records`).join(", ");
  const cols = [
    { title: "name", value: (p) => (link(p, "self") && link(p, "self").includes("/config/")
      ? h("a", { href: route("config", link(p, "self")) }, p.name) : p.name),
    sort: (p) => p.name },
    { title: "from", value: (p) => list(p.from), sort: (p) => list(p.from) },
    { title: "to", value: (p) => list(p.to), sort: (p) => list(p.to) },
    { title: "stages", value: stages, sort: stages },
    { title: "stage counters", value: counted, sort: counted, wide: true },
  ];
  return h("section", null, h("h2", null, "Pipelines"),
    filtered("pipelines", (st) => table(cols, items, st)), note,
    section ? createForm(section, redraw) : null);
}

// A config item: as the API gives it, and its write forms. Not refreshed under the user's hands.
export async function config(root, href, redraw) {
  const r = await request(href);
  const item = r.body;
  const shown = Object.assign({}, item);
  delete shown._links;
  delete shown._templates;
  return h("section", { "data-static": "" }, h("h2", null, "Config of ", item.name || href),
    link(item, "state") ? h("p", null, h("a", {
      href: route(link(item, "state").includes("/outputs/") ? "output" : "collector",
        link(item, "state")) }, "its state")) : null,
    h("pre", null, JSON.stringify(shown, null, 2)),
    item._templates ? itemForm(item, r.etag, href, redraw) : null);
}
