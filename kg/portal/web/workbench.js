// The SPARQL workbench (/sparql for browsers): YASGUI's editor and result views bound to kg's
// own endpoint, completion from kg's prefixes and ontology (never prefix.cc or LOV), asset IRIs
// linked to their portal pages, and the named-query catalogue beside it, run by name through
// /api/v1/queries/{name} into the same result view.
import { ApiError, get, getText, url } from "./api.js";
import { assetHref, debounce, download, empty, errorBox, h, humanize, localName, pageData, setTitle, shortId } from "./ui.js";

const RESULTS_JSON = "application/sparql-results+json";
// the prefixes the default query declares, in this order, when the server knows them
const DEFAULT_PREFIXES = ["mlg", "rdf", "rdfs", "xsd", "dcterms", "dcat", "prov"];
// properties kg writes that its ontology graph does not declare (README: Concepts)
const COMMON_PROPERTIES = [
  "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
  "http://www.w3.org/2000/01/rdf-schema#label",
  "http://www.w3.org/2000/01/rdf-schema#comment",
  "http://www.w3.org/2000/01/rdf-schema#seeAlso",
  "http://www.w3.org/2000/01/rdf-schema#subClassOf",
  "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
  "http://purl.org/dc/terms/description",
  "http://purl.org/dc/terms/created",
  "http://purl.org/dc/terms/source",
  "http://www.w3.org/ns/dcat#keyword",
  "http://www.w3.org/ns/dcat#version",
  "http://www.w3.org/2002/07/owl#sameAs",
  "http://www.w3.org/ns/prov#wasAttributedTo",
  "http://www.w3.org/ns/prov#endedAtTime",
  "http://www.w3.org/ns/dqv#value",
  "http://www.w3.org/ns/dqv#isMeasurementOf",
];
const TRUNCATED = "urn:kg:truncated";

/** The endpoint YASGUI sends every query to: this server's /sparql, whatever a tab stored. */
function endpoint() {
  return new URL("/sparql", window.location.origin).href;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function defaultQuery(prefixes) {
  const lines = DEFAULT_PREFIXES.filter((p) => prefixes[p]).map((p) => `PREFIX ${p}: <${prefixes[p]}>`);
  return [
    ...lines,
    "",
    "# Every dataset with its owner and status. Ctrl-Enter runs the query;",
    "# Ctrl-Space completes prefixes, and kg's classes and properties.",
    "SELECT ?dataset ?name ?owner ?status WHERE {",
    "  ?dataset a mlg:Dataset ;",
    "           rdfs:label ?name .",
    "  OPTIONAL { ?dataset mlg:owner ?owner }",
    "  OPTIONAL { ?dataset mlg:status ?status }",
    "}",
    "ORDER BY ?name",
    "LIMIT 100",
  ].join("\n");
}

/** IRIs of kg's ontology for the class and property completers (one query each, on demand). */
function ontologyTerms(kind) {
  const select =
    kind === "class"
      ? "?term a <http://www.w3.org/2002/07/owl#Class>"
      : "VALUES ?type { <http://www.w3.org/2002/07/owl#ObjectProperty> <http://www.w3.org/2002/07/owl#DatatypeProperty> } ?term a ?type";
  const query = `SELECT DISTINCT ?term WHERE { GRAPH <urn:kg:graph:ontology> { ${select} FILTER(isIRI(?term)) } } ORDER BY ?term`;
  let pending = null;
  return () => {
    pending ??= getText("/sparql", { query }, RESULTS_JSON)
      .then((text) => JSON.parse(text).results.bindings.map((b) => b.term.value))
      .then((terms) => (kind === "class" ? terms : [...new Set([...terms, ...COMMON_PROPERTIES])].sort()))
      .catch(() => (kind === "class" ? [] : COMMON_PROPERTIES));
    return pending;
  };
}

/** YASGUI's classes, set up for kg before the first instance: kg's completers instead of the
 * ones that call prefix.cc and Linked Open Vocabularies, asset IRIs linked to their portal
 * pages, and kg's problem messages as the error view. */
function configure(Yasgui, data, errorView) {
  const { Yasqe, Yasr } = Yasgui;
  const prefixes = data.prefixes || {};
  if (!Yasqe.Autocompleters.kgPrefixes) {
    Yasqe.forkAutocompleter(
      "prefixes",
      {
        name: "kgPrefixes",
        persistenceId: null,
        get: Object.entries(prefixes)
          .map(([p, ns]) => `${p}: <${ns}>`)
          .sort(),
      },
      false,
    );
    for (const kind of ["class", "property"]) {
      const terms = ontologyTerms(kind);
      Yasqe.forkAutocompleter(
        kind,
        { name: `kg-${kind}`, bulk: true, autoShow: false, persistenceId: null, get: () => terms() },
        false,
      );
    }
  }
  // no completer fetches from outside: only kg's prefixes, variables and ontology terms
  Yasqe.defaults.autocompleters = ["variables", "kgPrefixes", "kg-class", "kg-property"];
  Yasqe.defaults.prefixCcApi = null;

  const Base = Yasr.plugins.table;
  if (!Base.kg) {
    const base = data.baseIri || "";
    class KgTable extends Base {
      getUriLinkFromBinding(binding, queryPrefixes) {
        const iri = binding.value;
        if (base && iri.startsWith(base) && iri.length > base.length) {
          // an asset: its portal page, in this tab (YASR would open the IRI in a new one)
          return (
            `<a class="iri kg-asset" href="${escapeHtml(assetHref(iri))}" ` +
            `data-asset-id="${escapeHtml(iri)}" title="${escapeHtml(iri)}">${escapeHtml(shortId(iri))}</a>`
          );
        }
        return super.getUriLinkFromBinding(binding, { ...prefixes, ...queryPrefixes });
      }
    }
    KgTable.kg = true;
    KgTable.defaults = Base.defaults;
    Yasr.registerPlugin("table", KgTable);
  }
  Yasr.defaults.prefixes = prefixes;
  Yasr.defaults.errorRenderers = [errorView];
}

/** kg's answer to a refused query as a readable block: the message, where it is (a button
 * that puts the cursor there) and the excerpt with its caret. */
function renderError(error, yasqe) {
  const text = String((error && error.text) || "The query failed.");
  const [first, ...rest] = text.split("\n");
  const at = /line (\d+), column (\d+)/i.exec(first);
  let title = "The endpoint refused the query";
  if (/syntax error/i.test(first)) title = "Syntax error";
  else if (/failed to fetch|networkerror/i.test(first)) title = "The endpoint did not answer";
  else if (error && error.status === 503) title = "The query ran out of time";
  const message = first.replace(/^SPARQL syntax error at line \d+, column \d+:\s*/i, "");
  const parts = [h("div", { class: "kg-error-title" }, h("strong", {}, title))];
  if (at) {
    const line = Number(at[1]);
    const column = Number(at[2]);
    parts[0].append(
      h(
        "button",
        {
          type: "button",
          class: "kg-error-where",
          "data-testid": "sparql-error-location",
          title: "Show in the editor",
          onclick: () => {
            if (!yasqe()) return;
            yasqe().focus();
            yasqe().getDoc().setCursor({ line: line - 1, ch: Math.max(column - 1, 0) });
          },
        },
        `line ${line}, column ${column}`,
      ),
    );
    markLine(yasqe(), line - 1);
  }
  parts.push(h("p", { class: "kg-error-message" }, message || first));
  const excerpt = rest.join("\n").replace(/\s+$/, "");
  if (excerpt) parts.push(h("pre", { class: "kg-error-excerpt" }, excerpt));
  return h("div", { class: "kg-error", role: "alert", "data-testid": "sparql-error" }, ...parts);
}

/** The line of a syntax error, highlighted until the query changes. */
function markLine(yasqe, line) {
  if (!yasqe || line < 0 || line >= yasqe.getDoc().lineCount()) return;
  const handle = yasqe.addLineClass(line, "background", "kg-error-line");
  const clear = () => {
    yasqe.removeLineClass(handle, "background", "kg-error-line");
    yasqe.off("change", clear);
  };
  yasqe.on("change", clear);
}

function truncated(yasr) {
  const json = yasr && yasr.results && yasr.results.getAsJson();
  return Boolean(json && json.head && Array.isArray(json.head.link) && json.head.link.includes(TRUNCATED));
}

export async function mount(main, data) {
  setTitle("SPARQL workbench");
  const Yasgui = window.Yasgui;
  const head = h(
    "header",
    { class: "wb-head" },
    h(
      "div",
      {},
      h("h1", {}, "SPARQL workbench"),
      h(
        "p",
        { class: "muted" },
        "SPARQL 1.1 over every graph kg holds (the default graph is their union). Queries go to ",
        h("code", {}, "/sparql"),
        " on this server; answers are capped at the server's row limit.",
      ),
    ),
  );
  if (!Yasgui) {
    main.append(
      head,
      h("div", { class: "notice" }, "The SPARQL editor needs the portal's browser libraries: run `make setup`."),
    );
    return;
  }

  let yasgui = null;
  const activeYasqe = () => (yasgui && yasgui.getTab() ? yasgui.getTab().getYasqe() : null);
  configure(Yasgui, data, async (error) => renderError(error, activeYasqe));

  const host = h("div", { class: "wb-yasgui", id: "kg-workbench" });
  const side = h("aside", { class: "wb-side" });
  main.append(head, h("div", { class: "wb-layout" }, h("section", { class: "wb-main panel" }, host), side));

  yasgui = new Yasgui(host, {
    requestConfig: { endpoint: () => endpoint(), method: "POST" },
    copyEndpointOnNewTab: false,
    // the only endpoint on offer is this server's
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint() }], keys: [] },
    // a link like /sparql?query=… or /sparql#query=… fills a tab, always against this server
    populateFromUrl: (config) => {
      config.requestConfig = { ...config.requestConfig, endpoint: endpoint() };
      return config;
    },
    persistenceId: "kg-workbench",
    // in each tab's bar, where YASGUI's endpoint field was: the one endpoint there is
    endpointInfo: () =>
      h(
        "span",
        { class: "wb-endpoint", title: "Every tab queries this server" },
        h("span", { class: "wb-endpoint-label" }, "Endpoint"),
        h("code", {}, endpoint()),
      ),
    tabName: "Query",
    yasqe: { value: defaultQuery(data.prefixes || {}), editorHeight: "300px", prefixCcApi: null },
    yasr: { prefixes: data.prefixes || {} },
  });

  const workbench = new Workbench(yasgui);
  side.append(prefixPanel(data.prefixes || {}, workbench));
  const catalogue = h("section", { class: "panel wb-queries" }, h("h2", {}, "Named queries"));
  side.prepend(catalogue);
  try {
    const queries = await get("/api/v1/queries");
    fillCatalogue(catalogue, queries, workbench);
  } catch (err) {
    catalogue.append(errorBox(err));
  }
}

/** What the page adds to YASGUI's active tab: the test ids, a banner above the results
 * (what they answer, whether they were cut) and running a named query into its results. */
class Workbench {
  constructor(yasgui) {
    this.yasgui = yasgui;
    this.names = new Map(); // tab id -> the named query its results answer
    const refresh = () => queueMicrotask(() => this.mark());
    for (const event of ["tabSelect", "tabChange", "tabAdd", "tabClose"]) yasgui.on(event, refresh);
    yasgui.on("query", (_, tab) => {
      this.names.delete(tab.getId());
      this.banner(tab, null);
    });
    // YASGUI tells of the response before it hands it to YASR: look once it has
    yasgui.on("queryResponse", (_, tab) => queueMicrotask(() => this.cut(tab)));
    this.mark();
  }

  /** The banner over an editor query's answer that the row cap cut. */
  cut(tab) {
    const yasr = tab.getYasr();
    if (!truncated(yasr)) return;
    const response = yasr.results && yasr.results.res;
    const cap = response && response.headers && response.headers.get ? response.headers.get("kg-row-limit") : null;
    this.banner(tab, {
      nodes: [
        h("span", { class: "kg-cut" }, cap ? `Cut at ${cap} rows` : "Cut at the row cap"),
        h("span", {}, " — the server answers at most that many (KG_MAX_ROWS). Add a LIMIT, or narrow the query."),
      ],
    });
  }

  tab() {
    return this.yasgui.getTab();
  }

  /** Stable test ids on the active tab's editor, run button and results, and on no other. */
  mark() {
    const managed = "[data-testid=sparql-editor], [data-testid=sparql-run], [data-testid=sparql-results]";
    for (const node of this.yasgui.rootEl.querySelectorAll(managed)) node.removeAttribute("data-testid");
    const tab = this.tab();
    if (!tab || !tab.getYasqe()) return;
    const yasqe = tab.getYasqe();
    yasqe.rootEl.setAttribute("data-testid", "sparql-editor");
    const run = yasqe.rootEl.querySelector(".yasqe_queryButton");
    if (run) {
      run.setAttribute("data-testid", "sparql-run");
      run.setAttribute("aria-label", "Run the query (Ctrl-Enter)");
    }
    const yasr = tab.getYasr();
    if (yasr) {
      yasr.resultsEl.setAttribute("data-testid", "sparql-results");
      this.downloads(tab, yasr);
    }
  }

  /** CSV and raw-answer downloads in the results' header, made in the browser from the
   * answer YASR holds (no second request, nothing leaves the page). */
  downloads(tab, yasr) {
    if (yasr.kgDownloads) return;
    const name = () => this.names.get(tab.getId()) || tab.getName().toLowerCase().replace(/[^a-z0-9]+/g, "-") || "query";
    const csvButton = h("button", { type: "button", class: "wb-download", "data-testid": "download-csv", title: "The table as CSV" }, "CSV");
    const rawButton = h("button", { type: "button", class: "wb-download", "data-testid": "download-json", title: "The answer as the endpoint sent it" }, "JSON");
    const raw = { json: ["JSON", "json", RESULTS_JSON], xml: ["XML", "xml", "application/sparql-results+xml"], ttl: ["Turtle", "ttl", "text/turtle"] };
    csvButton.addEventListener("click", () => {
      const text = yasr.results && yasr.results.asCsv();
      if (text) download(`${name()}.csv`, "text/csv", text);
    });
    rawButton.addEventListener("click", () => {
      const results = yasr.results;
      const [, ext, mime] = raw[results && results.getType()] || raw.json;
      if (results) download(`${name()}.${ext}`, mime, results.getOriginalResponseAsString());
    });
    const refresh = () => {
      const results = yasr.results && !yasr.results.hasError() ? yasr.results : null;
      csvButton.disabled = !(results && results.getBindings());
      const kind = results ? raw[results.getType()] : null;
      rawButton.disabled = !kind;
      rawButton.textContent = kind ? kind[0] : "JSON";
    };
    yasr.headerEl.append(h("div", { class: "wb-downloads", role: "group", "aria-label": "Download the results" }, h("span", { class: "muted small" }, "Download"), csvButton, rawButton));
    yasr.on("drawn", refresh);
    refresh();
    yasr.kgDownloads = true;
  }

  /** The banner above the active tab's results: null clears it. */
  banner(tab, content) {
    const yasr = tab && tab.getYasr();
    if (!yasr) return;
    let node = yasr.rootEl.parentElement.querySelector(":scope > .kg-banner");
    if (!content) {
      if (node) node.remove();
      return;
    }
    if (!node) {
      node = h("div", { class: "kg-banner", "data-testid": "sparql-banner" });
      yasr.rootEl.before(node);
    }
    node.replaceChildren(...(content.nodes || [h("span", {}, content.text)]));
  }

  /** Put a PREFIX declaration in the active editor. */
  addPrefix(prefix, ns) {
    const yasqe = this.tab() && this.tab().getYasqe();
    if (yasqe) yasqe.addPrefixes({ [prefix]: ns });
  }

  /** Put `text` in the active editor. */
  open(text) {
    const tab = this.tab();
    if (tab && tab.getYasqe()) tab.setQuery(text);
  }

  /** Run the named query `name` with `params` through its route, into the active results. */
  async runNamed(query, params) {
    const tab = this.tab();
    const yasr = tab && tab.getYasr();
    if (!yasr) return;
    const path = `/api/v1/queries/${encodeURIComponent(query.name)}`;
    const started = performance.now();
    const shown = Object.entries(params).filter(([, v]) => v !== "");
    const describe = () =>
      h(
        "span",
        {},
        "Named query ",
        h("strong", {}, query.name),
        ...shown.map(([k, v]) => h("span", { class: "tag" }, `${k} = ${v}`)),
        " · ",
        h("a", { href: url(path, { ...params, format: "json" }), target: "_blank", rel: "noopener" }, "JSON"),
        " · ",
        h("a", { href: url(path, { ...params, format: "csv" }), target: "_blank", rel: "noopener" }, "CSV"),
      );
    this.banner(tab, { nodes: [describe(), h("span", { class: "muted" }, " running…")] });
    try {
      const text = await getText(path, params, RESULTS_JSON);
      this.names.set(tab.getId(), query.name);
      yasr.setResponse({ data: text, contentType: RESULTS_JSON, status: 200, executionTime: Math.round(performance.now() - started) });
      const nodes = [describe()];
      if (truncated(yasr)) nodes.push(h("span", { class: "kg-cut" }, " · cut at the server's row cap (KG_MAX_ROWS)"));
      this.banner(tab, { nodes });
      yasr.rootEl.scrollIntoView({ block: "nearest" });
    } catch (err) {
      this.banner(tab, { nodes: [describe()] });
      const detail = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
      yasr.setResponse({ error: { text: detail, status: err.status }, executionTime: Math.round(performance.now() - started) });
      throw err;
    }
  }
}

function prefixPanel(prefixes, workbench) {
  const entries = Object.entries(prefixes);
  return h(
    "section",
    { class: "panel wb-prefixes" },
    h("h2", {}, "Prefixes"),
    h("p", { class: "muted small" }, "Click to declare one in the query; undeclared ones are added as you type them."),
    h(
      "div",
      { class: "wb-prefix-list" },
      entries.map(([prefix, ns]) =>
        h(
          "button",
          { type: "button", class: "wb-prefix", title: ns, "data-prefix": prefix, onclick: () => workbench.addPrefix(prefix, ns) },
          `${prefix}:`,
        ),
      ),
    ),
  );
}

function fillCatalogue(panel, queries, workbench) {
  panel.append(
    h(
      "p",
      { class: "muted small" },
      "kg's catalogue of ready-made questions. They run by name through ",
      h("code", {}, "GET /api/v1/queries/{name}"),
      ", into the results below the editor.",
    ),
  );
  if (!queries.length) {
    panel.append(empty("The server has no named queries."));
    return;
  }
  const list = h("ul", { class: "wb-query-list" });
  for (const query of queries) list.append(namedQuery(query, workbench, list));
  panel.append(list);
}

function namedQuery(query, workbench, list) {
  const parameters = query.parameters || [];
  const fields = parameters.map((p) => parameterField(p));
  const status = h("div", { class: "wb-query-status" });
  const run = h("button", { type: "submit", class: "primary", "data-testid": "named-query-run" }, "Run");
  const form = h(
    "form",
    { class: "wb-query-form", hidden: true, novalidate: true },
    fields.map((f) => f.node),
    h(
      "div",
      { class: "row" },
      run,
      // the query's own text, with the parameters the form gives bound as the route binds them
      typeof query.text === "string"
        ? h("button", { type: "button", "data-testid": "named-query-open", onclick: () => workbench.open(editorText(query, fields)) }, "Open in editor")
        : null,
      h("span", { class: "spacer" }),
      h("span", { class: "muted small" }, parameters.length ? "* required" : "no parameters"),
    ),
    status,
  );
  const item = h(
    "li",
    { class: "wb-query", "data-testid": "named-query", "data-name": query.name },
    h(
      "button",
      {
        type: "button",
        class: "wb-query-head",
        "aria-expanded": "false",
        onclick: () => {
          const open = form.hidden;
          for (const other of list.querySelectorAll(".wb-query")) {
            other.classList.remove("open");
            other.querySelector(".wb-query-form").hidden = true;
            other.querySelector(".wb-query-head").setAttribute("aria-expanded", "false");
          }
          if (open) {
            item.classList.add("open");
            form.hidden = false;
            item.querySelector(".wb-query-head").setAttribute("aria-expanded", "true");
            const first = form.querySelector("input");
            if (first) first.focus();
          }
        },
      },
      h("span", { class: "wb-query-name" }, humanize(query.name.replace(/-/g, " ")) || query.name),
      h("code", { class: "wb-query-id" }, query.name),
      h("span", { class: "wb-query-summary" }, query.summary || ""),
      parameters.length
        ? h(
            "span",
            { class: "wb-query-params" },
            parameters.map((p) => h("span", { class: `tag${p.required ? " required" : ""}` }, p.required ? `${p.name}*` : p.name)),
          )
        : null,
    ),
    form,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const params = {};
    const missing = [];
    for (const f of fields) {
      const value = f.input.value.trim();
      f.node.classList.toggle("invalid", f.parameter.required && !value);
      if (f.parameter.required && !value) missing.push(f.parameter.name);
      if (value) params[f.parameter.name] = value;
    }
    if (missing.length) {
      status.append(h("p", { class: "error small" }, `Give ${missing.join(", ")} first.`));
      return;
    }
    run.disabled = true;
    try {
      await workbench.runNamed(query, params);
    } catch (err) {
      status.append(errorBox(err));
    } finally {
      run.disabled = false;
    }
  });
  return item;
}

// -- a named query as editor text

// The tokens of SPARQL text that matter here: IRIs, strings and comments (left as they are),
// variables, keywords and braces.
const TOKENS = /(<[^<>"{}|^`\\\s]*>)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(#[^\n]*)|([?$][A-Za-z_][A-Za-z0-9_]*)|([A-Za-z]+)|(\{)/g;

/** A parameter's value as a SPARQL term, read as the route reads it (kg.catalog): an IRI from a
 * full IRI, a CURIE or a local id; an integer; else a string. */
function sparqlTerm(parameter, raw) {
  const text = String(raw).trim();
  if (parameter.type === "iri") {
    const bare = text.replace(/^<(.*)>$/, "$1");
    const colon = bare.indexOf(":");
    const prefixes = pageData().prefixes || {};
    let iri = bare;
    if (!/^(?:[a-z][a-z0-9+.-]*:\/\/|urn:|mailto:|tag:)/i.test(bare)) {
      const prefix = colon > 0 ? bare.slice(0, colon) : "";
      iri = prefixes[prefix] ? prefixes[prefix] + bare.slice(colon + 1) : (pageData().baseIri || "") + encodeURI(bare);
    }
    return `<${iri}>`;
  }
  if (parameter.type === "integer" && /^-?\d+$/.test(text)) return text;
  return JSON.stringify(text);
}

/** The named query's text for the editor: each parameter the form (or its default) gives is
 * put in place of its variable, as the route's substitution binds it for the whole query (a
 * projected one as `(term AS ?name)`); the others stay variables, named in a comment. */
export function editorText(query, fields) {
  const terms = new Map();
  const open = [];
  for (const { parameter, input } of fields) {
    const given = input.value.trim() || (parameter.default ?? "");
    if (given !== "") terms.set(parameter.name, sparqlTerm(parameter, given));
    else open.push(parameter);
  }
  let projecting = false;
  let ordering = false;
  const body = query.text.replace(TOKENS, (match, iri, string, comment, variable, word) => {
    if (word) {
      const keyword = word.toUpperCase();
      if (keyword === "SELECT") projecting = true;
      if (keyword === "WHERE") projecting = false;
      ordering = keyword === "BY" || (ordering && (keyword === "ASC" || keyword === "DESC"));
      return match;
    }
    if (match === "{") {
      projecting = ordering = false;
      return match;
    }
    const term = variable ? terms.get(variable.slice(1)) : undefined;
    if (!term) return match;
    if (projecting) return `(${term} AS ?${variable.slice(1)})`;
    return ordering ? `(${term})` : term; // ORDER BY takes an expression, not a bare term
  });
  const notes = [
    ...[...terms].map(([name, term]) => `# ${name} = ${term}`),
    ...open.map((p) => `# ?${p.name} is left a variable: ${p.required ? "required, give it in the form (or write a term in its place)" : "optional"}`),
  ];
  return notes.length ? `${notes.join("\n")}\n${body}` : body;
}

let fieldCount = 0;

/** A form field for a named query's parameter; an IRI one suggests assets as you type. */
function parameterField(parameter) {
  fieldCount += 1;
  const id = `wb-param-${fieldCount}`;
  const listId = `${id}-assets`;
  const kind = parameter.type || "string";
  const input = h("input", {
    id,
    type: kind === "integer" ? "number" : "text",
    name: parameter.name,
    "data-testid": "query-parameter",
    "data-name": parameter.name,
    required: Boolean(parameter.required),
    "aria-required": parameter.required ? "true" : "false",
    placeholder:
      parameter.default !== null && parameter.default !== undefined
        ? `default ${parameter.default}`
        : kind === "iri"
          ? "an id like dataset/…, a CURIE or an IRI"
          : "",
    list: kind === "iri" ? listId : null,
    autocomplete: "off",
  });
  const suggestions = kind === "iri" ? h("datalist", { id: listId }) : null;
  if (suggestions) {
    let asked = "";
    input.addEventListener(
      "input",
      debounce(async () => {
        const text = input.value.trim();
        if (text.length < 2 || text === asked || text.includes("://")) return;
        asked = text;
        try {
          const found = await get("/api/v1/search", { q: text, limit: 8 });
          suggestions.replaceChildren(
            ...(found.hits || []).map((hit) =>
              h("option", { value: shortId(hit.id) }, `${hit.label || shortId(hit.id)} · ${humanize(localName(hit.type || ""))}`),
            ),
          );
        } catch {
          // suggestions are a help, not the form: a refused search leaves the field as typed
        }
      }, 200),
    );
  }
  const node = h(
    "div",
    { class: "wb-param" },
    h(
      "label",
      { for: id },
      h("span", { class: "wb-param-name" }, parameter.name),
      parameter.required ? h("span", { class: "wb-required", title: "required" }, "*") : null,
      h("span", { class: "badge type" }, kind),
    ),
    input,
    suggestions,
    parameter.description ? h("p", { class: "muted small" }, parameter.description) : null,
  );
  return { parameter, input, node };
}
