// Small DOM helpers every page shares. Text always goes in as text nodes (never as HTML), so
// nothing an asset's name or description holds can become markup.

let cachedData = null;

/** The page's data block, written by the server (kg.portal.shell). */
export function pageData() {
  if (cachedData === null) {
    const block = document.getElementById("page-data");
    cachedData = block ? JSON.parse(block.textContent || "{}") : {};
  }
  return cachedData;
}

/** An element: `attrs` are attributes (`class`, `data-*`, `aria-*`...), functions under
 * `on<event>` become listeners, `false`/`null` attributes are left out; children are nodes,
 * strings (as text) or arrays of them. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "value" && "value" in node) {
      node.value = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** The portal's page of an asset: under the base IRI its own address (/id/...), else /asset. */
export function assetHref(iri) {
  const base = pageData().baseIri || "";
  if (base && iri.startsWith(base) && iri.length > base.length) {
    const local = iri.slice(base.length);
    return "/id/" + local.split("/").map(encodeURIComponent).join("/");
  }
  return "/asset?id=" + encodeURIComponent(iri);
}

/** The readable id of an IRI: its local id under the base, else a CURIE, else the IRI. */
export function shortId(iri) {
  const base = pageData().baseIri || "";
  if (base && iri.startsWith(base)) return iri.slice(base.length);
  for (const [prefix, ns] of Object.entries(pageData().prefixes || {})) {
    if (iri.startsWith(ns)) return `${prefix}:${iri.slice(ns.length)}`;
  }
  return iri;
}

/** "mlg:ModelVersion" -> "ModelVersion". */
export function localName(curie) {
  if (!curie) return "";
  const text = String(curie);
  return text.slice(Math.max(text.lastIndexOf(":"), text.lastIndexOf("#"), text.lastIndexOf("/")) + 1);
}

/** "ModelVersion" -> "Model version". */
export function humanize(name) {
  const words = localName(name).replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A link to an asset's page, with `data-asset-id` holding its full IRI. */
export function assetLink(iri, label, attrs = {}) {
  return h("a", { href: assetHref(iri), "data-asset-id": iri, ...attrs }, label || shortId(iri));
}

/** A small labelled badge: kind is type, status or stage; the value styles it. */
export function badge(kind, value) {
  if (!value) return null;
  const name = localName(value);
  return h("span", { class: `badge ${kind} ${kind}-${name.toLowerCase()}`, title: `${kind}: ${name}` }, humanize(name));
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

export function errorBox(err) {
  const status = err && err.status ? ` (${err.status})` : "";
  return h("div", { class: "error", role: "alert", "data-testid": "error" }, `${err && err.message ? err.message : err}${status}`);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

/** A file the browser saves, made here (no round trip). */
export function download(filename, mime, content) {
  const blob = content instanceof Blob ? content : new Blob([content], { type: mime });
  const href = URL.createObjectURL(blob);
  const link = h("a", { href, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 1000);
}

/** CSV text of rows (arrays), quoted as RFC 4180 asks. */
export function csv(rows) {
  const cell = (v) => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** A table whose column heads sort it; `columns` are {key, label, render?}; rows are objects. */
export function sortableTable(columns, rows, attrs = {}) {
  const body = h("tbody");
  let order = { key: null, up: true };
  const fill = () => {
    const sorted = [...rows];
    if (order.key) {
      sorted.sort((a, b) => {
        const x = a[order.key] ?? "";
        const y = b[order.key] ?? "";
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return order.up ? c : -c;
      });
    }
    body.replaceChildren(
      ...sorted.map((row) =>
        h("tr", row._attrs || {}, ...columns.map((c) => h("td", {}, c.render ? c.render(row) : row[c.key] ?? ""))),
      ),
    );
  };
  const heads = columns.map((c) =>
    h(
      "th",
      { scope: "col" },
      h(
        "button",
        {
          type: "button",
          class: "sort",
          onclick: () => {
            order = { key: c.key, up: order.key === c.key ? !order.up : true };
            fill();
          },
        },
        c.label,
      ),
    ),
  );
  fill();
  return h("table", { class: "table", ...attrs }, h("thead", {}, h("tr", {}, ...heads)), body);
}

/** Debounce: `fn` runs once `ms` after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function setTitle(text) {
  document.title = `${text} · kg`;
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

const loaded = new Map();

/** Load one of the portal's libraries (/vendor/<name>) when a page first needs it, once. */
export function loadLibrary(name) {
  if (!loaded.has(name)) {
    loaded.set(
      name,
      new Promise((resolve, reject) => {
        const script = h("script", { src: `/vendor/${name}` });
        script.addEventListener("load", resolve);
        script.addEventListener("error", () => reject(new Error(`the library ${name} did not load`)));
        document.head.append(script);
      }),
    );
  }
  return loaded.get(name);
}
