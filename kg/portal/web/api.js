// The public HTTP API, as the pages use it: JSON reads, writes with a token asked once per
// session (kept in sessionStorage, sent as a bearer token), problem details as ApiError.
import { h, pageData } from "./ui.js";

const TOKEN_KEY = "kg-token";
// told on window when the tab signs in or out (the docs page hands the token to Swagger UI)
export const TOKEN_EVENT = "kg-token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** A same-origin URL: `params` values may be arrays (repeated) and empty ones are dropped. */
export function url(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== "") search.append(key, String(one));
    }
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (typeof body.detail === "string") return body;
    if (Array.isArray(body.detail)) {
      return { detail: body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ") };
    }
    return { detail: text };
  } catch {
    return { detail: text.slice(0, 500) || response.statusText };
  }
}

async function request(method, path, { params, body, contentType, accept, signal } = {}) {
  const headers = { Accept: accept || "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && method !== "GET") headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url(path, params), { method, headers, body, signal });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response;
}

/** GET a JSON answer. */
export async function get(path, params, options = {}) {
  const response = await request("GET", path, { params, ...options });
  return response.json();
}

/** GET an answer as text in the media type `accept`. */
export async function getText(path, params, accept, options = {}) {
  const response = await request("GET", path, { params, accept, ...options });
  return response.text();
}

/** POST without writing (search/similar): no token asked. */
export async function postJSON(path, payload, params) {
  const response = await request("POST", path, {
    params,
    body: JSON.stringify(payload),
    contentType: "application/json",
  });
  return response.json();
}

/** A write: where the server takes writes from token holders only, the token is asked first
 * (once per tab); on a 401 (a token the server no longer takes) it is asked again, once. */
export async function write(method, path, options = {}) {
  if (pageData().writeToken && !signedIn() && !(await askToken())) {
    throw new ApiError(401, { detail: "This server takes writes from token holders only." });
  }
  try {
    return await request(method, path, options);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    const token = await askToken();
    if (!token) throw err;
    return request(method, path, options);
  }
}

export function signedIn() {
  return Boolean(sessionStorage.getItem(TOKEN_KEY));
}

/** The token this tab signed in with, or null. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The token dialog: resolves to the token given, or null when cancelled. */
export function askToken() {
  return new Promise((resolve) => {
    const input = h("input", {
      type: "password",
      name: "token",
      autocomplete: "off",
      "data-testid": "token-input",
      "aria-label": "Write token",
    });
    const dialog = h(
      "dialog",
      { class: "token-dialog", "data-testid": "token-dialog" },
      h(
        "form",
        { method: "dialog" },
        h("h2", {}, "A write token"),
        h("p", {}, "This server takes writes from token holders (KG_API_TOKENS). It is kept for this tab only."),
        input,
        h(
          "p",
          { class: "actions" },
          h("button", { value: "cancel", type: "submit" }, "Cancel"),
          h("button", { value: "ok", type: "submit", "data-testid": "token-save" }, "Use token"),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      const token = dialog.returnValue === "ok" ? input.value.trim() : "";
      dialog.remove();
      if (token) {
        sessionStorage.setItem(TOKEN_KEY, token);
        refreshTokenButton();
        window.dispatchEvent(new Event(TOKEN_EVENT));
      }
      resolve(token || null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function refreshTokenButton() {
  const button = document.querySelector("[data-testid=token-button]");
  if (!button) return;
  button.hidden = !pageData().writeToken && !signedIn();
  button.textContent = signedIn() ? "Signed in · sign out" : "Sign in to write";
}

/** The header's token button: sign in ahead of a write, or forget the token. */
export function mountHeader() {
  const button = document.querySelector("[data-testid=token-button]");
  if (!button) return;
  refreshTokenButton();
  button.addEventListener("click", () => {
    if (signedIn()) {
      sessionStorage.removeItem(TOKEN_KEY);
      refreshTokenButton();
      window.dispatchEvent(new Event(TOKEN_EVENT));
    } else {
      askToken();
    }
  });
}
