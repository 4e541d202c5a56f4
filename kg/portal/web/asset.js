// An asset's page (/id/<local id>, or /asset?id=<IRI>): what it is, who owns it, what it is
// built from (upstream) and what uses it (downstream), its governance findings, where its
// statements came from, its history, and its RDF. Read from the public API:
// /api/v1/assets/<IRI>, /api/v1/validation?asset=, /api/v1/assets/<IRI>/history, and /sparql
// for the ontology's edge names. Teams and people get their own sections from team.js. With
// `asOf` in the address the page is the asset as it stood then (every read carries it).
import { ApiError, get, getText } from "./api.js";
import { asOfBanner, historySection, readAsOf, withAsOf } from "./history.js";
import {
  assetHref,
  assetLink,
  badge,
  download,
  empty,
  errorBox,
  formatTime,
  h,
  humanize,
  localName,
  pageData,
  section,
  setTitle,
  shortId,
  sortableTable,
} from "./ui.js";
import { sparqlSafe, sparqlSelect } from "./search.js";
import { teamSections } from "./team.js";

const MLG = "https://w3id.org/mlg#";
const SHOWN = 10; // items a relation group lists before "show all"
const LINEAGE = new Set(
  [
    "dependsOn", "derivedFrom", "inFeatureSet", "trainedOn", "usesFeature", "versionOf", "usesModel",
    "evaluates", "evaluatedOn", "deploys", "tests", "generatedBy", "used", "runOf",
    "fieldDerivedFrom", "consumesApi",
  ].map((p) => MLG + p),
); // the ontology's sub-properties of mlg:dependsOn, when /sparql cannot say
// How an edge reads from its object's side ("Downstream: deployed by ...").
const INVERSE = {
  derivedFrom: "Derived into",
  inFeatureSet: "Features in this set",
  trainedOn: "Trained on it",
  usesFeature: "Used by",
  versionOf: "Versions",
  usesModel: "Used by",
  evaluates: "Evaluated by",
  evaluatedOn: "Evaluations on it",
  deploys: "Deployed by",
  tests: "Tested by",
  generatedBy: "Generated",
  used: "Read by runs",
  runOf: "Runs",
  consumesApi: "Consumed by",
  providesApi: "Provided by",
  fieldDerivedFrom: "Fields derived from it",
  owner: "Owns",
  memberOf: "Members",
  privacyReview: "Review of",
  partOf: "Parts",
  parentRun: "Child runs",
  sameAs: "Same as",
};
const RDF_FORMATS = [
  ["text/turtle", "Turtle", "ttl"],
  ["application/ld+json", "JSON-LD", "jsonld"],
  ["application/n-triples", "N-Triples", "nt"],
  ["application/rdf+xml", "RDF/XML", "rdf"],
  ["application/trig", "TriG", "trig"],
  ["application/n-quads", "N-Quads", "nq"],
];

/** A CURIE (mlg:trainedOn) as its full IRI, with the page's prefixes. */
function expand(curie) {
  const text = String(curie || "");
  const colon = text.indexOf(":");
  if (colon > 0) {
    const ns = (pageData().prefixes || {})[text.slice(0, colon)];
    if (ns && !text.slice(colon + 1).startsWith("//")) return ns + text.slice(colon + 1);
  }
  return text;
}

/** The API's address of an asset: its IRI in <...>, which kg takes as an IRI whatever its
 * scheme (bare, only http(s)://, urn:, mailto: and tag: ones are; others read as local ids). */
function apiPath(iri) {
  return "/api/v1/assets/" + encodeURIComponent(`<${iri}>`);
}

/** A link to an asset's page; on a page as of a moment, to its page as of the same moment. */
function pageLink(iri, label, asOf, attrs = {}) {
  const link = assetLink(iri, label, attrs);
  if (asOf) link.setAttribute("href", withAsOf(assetHref(iri), asOf));
  return link;
}

/** A value of the properties list: an asset page link for kg's IRIs and URNs, a plain link for
 * http(s) addresses, text for anything else (javascript:, data:... never become links). */
function valueNode(value, asOf) {
  const text = String(value);
  const base = pageData().baseIri || "";
  if (base && text.startsWith(base) && !/[\s\u0000-\u001f]/.test(text)) return pageLink(text, shortId(text), asOf);
  if (/^urn:[^\s\u0000-\u001f]+$/i.test(text)) return pageLink(text, text, asOf);
  if (/^https?:\/\/[^\s\u0000-\u001f\u007f]+$/i.test(text)) {
    return h("a", { href: text, class: "external", rel: "noopener noreferrer nofollow", target: "_blank" }, text);
  }
  return h("span", { class: "value" }, text);
}

export async function mount(main, data) {
  const iri = data.asset;
  const asOf = readAsOf();
  if (!iri || data.missing) {
    notFound(main, iri, data.missing);
    return;
  }
  let asset;
  try {
    asset = await get(apiPath(iri), { asOf });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && !asOf) {
      notFound(main, iri, err.message);
      return;
    }
    if (err instanceof ApiError && (err.status === 404 || err.status === 410) && asOf) {
      notThen(main, iri, asOf, err);
      return;
    }
    throw err;
  }
  await new AssetPage(main, asset, asOf).render();
}

/** An asset page as of a moment the API has no state of: before history starts (410, the
 * API's detail in the error box), or before the asset existed (404); its history (its own
 * versions) stays, to pick another moment. */
function notThen(main, iri, asOf, err) {
  setTitle(`${shortId(iri)} (as of ${formatTime(asOf)})`);
  const now = withAsOf(location.pathname + location.search, "");
  const gone = err.status === 410;
  main.append(
    asOfBanner(asOf, gone ? "the graph of then is not kept" : "the asset did not exist then", now),
    h(
      "section",
      { class: "panel not-then", "data-testid": gone ? "as-of-gone" : "as-of-missing" },
      h("h1", {}, shortId(iri)),
      gone ? errorBox(err) : h("p", { "data-testid": "as-of-missing-text" }, `It did not exist as of ${formatTime(asOf)} (${asOf}): the graph held nothing about it then.`),
      h("p", {}, h("a", { class: "button", href: now }, "See it now")),
    ),
    historySection(iri, asOf),
  );
}

function notFound(main, iri, message) {
  setTitle("Not found");
  const words = iri ? localName(shortId(iri)).replace(/[-_./]+/g, " ").trim() : "";
  main.append(
    h(
      "section",
      { class: "panel not-found", "data-testid": "not-found" },
      h("h1", {}, "No such asset"),
      h("p", {}, message || "The graph does not hold this asset."),
      iri ? h("p", { class: "mono iri" }, iri) : null,
      h(
        "p",
        { class: "row" },
        h("a", { class: "button primary", href: "/?" + new URLSearchParams({ q: words }).toString(), "data-testid": "not-found-search" }, words ? `Search for “${words}”` : "Search"),
        h("a", { class: "button", href: "/" }, "Browse every asset"),
      ),
      h("p", { class: "muted small" }, "An edge may point at an asset no source has described yet: it shows as unresolved until one does."),
    ),
  );
}

class AssetPage {
  constructor(main, asset, asOf) {
    this.main = main;
    this.asset = asset;
    this.iri = asset.id;
    this.asOf = asOf; // "" for now
  }

  /** A link to an asset's page, as of the moment this page shows. */
  link(iri, label, attrs = {}) {
    return pageLink(iri, label, this.asOf, attrs);
  }

  async render() {
    const asset = this.asset;
    const name = asset.label || shortId(asset.id);
    setTitle(this.asOf ? `${name} (as of ${formatTime(this.asOf)})` : name);
    const relationsBox = h("section", { class: "panel relations", "data-testid": "relations" }, h("h2", {}, "Relationships"), h("p", { class: "loading" }, "Loading…"));
    const findingsBox = h("section", { class: "panel findings", "data-testid": "findings" }, h("h2", {}, "Governance"), h("p", { class: "loading" }, "Checking…"));
    const teamBox = h("div", { class: "team-sections" });
    const left = h("div", { class: "column" }, relationsBox, this.fields(), this.metrics(), this.properties(), historySection(this.iri, this.asOf), this.rdf());
    const right = h("div", { class: "column" }, this.owners(), findingsBox, this.sources());
    const banner = this.asOf ? asOfBanner(this.asOf, "this is how the asset stood then", withAsOf(location.pathname + location.search, "")) : null;
    this.main.append(...[banner, this.header(), teamBox, h("div", { class: "grid two asset-body" }, left, right)].filter(Boolean));
    // the findings (a validation of the asset, which can take a while on a large graph) come
    // in after the page is usable; `data-state=done` says they are in
    this.fillFindings(findingsBox).finally(() => {
      findingsBox.dataset.state = "done";
    });
    await Promise.all([this.fillRelations(relationsBox), this.fillTeam(teamBox)]);
  }

  // -------------------------------------------------------------- the header

  header() {
    const a = this.asset;
    const typeHref = a.type ? "/?" + new URLSearchParams({ type: a.type }).toString() : "/";
    const copy = h("button", { type: "button", class: "copy small", "data-testid": "copy-iri", title: "Copy the IRI" }, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(a.id);
        copy.textContent = "Copied";
      } catch {
        const range = document.createRange();
        range.selectNodeContents(iriNode);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        copy.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => (copy.textContent = "Copy"), 2000);
    });
    const iriNode = h("code", { class: "iri", "data-testid": "asset-iri" }, a.id);
    const asOf = this.asOf ? { asOf: this.asOf } : {};
    const lineage = "/lineage?" + new URLSearchParams({ nodeId: a.id, direction: "both", ...asOf }).toString();
    const impact = "/impact?" + new URLSearchParams({ nodeId: a.id, ...asOf }).toString();
    const actions = [
      h("a", { class: "button", href: lineage, "data-testid": "link-lineage" }, "Lineage"),
      h("a", { class: "button", href: impact, "data-testid": "link-impact" }, "Impact"),
    ];
    // the workbench queries the graph of now: not offered on a page of then
    if (sparqlSafe(a.id) && !this.asOf) {
      const query = `SELECT ?p ?o WHERE { <${a.id}> ?p ?o }`;
      actions.push(h("a", { class: "button", href: "/sparql?" + new URLSearchParams({ query }).toString(), "data-testid": "link-sparql" }, "Query in SPARQL"));
    }
    return h(
      "header",
      { class: "panel asset-head" },
      h(
        "nav",
        { class: "crumbs small", "aria-label": "Breadcrumb" },
        h("a", { href: "/" }, "Search"),
        " › ",
        h("a", { href: typeHref }, a.type ? humanize(a.type) : "Assets"),
      ),
      h(
        "div",
        { class: "title-row" },
        h("h1", { "data-testid": "asset-title" }, a.label || shortId(a.id)),
        h(
          "div",
          { class: "badges" },
          badge("type", a.type),
          badge("status", a.status),
          badge("stage", a.stage),
          a.classification ? badge("classification", a.classification) : null,
        ),
      ),
      h("div", { class: "iri-row" }, iriNode, copy),
      a.description ? h("p", { class: "description", "data-testid": "asset-description" }, a.description) : h("p", { class: "description muted" }, "No description."),
      (a.tags || []).length ? h("div", { class: "tags" }, a.tags.map((t) => h("a", { class: "tag", href: "/?" + new URLSearchParams({ tag: t }).toString() }, t))) : null,
      h("div", { class: "actions row" }, actions),
    );
  }

  // -------------------------------------------------------------- owners, sources

  owners() {
    const owners = this.asset.owners || [];
    const agent = this.asset.type === "mlg:Team" || this.asset.type === "mlg:Person";
    if (!owners.length && agent) return null; // teams and people are owners, not owned
    const items = owners.map((o) =>
      h(
        "li",
        { class: "owner-item" },
        this.link(o.id, o.label || shortId(o.id), { "data-testid": "asset-owner" }),
        " ",
        badge("type", o.type),
        o.resolved === false ? h("span", { class: "badge unresolved", title: "No source has described this owner yet" }, "unresolved") : null,
      ),
    );
    return section(
      owners.length === 1 ? "Owner" : "Owners",
      items.length ? h("ul", { class: "plain" }, items) : h("p", { class: "notice small", "data-testid": "no-owner" }, "No owner: nobody is told when it breaks."),
    );
  }

  sources() {
    const sources = this.asset.sources;
    if (!Array.isArray(sources) || !sources.length) return null;
    const latest = [...sources].sort((x, y) => String(y.at || "").localeCompare(String(x.at || "")));
    return section(
      "Sources",
      h(
        "ul",
        { class: "plain sources" },
        latest.map((s) =>
          h(
            "li",
            { "data-testid": "asset-source", "data-source": s.source, title: s.graph || "" },
            h("strong", {}, sourceName(s.source)),
            s.at ? h("span", { class: "muted small" }, " · last described it ", h("time", { datetime: s.at }, formatTime(s.at))) : null,
            s.graph ? h("div", { class: "mono small muted ellipsis" }, s.graph) : null,
          ),
        ),
      ),
    );
  }

  // -------------------------------------------------------------- parts: fields, metrics

  fields() {
    const fields = this.asset.fields;
    if (!Array.isArray(fields) || !fields.length) return null;
    const rows = fields.map((f) => ({
      name: f.name || (f.id ? localName(f.id) : ""),
      type: f.type || "",
      description: f.description || "",
      upstream: (f.upstream || []).join(" "),
      _f: f,
      _attrs: { "data-testid": "field", "data-field": f.name || "" },
    }));
    const table = sortableTable(
      [
        { key: "name", label: "Field", render: (r) => h("code", {}, r.name) },
        { key: "type", label: "Type", render: (r) => (r.type ? h("span", { class: "mono small" }, r.type) : "") },
        { key: "description", label: "Description" },
        {
          key: "upstream",
          label: "Upstream fields",
          render: (r) => ((r._f.upstream || []).length ? h("ul", { class: "plain small" }, r._f.upstream.map((u) => h("li", { class: "mono", title: u }, fieldName(u)))) : ""),
        },
      ],
      rows,
      { "data-testid": "fields" },
    );
    return section(`Schema (${fields.length} ${fields.length === 1 ? "field" : "fields"})`, h("div", { class: "scroll" }, table));
  }

  metrics() {
    const metrics = this.asset.metrics;
    if (!Array.isArray(metrics) || !metrics.length) return null;
    const rows = metrics.map((m) => ({
      metric: localName(m.metric),
      value: typeof m.value === "number" ? m.value : String(m.value),
      dataset: m.dataset || "",
      _m: m,
      _attrs: { "data-testid": "metric", "data-metric": m.metric },
    }));
    return section(
      "Metrics",
      sortableTable(
        [
          { key: "metric", label: "Metric", render: (r) => h("span", { title: r._m.metric }, r.metric) },
          { key: "value", label: "Value", render: (r) => h("span", { class: "num" }, String(r.value)) },
          { key: "dataset", label: "Computed on", render: (r) => (r._m.dataset ? this.link(r._m.dataset, shortId(r._m.dataset)) : "") },
        ],
        rows,
        { "data-testid": "metrics" },
      ),
    );
  }

  properties() {
    const entries = Object.entries(this.asset.properties || {});
    if (!entries.length) return null;
    return section(
      "Other properties",
      h(
        "dl",
        { class: "properties", "data-testid": "properties" },
        entries.map(([key, values]) => [
          h("dt", { title: expand(key) }, key),
          h("dd", {}, (Array.isArray(values) ? values : [values]).map((v) => h("div", {}, valueNode(v, this.asOf)))),
        ]),
      ),
    );
  }

  // -------------------------------------------------------------- relations

  async fillRelations(box) {
    const a = this.asset;
    const outgoing = (a.outgoing || []).map((r) => ({ ...r, node: r.target, side: "outgoing" }));
    const incoming = (a.incoming || []).map((r) => ({ ...r, node: r.source, side: "incoming" }));
    const all = [...outgoing, ...incoming];
    const edges = await this.edgeInfo([...new Set(all.map((r) => expand(r.property)))]);
    const lineage = (r) => edges.lineage(expand(r.property));
    const groups = [
      ["upstream", "Upstream", "what it is built from", outgoing.filter(lineage)],
      ["downstream", "Downstream", "what uses it", incoming.filter(lineage)],
      ["related", "Related", "not lineage: ownership, membership, reviews…", all.filter((r) => !lineage(r))],
    ];
    const parts = [h("h2", {}, "Relationships")];
    if (!all.length) parts.push(empty("Nothing points at it and it points at nothing."));
    for (const [direction, title, hint, relations] of groups) {
      if (!relations.length) continue;
      parts.push(
        h(
          "div",
          { class: `direction direction-${direction}`, "data-testid": `relations-${direction}` },
          h("h3", {}, `${title} `, h("span", { class: "hint" }, `${relations.length} · ${hint}`)),
          ...byProperty(relations).map(([key, items]) => this.group(direction, key, items, edges)),
        ),
      );
    }
    box.replaceChildren(...parts);
  }

  group(direction, key, items, edges) {
    const [side, property] = key.split(" ");
    const name = edges.label(expand(property), property);
    const heading = side === "incoming" ? INVERSE[localName(property)] || `${cap(name)} (pointing here)` : cap(name);
    const list = h("ul", { class: "relation-list" });
    const fill = (n) =>
      list.replaceChildren(
        ...items.slice(0, n).map((r) => {
          return h(
            "li",
            {
              class: "relation",
              "data-testid": "relation",
              "data-direction": direction,
              "data-side": side,
              "data-property": r.property,
              "data-asset-id": r.node,
            },
            this.link(r.node, r.label || shortId(r.node)),
            badge("type", r.type),
            badge("status", r.status), // the relation carries the related asset's status
            r.resolved === false ? h("span", { class: "badge unresolved", title: "Not loaded yet: no source has described it" }, "unresolved") : null,
          );
        }),
      );
    fill(SHOWN);
    const block = h(
      "div",
      { class: "relation-group", "data-property": property, "data-side": side },
      h("h4", { title: `${side === "incoming" ? "← " : ""}${property}` }, heading, h("span", { class: "count" }, ` (${items.length})`)),
      list,
    );
    if (items.length > SHOWN) {
      const more = h("button", { type: "button", class: "link", "data-testid": "relations-more" }, `Show all ${items.length}`);
      more.addEventListener("click", () => {
        fill(items.length);
        more.remove();
      });
      block.append(more);
    }
    return block;
  }

  /** Which edges are lineage (sub-properties of mlg:dependsOn) and their names, from the
   * ontology in the graph; kg's own list when /sparql cannot answer. */
  async edgeInfo(properties) {
    const names = new Map();
    const lineage = new Set();
    const known = properties.filter(sparqlSafe);
    let answered = false;
    if (known.length) {
      try {
        const rows = await sparqlSelect(
          "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX mlg: <https://w3id.org/mlg#>\n" +
            `SELECT ?p (SAMPLE(?l) AS ?label) (SAMPLE(?d) AS ?lineage) WHERE { VALUES ?p { ${known.map((p) => `<${p}>`).join(" ")} } ` +
            "OPTIONAL { ?p rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), 'en') || LANG(?l) = '') } " +
            "BIND(EXISTS { ?p rdfs:subPropertyOf+ mlg:dependsOn } AS ?d) } GROUP BY ?p",
        );
        for (const row of rows) {
          if (row.label) names.set(row.p.value, row.label.value);
          if (row.lineage && row.lineage.value === "true") lineage.add(row.p.value);
        }
        answered = true;
      } catch {
        answered = false;
      }
    }
    return {
      lineage: (p) => (answered ? lineage.has(p) || p === MLG + "dependsOn" : LINEAGE.has(p)),
      label: (p, curie) => names.get(p) || humanize(localName(curie)).toLowerCase(),
    };
  }

  // -------------------------------------------------------------- governance

  async fillFindings(box) {
    let report;
    try {
      report = await get("/api/v1/validation", { asset: this.iri, format: "json", asOf: this.asOf });
    } catch (err) {
      box.replaceChildren(h("h2", {}, "Governance"), errorBox(err));
      return;
    }
    const results = report.results || [];
    const rank = { violation: 0, warning: 1, info: 2 };
    results.sort((x, y) => (rank[x.severity] ?? 3) - (rank[y.severity] ?? 3));
    const counts = report.counts || {};
    const summary = results.length
      ? h(
          "p",
          { class: "small", "data-testid": "findings-summary" },
          ["violation", "warning", "info"]
            .filter((s) => counts[s])
            .map((s) => h("span", { class: `badge severity severity-${s}` }, `${counts[s]} ${s}${counts[s] === 1 ? "" : "s"}`)),
        )
      : h("p", { class: "ok-note", "data-testid": "findings-summary" }, "Meets every governance rule.");
    box.replaceChildren(
      ...[
      h("h2", {}, "Governance"),
      summary,
      results.length
        ? h(
            "ul",
            { class: "plain finding-list" },
            results.map((r) =>
              h(
                "li",
                { class: `finding severity-${r.severity}`, "data-testid": "violation", "data-rule": r.shape || "", "data-severity": r.severity },
                h("div", { class: "finding-head" }, h("span", { class: `badge severity severity-${r.severity}` }, humanize(r.severity)), h("strong", { title: r.shape || "" }, humanize(localName(r.shape || r.component || "")))),
                h("p", { class: "finding-message" }, r.message),
                r.path ? h("p", { class: "small muted" }, "Property ", h("code", {}, shortId(r.path))) : null,
              ),
            ),
          )
        : null,
      h("p", { class: "small" }, h("a", { href: "/governance" }, "The whole report")),
      ].filter(Boolean),
    );
  }

  // -------------------------------------------------------------- RDF

  rdf() {
    const out = h("pre", { class: "rdf-text", "data-testid": "rdf-text", hidden: true });
    const note = h("p", { class: "small muted rdf-note" }, "Its statements in any RDF syntax, as RDF clients get them from ", h("code", {}, shortId(this.iri)), " with an Accept header.");
    const save = h("button", { type: "button", class: "small", "data-testid": "rdf-download", hidden: true }, "Download");
    let current = null;
    save.addEventListener("click", () => {
      if (!current) return;
      const [media, , ext] = current.format;
      const name = (localName(this.iri) || "asset").replace(/[^A-Za-z0-9._-]+/g, "_");
      download(`${name}.${ext}`, media, current.text);
    });
    const buttons = RDF_FORMATS.map((format) => {
      const [media, label] = format;
      const button = h("button", { type: "button", "data-testid": "rdf-format", "data-format": media, "aria-pressed": "false" }, label);
      button.addEventListener("click", async () => {
        for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
        out.hidden = false;
        out.textContent = "Loading…";
        out.removeAttribute("data-format");
        try {
          const text = await getText(apiPath(this.iri), { asOf: this.asOf }, media);
          current = { format, text };
          out.textContent = text;
          out.dataset.format = media;
          save.hidden = false;
        } catch (err) {
          out.replaceChildren(errorBox(err));
        }
      });
      return button;
    });
    return section("RDF", note, h("div", { class: "row rdf-buttons" }, buttons, h("span", { class: "spacer" }), save), out);
  }

  // -------------------------------------------------------------- teams and people

  async fillTeam(box) {
    if (this.asset.type !== "mlg:Team" && this.asset.type !== "mlg:Person") return;
    if (this.asOf) return; // its members and assets are read as they are now: not a page of then
    try {
      const nodes = await teamSections(this.asset);
      box.append(...(nodes || []));
    } catch (err) {
      box.append(errorBox(err));
    }
  }
}

// ------------------------------------------------------------------ helpers

function byProperty(relations) {
  const groups = new Map();
  for (const r of relations) {
    const key = `${r.side} ${r.property}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  return [...groups.entries()];
}

function cap(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function sourceName(source) {
  const names = { kg: "kg (native documents, the API)", openlineage: "OpenLineage", datahub: "DataHub", backstage: "Backstage" };
  return names[source] || shortId(String(source || ""));
}

function fieldName(iri) {
  const text = String(iri);
  const hash = text.lastIndexOf("#");
  return hash > 0 ? `${shortId(text.slice(0, hash))} · ${text.slice(hash + 1)}` : shortId(text);
}
