// Who changed what, and when: an asset's versions (newest first) from
// /api/v1/assets/<IRI>/history, each change in words, and "as of" pages: an address's `asOf`
// makes a page read the API as the graph stood then (asset.js, lineage.js use these helpers).
import { get, url } from "./api.js";
import { assetLink, empty, errorBox, formatTime, h, localName, pageData, shortId } from "./ui.js";

const SHOWN_VERSIONS = 20; // versions listed before "show all"
const ALL_VERSIONS = 1000; // the most the history route gives
const SHOWN_CHANGES = 10; // changes a version lists before "show all"
const LONG_TEXT = 80; // characters of a literal shown before it is cut (the whole in a title)
// One value removed and one added of the same property in a write read as one change (not for
// edges: a lineage edge gone and another come are two facts about the lineage).
const PAIRED = new Set(["owner", "name", "status", "stage", "classification", "type", "attribute"]);
// Kinds whose values are terms of the ontology (shown by their local name).
const TERMS = new Set(["type", "status", "stage", "classification"]);
// The order changes are told in within a version: what it is first, its edges and attributes last.
const ORDER = ["name", "type", "status", "stage", "classification", "owner", "edge", "attribute"];

/** The moment the page's address asks for (`?asOf=`), or "" for now. */
export function readAsOf() {
  return (new URLSearchParams(location.search).get("asOf") || "").trim();
}

/** `href` (a same-origin address) with `asOf` set on it, or without any when `asOf` is "". */
export function withAsOf(href, asOf) {
  const target = new URL(href, location.origin);
  if (asOf) target.searchParams.set("asOf", asOf);
  else if (target.searchParams.has("asOf")) target.searchParams.delete("asOf");
  else return href; // as it was written
  return target.pathname + target.search + target.hash;
}

/** The banner of a page as of `asOf`: when, what it shows, and a link back to now. */
export function asOfBanner(asOf, what, nowHref) {
  return h(
    "div",
    { class: "notice as-of-banner", role: "status", "data-testid": "as-of-banner", "data-as-of": asOf },
    h("strong", {}, "As of ", h("time", { datetime: asOf, title: asOf }, formatTime(asOf))),
    `: ${what}. `,
    h("a", { href: nowHref, "data-testid": "as-of-now" }, "Back to now"),
  );
}

/** The History section of the asset `iri`: filled once its versions are in (then
 * `data-state=done`); `asOf` marks the version the page shows. */
export function historySection(iri, asOf = "") {
  const box = h("section", { class: "panel history", "data-testid": "history" }, h("h2", {}, "History"), h("p", { class: "loading" }, "Loading…"));
  fill(box, iri, asOf, SHOWN_VERSIONS + 1).finally(() => {
    box.dataset.state = "done";
  });
  return box;
}

async function fill(box, iri, asOf, limit) {
  let answer;
  try {
    answer = await get(`/api/v1/assets/${encodeURIComponent(`<${iri}>`)}/history`, { limit });
  } catch (err) {
    box.replaceChildren(h("h2", {}, "History"), errorBox(err));
    return;
  }
  const versions = answer.versions || [];
  const kept = answer.historySince !== null && answer.historySince !== undefined;
  const parts = [h("h2", {}, "History")];
  if (!kept) {
    parts.push(h("p", { class: "notice small", "data-testid": "history-none" }, "No history kept (KG_HISTORY=false): the writes the load records name are listed, but not how the asset stood before them."));
  } else if (!versions.length) {
    parts.push(empty("No change recorded since history started."));
  }
  const partial = versions.length === limit && limit > SHOWN_VERSIONS + 1;
  const shown = limit === SHOWN_VERSIONS + 1 ? versions.slice(0, SHOWN_VERSIONS) : versions;
  const viewing = asOf ? viewedVersion(versions, asOf) : null;
  if (shown.length) {
    parts.push(
      h(
        "ol",
        { class: "plain history-list" },
        shown.map((v, i) => versionItem(v, iri, { latest: i === 0, viewing: v === viewing, since: answer.historySince })),
      ),
    );
  }
  if (versions.length > shown.length) {
    const more = h("button", { type: "button", class: "link", "data-testid": "history-more" }, "Show all versions");
    more.addEventListener("click", async () => {
      more.disabled = true;
      more.textContent = "Loading…";
      box.dataset.state = "loading";
      await fill(box, iri, asOf, ALL_VERSIONS);
      box.dataset.state = "done";
    });
    parts.push(more);
  }
  if (partial) {
    const feed = url("/api/v1/changes", { nodeId: iri, direction: "both" });
    parts.push(h("p", { class: "small muted" }, `The ${versions.length} newest versions; older ones: `, h("code", {}, "kg history show"), " or ", h("a", { href: feed }, "the change feed"), "."));
  }
  box.replaceChildren(...parts);
}

/** The version a page as of `asOf` shows: the newest written at or before it. */
function viewedVersion(versions, asOf) {
  const exact = versions.find((v) => v.at === asOf);
  if (exact) return exact;
  const moment = Date.parse(asOf);
  if (Number.isNaN(moment)) return null;
  return versions.find((v) => v.at && Date.parse(v.at) <= moment) || null;
}

function versionItem(version, iri, { latest, viewing, since }) {
  // the API keeps the state right after the write before `historySince` (what a prune left),
  // and answers 410 as of anything earlier, or whenever no history is kept
  const kept = typeof since === "number" && version.position >= since - 1;
  const changes = told(version.changes || []);
  const head = h(
    "div",
    { class: "version-head" },
    h("time", { datetime: version.at || "", title: version.at || "", "data-testid": "history-at" }, formatTime(version.at) || "an unknown time"),
    h("span", { class: "by", "data-testid": "history-by" }, version.by || "unknown writer"),
    (version.sources || []).length ? h("span", { class: "muted small", "data-testid": "history-sources" }, version.sources.join(", ")) : null,
    latest ? h("span", { class: "badge version-mark" }, "Latest") : null,
    viewing ? h("span", { class: "badge version-mark viewing" }, "Shown") : null,
    h("span", { class: "spacer" }),
    !kept
      ? h("span", { class: "muted small", "data-testid": "history-not-kept", title: "The graph of then is not kept" }, typeof since === "number" ? "pruned" : "not kept")
      : h(
          "a",
          { href: withAsOf(location.pathname + location.search, version.at), "data-testid": "history-view-as-of", title: `The asset as it stood at ${version.at}` },
          "View as of this version",
        ),
  );
  const list = h("ul", { class: "plain change-list" });
  const fillChanges = (n) => list.replaceChildren(...changes.slice(0, n).map((c) => changeItem(c, iri)));
  fillChanges(SHOWN_CHANGES);
  if (!changes.length) list.append(h("li", { class: "muted small" }, "No change recorded."));
  const item = h(
    "li",
    {
      class: `version${viewing ? " viewing" : ""}`,
      "data-testid": "history-version",
      "data-position": version.position,
      "data-at": version.at || "",
      "data-viewing": viewing ? "true" : null,
      "data-kept": kept ? "true" : "false",
    },
    head,
    list,
  );
  if (changes.length > SHOWN_CHANGES) {
    const more = h("button", { type: "button", class: "link", "data-testid": "history-changes-more" }, `Show all ${changes.length} changes`);
    more.addEventListener("click", () => {
      fillChanges(changes.length);
      more.remove();
    });
    item.append(more);
  }
  return item;
}

/** The changes of one write as they are told, in ORDER: a property (not an edge) that lost one
 * value and got one other reads as one change from the old value to the new. */
function told(changes) {
  const bySlot = new Map();
  for (const c of changes) {
    if (!PAIRED.has(c.kind)) continue;
    const slot = `${c.subject} ${c.property}`;
    if (!bySlot.has(slot)) bySlot.set(slot, []);
    bySlot.get(slot).push(c);
  }
  const merged = new Map(); // the removed change of a pair -> the pair as one change
  const absorbed = new Set(); // the added change of a pair
  for (const group of bySlot.values()) {
    const removed = group.filter((c) => c.change === "removed");
    const added = group.filter((c) => c.change === "added");
    if (group.length === 2 && removed.length === 1 && added.length === 1) {
      merged.set(removed[0], { ...added[0], change: "changed", previous: removed[0].value });
      absorbed.add(added[0]);
    }
  }
  const result = changes.filter((c) => !absorbed.has(c)).map((c) => merged.get(c) || c);
  const rank = (c) => (ORDER.includes(c.kind) ? ORDER.indexOf(c.kind) : ORDER.length);
  return result.map((c, i) => [c, i]).sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([c]) => c);
}

function changeItem(c, iri) {
  const label = c.kind === "edge" ? `edge ${localName(shortId(c.property))}` : c.kind === "attribute" ? shortId(c.property) : c.kind;
  const words =
    c.change === "changed"
      ? [label, " ", valueNode(c.kind, c.previous), " → ", valueNode(c.kind, c.value)]
      : [`${c.change} ${label} `, valueNode(c.kind, c.value)];
  return h(
    "li",
    {
      class: `change change-${c.change}`,
      "data-testid": "history-change",
      "data-kind": c.kind,
      "data-change": c.change,
      "data-property": c.property,
      "data-value": c.value ?? "",
      "data-previous": c.previous ?? "",
    },
    c.subject && c.subject !== iri ? h("span", { class: "mono small subject", title: c.subject }, `${partName(c.subject, iri)}: `) : null,
    words,
  );
}

/** A value shortened like the rest of the page: assets as links, ontology terms by name,
 * text quoted and cut when long. */
function valueNode(kind, value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "nothing");
  const text = String(value);
  if (kind === "edge" || kind === "owner") return assetLink(text, shortId(text));
  if (TERMS.has(kind)) return h("span", { class: "term", title: text }, localName(shortId(text)));
  if (kind === "attribute" && isAssetIri(text)) return assetLink(text, shortId(text));
  if (kind === "attribute" && /^https?:\/\/\S+$/i.test(text)) return h("span", { class: "mono", title: text }, shortId(text));
  const cut = text.length > LONG_TEXT ? `${text.slice(0, LONG_TEXT - 1)}…` : text;
  return h("q", { class: "literal", title: text.length > LONG_TEXT ? text : null }, cut);
}

function isAssetIri(text) {
  const base = pageData().baseIri || "";
  return !/[\s\u0000-\u001f]/.test(text) && ((base && text.startsWith(base)) || /^urn:/i.test(text));
}

/** A part of the asset (a field `<iri>#name`) by its part name, anything else by its short id. */
function partName(subject, iri) {
  return subject.startsWith(iri + "#") ? subject.slice(iri.length) : shortId(subject);
}
