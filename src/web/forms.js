// HAL-FORMS: the form of a config item's "patch" template (or its "default" one), filled with
// the item's values; a change goes back as a merge patch with the item's ETag, and a refusal is
// shown at the field its JSON pointer names.
import { ApiError, request } from "./api.js";
import { h, message } from "./dom.js";

function inputFor(p, value) {
  const id = "f-" + p.name;
  const structured = value !== undefined && value !== null && typeof value === "object";
  let el;
  if (p.options && p.options.inline && !structured) {
    el = h("select", { id, name: p.name },
      h("option", { value: "" }, ""),
      p.options.inline.map((o) => h("option", { value: o, selected: String(value) === o }, o)));
  } else if (structured || p.name === "from" || p.name === "to" || p.name === "stages") {
    el = h("textarea", { id, name: p.name, "data-json": "" });
    el.value = value === undefined ? "" : JSON.stringify(value, null, 1);
  } else if (p.type === "checkbox") {
    el = h("input", { id, name: p.name, type: "checkbox", checked: value === true });
  } else {
    el = h("input", { id, name: p.name, type: p.type === "number" ? "number" : "text",
      min: p.min, max: p.max, placeholder: p.value });
    el.value = value === undefined || value === null ? "" : String(value);
  }
  if (p.readOnly) {
    el.disabled = true;
  }
  return el;
}

// The value an input holds, typed as the item's was (undefined: left empty).
function valueOf(el, before) {
  if (el.type === "checkbox") {
    return el.checked;
  }
  const text = el.value.trim();
  if (text === "") {
    return undefined;
  }
  if (el.hasAttribute("data-json")) {
    return JSON.parse(text);
  }
  if (el.type === "number" || typeof before === "number") {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  return text;
}

// The merge patch from before to the form's values: changed keys, removed ones as null.
function patchOf(form, props, item) {
  const patch = {};
  for (const p of props) {
    const el = form.elements.namedItem(p.name);
    if (!el || el.disabled) {
      continue;
    }
    let v;
    try {
      v = valueOf(el, item[p.name]);
    } catch (e) {
      throw new ApiError(422, { pointer: "/" + p.name, detail: "not JSON: " + e.message },
        "not JSON");
    }
    if (v === undefined && el.type === "checkbox") {
      continue;
    }
    if (v === undefined) {
      if (item[p.name] !== undefined) {
        patch[p.name] = null;
      }
    } else if (JSON.stringify(v) !== JSON.stringify(item[p.name])) {
      patch[p.name] = v;
    }
  }
  return patch;
}

function showError(form, status, problem, text) {
  const ptr = problem.pointer || "";
  const name = decodeURIComponent(ptr.split("/")[1] || "").replace(/~1/g, "/").replace(/~0/g, "~");
  const slot = name && form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
  if (slot) {
    slot.textContent = problem.detail || text;
    const el = form.elements.namedItem(name);
    if (el && el.setAttribute) {
      el.setAttribute("aria-invalid", "true");
    }
    slot.scrollIntoView({ block: "nearest" });
  } else {
    form.querySelector(".form-status").replaceChildren(message("problem", text, status));
  }
}

// The form of a config item's "patch" (or "default") template; Apply sends what changed.
export function itemForm(item, etag, href, redraw) {
  const t = item._templates.patch || item._templates.default;
  if (!t || !t.properties) {
    return null;
  }
  return templateForm(t, item, etag, href, redraw);
}

// The form of a config section's "default" template: a new item, POSTed to its target.
export function createForm(section, redraw) {
  const t = section._templates && section._templates.default;
  if (!t || !t.properties || t.method !== "POST") {
    return null;
  }
  return h("details", { class: "create" }, h("summary", null, t.title || "Create"),
    templateForm(t, {}, null, t.target, redraw));
}

function templateForm(t, item, etag, href, redraw) {
  const rows = t.properties.map((p) => h("div", { class: "field" },
    h("label", { for: "f-" + p.name }, p.name, " ", h("span", { class: "help" }, p.prompt || "")),
    inputFor(p, item[p.name]),
    h("div", { class: "field-error", "data-error-for": p.name, role: "alert" })));
  const form = h("form", { class: "item", "data-template": t.method },
    h("h3", null, t.title || "Change"), rows,
    h("div", null, h("button", { type: "submit" }, "Apply")),
    h("div", { class: "form-status" }));
  // a form being filled in is not redrawn by a refresh (app.js)
  form.addEventListener("input", () => form.classList.add("dirty"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    const status = form.querySelector(".form-status");
    try {
      const patch = patchOf(form, t.properties, item);
      if (!Object.keys(patch).length) {
        status.replaceChildren(message("empty", "Nothing changed."));
        return;
      }
      const isPatch = t.method === "PATCH";
      const body = isPatch ? patch : Object.assign({}, item, patch);
      delete body._links;
      delete body._templates;
      const headers = { "Content-Type": t.contentType || "application/json" };
      if (etag) {
        headers["If-Match"] = etag; // the version read: a write in between answers 412
      }
      await request(t.target || href, { method: t.method, body: JSON.stringify(body), headers });
      form.classList.remove("dirty");
      status.replaceChildren(message("done", "Applied."));
      setTimeout(redraw, 0);
    } catch (e) {
      if (!(e instanceof ApiError)) {
        throw e;
      }
      const text = e.status === 412
        ? "Someone changed this item since it was read: reload it and try again."
        : e.message;
      showError(form, e.status, e.problem, text);
    }
  });
  return form;
}
