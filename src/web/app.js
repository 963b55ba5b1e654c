// The page: the token form, the view named by the location's hash, and a refresh that starts
// only once the previous one has finished, so a slow or stopped daemon never piles requests up.
import { ApiError, ROOT, get, setToken, token } from "./api.js";
import { message } from "./dom.js";
import { exporter, exporters } from "./exporters.js";
import { health } from "./health.js";
import { alerts, top } from "./rrd.js";
import { collector, collectors, config, output, outputs, pipelines } from "./views.js";

const INTERVAL_KEY = "ipfixd.interval";
const views = { exporters, exporter, collectors, collector, outputs, output, pipelines, config,
  health, alerts, top };
// views shown only where the root links what they read
const needs = { alerts: "alerts", top: "top" };
const nav = { exporter: "exporters", collector: "collectors", output: "outputs",
  config: "pipelines" };

let timer = null;
let running = false;
let again = false;
let generation = 0;

function current() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const eq = hash.indexOf("=");
  const name = eq < 0 ? hash : hash.slice(0, eq);
  return { name: views[name] ? name : "exporters", arg: eq < 0 ? null : hash.slice(eq + 1) };
}

function interval() {
  return Number(document.getElementById("interval").value) || 0;
}

function status(text) {
  document.getElementById("status").textContent = text;
}

function schedule(live) {
  clearTimeout(timer);
  if (live && interval() > 0) {
    timer = setTimeout(() => refresh(true), interval() * 1000);
  }
}

async function render() {
  const gen = ++generation;
  const { name, arg } = current();
  const main = document.getElementById("main");
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("current", a.dataset.view === (nav[name] || name));
  }
  let node;
  try {
    const root = await get(ROOT);
    for (const [view, rel] of Object.entries(needs)) {
      document.querySelector(`#nav a[data-view=${view}]`).hidden = !(root._links || {})[rel];
    }
    node = await views[name](root, arg, () => refresh());
    document.body.dataset.state = "ready";
    status("updated " + new Date().toLocaleTimeString());
  } catch (e) {
    if (!(e instanceof ApiError)) {
      throw e;
    }
    node = message(e.status === 0 ? "problem gone" : "problem", e.message, e.status);
    document.body.dataset.state = "error";
    status(e.status === 0 ? "ipfixd does not answer" : "the last refresh failed");
  }
  if (gen !== generation) {
    return false; // the user went elsewhere meanwhile: a newer render owns the page
  }
  main.replaceChildren(node);
  document.body.dataset.view = name; // the view shown, once it is
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
  return !busy();
}

// A view with a form (data-static), or a form being filled in, waits for the user instead of
// being redrawn under them.
function busy() {
  return document.getElementById("main")
    .querySelector("[data-static], form.dirty, details.create[open]") !== null;
}

// A refresh: asked by the user (a link, the token, a form's answer), or by the timer, which
// leaves a form being filled in alone.
export async function refresh(byTimer = false) {
  if (byTimer && busy()) {
    schedule(true);
    return;
  }
  if (running) {
    again = true; // once more when this one is done, not a second one beside it
    return;
  }
  running = true;
  clearTimeout(timer);
  let live = true;
  try {
    live = await render();
  } catch (e) {
    document.body.dataset.state = "error";
    status("the page failed: " + e.message);
    console.error(e); // a fault of the page's own, not the API's: the tests look for these
  } finally {
    running = false;
    if (again) {
      again = false;
      refresh();
    } else {
      schedule(live);
    }
  }
}

function setup() {
  const form = document.getElementById("token-form");
  const input = document.getElementById("token");
  const sel = document.getElementById("interval");
  const saved = localStorage.getItem(INTERVAL_KEY);
  if (saved !== null && [...sel.options].some((o) => o.value === saved)) {
    sel.value = saved;
  }
  input.placeholder = token() ? "a token is set for this tab" : "bearer token";
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    setToken(input.value.trim());
    input.value = "";
    input.placeholder = token() ? "a token is set for this tab" : "bearer token";
    refresh();
  });
  document.getElementById("forget").addEventListener("click", () => {
    setToken("");
    input.placeholder = "bearer token";
    refresh();
  });
  sel.addEventListener("change", () => {
    localStorage.setItem(INTERVAL_KEY, sel.value);
    refresh();
  });
  window.addEventListener("hashchange", () => refresh());
  refresh();
}

setup();
