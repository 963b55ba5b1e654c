// The API as the page sees it: requests carry the token kept in sessionStorage (never a URL),
// resources are reached through their HAL links, and a failure becomes an ApiError whose message
// says what the user can do about it.
export const ROOT = "/api/v1/"; // the only path the page knows: everything else is a link
const TOKEN_KEY = "ipfixd.token";
const TIMEOUT_MS = 10000;
const PAGES_MAX = 50; // of a collection followed through its next links

export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message);
    this.status = status;
    this.problem = problem || {};
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(t) {
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

function explain(status, problem) {
  const detail = problem.detail ? ": " + problem.detail : "";
  if (status === 401) {
    return token()
      ? "The API refused the token" + detail + ". Enter another one above."
      : "The API needs a token" + detail + ". Enter one above.";
  }
  if (status === 403) {
    return "This token's role may not see or do this" + detail + ".";
  }
  return (problem.title || "HTTP " + status) + detail;
}

// One request: {status, etag, body} (body: JSON, a Blob with asBlob, null for 204), or throws.
export async function request(href, opts = {}) {
  const headers = Object.assign(
    { Accept: opts.accept || "application/hal+json, application/json, application/problem+json" },
    opts.headers || {});
  if (token()) {
    headers.Authorization = "Bearer " + token();
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    let resp;
    try {
      resp = await fetch(href, { method: opts.method || "GET", headers, body: opts.body,
        signal: ctl.signal, cache: "no-store", credentials: "omit", redirect: "error" });
    } catch (e) {
      throw new ApiError(0, null, ctl.signal.aborted
        ? "ipfixd did not answer within " + TIMEOUT_MS / 1000 + " s: is it overloaded or stopped?"
        : "ipfixd does not answer: the daemon is gone, or the network between.");
    }
    const etag = resp.headers.get("ETag");
    if (!resp.ok) {
      let problem = {};
      if ((resp.headers.get("Content-Type") || "").includes("json")) {
        problem = await resp.json().catch(() => ({}));
      }
      throw new ApiError(resp.status, problem, explain(resp.status, problem));
    }
    if (resp.status === 204) {
      return { status: 204, etag, body: null };
    }
    const body = opts.asBlob ? await resp.blob() : await resp.json();
    return { status: resp.status, etag, body };
  } finally {
    clearTimeout(timer);
  }
}

export async function get(href) {
  return (await request(href)).body;
}

// The href of rel in res (its first, when an array), filled in with params when templated.
export function link(res, rel, params) {
  let l = res && res._links ? res._links[rel] : null;
  if (Array.isArray(l)) {
    l = l[0];
  }
  if (!l || !l.href) {
    return null;
  }
  return l.templated ? expand(l.href, params || {}) : l.href;
}

// RFC 6570 form-style query expansion ({?a,b}), the only kind the API's links use.
export function expand(href, params) {
  return href.replace(/\{\?([^}]*)\}/g, (_, names) => {
    const parts = names.split(",").filter((n) => params[n] !== undefined && params[n] !== null)
      .map((n) => encodeURIComponent(n) + "=" + encodeURIComponent(params[n]));
    return parts.length ? "?" + parts.join("&") : "";
  });
}

export async function follow(res, rel, params) {
  const href = link(res, rel, params);
  if (href === null) {
    throw new ApiError(-1, null, "the API offers no '" + rel + "' link here");
  }
  return get(href);
}

// Every item of a collection, page after page through its next links.
export async function all(href, rel) {
  const items = [];
  for (let n = 0; href && n < PAGES_MAX; n++) {
    const page = await get(href);
    items.push(...((page._embedded && page._embedded[rel]) || []));
    href = link(page, "next");
  }
  return items;
}
