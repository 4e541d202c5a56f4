// The home page: one search over every asset, team and person, with suggestions as you type,
// facets, result cards and paging, all kept in the URL (/?q=ranking&type=mlg:Model&offset=20);
// an empty query browses (counts by type); "Before you build" checks a draft against what
// exists. Everything comes from the public API: /api/v1/search (which names the owners it
// gives), /api/v1/search/similar, and /sparql for the names of a similar draft's owners and
// sources.
import { ApiError, get, postJSON, url } from "./api.js";
import { assetHref, assetLink, badge, empty, errorBox, h, humanize, localName, setTitle, shortId } from "./ui.js";

const FACETS = [
  ["type", "Type"],
  ["owner", "Owner"],
  ["status", "Status"],
  ["stage", "Stage"],
  ["tag", "Tag"],
  ["source", "Source"],
];
const PAGE_SIZE = 20;
const SUGGESTIONS = 8;
const FACET_TOP = 6; // values a facet shows before "more"
const FACET_MOST = 100; // values an opened facet lists at once (a filter box finds the others)
const MAX_OFFSET = 10_000; // the API's deepest page (kg.api.deps.MAX_OFFSET)

// ------------------------------------------------------------------ shared with asset.js

/** Whether `iri` can be written as <iri> in SPARQL text (and has a scheme). */
export function sparqlSafe(iri) {
  return typeof iri === "string" && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|^`\\\u0000-\u0020]*$/.test(iri);
}

/** A SPARQL SELECT's bindings, read from /sparql (a POST: the text may be long). */
export async function sparqlSelect(query, signal) {
  const response = await fetch("/sparql", {
    method: "POST",
    headers: { "Content-Type": "application/sparql-query", Accept: "application/sparql-results+json" },
    body: query,
    signal,
  });
  if (!response.ok) throw new ApiError(response.status, { detail: (await response.text()).slice(0, 300) });
  const answer = await response.json();
  return (answer.results && answer.results.bindings) || [];
}

const labelCache = new Map(); // IRI -> label (null: it has none)

/** The names (rdfs:label) of `iris`, read once each; a failure leaves them unnamed. */
export async function labelsOf(iris) {
  const wanted = [...new Set(iris)].filter((iri) => !labelCache.has(iri) && sparqlSafe(iri)).slice(0, 500);
  if (wanted.length) {
    try {
      const rows = await sparqlSelect(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" +
          `SELECT ?s (SAMPLE(?l) AS ?label) WHERE { VALUES ?s { ${wanted.map((i) => `<${i}>`).join(" ")} } ` +
          "?s rdfs:label ?l } GROUP BY ?s",
      );
      for (const iri of wanted) labelCache.set(iri, null);
      for (const row of rows) if (row.s && row.label) labelCache.set(row.s.value, row.label.value);
    } catch {
      // names are a nicety: the ids stand in for them
    }
  }
  return (iri) => labelCache.get(iri) || null;
}

/** Text with the words of `query` marked (<mark>, as text nodes): the start of a word matches,
 * as the search does (the last word may be a prefix). */
export function highlight(text, query) {
  const words = String(query || "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
  if (!text || !words.length) return [text || ""];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${escaped.join("|")})`, "giu");
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h("mark", {}, match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** The search answer's `snippet` segments, matches marked. */
export function segments(snippet) {
  return snippet.map((s) => (s.match ? h("mark", {}, s.text) : s.text));
}

// ------------------------------------------------------------------ the URL is the state

function readState() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const [key] of FACETS) filters[key] = params.getAll(key).filter(Boolean);
  const offset = Number.parseInt(params.get("offset") || "0", 10);
  return {
    q: (params.get("q") || "").trim(),
    filters,
    offset: Number.isFinite(offset) && offset > 0 ? Math.min(offset, MAX_OFFSET) : 0,
  };
}

function stateHref(state) {
  return url("/", { q: state.q, ...state.filters, offset: state.offset || "" });
}

function hasFilters(state) {
  return FACETS.some(([key]) => state.filters[key].length);
}

function facetLabel(facet, value, nameOf) {
  if (facet === "type") return humanize(value);
  if (facet === "status" || facet === "stage") return humanize(value);
  if (facet === "owner") return nameOf(value) || shortId(value);
  if (facet === "source") return value.includes(":") ? shortId(value) : value;
  return value;
}

// ------------------------------------------------------------------ the page

export async function mount(main) {
  const page = new SearchPage(main);
  await page.start();
}

class SearchPage {
  constructor(main) {
    this.main = main;
    this.state = readState();
    this.generation = 0; // the latest full search; older answers are dropped
    this.suggestionGeneration = 0;
    this.expanded = new Set(); // facets opened past their top values
    this.facetFilter = {}; // facet -> text typed in its filter box
    this.typeCounts = null;
  }

  async start() {
    this.build();
    window.addEventListener("popstate", () => {
      this.state = readState();
      this.input.value = this.state.q;
      this.closeSuggestions();
      this.run();
    });
    await this.run();
    if (location.hash === "#build") this.similarName.focus();
  }

  // -------------------------------------------------------------- layout

  build() {
    this.input = h("input", {
      type: "search",
      name: "q",
      value: this.state.q,
      placeholder: "Search datasets, features, models, services, teams, people…",
      "aria-label": "Search every asset",
      autocomplete: "off",
      spellcheck: "false",
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": "search-suggestions",
      "data-testid": "search-input",
    });
    this.listbox = h("ul", { id: "search-suggestions", class: "suggestions", role: "listbox", hidden: true });
    this.active = -1;
    this.suggestions = [];
    const form = h(
      "form",
      { class: "search-form", role: "search", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "search-field" }, this.input, this.listbox),
      h("button", { type: "submit", class: "primary", "data-testid": "search-run", onclick: () => this.submit() }, "Search"),
    );
    this.input.addEventListener("input", () => this.typed());
    this.input.addEventListener("keydown", (e) => this.key(e));
    this.input.addEventListener("focus", () => {
      if (this.suggestions.length && this.input.value.trim()) this.openSuggestions();
    });
    this.input.addEventListener("blur", () => this.closeSuggestions());
    // a click in the list must not blur the box before the click lands
    this.listbox.addEventListener("mousedown", (e) => e.preventDefault());

    this.lede = h("p", { class: "lede muted" }, "Every dataset, feature, model, service, experiment, team and person in one graph.");
    this.hero = h(
      "section",
      { class: "hero" },
      h("h1", {}, "Find any ML asset"),
      this.lede,
      form,
      h(
        "p",
        { class: "hero-links small" },
        h("a", { href: "/#build", onclick: (e) => this.toBuild(e) }, "Before you build: does it exist already?"),
        " · ",
        h("a", { href: "/governance" }, "Governance report"),
        " · ",
        h("a", { href: "/sparql" }, "SPARQL"),
      ),
    );
    this.browse = h("div", { class: "browse grid two" });
    this.tiles = h("div", { class: "tiles", "data-testid": "type-tiles" });
    this.browse.append(h("section", { class: "panel" }, h("h2", {}, "Browse by type"), this.tiles), this.buildPanel());
    this.facetsBox = h("aside", { class: "facets", "aria-label": "Filters" });
    this.results = h("section", { class: "results", "aria-live": "polite", "data-testid": "search-results" });
    this.main.append(this.hero, this.browse, h("div", { class: "grid sidebar search-body" }, this.facetsBox, this.results));
  }

  toBuild(event) {
    event.preventDefault();
    if (this.state.q || hasFilters(this.state) || this.state.offset) {
      this.navigate({ q: "", filters: this.emptyFilters(), offset: 0 });
      history.replaceState(null, "", "/#build");
    }
    this.similarName.focus();
    this.similarName.scrollIntoView({ block: "center" });
  }

  emptyFilters() {
    return Object.fromEntries(FACETS.map(([key]) => [key, []]));
  }

  navigate(state) {
    this.state = state;
    history.pushState(null, "", stateHref(state));
    this.run();
  }

  // -------------------------------------------------------------- full search

  submit() {
    this.suggestionGeneration++; // an answer still on its way must not reopen the list
    clearTimeout(this.timer);
    this.closeSuggestions();
    this.navigate({ ...this.state, q: this.input.value.trim(), offset: 0 });
  }

  async run() {
    const generation = ++this.generation;
    const state = this.state;
    const browsing = !state.q && !hasFilters(state);
    setTitle(state.q ? `Search: ${state.q}` : "Search");
    this.main.classList.toggle("searching", !browsing);
    this.browse.hidden = !browsing;
    this.results.setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await get("/api/v1/search", { q: state.q, ...state.filters, limit: PAGE_SIZE, offset: state.offset });
    } catch (err) {
      if (generation !== this.generation) return;
      this.results.replaceChildren(errorBox(err), h("p", {}, h("a", { href: "/" }, "Start again")));
      this.facetsBox.replaceChildren();
      this.results.removeAttribute("aria-busy");
      this.results.dataset.rendered = stateHref(state);
      return;
    }
    if (generation !== this.generation) return;
    this.answer = answer;
    // the answer names the owners its hits and its owner facet give
    const names = answer.ownerNames || {};
    this.nameOf = (iri) => names[iri] || null;
    if (browsing) this.renderTiles(answer);
    this.renderFacets();
    this.renderResults();
    this.results.removeAttribute("aria-busy");
    this.results.dataset.rendered = stateHref(state); // what the page shows, for scripts and tests
  }

  renderTiles(answer) {
    // the unfiltered listing's type facet counts each asset once, by its most specific type
    // (as /api/v1/stats does, without its seconds of counting on a large graph)
    const counts = answer.facets.type || {};
    const total = answer.total;
    this.typeCounts = counts;
    this.fillBuildTypes();
    this.lede.textContent = `${total} assets in the graph: every dataset, feature, model, service, experiment, team and person.`;
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    this.tiles.replaceChildren(
      ...entries.map(([type, n]) => {
        const href = stateHref({ q: "", filters: { ...this.emptyFilters(), type: [type] }, offset: 0 });
        return h(
          "a",
          {
            class: `tile tile-${localName(type).toLowerCase()}`,
            href,
            "data-testid": "type-tile",
            "data-value": type,
            onclick: (e) => this.follow(e, href),
          },
          h("span", { class: "tile-count", title: estimateTitle(answer) }, counted(answer, n)),
          h("span", { class: "tile-name" }, humanize(type)),
        );
      }),
    );
    if (!entries.length) this.tiles.replaceChildren(empty("The graph holds no assets yet."));
  }

  /** A same-page link followed without reloading (a modified click opens a tab as usual). */
  follow(event, href) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    history.pushState(null, "", href);
    this.state = readState();
    this.input.value = this.state.q;
    this.run();
    window.scrollTo({ top: 0 });
  }

  // -------------------------------------------------------------- facets

  toggle(facet, value, on) {
    const values = this.state.filters[facet].filter((v) => v !== value);
    if (on) values.push(value);
    this.navigate({ ...this.state, filters: { ...this.state.filters, [facet]: values }, offset: 0 });
  }

  renderFacets() {
    const groups = [];
    for (const [facet, title] of FACETS) {
      const counts = { ...(this.answer.facets[facet] || {}) };
      const checked = this.state.filters[facet];
      for (const value of checked) if (!(value in counts)) counts[value] = 0;
      const all = Object.entries(counts);
      if (!all.length) continue;
      const open = this.expanded.has(facet);
      const filterText = (this.facetFilter[facet] || "").toLowerCase();
      let shown;
      if (!open) {
        shown = all.filter(([v], i) => i < FACET_TOP || checked.includes(v));
      } else {
        const matching = filterText
          ? all.filter(([v]) => `${v} ${facetLabel(facet, v, this.nameOf)}`.toLowerCase().includes(filterText))
          : all;
        shown = matching.filter(([v], i) => i < FACET_MOST || checked.includes(v));
      }
      const items = shown.map(([value, n]) => {
        const box = h("input", {
          type: "checkbox",
          checked: checked.includes(value),
          onchange: (e) => this.toggle(facet, value, e.target.checked),
        });
        box.checked = checked.includes(value);
        return h(
          "li",
          {},
          h(
            "label",
            { "data-testid": "facet", "data-facet": facet, "data-value": value, title: value },
            box,
            h("span", { class: "facet-name" }, facetLabel(facet, value, this.nameOf)),
            h("span", { class: "facet-count", title: estimateTitle(this.answer) }, counted(this.answer, n)),
          ),
        );
      });
      const group = h("section", { class: "facet-group", "data-facet-group": facet }, h("h3", {}, title));
      if (open && all.length > FACET_TOP * 2) {
        const filter = h("input", {
          type: "search",
          class: "facet-filter",
          placeholder: `Filter ${title.toLowerCase()}s…`,
          "aria-label": `Filter the ${title.toLowerCase()} values`,
          value: this.facetFilter[facet] || "",
        });
        filter.addEventListener("input", () => {
          this.facetFilter[facet] = filter.value;
          this.renderFacets();
          const again = this.facetsBox.querySelector(`[data-facet-group="${facet}"] .facet-filter`);
          if (again) {
            again.focus();
            again.setSelectionRange(again.value.length, again.value.length);
          }
        });
        group.append(filter);
      }
      group.append(h("ul", {}, items));
      if (open && shown.length < all.length && !filterText) {
        group.append(h("p", { class: "small muted" }, `${all.length - shown.length} more: filter to find them.`));
      }
      if (all.length > FACET_TOP) {
        group.append(
          h(
            "button",
            {
              type: "button",
              class: "link more",
              "data-testid": "facet-more",
              "data-facet": facet,
              "aria-expanded": String(open),
              onclick: () => {
                if (open) this.expanded.delete(facet);
                else this.expanded.add(facet);
                this.renderFacets();
              },
            },
            open ? "Show fewer" : `Show ${all.length - shown.length} more`,
          ),
        );
      }
      groups.push(group);
    }
    const clear = hasFilters(this.state)
      ? h(
          "button",
          {
            type: "button",
            class: "link",
            "data-testid": "facet-clear",
            onclick: () => this.navigate({ ...this.state, filters: this.emptyFilters(), offset: 0 }),
          },
          "Clear filters",
        )
      : null;
    this.facetsBox.replaceChildren(h("div", { class: "facets-head" }, h("h2", {}, "Filters"), clear), ...groups);
  }

  // -------------------------------------------------------------- results

  renderResults() {
    const { answer, state } = this;
    const shownFrom = answer.hits.length ? state.offset + 1 : 0;
    const shownTo = state.offset + answer.hits.length;
    const what = state.q ? h("span", {}, " for ", h("q", {}, state.q)) : hasFilters(state) ? " matching the filters" : " in the graph";
    const head = h(
      "div",
      { class: "results-head" },
      h(
        "p",
        { class: "total" },
        h("strong", { "data-testid": "search-total", "data-total": String(answer.total) }, `${answer.total} ${answer.total === 1 ? "asset" : "assets"}`),
        what,
        answer.total > answer.hits.length ? h("span", { class: "muted" }, ` · ${shownFrom}–${shownTo}`) : null,
      ),
      this.chips(),
    );
    const cards = answer.hits.map((hit) => this.card(hit));
    const body = cards.length
      ? h("div", { class: "cards" }, cards)
      : h(
          "div",
          { class: "panel no-results" },
          h("p", {}, state.offset && answer.total ? "No results on this page." : "Nothing matches."),
          h(
            "p",
            { class: "muted small" },
            "Every word must match a name, tag, id or description (the last may be a prefix). Try fewer words",
            hasFilters(state) ? " or fewer filters" : "",
            ", or check a draft in ",
            h("a", { href: "/#build", onclick: (e) => this.toBuild(e) }, "Before you build"),
            ".",
          ),
        );
    this.results.replaceChildren(...[head, body, this.pager()].filter(Boolean));
  }

  chips() {
    const chips = [];
    for (const [facet, title] of FACETS) {
      for (const value of this.state.filters[facet]) {
        chips.push(
          h(
            "button",
            {
              type: "button",
              class: "chip",
              title: `Remove the filter ${title.toLowerCase()}: ${value}`,
              "data-testid": "filter-chip",
              onclick: () => this.toggle(facet, value, false),
            },
            `${title}: ${facetLabel(facet, value, this.nameOf)}`,
            h("span", { "aria-hidden": "true" }, " ×"),
          ),
        );
      }
    }
    return chips.length ? h("div", { class: "chips" }, chips) : null;
  }

  card(hit) {
    const text = (hit.snippet || []).map((s) => s.text).join("");
    const snippetIsName = Boolean(text) && text === hit.label;
    const hasMatch = (hit.snippet || []).some((s) => s.match);
    const title = snippetIsName && hasMatch ? segments(hit.snippet) : highlight(hit.label || shortId(hit.id), this.state.q);
    let blurb = null;
    if (hit.snippet && hit.snippet.length && !snippetIsName) blurb = segments(hit.snippet);
    else if (hit.description) blurb = highlight(hit.description, this.state.q);
    const owners = (hit.owners || []).map((o) => assetLink(o, this.nameOf(o) || shortId(o), { class: "owner", "data-testid": "result-owner" }));
    const tags = (hit.tags || []).map((t) => h("span", { class: "tag" }, t));
    return h(
      "article",
      { class: "result-card", "data-testid": "search-result", "data-asset-id": hit.id },
      h(
        "div",
        { class: "card-head" },
        h("a", { class: "card-title", href: assetHref(hit.id), "data-asset-id": hit.id, "data-testid": "result-link" }, title),
        badge("type", hit.type),
        badge("status", hit.status),
      ),
      h("div", { class: "card-id mono muted", title: hit.id }, shortId(hit.id)),
      blurb ? h("p", { class: "snippet" }, blurb) : null,
      owners.length || tags.length
        ? h(
            "div",
            { class: "card-meta" },
            owners.length ? h("span", { class: "owners" }, h("span", { class: "muted" }, "Owner "), ...joinWith(owners, ", ")) : null,
            tags.length ? h("span", { class: "tags" }, tags) : null,
          )
        : null,
    );
  }

  pager() {
    const { total } = this.answer;
    const offset = this.state.offset;
    if (total <= PAGE_SIZE && offset === 0) return null;
    const last = Math.min(Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE, Math.floor(MAX_OFFSET / PAGE_SIZE) * PAGE_SIZE);
    const link = (to, label, attrs = {}) => {
      const href = stateHref({ ...this.state, offset: to });
      return h("a", { href, class: "page-link", onclick: (e) => this.follow(e, href), ...attrs }, label);
    };
    const current = Math.floor(offset / PAGE_SIZE);
    const pages = [];
    const lastPage = Math.floor(last / PAGE_SIZE);
    const window_ = new Set([0, lastPage]);
    for (let p = current - 2; p <= current + 2; p++) if (p >= 0 && p <= lastPage) window_.add(p);
    let previous = -1;
    for (const p of [...window_].sort((a, b) => a - b)) {
      if (p - previous > 1) pages.push(h("span", { class: "gap" }, "…"));
      pages.push(
        p === current
          ? h("span", { class: "page-link current", "aria-current": "page" }, String(p + 1))
          : link(p * PAGE_SIZE, String(p + 1), { "data-testid": "page-number" }),
      );
      previous = p;
    }
    return h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      offset > 0 ? link(Math.max(0, offset - PAGE_SIZE), "← Previous", { "data-testid": "page-prev", rel: "prev" }) : null,
      ...pages,
      offset + PAGE_SIZE <= last ? link(offset + PAGE_SIZE, "Next →", { "data-testid": "page-next", rel: "next" }) : null,
      total > MAX_OFFSET + PAGE_SIZE ? h("span", { class: "muted small" }, "Past 10,000 results: narrow the search.") : null,
    );
  }

  // -------------------------------------------------------------- suggestions

  typed() {
    const text = this.input.value.trim();
    const generation = ++this.suggestionGeneration;
    clearTimeout(this.timer);
    if (this.suggestController) this.suggestController.abort();
    if (!text) {
      this.suggestions = [];
      this.closeSuggestions();
      return;
    }
    this.timer = setTimeout(() => this.suggest(text, generation), 150);
  }

  async suggest(text, generation) {
    const controller = new AbortController();
    this.suggestController = controller;
    let answer;
    try {
      answer = await get("/api/v1/search", { q: text, limit: SUGGESTIONS }, { signal: controller.signal });
    } catch {
      return; // aborted, or a half-typed query the API refuses: no suggestions
    }
    if (generation !== this.suggestionGeneration) return;
    this.suggestions = answer.hits;
    this.active = -1;
    this.listbox.replaceChildren(
      ...answer.hits.map((hit, n) => {
        const text = (hit.snippet || []).map((s) => s.text).join("");
        const name = text && text === hit.label ? segments(hit.snippet) : highlight(hit.label || shortId(hit.id), this.input.value);
        return h(
          "li",
          {
            id: `suggestion-${n}`,
            role: "option",
            "aria-selected": "false",
            "data-testid": "search-suggestion",
            "data-asset-id": hit.id,
            onclick: () => location.assign(assetHref(hit.id)),
            onmousemove: () => this.activate(n),
          },
          h("span", { class: "suggestion-name" }, name),
          badge("type", hit.type),
          h("span", { class: "suggestion-id muted mono" }, shortId(hit.id)),
        );
      }),
      h(
        "li",
        {
          id: `suggestion-${answer.hits.length}`,
          role: "option",
          "aria-selected": "false",
          class: "suggestion-all",
          onclick: () => this.submit(),
          onmousemove: () => this.activate(answer.hits.length),
        },
        answer.total ? `All ${answer.total} results for “${text}”` : `Nothing matches “${text}”: search anyway`,
      ),
    );
    if (document.activeElement === this.input) this.openSuggestions();
  }

  openSuggestions() {
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  }

  closeSuggestions() {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
    for (const li of this.listbox.children) li.setAttribute("aria-selected", "false");
  }

  activate(n) {
    const options = [...this.listbox.children];
    this.active = n;
    options.forEach((li, i) => li.setAttribute("aria-selected", String(i === n)));
    if (n >= 0 && options[n]) {
      this.input.setAttribute("aria-activedescendant", options[n].id);
      options[n].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  key(event) {
    const open = !this.listbox.hidden && this.listbox.children.length > 0;
    const count = this.listbox.children.length;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) {
        if (this.suggestions.length && this.input.value.trim()) this.openSuggestions();
        return;
      }
      this.activate((this.active + 1) % count);
    } else if (event.key === "ArrowUp") {
      if (!open) return;
      event.preventDefault();
      this.activate(this.active <= 0 ? count - 1 : this.active - 1);
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        this.closeSuggestions();
      }
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (open && this.active >= 0 && this.active < this.suggestions.length) {
        location.assign(assetHref(this.suggestions[this.active].id));
      } else {
        this.submit();
      }
    }
  }

  // -------------------------------------------------------------- before you build

  buildPanel() {
    this.similarName = h("input", {
      type: "text",
      name: "name",
      placeholder: "e.g. Member genre affinity",
      "data-testid": "similar-name",
      autocomplete: "off",
    });
    this.similarDescription = h("textarea", {
      name: "description",
      rows: "2",
      placeholder: "What it holds or does, in a sentence",
      "data-testid": "similar-description",
    });
    this.similarType = h("select", { name: "type", "data-testid": "similar-type" }, h("option", { value: "" }, "Any type"));
    this.similarSources = h("input", {
      type: "text",
      name: "sources",
      placeholder: "dataset/viewing-history-daily, …",
      "data-testid": "similar-sources",
      autocomplete: "off",
    });
    this.similarOut = h("div", { class: "similar-results", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "build-form", onsubmit: (e) => this.similar(e) },
      h("label", {}, h("span", {}, "Name"), this.similarName),
      h("label", {}, h("span", {}, "Description"), this.similarDescription),
      h(
        "div",
        { class: "build-row" },
        h("label", {}, h("span", {}, "Type"), this.similarType),
        h("label", { class: "grow" }, h("span", {}, "Built from (dataset ids)"), this.similarSources),
      ),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary", "data-testid": "similar-run" }, "Find similar assets")),
    );
    return h(
      "section",
      { class: "panel build", id: "build", "data-testid": "similar" },
      h("h2", {}, "Before you build"),
      h("p", { class: "muted small" }, "Describe what you are about to build: kg lists the existing assets most likely to be the same thing (similar words, built from the same sources)."),
      form,
      this.similarOut,
    );
  }

  fillBuildTypes() {
    const types = Object.keys(this.typeCounts || {}).sort();
    const fallback = ["mlg:Dataset", "mlg:Feature", "mlg:FeatureSet", "mlg:Model", "mlg:ModelVersion", "mlg:Service"];
    const chosen = this.similarType.value;
    this.similarType.replaceChildren(
      h("option", { value: "" }, "Any type"),
      ...(types.length ? types : fallback).map((t) => h("option", { value: t }, humanize(t))),
    );
    this.similarType.value = chosen;
  }

  async similar(event) {
    event.preventDefault();
    const name = this.similarName.value.trim();
    const description = this.similarDescription.value.trim();
    if (!name && !description) {
      this.similarOut.replaceChildren(h("p", { class: "notice" }, "Give the draft a name or a description."));
      return;
    }
    const sources = this.similarSources.value
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const draft = { name, description, sources, type: this.similarType.value || null };
    this.similarOut.replaceChildren(h("p", { class: "loading" }, "Looking…"));
    let answer;
    try {
      answer = await postJSON("/api/v1/search/similar", draft);
    } catch (err) {
      this.similarOut.replaceChildren(errorBox(err));
      return;
    }
    const candidates = answer.candidates || [];
    const nameOf = await labelsOf(candidates.flatMap((c) => [...(c.owners || []), ...(c.sharedSources || [])]));
    if (!candidates.length) {
      this.similarOut.replaceChildren(h("p", { class: "ok-note", "data-testid": "similar-none" }, "Nothing like it yet: go ahead."));
      return;
    }
    const best = Math.max(...candidates.map((c) => c.score || 0), 1e-9);
    this.similarOut.replaceChildren(
      h("h3", {}, `${candidates.length} possible ${candidates.length === 1 ? "match" : "matches"}`),
      h(
        "ol",
        { class: "similar-list" },
        candidates.map((c) => {
          const reasons = [];
          if (c.textScore) reasons.push(`similar words (${Math.round(c.textScore * 100)}%)`);
          const shared = c.sharedSources || [];
          const sharedLinks = shared.map((s) => assetLink(s, nameOf(s) || shortId(s)));
          return h(
            "li",
            { class: "similar-card", "data-testid": "similar-result", "data-asset-id": c.id, "data-score": String(c.score) },
            h(
              "div",
              { class: "card-head" },
              assetLink(c.id, c.label || shortId(c.id), { class: "card-title" }),
              badge("type", c.type),
              h("span", { class: "score", title: `score ${c.score}` }, h("span", { class: "score-bar", style: `width: ${Math.round((100 * (c.score || 0)) / best)}%` }), String(c.score)),
            ),
            h(
              "p",
              { class: "reason small" },
              reasons.length ? humanizeFirst(reasons.join("; ")) : null,
              shared.length ? [reasons.length ? "; " : "", reasons.length ? "built from " : "Built from ", ...joinWith(sharedLinks, ", "), " too"] : null,
              c.owners && c.owners.length
                ? [h("span", { class: "muted" }, " · owner "), ...joinWith(c.owners.map((o) => assetLink(o, nameOf(o) || shortId(o))), ", ")]
                : null,
            ),
          );
        }),
      ),
    );
  }
}

function humanizeFirst(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function joinWith(nodes, separator) {
  return nodes.flatMap((node, i) => (i ? [separator, node] : [node]));
}

// Past a few thousand matches the server estimates facet counts from a sample: shown as such.
function counted(answer, n) {
  return answer.facetsExact === false ? `≈${n}` : String(n);
}

function estimateTitle(answer) {
  return answer.facetsExact === false ? "estimated from a sample of the matches" : "";
}
