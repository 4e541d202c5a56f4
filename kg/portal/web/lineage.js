// The lineage picture: an asset's upstream and/or downstream laid out left to right by hop
// (upstream left of the root, downstream right: the column is the signed hop distance), drawn
// by Cytoscape from positions computed here (columns, then a few barycenter sweeps against
// crossings), with a node budget past which the farthest, least connected nodes fold into
// summary nodes per (hop, type). Beside it: the selected node's details, the path between two
// nodes, and a table of every node of the answer. Cytoscape draws on a canvas, so the visible
// nodes and edges are also kept as a (visually hidden) list in the DOM, in step.
import { get } from "./api.js";
import { asOfBanner, withAsOf } from "./history.js";
import {
  h,
  assetLink,
  shortId,
  localName,
  humanize,
  badge,
  errorBox,
  download,
  debounce,
  setTitle,
  loadLibrary,
} from "./ui.js";

const NODE_W = 152;
const NODE_H = 40;
const SUB_W = NODE_W + 16; // a sub-column of a tall column
const GAP = 86; // between hop columns: room for the edge labels
const ROW_H = 58;
const MAX_ROWS = 28; // a column taller than this is split into interleaved sub-columns
/** How many sub-columns a column of `n` nodes takes: none past MAX_ROWS rows, and a huge
 * column as a block about as wide as it is tall. */
const subColumns = (n) => Math.ceil(n / Math.max(MAX_ROWS, Math.ceil(Math.sqrt((n * SUB_W) / ROW_H))));
const BUDGETS = [100, 300, 1000, 2000, 5000];
const DEFAULT_BUDGET = 300;
const DEPTHS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50];
const ELK_LIMIT = 400;
const ANIMATE_LIMIT = 400;
const TABLE_PAGE = 200;
const SEARCH_REVEAL = 100;
const TYPE_ORDER = [
  "service",
  "productionservice",
  "experiment",
  "evaluation",
  "modelversion",
  "model",
  "run",
  "workflow",
  "featureset",
  "feature",
  "dataset",
];

// ----------------------------------------------------------------------------- small helpers

const typeKey = (type) => (type ? localName(type).toLowerCase() : "unresolved");
const typeRank = (type) => {
  const i = TYPE_ORDER.indexOf(typeKey(type));
  return i < 0 ? TYPE_ORDER.length : i;
};
const sideOf = (d) => (d < 0 ? "upstream" : d > 0 ? "downstream" : "root");
const edgeKey = (e) => `${e.origin}\u0000${e.destination}\u0000${e.type}`;
const plural = (word, n) => {
  if (n === 1) return word;
  if (/person$/i.test(word)) return word.replace(/person$/i, "people");
  if (/s$/.test(word)) return word;
  return word + "s";
};
const NUMBER = new Intl.NumberFormat("en");
const COLLATOR = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
const fmt = (n) => NUMBER.format(n);
const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

function hopText(d) {
  if (d === 0) return "root";
  const n = Math.abs(d);
  return `${n} ${plural("hop", n)} ${d < 0 ? "upstream" : "downstream"}`;
}

function readColours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const colours = {};
  for (const key of [...TYPE_ORDER, "team", "person"]) {
    const v = key === "productionservice" ? "--service" : `--${key}`;
    colours[key] = read(v, "#64748b");
  }
  return {
    types: colours,
    fallback: read("--run", "#64748b"),
    bad: read("--bad", "#b91c1c"),
    off: read("--off", "#6b7280"),
    accent: read("--accent", "#1f6feb"),
    ink: read("--ink", "#1b2430"),
    muted: read("--muted", "#5b6676"),
    line: read("--line", "#dde3ea"),
  };
}

/** `hex` mixed with white: `amount` 0 gives the colour, 1 white. */
function tint(hex, amount) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return "#f4f6f9";
  const n = parseInt(m[1], 16);
  const mix = (c) => Math.round(c + (255 - c) * amount);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(mix);
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

// ----------------------------------------------------------------------------- the page

export async function mount(main, data) {
  const params = new URLSearchParams(location.search);
  const nodeId = params.get("nodeId") || params.get("id") || "";
  if (!nodeId) {
    setTitle("Lineage");
    main.append(pickForm());
    return;
  }
  const direction = ["upstream", "downstream", "both"].includes(params.get("direction"))
    ? params.get("direction")
    : "upstream";
  const depthText = params.get("depth") || "";
  const depth = /^\d+$/.test(depthText) && Number(depthText) >= 1 ? Number(depthText) : null;
  const budgetText = params.get("budget") || "";
  const budget = /^\d+$/.test(budgetText) && Number(budgetText) >= 10 ? Number(budgetText) : DEFAULT_BUDGET;
  const libraries =
    data.libraries !== false && typeof window.cytoscape === "function";
  const lineage = new LineagePage(main, {
    nodeId,
    direction,
    depth,
    budget,
    types: params.getAll("type"),
    asOf: (params.get("asOf") || "").trim(), // the lineage as it stood then ("" for now)
    libraries,
  });
  window.kgLineage = lineage.api();
  await lineage.start();
}

function pickForm() {
  return h(
    "section",
    { class: "panel lineage-pick" },
    h("h1", {}, "Lineage"),
    h("p", { class: "muted" }, "Which asset's lineage? An id (dataset/clicks), a CURIE or a full IRI."),
    h(
      "form",
      { method: "get", action: "/lineage", class: "row" },
      h("input", { type: "text", name: "nodeId", placeholder: "service/homepage", "aria-label": "Asset id", required: true, size: 40 }),
      h(
        "select",
        { name: "direction", "aria-label": "Direction" },
        h("option", { value: "upstream" }, "Upstream"),
        h("option", { value: "downstream" }, "Downstream"),
        h("option", { value: "both" }, "Both"),
      ),
      h("button", { type: "submit", class: "primary" }, "Show lineage"),
    ),
  );
}

class LineagePage {
  constructor(main, options) {
    this.main = main;
    this.query = {
      nodeId: options.nodeId,
      direction: options.direction,
      depth: options.depth,
      types: options.types,
      asOf: options.asOf,
    };
    this.budget = options.budget;
    this.libraries = options.libraries;
    this.colours = readColours();
    this.root = null;
    this.nodes = new Map(); // iri -> node record (distance signed: upstream < 0 < downstream)
    this.ownerNames = new Map(); // owner IRI -> its name, as the lineage answers give them
    this.edges = new Map(); // key -> {origin, destination, type}
    this.revealed = new Set(); // nodes taken out of summaries by the user
    this.hiddenTypes = new Set();
    this.selected = [];  // up to two iris, the last one is the one the panel shows
    this.pathEnds = { from: null, to: null };
    this.path = null; // {nodes: [iri], edges: Set<key>, missing: [iri]} or {none: true}
    this.search = "";
    this.matches = new Set();
    this.layoutName = "columns";
    this.view = { nodes: [], summaries: [], edges: [], groups: new Map(), shownIds: new Set() };
    this.loadToken = 0;
    this.cy = null;
    this.tab = "picture";
    this.table = { key: "distance", up: true, filter: "", shown: TABLE_PAGE };
    this.assetCache = new Map();
    this.build();
  }

  api() {
    const self = this;
    return {
      get cy() {
        return self.cy;
      },
      page: this,
      visible: () => this.view.nodes.map((n) => n.id),
      summaries: () => this.view.summaries.map((s) => ({ id: s.id, count: s.members.length, type: s.type, distance: s.distance })),
      select: (iri, additive = false) => this.select(iri, additive),
      expand: (iri) => this.expand(iri),
      reveal: (summaryId) => this.reveal(summaryId),
      renderedPosition: (id) => {
        const el = this.cy && this.cy.getElementById(id);
        if (!el || el.empty()) return null;
        const p = el.renderedPosition();
        return [p.x, p.y];
      },
    };
  }

  // --------------------------------------------------------------------------- the DOM frame

  build() {
    const q = this.query;
    this.titleBox = h("div", { class: "lineage-title" }, h("h1", {}, "Lineage"));
    this.directionSelect = h(
      "select",
      { "data-testid": "lineage-direction", "aria-label": "Direction", onchange: () => this.changeQuery() },
      ...["upstream", "downstream", "both"].map((d) =>
        h("option", { value: d, selected: d === q.direction }, d === "both" ? "Both ways" : humanize(d)),
      ),
    );
    const depths = [...DEPTHS];
    if (q.depth && !depths.includes(q.depth)) depths.push(q.depth);
    depths.sort((a, b) => a - b);
    this.depthSelect = h(
      "select",
      { "data-testid": "lineage-depth", "aria-label": "Depth (hops)", onchange: () => this.changeQuery() },
      h("option", { value: "", selected: !q.depth }, "All hops"),
      ...depths.map((d) => h("option", { value: String(d), selected: d === q.depth }, `${d} ${plural("hop", d)}`)),
    );
    const budgets = [...BUDGETS];
    if (!budgets.includes(this.budget)) budgets.push(this.budget);
    budgets.sort((a, b) => a - b);
    this.budgetSelect = h(
      "select",
      {
        "data-testid": "lineage-budget",
        "aria-label": "Most nodes drawn",
        title: "Past this many nodes, the farthest and least connected fold into summaries",
        onchange: () => {
          this.budget = Number(this.budgetSelect.value);
          this.revealed = new Set(); // a new budget starts the folding over
          this.syncUrl();
          this.refresh({ fit: true });
        },
      },
      ...budgets.map((b) => h("option", { value: String(b), selected: b === this.budget }, `Show ${fmt(b)}`)),
    );
    this.searchInput = h("input", {
      type: "search",
      placeholder: "Find in the picture…",
      "aria-label": "Find in the picture",
      "data-testid": "lineage-search",
      autocomplete: "off",
    });
    const runSearch = debounce(() => this.runSearch(this.searchInput.value), 150);
    this.searchInput.addEventListener("input", runSearch);
    this.searchInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.runSearch(this.searchInput.value);
      }
    });
    this.searchCount = h("span", { class: "muted small", "data-testid": "lineage-search-count", "aria-live": "polite" });
    this.layoutSelect = h(
      "select",
      {
        "data-testid": "lineage-layout",
        "aria-label": "Layout",
        onchange: () => {
          this.layoutName = this.layoutSelect.value;
          this.refresh({ fit: true });
        },
      },
      h("option", { value: "columns" }, "Columns by hop"),
      h("option", { value: "elk" }, "ELK layered"),
    );
    const button = (label, testid, onclick, title) =>
      h("button", { type: "button", "data-testid": testid, onclick, title: title || null }, label);
    this.fitButton = button("Fit", "lineage-fit", () => this.fit(true), "Show the whole picture");
    this.pngButton = button("PNG", "lineage-png", () => this.downloadPng(), "Download the picture as PNG");
    this.svgButton = button("SVG", "lineage-svg", () => this.downloadSvg(), "Download the picture as SVG");

    this.typeFilter = h("div", { class: "lineage-types", "data-testid": "lineage-type-filter", role: "group", "aria-label": "Types shown" });
    this.countText = h("span", { class: "muted small", "data-testid": "lineage-count" });

    this.canvas = h("div", { class: "lineage-canvas", "data-testid": "lineage-canvas" });
    this.overlay = h("div", { class: "lineage-overlay", hidden: true });
    this.legend = this.buildLegend();
    this.pictureBox = h("div", { class: "lineage-picture" }, this.canvas, this.overlay);

    this.sidePanel = h("aside", { class: "lineage-side panel", "data-testid": "lineage-panel" });
    this.pathBox = h("div", { class: "lineage-pathbox" });
    this.pathList = h("ol", { class: "lineage-path-list", "data-testid": "lineage-path", "data-state": "none" });

    this.nodeList = h("ul", { "aria-label": "Nodes in the picture" });
    this.edgeList = h("ul", { "aria-label": "Edges in the picture" });
    this.a11y = h(
      "div",
      { class: "visually-hidden", "data-testid": "lineage-list" },
      h("h2", {}, "Nodes in the picture"),
      this.nodeList,
      h("h2", {}, "Edges in the picture"),
      this.edgeList,
    );

    this.tabPicture = h(
      "button",
      { type: "button", role: "tab", "data-testid": "lineage-tab-picture", "aria-selected": "true", onclick: () => this.showTab("picture") },
      "Picture",
    );
    this.tabTable = h(
      "button",
      { type: "button", role: "tab", "data-testid": "lineage-tab-table", "aria-selected": "false", onclick: () => this.showTab("table") },
      "Table",
    );
    this.tableBox = h("section", { class: "panel lineage-tablebox", hidden: true, role: "tabpanel" });
    this.pictureView = h(
      "div",
      { class: "lineage-body", role: "tabpanel" },
      h("div", { class: "lineage-stage panel" }, this.pictureBox, this.legend),
      this.sidePanel,
    );
    this.errorSlot = h("div", { class: "lineage-error" });
    this.noLibraries = this.libraries
      ? null
      : h(
          "div",
          { class: "notice", "data-testid": "lineage-no-libraries", role: "status" },
          "The interactive picture needs the portal's browser libraries, which are not installed here: run ",
          h("code", {}, "make setup"),
          ". Every node of the answer is listed in the table below.",
        );
    this.root_ = h(
      "section",
      { class: "lineage", "data-testid": "lineage", "data-state": "loading" },
      this.titleBox,
      h(
        "div",
        { class: "lineage-toolbar panel" },
        h(
          "div",
          { class: "row" },
          h("label", { class: "field" }, h("span", {}, "Direction"), this.directionSelect),
          h("label", { class: "field" }, h("span", {}, "Depth"), this.depthSelect),
          this.libraries ? h("label", { class: "field" }, h("span", {}, "Nodes"), this.budgetSelect) : null,
          this.libraries ? h("label", { class: "field" }, h("span", {}, "Layout"), this.layoutSelect) : null,
          this.libraries ? h("span", { class: "lineage-find" }, this.searchInput, this.searchCount) : null,
          h("span", { class: "spacer" }),
          this.libraries ? h("span", { class: "lineage-actions" }, this.fitButton, this.pngButton, this.svgButton) : null,
        ),
        h("div", { class: "row lineage-filterrow" }, h("span", { class: "muted small" }, "Types"), this.typeFilter, h("span", { class: "spacer" }), this.countText),
      ),
      this.noLibraries,
      this.errorSlot,
      this.libraries
        ? h("div", { class: "lineage-tabs", role: "tablist", "aria-label": "View" }, this.tabPicture, this.tabTable)
        : null,
      this.libraries ? this.pictureView : null,
      this.tableBox,
      this.a11y,
    );
    this.main.append(this.root_);
    if (!this.libraries) {
      this.tab = "table";
      this.tableBox.hidden = false;
    }
  }

  buildLegend() {
    const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `legend-mark ${cls}` }), text);
    return h(
      "div",
      { class: "lineage-legend small muted" },
      item("root", "the asset asked about"),
      item("deprecated", "deprecated"),
      item("unresolved", "unresolved reference (?)"),
      item("summary", "folded nodes: click to show"),
      h("span", { class: "legend-item" }, "Click: details · Shift-click two nodes: the path between · Double-click: one more hop"),
    );
  }

  setState(state) {
    this.root_.dataset.state = state;
  }

  // --------------------------------------------------------------------------- loading

  async start() {
    await this.load({ fit: true });
  }

  changeQuery() {
    this.query.direction = this.directionSelect.value;
    this.query.depth = this.depthSelect.value ? Number(this.depthSelect.value) : null;
    this.syncUrl();
    this.load({ fit: true });
  }

  syncUrl() {
    const params = new URLSearchParams();
    params.set("nodeId", this.query.nodeId);
    params.set("direction", this.query.direction);
    if (this.query.depth) params.set("depth", String(this.query.depth));
    if (this.budget !== DEFAULT_BUDGET) params.set("budget", String(this.budget));
    for (const t of this.query.types || []) params.append("type", t);
    if (this.query.asOf) params.set("asOf", this.query.asOf);
    history.replaceState(null, "", `/lineage?${params}`);
  }

  async fetchSide(nodeId, direction, depth) {
    return get("/api/v1/lineage", { nodeId, direction, depth, type: this.query.types, asOf: this.query.asOf });
  }

  async load({ fit }) {
    const token = ++this.loadToken;
    const q = this.query;
    const sides = q.direction === "both" ? ["upstream", "downstream"] : [q.direction];
    const asked = Promise.all(sides.map((side) => this.fetchSide(q.nodeId, side, q.depth)));
    this.setState("loading");
    this.overlay.hidden = false;
    this.overlay.replaceChildren(h("span", {}, "Loading lineage…"));
    if (this.libraries && !this.cy) this.createCy(); // while the answer is on its way
    let answers;
    try {
      answers = await asked;
    } catch (err) {
      if (token !== this.loadToken) return;
      this.overlay.hidden = true;
      this.errorSlot.replaceChildren(errorBox(err));
      this.setState("error");
      return;
    }
    if (token !== this.loadToken) return;
    this.errorSlot.replaceChildren();
    this.nodes = new Map();
    this.edges = new Map();
    this.revealed = new Set();
    this.path = null;
    this.pathEnds = { from: null, to: null };
    this.pathList.dataset.state = "none";
    this.root = answers[0].root;
    sides.forEach((side, i) => this.merge(answers[i], side, 0));
    this.selected = this.selected.filter((iri) => this.nodes.has(iri));
    if (!this.selected.length) this.selected = [this.root];
    this.countDegrees();
    this.renderTitle();
    this.renderTypeFilter();
    this.root_.dataset.direction = q.direction;
    this.root_.dataset.depth = q.depth ? String(q.depth) : "";
    this.overlay.hidden = true;
    await this.refresh({ fit, token });
    if (this.search) this.runSearch(this.search);
  }

  /** Merge one lineage answer walked from a node at signed distance `base`. */
  merge(answer, side, base) {
    const sign = side === "upstream" ? -1 : 1;
    const added = [];
    for (const [iri, name] of Object.entries(answer.ownerNames || {})) if (name) this.ownerNames.set(iri, name);
    for (const n of answer.graph || []) {
      const distance = base + sign * (n.distance || 0);
      const known = this.nodes.get(n.id);
      if (known) {
        // what the answer says of the node is fresher; where it sits stays
        Object.assign(known, {
          type: n.type || null,
          label: n.label || "",
          owners: n.owners || [],
          status: n.status || null,
          stage: n.stage || null,
          resolved: n.resolved !== false,
        });
      } else {
        this.nodes.set(n.id, {
          id: n.id,
          type: n.type || null,
          label: n.label || "",
          distance,
          owners: n.owners || [],
          status: n.status || null,
          stage: n.stage || null,
          resolved: n.resolved !== false,
          degree: 0,
        });
        added.push(n.id);
      }
      for (const e of [...(n.inEdges || []), ...(n.outEdges || [])]) {
        this.edges.set(edgeKey(e), { origin: e.origin, destination: e.destination, type: e.type, inferredBy: e.inferredBy || null });
      }
    }
    return added;
  }

  countDegrees() {
    for (const n of this.nodes.values()) n.degree = 0;
    for (const e of this.edges.values()) {
      const a = this.nodes.get(e.origin);
      const b = this.nodes.get(e.destination);
      if (a) a.degree += 1;
      if (b) b.degree += 1;
    }
  }

  renderTitle() {
    const root = this.nodes.get(this.root);
    const name = root ? root.label || shortId(root.id) : shortId(this.root || this.query.nodeId);
    setTitle(`Lineage · ${name}`);
    this.titleBox.replaceChildren(
      h(
        "div",
        { class: "row" },
        h("h1", {}, "Lineage of ", this.link(this.root, name, { "data-testid": "lineage-root" })),
        root ? badge("type", root.type) : null,
        root ? badge("status", root.status) : null,
        root ? badge("stage", root.stage) : null,
      ),
      h("p", { class: "muted small mono" }, shortId(this.root)),
      this.query.asOf ? asOfBanner(this.query.asOf, "the lineage as it stood then", withAsOf(location.pathname + location.search, "")) : null,
    );
  }

  renderTypeFilter() {
    const counts = new Map();
    for (const n of this.nodes.values()) {
      const key = n.type || "unresolved";
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    const types = [...counts.keys()].sort((a, b) => typeRank(a) - typeRank(b) || a.localeCompare(b));
    for (const t of [...this.hiddenTypes]) if (!counts.has(t)) this.hiddenTypes.delete(t);
    this.typeFilter.replaceChildren(
      ...types.map((t) => {
        const input = h("input", {
          type: "checkbox",
          checked: !this.hiddenTypes.has(t),
          "data-type": t,
          onchange: (event) => {
            if (event.target.checked) this.hiddenTypes.delete(t);
            else this.hiddenTypes.add(t);
            this.refresh({ fit: false });
          },
        });
        return h(
          "label",
          { class: "type-chip", title: t },
          input,
          h("span", { class: "swatch", style: `background:${this.colourOf(t)}` }),
          t === "unresolved" ? "Unresolved" : humanize(t),
          h("span", { class: "muted" }, ` ${fmt(counts.get(t))}`),
        );
      }),
    );
  }

  colourOf(type) {
    if (!type || type === "unresolved") return this.colours.off;
    return this.colours.types[typeKey(type)] || this.colours.fallback;
  }

  // --------------------------------------------------------------------------- what is shown

  /** The nodes drawn, the summaries standing for the others, and the edges between them. */
  computeView() {
    const candidates = [];
    for (const n of this.nodes.values()) {
      if (!this.hiddenTypes.has(n.type || "unresolved")) candidates.push(n);
    }
    // the root and the selection count in the budget; what the user asked to see (a summary
    // opened, a hop expanded, the path, search matches) comes on top of it
    const forced = new Set([this.root, ...this.selected]);
    const extra = new Set(this.revealed);
    if (this.path && this.path.nodes) for (const iri of this.path.nodes) extra.add(iri);
    for (const iri of this.matches) extra.add(iri);
    for (const iri of extra) forced.add(iri);
    const shown = new Set();
    const frontier = { upstream: 0, downstream: 0 };
    if (candidates.length <= this.budget) {
      for (const n of candidates) shown.add(n.id);
    } else {
      const ranked = candidates
        .filter((n) => !forced.has(n.id))
        .sort((a, b) => Math.abs(a.distance) - Math.abs(b.distance) || b.degree - a.degree || COLLATOR.compare(a.label, b.label));
      const room = Math.max(0, this.budget - candidates.filter((n) => forced.has(n.id) && !extra.has(n.id)).length);
      for (const n of candidates) if (forced.has(n.id)) shown.add(n.id);
      for (const n of ranked.slice(0, room)) {
        shown.add(n.id);
        const side = sideOf(n.distance);
        if (side !== "root") frontier[side] = Math.max(frontier[side], Math.abs(n.distance));
      }
    }
    const nodes = [];
    const groups = new Map();
    for (const n of candidates) {
      if (shown.has(n.id)) {
        nodes.push(n);
        continue;
      }
      const side = sideOf(n.distance);
      const far = Math.abs(n.distance) > frontier[side];
      const sign = n.distance < 0 ? -1 : 1;
      const key = far ? `${side}:beyond:${n.type || "unresolved"}` : `${n.distance}:${n.type || "unresolved"}`;
      let group = groups.get(key);
      if (!group) {
        group = {
          id: `summary:${key}`,
          type: n.type || "unresolved",
          distance: far ? sign * (frontier[side] + 1) : n.distance,
          far,
          members: [],
          min: Infinity,
          max: 0,
        };
        groups.set(key, group);
      }
      group.members.push(n.id);
      group.min = Math.min(group.min, Math.abs(n.distance));
      group.max = Math.max(group.max, Math.abs(n.distance));
    }
    const repOf = new Map();
    for (const n of nodes) repOf.set(n.id, n.id);
    for (const g of groups.values()) for (const m of g.members) repOf.set(m, g.id);
    const edges = [];
    const folded = new Map();
    for (const [key, e] of this.edges) {
      const a = repOf.get(e.origin);
      const b = repOf.get(e.destination);
      if (!a || !b) continue; // a type filtered out, or a node not in the answer
      if (a === e.origin && b === e.destination) {
        edges.push({ key, ...e, id: `e:${key}`, source: b, target: a });
      } else if (a !== b) {
        const id = `se:${a}\u0000${b}`;
        let f = folded.get(id);
        if (!f) {
          f = { id, key: null, source: b, target: a, origin: a, destination: b, type: e.type, kinds: new Set(), count: 0, summary: true };
          folded.set(id, f);
        }
        f.kinds.add(e.type);
        f.count += 1;
      }
    }
    for (const f of folded.values()) edges.push(f);
    this.view = { nodes, summaries: [...groups.values()], edges, groups, shownIds: shown };
    return this.view;
  }

  /** Positions: column = signed hop distance, rows ordered by barycenter sweeps. */
  computePositions(view) {
    const items = [...view.nodes.map((n) => ({ id: n.id, distance: n.distance, type: n.type, label: n.label || shortId(n.id), summary: false })),
      ...view.summaries.map((s) => ({ id: s.id, distance: s.distance, type: s.type, label: "\uffff", summary: true }))];
    const cols = new Map();
    for (const it of items) {
      if (!cols.has(it.distance)) cols.set(it.distance, []);
      cols.get(it.distance).push(it);
    }
    const neighbours = new Map(items.map((it) => [it.id, []]));
    const colOf = new Map(items.map((it) => [it.id, it.distance]));
    for (const e of view.edges) {
      if (neighbours.has(e.source) && neighbours.has(e.target)) {
        neighbours.get(e.source).push(e.target);
        neighbours.get(e.target).push(e.source);
      }
    }
    const y = new Map();
    const place = (list) => {
      const s = subColumns(list.length);
      const rows = Math.ceil(list.length / s);
      list.forEach((it, i) => y.set(it.id, (Math.floor(i / s) - (rows - 1) / 2) * ROW_H));
    };
    for (const list of cols.values()) {
      list.sort((a, b) => Number(a.summary) - Number(b.summary) || typeRank(a.type) - typeRank(b.type) || COLLATOR.compare(a.label, b.label));
      place(list);
    }
    const outward = [...cols.keys()].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
    const inward = [...outward].reverse();
    const sweeps = items.length > 3000 ? 2 : 4;
    for (let pass = 0; pass < sweeps; pass += 1) {
      const out = pass % 2 === 0;
      for (const d of out ? outward : inward) {
        if (d === 0) continue;
        const list = cols.get(d);
        if (list.length < 2) continue;
        const bary = new Map();
        for (const it of list) {
          const all = neighbours.get(it.id);
          let near = all.filter((o) => (out ? Math.abs(colOf.get(o)) < Math.abs(d) : Math.abs(colOf.get(o)) > Math.abs(d)));
          if (!near.length) near = all.filter((o) => colOf.get(o) !== d);
          bary.set(it.id, near.length ? near.reduce((sum, o) => sum + y.get(o), 0) / near.length : y.get(it.id));
        }
        list.sort((a, b) => bary.get(a.id) - bary.get(b.id) || y.get(a.id) - y.get(b.id));
        place(list);
      }
    }
    const keys = [...cols.keys()].sort((a, b) => a - b);
    const positions = new Map();
    let cursor = 0;
    let rootX = 0;
    for (const d of keys) {
      const list = cols.get(d);
      const s = subColumns(list.length);
      const width = s * SUB_W;
      if (d === 0) rootX = cursor + width / 2;
      list.forEach((it, i) => {
        positions.set(it.id, { x: cursor + SUB_W / 2 + (i % s) * SUB_W, y: y.get(it.id) + ((i % s) % 2 ? ROW_H / 4 : 0) });
      });
      cursor += width + GAP;
    }
    for (const p of positions.values()) p.x -= rootX;
    return positions;
  }

  // --------------------------------------------------------------------------- Cytoscape

  createCy() {
    const c = this.colours;
    this.cy = window.cytoscape({
      container: this.canvas,
      elements: [],
      layout: { name: "preset" },
      minZoom: 0.03,
      maxZoom: 3,
      textureOnViewport: false,
      boxSelectionEnabled: false,
      autounselectify: true,
      style: [
        {
          selector: "node",
          style: {
            shape: "round-rectangle",
            width: NODE_W,
            height: NODE_H,
            "background-color": "data(bg)",
            "border-color": "data(fg)",
            "border-width": 1.5,
            "text-wrap": "wrap",
            "text-max-width": NODE_W - 8,
            "text-valign": "center",
            "text-halign": "center",
            "font-size": 12,
            "line-height": 1.2,
            color: c.ink,
            "min-zoomed-font-size": 5,
            "text-events": "no",
          },
        },
        { selector: "node.named, node.summary, node.root", style: { label: "data(text)" } },
        { selector: "node.root", style: { "border-width": 3.5, "font-weight": "bold" } },
        { selector: "node.deprecated", style: { "border-color": c.bad, "border-style": "dashed", "border-width": 2.5 } },
        { selector: "node.retired", style: { opacity: 0.7, "border-style": "dotted" } },
        { selector: "node.unresolved", style: { "background-color": "#ffffff", "border-style": "dashed", "border-color": c.off, color: c.muted } },
        {
          selector: "node.summary",
          style: {
            shape: "round-rectangle",
            height: NODE_H + 12,
            "border-style": "dashed",
            "border-width": 2.5,
            "font-size": 13,
            "font-weight": "bold",
          },
        },
        { selector: "node.match", style: { "underlay-color": "#facc15", "underlay-padding": 7, "underlay-opacity": 0.75, "underlay-shape": "round-rectangle" } },
        { selector: "node.selected", style: { "overlay-color": c.accent, "overlay-padding": 5, "overlay-opacity": 0.18, "border-width": 3 } },
        { selector: "node.path", style: { "border-color": c.accent, "border-width": 3.5, "border-style": "solid" } },
        {
          selector: "edge",
          style: {
            width: 1.4,
            "curve-style": "straight",
            "line-color": "#a8b3c2",
            "target-arrow-color": "#a8b3c2",
            "target-arrow-shape": "triangle",
            "arrow-scale": 0.9,
            "font-size": 10,
            color: c.muted,
            "text-background-color": "#ffffff",
            "text-background-opacity": 0.85,
            "text-background-padding": 1.5,
            "min-zoomed-font-size": 6,
            "text-events": "no",
          },
        },
        { selector: "edge.named", style: { label: "data(label)" } },
        { selector: "edge.multi", style: { "curve-style": "bezier" } },
        { selector: "edge.haystack", style: { "curve-style": "haystack", "haystack-radius": 0 } },
        { selector: "edge.bow", style: { "curve-style": "unbundled-bezier", "control-point-distances": 60, "control-point-weights": 0.5 } },
        { selector: "edge.summary", style: { "line-style": "dashed", width: "data(width)" } },
        { selector: "edge.inferred", style: { "line-style": "dotted" } }, // concluded by a rule
        { selector: "edge.path", style: { width: 3.5, "line-color": c.accent, "target-arrow-color": c.accent, color: c.accent, "z-index": 10 } },
        { selector: ".faded", style: { opacity: 0.22 } },
      ],
    });
    const cy = this.cy;
    cy.on("tap", "node", (event) => {
      const node = event.target;
      this.taps = [this.taps ? this.taps[1] : null, node.id()];
      if (node.hasClass("summary")) {
        this.reveal(node.id());
        return;
      }
      const shift = Boolean(event.originalEvent && event.originalEvent.shiftKey);
      this.select(node.id(), shift);
    });
    cy.on("dbltap", "node", (event) => {
      // two quick clicks on two different nodes are not a double click
      const same = this.taps && this.taps[0] === this.taps[1];
      if (same && !event.target.hasClass("summary")) this.expand(event.target.id());
    });
    cy.on("tap", (event) => {
      if (event.target === cy) this.clearSelection();
    });
    cy.on("zoom", debounce(() => this.nameEdges(), 120));
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || this.tab !== "picture") return;
      if (event.target instanceof HTMLElement && event.target.closest("input, select, textarea, dialog")) return;
      if (this.path || this.pathEnds.from || this.pathEnds.to) this.clearPath();
      else this.clearSelection();
    });
  }

  /** Labels cost a text measure each, and are unreadable when zoomed far out: nodes and edges
   * get theirs (class `named`) only at a zoom where they can be read, small pictures always. */
  nameEdges() {
    const cy = this.cy;
    if (!cy) return;
    const zoom = cy.zoom();
    const nodes = cy.nodes();
    const edges = cy.edges();
    const wantNodes = nodes.length <= 60 || zoom >= 0.42;
    const wantEdges = edges.length <= 60 || (zoom >= 0.55 && edges.length <= 4000);
    const stale = (all, want) => all.some((e) => e.hasClass("named") !== want);
    if (wantNodes === this.nodesNamed && wantEdges === this.edgesNamed && !stale(nodes, wantNodes) && !stale(edges, wantEdges)) return;
    this.nodesNamed = wantNodes;
    this.edgesNamed = wantEdges;
    cy.batch(() => {
      if (wantNodes) nodes.addClass("named");
      else nodes.removeClass("named");
      if (wantEdges) edges.addClass("named");
      else edges.removeClass("named");
    });
  }

  elementsOf(view, positions) {
    const c = this.colours;
    const elements = [];
    for (const n of view.nodes) {
      const colour = this.colourOf(n.type);
      const name = n.label || shortId(n.id);
      const classes = [];
      if (n.id === this.root) classes.push("root");
      const status = typeKey(n.status);
      if (status === "deprecated") classes.push("deprecated");
      if (status === "retired") classes.push("retired");
      if (!n.resolved) classes.push("unresolved");
      const second = !n.resolved
        ? "unresolved"
        : [humanize(n.type || "asset"), status === "deprecated" ? "deprecated" : null].filter(Boolean).join(" · ");
      elements.push({
        group: "nodes",
        data: {
          id: n.id,
          text: `${n.resolved ? "" : "? "}${clip(name, 21)}\n${second}`,
          bg: n.resolved ? tint(colour, 0.86) : "#ffffff",
          fg: n.resolved ? colour : c.off,
        },
        position: { ...positions.get(n.id) },
        classes: [...classes, this.nodesNamed ? "named" : ""].join(" ").trim(),
      });
    }
    for (const s of view.summaries) {
      const colour = this.colourOf(s.type);
      const word = s.type === "unresolved" ? "unresolved" : humanize(s.type).toLowerCase();
      const hops = s.min === s.max ? `hop ${s.min}` : `hops ${s.min}–${s.max}`;
      elements.push({
        group: "nodes",
        data: {
          id: s.id,
          text: `+${fmt(s.members.length)} ${plural(word, s.members.length)}\n${hops} · click to show`,
          bg: tint(colour, 0.92),
          fg: colour,
        },
        position: { ...positions.get(s.id) },
        classes: "summary",
      });
    }
    const many = view.edges.length > 2500;
    const pairs = new Map();
    for (const e of view.edges) {
      const pair = e.source < e.target ? `${e.source}\u0000${e.target}` : `${e.target}\u0000${e.source}`;
      pairs.set(pair, (pairs.get(pair) || 0) + 1);
    }
    for (const e of view.edges) {
      const pair = e.source < e.target ? `${e.source}\u0000${e.target}` : `${e.target}\u0000${e.source}`;
      const multi = !many && pairs.get(pair) > 1;
      const a = positions.get(e.source);
      const b = positions.get(e.target);
      const bow = !many && a && b && Math.abs(a.x - b.x) < 1;
      const label = e.summary
        ? [...e.kinds].map(localName).slice(0, 2).join(", ") + (e.count > 1 ? ` ×${fmt(e.count)}` : "")
        : localName(e.type) + (e.inferredBy ? " (inferred)" : "");
      elements.push({
        group: "edges",
        data: { id: e.id, source: e.source, target: e.target, label, width: e.summary ? Math.min(6, 1.4 + Math.log2(e.count)) : 1.4 },
        classes: [e.summary ? "summary" : "", e.inferredBy ? "inferred" : "", many ? "haystack" : "", bow ? "bow" : multi ? "multi" : "", this.edgesNamed ? "named" : ""].join(" ").trim(),
      });
    }
    return elements;
  }

  /** Recompute what is shown and bring the picture, the DOM list and the table in step. */
  async refresh({ fit = false, anchor = null, focus = null, token = null } = {}) {
    const view = this.computeView();
    this.renderCount(view);
    this.renderList(view);
    if (this.tab === "table" || !this.libraries) this.renderTable();
    this.renderPanel();
    this.renderPath();
    if (this.libraries) {
      const positions = this.computePositions(view);
      await this.draw(view, positions, { fit, anchor, focus });
    }
    if (token !== null && token !== this.loadToken) return;
    this.setState("ready");
  }

  async draw(view, positions, { fit, anchor, focus }) {
    const cy = this.cy;
    const elements = this.elementsOf(view, positions);
    const wanted = new Set(elements.map((e) => e.data.id));
    const total = view.nodes.length + view.summaries.length;
    const animate = !fit && total <= ANIMATE_LIMIT && cy.nodes().length > 0;
    const start = anchor && cy.getElementById(anchor).nonempty() ? { ...cy.getElementById(anchor).position() } : null;
    const moves = [];
    cy.batch(() => {
      cy.elements().filter((el) => !wanted.has(el.id())).remove();
      const fresh = [];
      for (const e of elements) {
        const el = cy.getElementById(e.data.id);
        if (el.nonempty()) {
          el.data(e.data);
          el.classes(e.classes);
          if (e.group === "nodes") {
            if (animate) moves.push([el, e.position]);
            else el.position(e.position);
          }
        } else {
          if (e.group === "nodes" && animate && start) {
            moves.push([e.data.id, e.position]);
            fresh.push({ ...e, position: { ...start } });
          } else {
            fresh.push(e);
          }
        }
      }
      cy.add(fresh);
    });
    this.applyClasses();
    this.layoutSelect.options[1].disabled = total > ELK_LIMIT || !this.libraries;
    this.layoutSelect.title = total > ELK_LIMIT ? `ELK lays out pictures of up to ${ELK_LIMIT} nodes` : "";
    if (this.layoutName === "elk" && !this.layoutSelect.options[1].disabled) {
      await this.runElk();
      return;
    }
    if (animate && moves.length) {
      const byId = new Map(moves.map(([el, p]) => [typeof el === "string" ? el : el.id(), p]));
      const layout = cy.layout({
        name: "preset",
        positions: (node) => byId.get(node.id()) || node.position(),
        animate: true,
        animationDuration: 320,
        fit: false,
      });
      const done = layout.promiseOn("layoutstop");
      layout.run();
      await done;
    }
    if (fit) this.fit(false);
    else if (focus) await this.bringIntoView(focus);
    this.nameEdges();
    await nextFrame();
  }

  async runElk() {
    // ELK (1.6 MB) loads when first asked for, not with every picture
    await loadLibrary("elk.bundled.js");
    await loadLibrary("cytoscape-elk.js");
    const layout = this.cy.layout({
      name: "elk",
      fit: true,
      padding: 30,
      nodeDimensionsIncludeLabels: false,
      elk: {
        algorithm: "layered",
        "elk.direction": "RIGHT",
        "elk.spacing.nodeNode": 22,
        "elk.layered.spacing.nodeNodeBetweenLayers": 90,
        "elk.edgeRouting": "POLYLINE",
      },
    });
    const done = layout.promiseOn("layoutstop");
    layout.run();
    await done;
    this.fit(false);
    this.nameEdges();
  }

  /** The viewport that shows `nodes` (every node when null), computed from the positions (a
   * bounding box of the elements would measure every label first: slow at hundreds). */
  viewportFor(nodes = null, maxZoom = 1.4) {
    const cy = this.cy;
    let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
    (nodes || cy.nodes()).forEach((n) => {
      const p = n.position();
      x1 = Math.min(x1, p.x - NODE_W / 2);
      x2 = Math.max(x2, p.x + NODE_W / 2);
      y1 = Math.min(y1, p.y - NODE_H / 2);
      y2 = Math.max(y2, p.y + NODE_H / 2);
    });
    if (!Number.isFinite(x1)) return null;
    const pad = 30;
    const width = Math.max(cy.width(), 50);
    const height = Math.max(cy.height(), 50);
    const fitted = Math.min((width - 2 * pad) / (x2 - x1), (height - 2 * pad) / (y2 - y1));
    const zoom = Math.min(maxZoom, Math.max(cy.minZoom(), fitted));
    return { zoom, pan: { x: width / 2 - (zoom * (x1 + x2)) / 2, y: height / 2 - (zoom * (y1 + y2)) / 2 } };
  }

  fit(animated) {
    const cy = this.cy;
    if (!cy) return;
    cy.resize();
    const view = this.viewportFor();
    if (!view) return;
    if (animated) cy.animate(view, { duration: 250 });
    else cy.viewport(view);
  }

  /** Pan (and zoom out if need be, never in) so that `ids` are all on screen. */
  async bringIntoView(ids) {
    const cy = this.cy;
    const nodes = cy.collection(ids.map((id) => cy.getElementById(id)).filter((n) => n.nonempty()));
    if (nodes.empty()) return;
    const ext = cy.extent();
    const inside = nodes.every((n) => {
      const p = n.position();
      return p.x - NODE_W / 2 >= ext.x1 && p.x + NODE_W / 2 <= ext.x2 && p.y - NODE_H / 2 >= ext.y1 && p.y + NODE_H / 2 <= ext.y2;
    });
    if (inside) return;
    const view = this.viewportFor(nodes, cy.zoom());
    if (!view) return;
    if (nodes.length > ANIMATE_LIMIT) {
      cy.viewport(view);
      return;
    }
    await cy.animation(view, { duration: 250 }).play().promise();
  }

  /** Selection, search matches and the path as classes (no rebuild). */
  applyClasses() {
    if (!this.cy) return;
    const cy = this.cy;
    const onPath = this.path && this.path.nodes ? new Set(this.path.nodes) : null;
    const pathEdges = this.path && this.path.edges ? this.path.edges : null;
    cy.batch(() => {
      cy.elements(".match, .selected, .path, .faded").removeClass("match selected path faded");
      for (const iri of this.selected) cy.getElementById(iri).addClass("selected");
      for (const iri of this.matches) cy.getElementById(iri).addClass("match");
      if (onPath) {
        cy.nodes().forEach((n) => {
          if (onPath.has(n.id())) n.addClass("path");
          else n.addClass("faded");
        });
        cy.edges().forEach((e) => {
          if (pathEdges.has(e.id().slice(2))) e.addClass("path");
          else e.addClass("faded");
        });
      }
    });
  }

  // --------------------------------------------------------------------------- the DOM in step

  renderCount(view) {
    const total = this.nodes.size;
    const filtered = [...this.nodes.values()].filter((n) => this.hiddenTypes.has(n.type || "unresolved")).length;
    const folded = view.summaries.reduce((sum, s) => sum + s.members.length, 0);
    const parts = [`${fmt(view.nodes.length)} of ${fmt(total)} ${plural("node", total)} shown`];
    if (folded) parts.push(`${fmt(folded)} folded into ${fmt(view.summaries.length)} ${plural("summary", view.summaries.length).replace(/ys$/, "ies")}`);
    if (filtered) parts.push(`${fmt(filtered)} hidden by type`);
    parts.push(`${fmt(this.edges.size)} ${plural("edge", this.edges.size)}`);
    this.countText.textContent = parts.join(" · ");
  }

  renderList(view) {
    const onPath = this.path && this.path.nodes ? new Set(this.path.nodes) : new Set();
    const items = view.nodes.map((n) =>
      h(
        "li",
        {
          "data-testid": "lineage-node",
          "data-asset-id": n.id,
          "data-type": n.type || "",
          "data-distance": String(n.distance),
          "data-status": n.status || "",
          "data-resolved": n.resolved ? "true" : "false",
          "data-match": this.matches.has(n.id) ? "true" : null,
          "data-path": onPath.has(n.id) ? "true" : null,
          "data-selected": this.selected.includes(n.id) ? "true" : null,
        },
        `${n.label || shortId(n.id)} (${n.type ? localName(n.type) : "unresolved"}, ${n.distance})`,
      ),
    );
    for (const s of view.summaries) {
      items.push(
        h(
          "li",
          { "data-testid": "lineage-summary", "data-summary-id": s.id, "data-type": s.type, "data-distance": String(s.distance), "data-count": String(s.members.length) },
          `${fmt(s.members.length)} more ${plural(humanize(s.type).toLowerCase(), s.members.length)} folded (${hopText(s.distance)})`,
        ),
      );
    }
    this.nodeList.replaceChildren(...items);
    const shown = new Set(view.nodes.map((n) => n.id));
    const edges = [];
    for (const e of view.edges) {
      if (e.summary || !shown.has(e.origin) || !shown.has(e.destination)) continue;
      edges.push(
        h(
          "li",
          {
            "data-testid": "lineage-edge",
            "data-source": e.origin,
            "data-target": e.destination,
            "data-kind": e.type,
            "data-inferred-by": e.inferredBy || null,
            "data-path": this.path && this.path.edges && this.path.edges.has(e.key) ? "true" : null,
          },
          localName(e.type) + (e.inferredBy ? ` (inferred by ${e.inferredBy})` : ""),
        ),
      );
    }
    this.edgeList.replaceChildren(...edges);
  }

  /** The attributes that follow selection, search and path, without rebuilding the list. */
  updateListMarks() {
    const onPath = this.path && this.path.nodes ? new Set(this.path.nodes) : new Set();
    for (const li of this.nodeList.children) {
      const iri = li.dataset.assetId;
      if (!iri) continue;
      const mark = (name, on) => {
        if (on) li.setAttribute(name, "true");
        else li.removeAttribute(name);
      };
      mark("data-match", this.matches.has(iri));
      mark("data-path", onPath.has(iri));
      mark("data-selected", this.selected.includes(iri));
    }
    for (const li of this.edgeList.children) {
      const key = edgeKey({ origin: li.dataset.source, destination: li.dataset.target, type: li.dataset.kind });
      if (this.path && this.path.edges && this.path.edges.has(key)) li.setAttribute("data-path", "true");
      else li.removeAttribute("data-path");
    }
  }

  // --------------------------------------------------------------------------- interaction

  select(iri, additive = false) {
    if (!this.nodes.has(iri)) return;
    if (additive && this.selected.length && !this.selected.includes(iri)) {
      this.selected = [this.selected[this.selected.length - 1], iri];
      this.pathEnds = { from: this.selected[0], to: iri };
      this.findPath();
    } else {
      this.selected = [iri];
    }
    this.applyClasses();
    this.updateListMarks();
    this.renderPanel();
    this.renderPath();
  }

  clearSelection() {
    this.selected = [];
    this.applyClasses();
    this.updateListMarks();
    this.renderPanel();
  }

  async reveal(summaryId) {
    const group = [...this.view.summaries].find((s) => s.id === summaryId);
    if (!group) return;
    this.setState("loading");
    const members = group.members
      .map((iri) => this.nodes.get(iri))
      .sort((a, b) => Math.abs(a.distance) - Math.abs(b.distance) || b.degree - a.degree || COLLATOR.compare(a.label, b.label));
    const chunk = Math.max(50, this.budget);
    const shown = members.slice(0, chunk).map((n) => n.id);
    for (const iri of shown) this.revealed.add(iri);
    await this.refresh({ fit: false, anchor: summaryId, focus: shown });
  }

  /** One more hop from `iri`, on its side of the root (both sides for the root), merged in. */
  async expand(iri) {
    const node = this.nodes.get(iri);
    if (!node) return;
    this.setState("loading");
    const sides = node.distance < 0 ? ["upstream"] : node.distance > 0 ? ["downstream"] : this.query.direction === "both" ? ["upstream", "downstream"] : [this.query.direction];
    let answers;
    try {
      answers = await Promise.all(sides.map((side) => this.fetchSide(iri, side, 1)));
    } catch (err) {
      this.setState("ready");
      this.sidePanel.append(errorBox(err));
      return;
    }
    const added = [];
    sides.forEach((side, i) => added.push(...this.merge(answers[i], side, node.distance)));
    for (const a of added) this.revealed.add(a);
    this.revealed.add(iri);
    node.expanded = true;
    this.countDegrees();
    this.renderTypeFilter();
    this.lastExpanded = { iri, added };
    await this.refresh({ fit: false, anchor: iri, focus: [iri, ...added] });
  }

  setPathEnd(which, iri) {
    this.pathEnds[which] = iri;
    if (this.pathEnds.from && this.pathEnds.to) this.findPath();
    else this.renderPath();
  }

  clearPath() {
    this.pathEnds = { from: null, to: null };
    this.path = null;
    this.pathList.dataset.state = "none";
    this.refresh({ fit: false });
  }

  async findPath() {
    const { from, to } = this.pathEnds;
    if (!from || !to) return;
    if (from === to) {
      this.path = { none: true, reason: "Pick two different assets." };
      this.pathList.dataset.state = "none";
      this.renderPath();
      return;
    }
    this.pathList.dataset.state = "loading";
    this.renderPath();
    let answer;
    try {
      answer = await get("/api/v1/path", { from, to, asOf: this.query.asOf });
    } catch (err) {
      this.path = { none: true, reason: err.message };
      this.pathList.dataset.state = "error";
      this.renderPath();
      return;
    }
    if (this.pathEnds.from !== from || this.pathEnds.to !== to) return;
    const paths = answer.paths || [];
    if (!paths.length) {
      this.path = { none: true, reason: "No lineage path joins these two assets." };
      this.pathList.dataset.state = "empty";
      this.applyClasses();
      this.updateListMarks();
      this.renderPath();
      return;
    }
    // each path walked from `from` to `to`, whichever way its edges point: a node's step is
    // its place along the path (the same on every shortest path), `from` first, `to` last
    const step = new Map();
    const edges = new Set();
    for (const path of paths) {
      const ordered = answer.direction === "downstream" ? [...path].reverse() : path;
      ordered.forEach((e, i) => {
        edges.add(edgeKey(e));
        const [near, far] = answer.direction === "downstream" ? [e.destination, e.origin] : [e.origin, e.destination];
        if (!step.has(near)) step.set(near, i);
        if (!step.has(far)) step.set(far, i + 1);
      });
    }
    const nodes = [...step.keys()].sort((a, b) => step.get(a) - step.get(b));
    this.pathSteps = step;
    this.path = {
      nodes,
      edges,
      direction: answer.direction,
      length: answer.length,
      count: paths.length,
      missing: nodes.filter((iri) => !this.nodes.has(iri)),
    };
    for (const iri of nodes) if (this.nodes.has(iri)) this.revealed.add(iri);
    await this.refresh({ fit: false });
    this.pathList.dataset.state = "found";
    if (this.cy) {
      const eles = this.cy.nodes(".path");
      if (eles.nonempty()) this.cy.animate({ fit: { eles, padding: 60 } }, { duration: 250 });
    }
  }

  runSearch(text) {
    this.search = text.trim();
    const words = this.search.toLowerCase();
    const before = this.matches;
    this.matches = new Set();
    if (words) {
      for (const n of this.nodes.values()) {
        if (this.hiddenTypes.has(n.type || "unresolved")) continue;
        if ((n.label || "").toLowerCase().includes(words) || shortId(n.id).toLowerCase().includes(words)) {
          this.matches.add(n.id);
          if (this.matches.size >= SEARCH_REVEAL) break;
        }
      }
    }
    const needsReveal = [...this.matches].some((iri) => !this.view.shownIds.has(iri));
    const changed = before.size !== this.matches.size || [...this.matches].some((iri) => !before.has(iri));
    this.searchCount.textContent = !words
      ? ""
      : this.matches.size
        ? `${this.matches.size}${this.matches.size >= SEARCH_REVEAL ? "+" : ""} ${plural("match", this.matches.size).replace(/chs$/, "ches")}`
        : "no match";
    const centre = () => {
      if (!this.cy || !this.matches.size) return;
      const eles = this.cy.collection([...this.matches].map((iri) => this.cy.getElementById(iri)).filter((e) => e.nonempty()));
      if (eles.empty()) return;
      if (eles.length === 1) this.cy.animate({ center: { eles }, zoom: Math.max(this.cy.zoom(), 1) }, { duration: 250 });
      else this.cy.animate({ fit: { eles, padding: 80 } }, { duration: 250 });
    };
    if (needsReveal) {
      this.refresh({ fit: false }).then(centre);
    } else if (changed || words) {
      this.applyClasses();
      this.updateListMarks();
      this.root_.dataset.search = this.search;
      centre();
    }
    this.root_.dataset.search = this.search;
  }

  showTab(tab) {
    this.tab = tab;
    this.tabPicture.setAttribute("aria-selected", String(tab === "picture"));
    this.tabTable.setAttribute("aria-selected", String(tab === "table"));
    this.pictureView.hidden = tab !== "picture";
    this.tableBox.hidden = tab !== "table";
    if (tab === "table") this.renderTable();
    else if (this.cy) {
      this.cy.resize();
      this.fit(false);
    }
  }

  // --------------------------------------------------------------------------- side panel

  renderPanel() {
    const iri = this.selected[this.selected.length - 1];
    const node = iri && this.nodes.get(iri);
    if (!node) {
      this.sidePanel.replaceChildren(
        h("h2", {}, "Details"),
        h("p", { class: "muted" }, "Click a node to see its details here."),
        this.pathBox,
      );
      return;
    }
    const name = node.label || shortId(node.id);
    const open = this.link(node.id, "Open asset page", { class: "button primary", "data-testid": "lineage-open" });
    const reroot = h(
      "a",
      { class: "button", href: withAsOf(`/lineage?${new URLSearchParams({ nodeId: node.id, direction: this.query.direction })}`, this.query.asOf), "data-testid": "lineage-reroot" },
      "Lineage from here",
    );
    const inPicture = this.view.shownIds && this.view.shownIds.has(node.id);
    const ins = [...this.edges.values()].filter((e) => e.destination === node.id).length;
    const outs = [...this.edges.values()].filter((e) => e.origin === node.id).length;
    this.fieldsBox = h("div", { class: "lineage-fields-box" });
    this.descBox = h("div", { class: "lineage-desc" });
    this.sidePanel.replaceChildren(
      h("p", { class: "muted small eyebrow" }, node.id === this.root ? "The asset asked about" : hopText(node.distance)),
      h("h2", { "data-testid": "lineage-panel-title", "data-asset-id": node.id }, name),
      h(
        "div",
        { class: "row badges" },
        badge("type", node.type),
        badge("status", node.status),
        badge("stage", node.stage),
        node.resolved ? null : h("span", { class: "badge unresolved" }, "Unresolved"),
      ),
      node.resolved ? this.descBox : h("p", { class: "muted small" }, "Referenced by an edge, not loaded (yet): nothing is known of it but its IRI."),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Id"),
        h("dd", { class: "mono" }, shortId(node.id)),
        h("dt", {}, "Owners"),
        h("dd", {}, node.owners.length ? node.owners.map((o, i) => [i ? ", " : "", this.ownerLink(o)]) : h("span", { class: "muted" }, "none")),
        h("dt", {}, "Edges"),
        h("dd", {}, `${fmt(outs)} depends on · ${fmt(ins)} used by (in this answer)`),
        inPicture ? null : h("dt", {}, "In the picture"),
        inPicture ? null : h("dd", { class: "muted" }, "hidden (type filter or folded)"),
      ),
      h(
        "div",
        { class: "row actions" },
        node.resolved ? open : null,
        h("button", { type: "button", "data-testid": "lineage-expand", onclick: () => this.expand(node.id), title: "Fetch one more hop of this node's lineage" }, node.expanded ? "Expand again" : "Expand one hop"),
        node.id === this.root ? null : reroot,
      ),
      h(
        "div",
        { class: "row actions" },
        h("button", { type: "button", "data-testid": "lineage-path-from", onclick: () => this.setPathEnd("from", node.id) }, "Path from here"),
        h("button", { type: "button", "data-testid": "lineage-path-to", onclick: () => this.setPathEnd("to", node.id) }, "Path to here"),
      ),
      this.pathBox,
      this.fieldsBox,
    );
    if (node.resolved) this.loadDetails(node);
  }

  async loadDetails(node) {
    const box = this.fieldsBox;
    const desc = this.descBox;
    let asset = this.assetCache.get(node.id);
    if (!asset) {
      const local = shortId(node.id);
      const id = local !== node.id && !local.includes(":") ? local : node.id;
      try {
        asset = await get(`/api/v1/assets/${id.split("/").map(encodeURIComponent).join("/")}`, { asOf: this.query.asOf });
      } catch {
        return; // the details are a bonus: the picture stands without them
      }
      this.assetCache.set(node.id, asset);
    }
    if (box !== this.fieldsBox) return; // another node got selected meanwhile
    if (asset.description) desc.replaceChildren(h("p", { class: "description" }, asset.description));
    const parts = [];
    const fields = Array.isArray(asset.fields) ? asset.fields : [];
    const withLineage = fields.filter((f) => Array.isArray(f.upstream) && f.upstream.length);
    if (fields.length) {
      parts.push(
        h("h3", {}, withLineage.length ? "Column lineage" : "Fields"),
        h(
          "table",
          { class: "table small", "data-testid": "lineage-fields" },
          h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "From"))),
          h(
            "tbody",
            {},
            ...fields.map((f) =>
              h(
                "tr",
                { "data-testid": "lineage-field", "data-field": f.name || "" },
                h("td", {}, h("span", { class: "mono" }, f.name || localName(f.id || "")), f.type ? h("span", { class: "muted small" }, ` ${f.type}`) : null),
                h(
                  "td",
                  {},
                  (f.upstream || []).length
                    ? (f.upstream || []).map((u, i) => [i ? h("br") : null, this.fieldRef(u)])
                    : h("span", { class: "muted" }, "—"),
                ),
              ),
            ),
          ),
        ),
      );
    }
    box.replaceChildren(...parts);
  }

  /** An upstream field `<dataset>/field/<name>`: the dataset (linked) and the field's name. */
  fieldRef(iri) {
    const cut = iri.lastIndexOf("/field/");
    if (cut < 0) return h("span", { class: "mono", "data-upstream": iri }, shortId(iri));
    const dataset = iri.slice(0, cut);
    const field = decodeURIComponent(iri.slice(cut + 7));
    const node = this.nodes.get(dataset);
    return h(
      "span",
      { class: "field-ref", "data-upstream": iri },
      this.link(dataset, node && node.label ? node.label : shortId(dataset)),
      ".",
      h("span", { class: "mono" }, field),
    );
  }

  renderPath() {
    const ends = this.pathEnds;
    const chip = (iri) => (iri ? h("span", { class: "tag" }, clip((this.nodes.get(iri) || {}).label || shortId(iri), 30)) : h("span", { class: "muted" }, "—"));
    const parts = [h("h3", {}, "Path")];
    if (!ends.from && !ends.to && !this.path) {
      parts.push(h("p", { class: "muted small" }, "Shift-click a second node, or use “Path from here” and “Path to here”, to light up the lineage path between two assets."));
    } else {
      parts.push(
        h(
          "dl",
          { class: "facts path-ends" },
          h("dt", {}, "From"),
          h("dd", {}, chip(ends.from)),
          h("dt", {}, "To"),
          h("dd", {}, chip(ends.to)),
        ),
        h("p", { class: "small" }, h("button", { type: "button", class: "link", "data-testid": "lineage-path-clear", onclick: () => this.clearPath() }, "Clear the path")),
      );
    }
    if (this.path && this.path.none) parts.push(h("p", { class: "muted small", "data-testid": "lineage-path-none" }, this.path.reason));
    if (this.path && this.path.nodes) {
      const { length, count, direction, missing } = this.path;
      parts.push(
        h("p", { class: "small muted" }, `${fmt(length)} ${plural("hop", length)} ${direction || ""}, ${count} shortest ${plural("path", count)}`),
      );
      if (missing.length) parts.push(h("p", { class: "small muted" }, `${missing.length} of its assets are outside this answer (listed, not drawn).`));
    }
    const items = this.path && this.path.nodes
      ? this.path.nodes.map((iri) => {
          const n = this.nodes.get(iri);
          return h("li", { "data-asset-id": iri, "data-step": String(this.pathSteps.get(iri)) }, this.link(iri, n && n.label ? n.label : shortId(iri)));
        })
      : [];
    this.pathList.replaceChildren(...items);
    parts.push(this.pathList);
    this.pathBox.replaceChildren(...parts);
  }

  // --------------------------------------------------------------------------- the table

  /** A link to an asset's page; on a lineage as of a moment, to its page as of then. */
  link(iri, label, attrs = {}) {
    const link = assetLink(iri, label, attrs);
    if (this.query.asOf) link.setAttribute("href", withAsOf(link.getAttribute("href"), this.query.asOf));
    return link;
  }

  /** A link to an owner's page, by the name the lineage answers gave it. */
  ownerLink(owner) {
    return this.link(owner, this.ownerNames.get(owner) || localName(owner), { "data-testid": "lineage-owner" });
  }

  renderTable() {
    const t = this.table;
    const columns = [
      { key: "label", label: "Name" },
      { key: "type", label: "Type" },
      { key: "distance", label: "Hops" },
      { key: "owners", label: "Owners" },
      { key: "status", label: "Status" },
      { key: "stage", label: "Stage" },
    ];
    const filter = t.filter.trim().toLowerCase();
    let rows = [...this.nodes.values()];
    if (filter) {
      rows = rows.filter((n) =>
        [n.label, shortId(n.id), n.type, n.status, ...(n.owners || []).flatMap((o) => [shortId(o), this.ownerNames.get(o)])].some((v) => v && String(v).toLowerCase().includes(filter)),
      );
    }
    const value = (n, key) => {
      if (key === "label") return (n.label || shortId(n.id)).toLowerCase();
      if (key === "owners") return (n.owners || []).map((o) => this.ownerNames.get(o) || shortId(o)).join(", ");
      if (key === "distance") return n.distance;
      return n[key] ? localName(n[key]) : "";
    };
    rows.sort((a, b) => {
      const x = value(a, t.key);
      const y = value(b, t.key);
      let c = typeof x === "number" ? x - y : COLLATOR.compare(String(x), String(y));
      if (c === 0) c = COLLATOR.compare(a.label || a.id, b.label || b.id);
      return t.up ? c : -c;
    });
    const heads = columns.map((c) =>
      h(
        "th",
        { scope: "col", "aria-sort": t.key === c.key ? (t.up ? "ascending" : "descending") : null },
        h(
          "button",
          {
            type: "button",
            class: "sort",
            "data-testid": `lineage-sort-${c.key}`,
            onclick: () => {
              this.table.up = this.table.key === c.key ? !this.table.up : true;
              this.table.key = c.key;
              this.renderTable();
            },
          },
          c.label,
        ),
      ),
    );
    const shown = rows.slice(0, t.shown);
    const body = h(
      "tbody",
      {},
      ...shown.map((n) =>
        h(
          "tr",
          { "data-testid": "lineage-row", "data-asset-id": n.id },
          h("td", {}, n.resolved ? this.link(n.id, n.label || shortId(n.id)) : h("span", {}, "? ", shortId(n.id)), h("div", { class: "muted small mono" }, shortId(n.id))),
          h("td", {}, n.type ? badge("type", n.type) : h("span", { class: "badge unresolved" }, "Unresolved")),
          h("td", { class: "num", title: hopText(n.distance) }, n.distance === 0 ? "0 (root)" : `${n.distance < 0 ? "↑" : "↓"} ${Math.abs(n.distance)}`),
          h("td", {}, (n.owners || []).map((o, i) => [i ? ", " : "", this.ownerLink(o)])),
          h("td", {}, badge("status", n.status)),
          h("td", {}, badge("stage", n.stage)),
        ),
      ),
    );
    const table = h("table", { class: "table lineage-table", "data-testid": "lineage-table", "data-rows": String(rows.length) }, h("thead", {}, h("tr", {}, ...heads)), body);
    if (!this.tableFilter) {
      this.tableFilter = h("input", {
        type: "search",
        placeholder: "Filter the table…",
        "aria-label": "Filter the table",
        "data-testid": "lineage-table-search",
        autocomplete: "off",
      });
      this.tableFilter.addEventListener(
        "input",
        debounce(() => {
          this.table.filter = this.tableFilter.value;
          this.table.shown = TABLE_PAGE;
          this.renderTable();
        }, 120),
      );
    }
    const more = rows.length > shown.length
      ? h(
          "button",
          {
            type: "button",
            "data-testid": "lineage-table-more",
            onclick: () => {
              this.table.shown += TABLE_PAGE * 5;
              this.renderTable();
            },
          },
          `Show ${fmt(Math.min(TABLE_PAGE * 5, rows.length - shown.length))} more (${fmt(rows.length - shown.length)} not shown)`,
        )
      : null;
    const csvButton = h("button", { type: "button", "data-testid": "lineage-table-csv", onclick: () => this.downloadCsv(rows) }, "CSV");
    this.tableBox.replaceChildren(
      h(
        "div",
        { class: "row" },
        h("h2", {}, "Every node of the answer"),
        h("span", { class: "muted small", "data-testid": "lineage-table-count" }, `${fmt(rows.length)} of ${fmt(this.nodes.size)}`),
        h("span", { class: "spacer" }),
        this.tableFilter,
        csvButton,
      ),
      h("div", { class: "lineage-tablewrap" }, table),
      more ? h("p", {}, more) : null,
    );
  }

  downloadCsv(rows) {
    const cell = (v) => {
      const text = v === null || v === undefined ? "" : String(v);
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const lines = [["id", "name", "type", "distance", "owners", "status", "stage", "resolved"]];
    for (const n of rows) lines.push([n.id, n.label, n.type, n.distance, (n.owners || []).join(" "), n.status, n.stage, n.resolved]);
    download(`${this.fileStem()}.csv`, "text/csv", lines.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n");
  }

  // --------------------------------------------------------------------------- downloads

  fileStem() {
    const local = shortId(this.root || this.query.nodeId).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-|-$/g, "");
    return `lineage-${local || "asset"}-${this.query.direction}`;
  }

  downloadPng() {
    if (!this.cy) return;
    const blob = this.cy.png({ output: "blob", bg: "#ffffff", full: true, scale: 2, maxWidth: 8000, maxHeight: 8000 });
    download(`${this.fileStem()}.png`, "image/png", blob);
  }

  /** An SVG drawn from the picture's positions: rounded boxes, straight edges, the labels. */
  svgText() {
    const cy = this.cy;
    const NS = "http://www.w3.org/2000/svg";
    const el = (tag, attrs = {}, text = null) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
      if (text !== null) node.textContent = text;
      return node;
    };
    const box = cy.elements().boundingBox();
    const pad = 24;
    const svg = el("svg", {
      xmlns: NS,
      width: Math.ceil(box.w + 2 * pad),
      height: Math.ceil(box.h + 2 * pad),
      viewBox: `${box.x1 - pad} ${box.y1 - pad} ${box.w + 2 * pad} ${box.h + 2 * pad}`,
      "font-family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
    });
    svg.append(el("title", {}, `Lineage of ${shortId(this.root)} (${this.query.direction})`));
    const defs = el("defs");
    for (const [id, colour] of [["arrow", "#a8b3c2"], ["arrow-path", this.colours.accent]]) {
      const marker = el("marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: colour }));
      defs.append(marker);
    }
    svg.append(defs);
    svg.append(el("rect", { x: box.x1 - pad, y: box.y1 - pad, width: box.w + 2 * pad, height: box.h + 2 * pad, fill: "#ffffff" }));
    const edges = el("g", { class: "edges" });
    cy.edges().forEach((e) => {
      const s = e.sourceEndpoint();
      const t = e.targetEndpoint();
      const onPath = e.hasClass("path");
      const colour = onPath ? this.colours.accent : "#a8b3c2";
      const g = el("g", { opacity: e.hasClass("faded") ? 0.25 : null, "data-kind": e.data("label") });
      g.append(
        el("line", {
          x1: s.x.toFixed(1),
          y1: s.y.toFixed(1),
          x2: t.x.toFixed(1),
          y2: t.y.toFixed(1),
          stroke: colour,
          "stroke-width": onPath ? 3 : 1.4,
          "stroke-dasharray": e.hasClass("summary") ? "5 4" : null,
          "marker-end": `url(#${onPath ? "arrow-path" : "arrow"})`,
        }),
      );
      if (e.data("label")) {
        g.append(el("text", { x: ((s.x + t.x) / 2).toFixed(1), y: ((s.y + t.y) / 2 - 3).toFixed(1), "font-size": 9, fill: this.colours.muted, "text-anchor": "middle" }, e.data("label")));
      }
      edges.append(g);
    });
    svg.append(edges);
    const nodes = el("g", { class: "nodes" });
    cy.nodes().forEach((n) => {
      const p = n.position();
      const w = n.width();
      const ht = n.height();
      const unresolved = n.hasClass("unresolved");
      const deprecated = n.hasClass("deprecated");
      const g = el("g", { opacity: n.hasClass("faded") ? 0.25 : null, "data-id": n.id() });
      g.append(
        el("rect", {
          x: (p.x - w / 2).toFixed(1),
          y: (p.y - ht / 2).toFixed(1),
          width: w,
          height: ht,
          rx: 7,
          fill: n.data("bg"),
          stroke: n.hasClass("path") ? this.colours.accent : deprecated ? this.colours.bad : n.data("fg"),
          "stroke-width": n.hasClass("root") || n.hasClass("path") ? 3 : deprecated ? 2.5 : 1.5,
          "stroke-dasharray": deprecated || unresolved || n.hasClass("summary") ? "6 4" : null,
        }),
      );
      const lines = String(n.data("text") || "").split("\n");
      lines.forEach((line, i) => {
        g.append(
          el(
            "text",
            {
              x: p.x.toFixed(1),
              y: (p.y + (i - (lines.length - 1) / 2) * 14 + 4).toFixed(1),
              "font-size": 11,
              "font-weight": i === 0 && (n.hasClass("root") || n.hasClass("summary")) ? "bold" : null,
              fill: i === 0 ? this.colours.ink : this.colours.muted,
              "text-anchor": "middle",
            },
            line,
          ),
        );
      });
      nodes.append(g);
    });
    svg.append(nodes);
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
  }

  downloadSvg() {
    if (!this.cy) return;
    download(`${this.fileStem()}.svg`, "image/svg+xml", this.svgText());
  }
}
