// The sections a team's (or a person's) asset page adds: its members (or the teams a person
// belongs to), the assets it owns by type, and its governance scorecard. Also the few helpers
// the impact and governance pages share with it (SPARQL reads, e-mails, type order).
import { get, getText, url, ApiError } from "./api.js";
import { h, assetLink, badge, humanize, localName, shortId, errorBox, empty } from "./ui.js";

const MLG = "https://w3id.org/mlg#";
const TEAM = "mlg:Team";
const PERSON = "mlg:Person";
const PAGE_SIZE = 200;

/** The order asset types read in, upstream to downstream; others after, by name. */
export const TYPE_ORDER = [
  "mlg:Dataset",
  "mlg:FeatureSet",
  "mlg:Feature",
  "mlg:Workflow",
  "mlg:Run",
  "mlg:Model",
  "mlg:ModelVersion",
  "mlg:Evaluation",
  "mlg:Service",
  "mlg:Experiment",
  "mlg:Team",
  "mlg:Person",
];

export function typeRank(type) {
  const at = TYPE_ORDER.indexOf(type);
  return at < 0 ? TYPE_ORDER.length : at;
}

export function byTypeOrder(a, b) {
  return typeRank(a) - typeRank(b) || String(a).localeCompare(String(b));
}

/** "mlg:FeatureSet" -> "Feature sets". */
export function plural(type) {
  const word = humanize(type || "Asset");
  return /s$/.test(word) ? word : `${word}s`;
}

/** The page's stylesheet for these sections (the asset page links only its own). */
export function ensureStyles(name = "governance") {
  const href = `/portal/${name}.css`;
  if (!document.querySelector(`link[rel=stylesheet][href="${href}"]`)) {
    document.head.append(h("link", { rel: "stylesheet", href }));
  }
}

/** The rows of a SPARQL SELECT, each binding as its plain value. */
export async function sparqlSelect(query) {
  const text = await getText("/sparql", { query }, "application/sparql-results+json");
  const body = JSON.parse(text);
  return (body.results?.bindings || []).map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, term]) => [key, term.value])),
  );
}

/** IRI -> {label, emails} of agents (or any assets), read in batches small enough for a GET. */
export async function agentsInfo(iris) {
  const unique = [...new Set(iris.filter((iri) => /^[a-z][a-z0-9+.-]*:[^\s<>"{}|\\^`]*$/i.test(iri)))];
  const found = new Map();
  const batches = [];
  for (let at = 0; at < unique.length; at += 40) {
    const values = unique
      .slice(at, at + 40)
      .map((iri) => `<${iri}>`)
      .join(" ");
    batches.push(
      sparqlSelect(
        `SELECT ?a ?label ?email WHERE { VALUES ?a { ${values} } ` +
          `OPTIONAL { ?a <http://www.w3.org/2000/01/rdf-schema#label> ?label } OPTIONAL { ?a <${MLG}email> ?email } }`,
      ),
    );
  }
  for (const rows of await Promise.all(batches)) {
    for (const { a, label, email } of rows) {
      if (!found.has(a)) found.set(a, { label: null, emails: [] });
      const entry = found.get(a);
      if (label && !entry.label) entry.label = label;
      const address = email ? String(email).replace(/^mailto:/i, "") : "";
      if (address && !entry.emails.includes(address)) entry.emails.push(address);
    }
  }
  for (const entry of found.values()) entry.emails.sort();
  return found;
}

/** The governance dashboard filtered (team and/or rule), by the readable ids. */
export function governanceHref({ team, rule } = {}) {
  return url("/governance", { team: team ? shortId(team) : "", rule: rule ? shortId(rule) : "" });
}

/** Sections for the page of `asset` (the asset API's JSON) when it is a team or a person. */
export async function teamSections(asset) {
  if (!asset || (asset.type !== TEAM && asset.type !== PERSON)) return [];
  ensureStyles();
  const [people, owned] = await Promise.all([membersSection(asset), ownedSection(asset)]);
  return [people, scorecardSection(asset), owned].filter(Boolean);
}

// -- members

async function membersSection(asset) {
  const isTeam = asset.type === TEAM;
  const links = isTeam
    ? (asset.incoming || [])
        .filter((r) => r.property === "mlg:memberOf")
        .map((r) => ({ id: r.source, label: r.label, type: r.type || PERSON, resolved: r.resolved }))
    : (asset.outgoing || [])
        .filter((r) => r.property === "mlg:memberOf")
        .map((r) => ({ id: r.target, label: r.label, type: r.type || TEAM, resolved: r.resolved }));
  links.sort((a, b) => String(a.label || a.id).localeCompare(String(b.label || b.id)));
  let info = new Map();
  try {
    info = await agentsInfo(links.map((l) => l.id));
  } catch {
    // e-mails are a nicety: the members still show
  }
  const title = isTeam ? `Members (${links.length})` : `Teams (${links.length})`;
  const list = links.length
    ? h(
        "ul",
        { class: "team-members" },
        links.map((m) =>
          h(
            "li",
            { class: "team-member", "data-testid": "team-member", "data-asset-id": m.id },
            h("span", { class: `avatar ${isTeam ? "person" : "team"}`, "aria-hidden": "true" }, initials(m.label || localName(m.id))),
            h(
              "span",
              { class: "who" },
              assetLink(m.id, m.label || shortId(m.id)),
              m.resolved === false ? h("span", { class: "badge unresolved" }, "not in the graph") : null,
              (info.get(m.id)?.emails || []).map((e) => h("a", { class: "mail muted small", href: `mailto:${e}` }, e)),
            ),
          ),
        ),
      )
    : empty(isTeam ? "No one is recorded as a member of this team (mlg:memberOf)." : "This person belongs to no team (mlg:memberOf): the governance rules warn about owners outside a team.");
  const contact = (asset.properties?.["mlg:email"] || []).map((e) => String(e).replace(/^mailto:/i, ""));
  return h(
    "section",
    { class: "panel team-section", "data-testid": "team-members" },
    h(
      "div",
      { class: "row" },
      h("h2", {}, title),
      h("span", { class: "spacer" }),
      contact.length
        ? h("span", { class: "small" }, h("span", { class: "muted" }, "Contact "), contact.map((e, i) => [i ? ", " : "", h("a", { href: `mailto:${e}`, "data-testid": "team-contact" }, e)]))
        : null,
    ),
    list,
  );
}

function initials(name) {
  const words = String(name || "?").trim().split(/\s+/);
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
}

// -- owned assets

async function ownedSection(asset) {
  const box = h("div", { class: "team-owned" });
  const head = h("h2", {}, "Owned assets");
  const section = h("section", { class: "panel team-section", "data-testid": "team-assets" }, head, box);
  let first;
  try {
    first = await get("/api/v1/assets", { owner: asset.id, limit: PAGE_SIZE });
  } catch (err) {
    box.append(errorBox(err));
    return section;
  }
  const total = first.total ?? (first.items || []).length;
  head.textContent = `Owned assets (${total})`;
  if (!total) {
    box.append(empty(asset.type === TEAM ? "This team owns no assets." : "This person owns no assets."));
    return section;
  }
  const typeCounts = first.facets?.type || {};
  const summary = h(
    "p",
    { class: "row team-type-counts" },
    Object.keys(typeCounts)
      .sort(byTypeOrder)
      .map((type) => h("span", { class: "count-chip" }, badge("type", type), h("strong", {}, String(typeCounts[type])))),
  );
  const groups = h("div", { class: "team-groups" });
  const items = [...(first.items || [])];
  const more = h("button", { type: "button", class: "more", "data-testid": "team-assets-more" });
  const render = () => {
    const byType = new Map();
    for (const item of items) {
      if (!byType.has(item.type)) byType.set(item.type, []);
      byType.get(item.type).push(item);
    }
    groups.replaceChildren(
      ...[...byType.keys()].sort(byTypeOrder).map((type) => {
        const rows = byType.get(type);
        const count = typeCounts[type] ?? rows.length;
        return h(
          "div",
          { class: "team-group", "data-type": type },
          h("h3", {}, `${plural(type)} · ${count}`),
          h(
            "ul",
            { class: "asset-list" },
            rows.map((item) =>
              h(
                "li",
                { "data-testid": "team-asset", "data-asset-id": item.id },
                assetLink(item.id, item.label || shortId(item.id)),
                " ",
                badge("status", item.status),
                item.stage ? badge("stage", item.stage) : null,
              ),
            ),
          ),
        );
      }),
    );
    more.hidden = items.length >= total;
    more.textContent = `Show more (${total - items.length} left)`;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const next = await get("/api/v1/assets", { owner: asset.id, limit: PAGE_SIZE, offset: items.length });
      items.push(...(next.items || []));
      if (!(next.items || []).length) more.hidden = true;
      render();
    } catch (err) {
      box.append(errorBox(err));
    } finally {
      more.disabled = false;
    }
  });
  render();
  box.append(summary, groups, more);
  return section;
}

// -- scorecard (filled once the validation answers: the page does not wait for it)

function scorecardSection(asset) {
  const isTeam = asset.type === TEAM;
  const body = h("div", { class: "team-scorecard-body" }, h("p", { class: "loading" }, "Checking this team's assets against the rules…"));
  const section = h(
    "section",
    { class: "panel team-section team-scorecard", "data-testid": "team-scorecard", "data-state": "loading" },
    h(
      "div",
      { class: "row" },
      h("h2", {}, "Governance scorecard"),
      h("span", { class: "spacer" }),
      h("a", { href: governanceHref({ team: asset.id }), "data-testid": "team-governance-link" }, "Open in the governance dashboard →"),
    ),
    body,
  );
  fillScorecard(asset, body, isTeam).finally(() => {
    section.dataset.state = "done";
  });
  return section;
}

async function fillScorecard(asset, body, isTeam) {
  let report;
  let names = new Map();
  try {
    [report, names] = await Promise.all([
      get("/api/v1/validation", { team: asset.id, format: "json" }),
      ruleNames().catch(() => new Map()),
    ]);
  } catch (err) {
    body.replaceChildren(
      errorBox(err instanceof ApiError && err.status === 503 ? new Error("The validation took longer than the server allows (KG_TASK_TIMEOUT); try the governance dashboard later.") : err),
    );
    return;
  }
  const rules = new Map();
  for (const r of report.results || []) {
    if (!rules.has(r.shape)) rules.set(r.shape, { rule: r.shape, violation: 0, warning: 0, info: 0, assets: new Set() });
    const row = rules.get(r.shape);
    row[r.severity] = (row[r.severity] || 0) + 1;
    row.assets.add(r.focusNode);
  }
  const counts = report.counts || {};
  const checked = report.focusNodes;
  const who = isTeam ? "this team's" : "this person's";
  const verdict = h(
    "div",
    { class: "scorecard-summary" },
    h("span", { class: `big ${counts.violation ? "bad" : "ok"}` }, String(counts.violation || 0)),
    h("span", {}, counts.violation === 1 ? "violation" : "violations"),
    h("span", { class: `big ${counts.warning ? "warn" : "ok"}` }, String(counts.warning || 0)),
    h("span", {}, counts.warning === 1 ? "warning" : "warnings"),
    h("span", { class: "muted small" }, checked !== null && checked !== undefined ? `· ${checked} ${checked === 1 ? "asset" : "assets"} checked` : ""),
  );
  if (!rules.size) {
    body.replaceChildren(verdict, h("p", { class: "all-clear" }, `Every rule passes on ${who} assets.`));
    return;
  }
  const rows = [...rules.values()].sort((a, b) => b.violation - a.violation || b.warning - a.warning || a.rule.localeCompare(b.rule));
  const table = h(
    "table",
    { class: "table scorecard" },
    h("thead", {}, h("tr", {}, h("th", {}, "Rule"), h("th", { class: "num" }, "Violations"), h("th", { class: "num" }, "Warnings"), h("th", { class: "num" }, "Assets"))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          { "data-testid": "scorecard-row", "data-rule": row.rule },
          h(
            "td",
            {},
            h("a", { href: governanceHref({ team: asset.id, rule: row.rule }) }, names.get(row.rule) || localName(row.rule)),
            h("div", { class: "muted small mono" }, shortId(row.rule)),
          ),
          h("td", { class: `num ${row.violation ? "bad" : "zero"}` }, String(row.violation)),
          h("td", { class: `num ${row.warning ? "warn" : "zero"}` }, String(row.warning)),
          h("td", { class: "num" }, String(row.assets.size)),
        ),
      ),
    ),
  );
  body.replaceChildren(verdict, table);
}

/** Rule IRI -> its name, from the rule catalogue (kept cached for the page). */
let namesPromise = null;
export function ruleNames() {
  if (!namesPromise) {
    namesPromise = get("/api/v1/rules").then((answer) => new Map((answer.rules || []).filter((r) => r.name).map((r) => [r.id, r.name])));
    namesPromise.catch(() => {
      namesPromise = null;
    });
  }
  return namesPromise;
}
