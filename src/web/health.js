// Health: /ready and /health, the version and uptime, the workers' snapshots, HA.
import { ApiError, get, link, request } from "./api.js";
import { h, kv, message, num } from "./dom.js";

function uptime(s) {
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return (d ? d + " d " : "") + (d || hh ? hh + " h " : "") + m + " min " + Math.floor(s % 60) + " s";
}

// A state resource that answers 503 with a problem when not ready: its state either way.
async function state(href) {
  try {
    return { ok: true, body: (await request(href)).body };
  } catch (e) {
    if (e instanceof ApiError && e.status === 503) {
      return { ok: false, body: e.problem };
    }
    throw e;
  }
}

export async function health(root) {
  const ready = await state(link(root, "ready"));
  const alive = await state(link(root, "health"));
  const stats = await get(link(root, "stats"));
  let ha = message("empty", "HA: no keepalived configured on this node");
  if (link(root, "keepalived")) {
    const k = await get(link(root, "keepalived"));
    const peers = (k.instances || []).flatMap((i) => i.unicast_peer || []);
    const vips = (k.virtual_ipaddresses || []).map((v) => v.address + (v.held ? " (held here)"
      : ""));
    ha = kv([["role", k.role || "unknown (no state file)"], ["since", k.since],
      ["peers", peers.length ? peers.join(", ") : "multicast"],
      ["virtual addresses", vips.join(", ") || "—"]]);
  }
  const workers = stats.workers || [];
  return h("section", null, h("h2", null, "Health"),
    kv([["ready", h("span", { class: ready.ok ? "good" : "bad", "data-ready": String(ready.ok) },
      ready.ok ? "ready" : "not ready: " + (ready.body.detail || ""))],
      ["alive", alive.ok ? "up" : "no"], ["version", root.version],
      ["started", root.started], ["uptime", uptime(root.uptime_seconds)],
      ["workers", num(workers.length)], ["collectors", num(stats.collectors)],
      ["exporters", num(stats.exporters)], ["sessions", num(stats.sessions)],
      ["templates", num(stats.templates)], ["records out", num(stats.outputs.records)],
      ["dropped out", num(stats.outputs.dropped)]]),
    h("h3", null, "Workers"),
    kv(workers.map((w) => ["worker " + w.index, w.snapshot_age_seconds === null
      ? "no snapshot yet" : "snapshot " + num(w.snapshot_age_seconds, 1) + " s old"])),
    h("h3", null, "High availability"), ha);
}
