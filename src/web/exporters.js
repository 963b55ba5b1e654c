// Exporters: the list (rates, loss, sampling; sortable and filterable) and one exporter with its
// sessions, domains, templates (fields by name) and options records.
import { all, get, link } from "./api.js";
import { ago, h, kv, message, num, route, sparkline, table } from "./dom.js";
import { filtered, rates } from "./lists.js";
import { alertsOf, seriesGraphs, topOf } from "./rrd.js";

const SAMPLING_TTL_MS = 30000; // an exporter's options records are asked again after this
const SAMPLING_MAX = 25; // exporters whose sampling a refresh of the list looks up
const sampling = new Map(); // exporter href -> {at, text}
const FIELDS_CACHE_MAX = 2000;
const fields = new Map(); // template href and time received -> its fields

// The sampling an options record announces, as "1 in N", or null.
export function samplingOf(rec) {
  if (!rec) {
    return null;
  }
  const n = rec.samplingInterval || rec.samplerRandomInterval;
  if (n) {
    return "1 in " + n;
  }
  if (rec.samplingPacketInterval) {
    const sel = rec.samplingPacketInterval, skip = rec.samplingPacketSpace || 0;
    return "1 in " + (sel + skip) / sel;
  }
  return null;
}

// The templates of every domain of exporter e (its full resource).
async function templatesOf(e) {
  const out = [];
  for (const d of (e._embedded && e._embedded.domains) || []) {
    const list = await all(link(d, "templates"), "templates");
    out.push(...list.map((t) => Object.assign(t, { odid: d.odid })));
  }
  return out;
}

async function samplingText(href) {
  const cached = sampling.get(href);
  if (cached && Date.now() - cached.at < SAMPLING_TTL_MS) {
    return cached.text;
  }
  const e = await get(href);
  const texts = (await templatesOf(e)).map((t) => samplingOf(t.last_options_record))
    .filter((x) => x);
  const text = texts.length ? [...new Set(texts)].join(", ") : "none announced";
  sampling.set(href, { at: Date.now(), text });
  return text;
}

export async function exporters(root, href) {
  const items = await all(href || link(root, "exporters"), "exporters");
  if (!items.length) {
    return h("section", null, h("h2", null, "Exporters"),
      message("empty", "No exporter has sent anything yet."));
  }
  // sequential, so a refresh asks one thing at a time
  for (const e of items.slice(0, SAMPLING_MAX)) {
    e.sampling = await samplingText(link(e, "self"));
  }
  const key = (e) => "e/" + e.id;
  for (const e of items) {
    e.rate = rates.rate(key(e), e.counters.records); // once per answer, not per redraw
  }
  const cols = [
    { title: "address", value: (e) => h("a", { href: route("exporter", link(e, "self")) },
      e.address), sort: (e) => e.address },
    { title: "collector", value: (e) => e.collector, sort: (e) => e.collector },
    { title: "last seen", value: (e) => ago(e.last_seen), sort: (e) => e.last_seen || "" },
    { title: "records/s", num: true, sort: (e) => e.rate || 0,
      value: (e) => [sparkline(rates.history(key(e))), " ", num(e.rate, 1)] },
    { title: "seq. lost", value: (e) => num(e.sequence_loss.lost_records), num: true,
      sort: (e) => e.sequence_loss.lost_records },
    { title: "sampling", value: (e) => e.sampling || "…", sort: (e) => e.sampling || "",
      wide: true },
    { title: "templates", value: (e) => num(e.templates), num: true, sort: (e) => e.templates,
      wide: true },
  ];
  return h("section", null, h("h2", null, "Exporters"),
    filtered("exporters", (st) => table(cols, items, st)));
}

function templateBlock(t) {
  const fields = (t.fields || []).map((f) => h("li", null, f.name || `${f.enterprise}/${f.id}`,
    f.scope ? " (scope)" : "", ` ${f.variable_length ? "variable" : f.length + " B"}`));
  const rec = t.last_options_record;
  return h("details", { "data-template": t.id, open: !!rec },
    h("summary", null, `${t.options ? "options template" : "template"} ${t.id}`,
      ` · domain ${t.odid} · ${t.field_count} fields · refreshed ${ago(t.last_refreshed)}`),
    h("ol", { start: 0 }, fields),
    rec ? [h("h3", null, "Latest options record (", ago(t.last_options_received), ")"),
      kv(Object.entries(rec).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v)
        : String(v)]))] : null);
}

export async function exporter(root, href, redraw) {
  const e = await get(href);
  const graphs = await seriesGraphs(e, ["exporter", "domain", "interface"], redraw);
  const raised = await alertsOf(root, e);
  const talkers = await topOf(e);
  const templates = await templatesOf(e);
  // the fields by name are in each template's own resource, asked again only when the
  // template was received again (its options record, in the list, is always the latest)
  const full = [];
  for (const t of templates) {
    const key = link(t, "self") + " " + t.received;
    if (!fields.has(key)) {
      fields.set(key, (await get(link(t, "self"))).fields);
    }
    full.push(Object.assign({}, t, { fields: fields.get(key) }));
  }
  if (fields.size > FIELDS_CACHE_MAX) {
    fields.clear();
  }
  const samp = [...new Set(full.map((t) => samplingOf(t.last_options_record)).filter((x) => x))];
  const sessions = e.transport_sessions || [];
  return h("section", { "data-exporter": e.address }, h("h2", null, "Exporter ", e.address),
    kv([["collector", e.collector], ["transport", e.transport], ["first seen", ago(e.first_seen)],
      ["last seen", ago(e.last_seen)],
      ["records/s", [sparkline(rates.history("e/" + e.id)), " ",
        num(rates.rate("e/" + e.id, e.counters.records), 1)]],
      ["records", num(e.counters.records)], ["messages", num(e.counters.messages)],
      ["sequence lost", num(e.sequence_loss.lost_records)],
      ["reordered", num(e.sequence_loss.reordered)], ["resets", num(e.sequence_loss.resets)],
      ["clock offset", e.clock && e.clock.offset !== null
        ? `${num(e.clock.offset, 3)} s (its clock ahead; negative: behind)` : "not measured"],
      ["sampling", samp.length ? samp.join(", ") : "none announced"],
      ["errors", num(e.counters.errors_total)]]),
    h("p", null, h("a", { href: route("collector", link(e, "collector")) }, "its collector")),
    graphs, raised, talkers,
    h("h3", null, "Transport sessions"),
    sessions.length ? table([
      { title: "port", value: (s) => s.port, num: true },
      { title: "worker", value: (s) => s.worker, num: true },
      { title: "last seen", value: (s) => ago(s.last_seen) },
      { title: "templates", value: (s) => num(s.templates), num: true }], sessions)
      : message("empty", "no live session"),
    h("h3", null, "Templates"),
    full.length ? full.map(templateBlock) : message("empty", "no template received yet"));
}
