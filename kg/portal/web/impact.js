// The impact page: what breaks if an asset changes. Everything downstream of it (GET
// /api/v1/impact), production services and experiments first, then the affected assets by type,
// the owners and teams to tell (with a list to copy into a mail) and a CSV of the lot.
import { get, url } from "./api.js";
import {
  h,
  assetLink,
  badge,
  shortId,
  localName,
  errorBox,
  empty,
  download,
  csv,
  debounce,
  setTitle,
} from "./ui.js";
import { byTypeOrder, plural } from "./team.js";

const FIRST_ROWS = 25; // rows a group shows before "show more"
const MORE_ROWS = 100;
const OPEN_GROUPS_UNDER = 80; // affected assets under which every group starts open
const FIRST_OWNERS = 24;
const FIRST_CARDS = 12; // service and experiment cards before "show all"

export async function mount(main) {
  main.classList.add("impact-page");
  const query = new URLSearchParams(location.search);
  const nodeId = query.get("nodeId") || "";
  const asOf = query.get("asOf") || ""; // the impact as it was then (an asset page's "as of")
  const picker = assetPicker(nodeId);
  if (!nodeId) {
    setTitle("Impact");
    main.append(
      h(
        "section",
        { class: "panel impact-head" },
        h("div", { class: "eyebrow" }, "Impact analysis"),
        h("h1", {}, "What breaks if this changes?"),
        h("p", { class: "muted" }, "Pick an asset: every asset downstream of it, the production services and experiments it feeds, and the people to tell."),
        picker,
      ),
    );
    return;
  }
  let impact;
  try {
    impact = await get("/api/v1/impact", { nodeId, asOf });
  } catch (err) {
    setTitle("Impact");
    main.append(h("section", { class: "panel impact-head" }, h("div", { class: "eyebrow" }, "Impact analysis"), h("h1", {}, nodeId), picker), errorBox(err));
    return;
  }
  const rootIri = impact.root || nodeId;
  const affected = impact.affected || [];
  const owners = impact.owners || [];
  const root = await get(`/api/v1/assets/${encodeURIComponent(rootIri)}`).catch(() => ({ id: rootIri }));
  const agents = agentsOf(owners);
  const labels = new Map();
  for (const node of affected) labels.set(node.id, node.label);
  for (const owner of owners) labels.set(owner.id, owner.label);
  for (const [iri, info] of agents) if (info.label && !labels.has(iri)) labels.set(iri, info.label);
  const name = root.label || labels.get(rootIri) || shortId(rootIri);
  setTitle(`Impact of ${name}`);
  const ctx = { impact, affected, owners, agents, labels, rootIri, name };

  main.append(head(root, rootIri, name, picker), summary(ctx));
  if (!affected.length) {
    main.append(
      h(
        "section",
        { class: "panel all-clear", "data-testid": "impact-none" },
        h("h2", {}, "Nothing downstream"),
        h("p", {}, `No asset in the graph depends on ${name}: changing it breaks nothing kg knows of.`),
      ),
    );
    return;
  }
  main.append(
    h(
      "div",
      { class: "grid two impact-body" },
      h("div", { class: "impact-main" }, servicesSection(ctx), experimentsSection(ctx), groupsSection(ctx)),
      h("aside", { class: "impact-side" }, notifySection(ctx), unownedSection(ctx), exportSection(ctx)),
    ),
  );
}

/** IRI -> {label, emails} of the owners and their members, as the impact answer gives them. */
function agentsOf(owners) {
  const agents = new Map();
  const add = (id, label, email) => {
    if (!agents.has(id)) agents.set(id, { label: label || null, emails: email ? [email] : [] });
  };
  for (const owner of owners) {
    add(owner.id, owner.label, owner.email);
    for (const member of owner.memberDetails || []) add(member.id, member.label, member.email);
  }
  return agents;
}

// -- the head: the root asset and the picker

function head(root, rootIri, name, picker) {
  return h(
    "section",
    { class: "panel impact-head" },
    h(
      "div",
      { class: "impact-head-row" },
      h(
        "div",
        { class: "impact-root" },
        h("div", { class: "eyebrow" }, "Impact analysis"),
        h("h1", {}, "What breaks if ", assetLink(rootIri, name, { "data-testid": "impact-root" }), " changes"),
        h(
          "div",
          { class: "row" },
          badge("type", root.type),
          badge("status", root.status),
          badge("stage", root.stage),
          h("code", { class: "muted small" }, shortId(rootIri)),
          h("span", { class: "spacer" }),
          h("a", { href: url("/lineage", { nodeId: rootIri, direction: "downstream" }) }, "Downstream lineage"),
        ),
        root.description ? h("p", { class: "muted description" }, root.description) : null,
      ),
      h("div", { class: "impact-pick" }, h("label", { class: "muted small", for: "impact-picker" }, "Another asset"), picker),
    ),
  );
}

/** A search-as-you-type box that opens the impact of the asset picked. */
function assetPicker(current) {
  const input = h("input", {
    type: "search",
    id: "impact-picker",
    placeholder: "Find a dataset, feature, model…",
    autocomplete: "off",
    role: "combobox",
    "aria-expanded": "false",
    "aria-controls": "impact-picker-list",
    "aria-autocomplete": "list",
    "data-testid": "impact-picker",
  });
  const list = h("ul", { class: "picker-list", id: "impact-picker-list", role: "listbox", hidden: true });
  let hits = [];
  let active = -1;
  let pending = null;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    active = -1;
  };
  const go = (iri) => location.assign(url("/impact", { nodeId: iri }));
  const paint = () => {
    list.replaceChildren(
      ...hits.map((hit, i) =>
        h(
          "li",
          {
            role: "option",
            class: i === active ? "active" : "",
            "aria-selected": i === active ? "true" : "false",
            "data-testid": "impact-pick",
            "data-asset-id": hit.id,
            onmousedown: (event) => {
              event.preventDefault();
              go(hit.id);
            },
          },
          h("span", { class: "pick-name" }, hit.label || shortId(hit.id)),
          badge("type", hit.type),
          h("span", { class: "muted small mono" }, shortId(hit.id)),
        ),
      ),
    );
    if (!hits.length) list.append(h("li", { class: "muted small none" }, "No asset matches."));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  const search = debounce(async () => {
    const q = input.value.trim();
    if (pending) pending.abort();
    if (!q) {
      close();
      return;
    }
    pending = new AbortController();
    try {
      const answer = await get("/api/v1/search", { q, limit: 8 }, { signal: pending.signal });
      if (input.value.trim() !== q) return;
      hits = answer.hits || [];
      active = hits.length ? 0 : -1;
      paint();
    } catch (err) {
      if (err && err.name === "AbortError") return;
      hits = [];
      paint();
    }
  }, 180);
  input.addEventListener("input", search);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && hits.length) {
      active = (active + 1) % hits.length;
      paint();
      event.preventDefault();
    } else if (event.key === "ArrowUp" && hits.length) {
      active = (active - 1 + hits.length) % hits.length;
      paint();
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!list.hidden && active >= 0 && hits[active]) go(hits[active].id);
      else if (input.value.trim()) go(input.value.trim());
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", close);
  return h("div", { class: "picker", "data-current": current || null }, input, list);
}

// -- the summary

function summary({ impact, affected, owners }) {
  const byType = impact.byType || {};
  const production = (impact.productionServices || []).length;
  const stat = (value, label, tone, testid) =>
    h("div", { class: `stat ${tone || ""}`, "data-testid": testid || null }, h("strong", {}, String(value)), h("span", {}, label));
  const count = impact.affectedCount ?? affected.length;
  return h(
    "section",
    { class: "impact-summary", "data-testid": "impact-summary" },
    h(
      "div",
      { class: "stats" },
      stat(count, count === 1 ? "affected asset" : "affected assets", count ? "accent" : "ok", "impact-count"),
      stat(production, production === 1 ? "production service" : "production services", production ? "bad" : "ok"),
      stat((impact.experiments || []).length, (impact.experiments || []).length === 1 ? "experiment" : "experiments", (impact.experiments || []).length ? "warn" : "ok"),
      stat(owners.length, owners.length === 1 ? "owner to tell" : "owners to tell"),
      (impact.unowned || []).length ? stat(impact.unowned.length, "without an owner", "bad") : null,
    ),
    Object.keys(byType).length
      ? h(
          "div",
          { class: "row type-chips" },
          Object.keys(byType)
            .sort(byTypeOrder)
            .map((type) =>
              h(
                "a",
                { class: "count-chip", href: `#group-${localName(type)}`, "data-type": type, "data-testid": "impact-type-count" },
                badge("type", type),
                h("strong", {}, String(byType[type].length)),
              ),
            ),
        )
      : null,
  );
}

// -- services and experiments

function ownerLinks(ids, labels) {
  if (!ids || !ids.length) return h("span", { class: "badge unresolved" }, "no owner");
  return ids.map((id, i) => [i ? ", " : "", assetLink(id, labels.get(id) || shortId(id))]);
}

function card(node, labels, testid) {
  return h(
    "article",
    { class: "impact-card", "data-testid": testid, "data-asset-id": node.id, "data-stage": node.stage || null },
    h("div", { class: "card-top" }, assetLink(node.id, node.label || shortId(node.id), { class: "card-name" }), h("span", { class: "spacer" }), badge("stage", node.stage)),
    h(
      "div",
      { class: "row small" },
      badge("type", node.type),
      badge("status", node.status),
      node.resolved === false ? h("span", { class: "badge unresolved" }, "not in the graph") : null,
      h("span", { class: "muted", title: "Edges between it and the asset changed" }, distanceText(node.distance)),
    ),
    h("div", { class: "small owners" }, h("span", { class: "muted" }, "Owner "), ownerLinks(node.owners, labels)),
  );
}

function distanceText(distance) {
  if (distance === null || distance === undefined) return "";
  return distance === 1 ? "direct dependent" : `${distance} hops away`;
}

function isProduction(node) {
  return localName(node.stage || "") === "Production";
}

function servicesSection({ impact, labels }) {
  const production = new Set((impact.productionServices || []).map((s) => s.id));
  const all = [...(impact.productionServices || [])];
  for (const service of impact.services || []) if (!production.has(service.id)) all.push(service);
  if (!all.length) {
    return h("section", { class: "panel" }, h("h2", {}, "Services"), empty("No service depends on it."));
  }
  const rest = all.filter((s) => !production.has(s.id));
  return h(
    "section",
    { class: "panel", "data-testid": "impact-services" },
    h("h2", {}, `Services (${all.length})`, production.size ? h("span", { class: "badge stage stage-production head-badge" }, `${production.size} in production`) : null),
    production.size
      ? cards(impact.productionServices || [], labels, "impact-service", FIRST_CARDS)
      : h("p", { class: "muted small" }, "No production service depends on it."),
    rest.length ? [h("h3", {}, "Not in production"), cards(rest, labels, "impact-service", FIRST_CARDS)] : null,
  );
}

function experimentsSection({ impact, labels }) {
  const experiments = impact.experiments || [];
  if (!experiments.length) return null;
  return h(
    "section",
    { class: "panel", "data-testid": "impact-experiments" },
    h("h2", {}, `Experiments (${experiments.length})`),
    h("p", { class: "muted small" }, "Their results may no longer be comparable."),
    cards(experiments, labels, "impact-experiment", FIRST_CARDS),
  );
}

/** Cards for the first `first` nodes, and a button for the others. */
function cards(nodes, labels, testid, first) {
  const grid = h("div", { class: "cards" }, nodes.slice(0, first).map((node) => card(node, labels, testid)));
  if (nodes.length <= first) return grid;
  const more = h("button", { type: "button", class: "more", "data-testid": `${testid}-more` }, `Show all ${nodes.length}`);
  more.addEventListener("click", () => {
    grid.append(...nodes.slice(first).map((node) => card(node, labels, testid)));
    more.remove();
  });
  return [grid, more];
}

// -- affected assets by type

function groupsSection({ impact, affected, labels }) {
  const byId = new Map(affected.map((node) => [node.id, node]));
  const byType = new Map();
  for (const [type, ids] of Object.entries(impact.byType || {})) {
    byType.set(type, ids.map((id) => byId.get(id) || { id, type }));
  }
  const grouped = new Set(Object.values(impact.byType || {}).flat());
  for (const node of affected) {
    if (grouped.has(node.id)) continue; // a node byType does not name still shows, under its type
    if (!byType.has(node.type)) byType.set(node.type, []);
    byType.get(node.type).push(node);
  }
  const open = affected.length < OPEN_GROUPS_UNDER;
  const groups = [...byType.keys()].sort(byTypeOrder).map((type) => group(type, byType.get(type), labels, open));
  return h(
    "section",
    { class: "panel", "data-testid": "impact-groups" },
    h(
      "div",
      { class: "row" },
      h("h2", {}, `Affected assets (${affected.length})`),
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "link", onclick: () => groups.forEach((g) => (g.open = true)) }, "Expand all"),
      h("button", { type: "button", class: "link", onclick: () => groups.forEach((g) => (g.open = false)) }, "Collapse all"),
    ),
    groups,
  );
}

function group(type, nodes, labels, open) {
  const rows = [...nodes].sort((a, b) => (a.distance ?? 0) - (b.distance ?? 0) || String(a.label || a.id).localeCompare(String(b.label || b.id)));
  const body = h("tbody");
  const more = h("button", { type: "button", class: "more", "data-testid": "impact-group-more" });
  let shown = 0;
  const showMore = (count) => {
    const next = rows.slice(shown, shown + count);
    body.append(
      ...next.map((node) =>
        h(
          "tr",
          { "data-testid": "impact-asset", "data-asset-id": node.id },
          h("td", {}, assetLink(node.id, node.label || shortId(node.id)), node.resolved === false ? h("span", { class: "badge unresolved" }, "not in the graph") : null),
          h("td", { class: "num" }, node.distance ?? ""),
          h("td", {}, ownerLinks(node.owners, labels)),
          h("td", {}, badge("status", node.status), " ", badge("stage", node.stage)),
        ),
      ),
    );
    shown += next.length;
    more.hidden = shown >= rows.length;
    more.textContent = `Show ${Math.min(MORE_ROWS, rows.length - shown)} more of ${rows.length - shown}`;
  };
  more.addEventListener("click", () => showMore(MORE_ROWS));
  const details = h(
    "details",
    { class: "impact-group", "data-testid": "impact-group", "data-type": type, id: `group-${localName(type)}`, open: open || null },
    h("summary", {}, badge("type", type), h("span", { class: "group-title" }, plural(type)), h("span", { class: "count" }, String(rows.length))),
    h(
      "table",
      { class: "table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", { class: "num", title: "Hops from the changed asset" }, "Distance"), h("th", {}, "Owners"), h("th", {}, "Status"))),
      body,
    ),
    more,
  );
  // rows are built when the group is first opened: a big answer costs nothing until looked at
  const fill = () => {
    if (!shown && rows.length) showMore(FIRST_ROWS);
  };
  if (open) fill();
  details.addEventListener("toggle", () => details.open && fill());
  return details;
}

// -- who to tell

function notifySection(ctx) {
  const { owners, agents, labels } = ctx;
  if (!owners.length) {
    return h("section", { class: "panel" }, h("h2", {}, "Owners to tell"), empty("No affected asset has an owner."));
  }
  const sorted = [...owners].sort((a, b) => (b.assets || []).length - (a.assets || []).length || String(a.label || a.id).localeCompare(String(b.label || b.id)));
  const list = h("div", { class: "owners-list" });
  const fill = (count) => list.replaceChildren(...sorted.slice(0, count).map((owner) => ownerCard(owner, agents, labels)));
  fill(FIRST_OWNERS);
  const all = sorted.length > FIRST_OWNERS ? h("button", { type: "button", class: "more", onclick: (e) => { fill(sorted.length); e.target.remove(); } }, `Show all ${sorted.length} owners`) : null;
  return h(
    "section",
    { class: "panel notify", "data-testid": "impact-owners" },
    h("h2", {}, `Owners to tell (${owners.length})`),
    list,
    all,
    copyBox(ctx),
  );
}

function ownerCard(owner, agents, labels) {
  const info = agents.get(owner.id) || { emails: [] };
  const assets = owner.assets || [];
  const members = owner.members || [];
  const isTeam = localName(owner.type || "") === "Team";
  return h(
    "article",
    { class: "owner-card", "data-testid": "impact-owner", "data-asset-id": owner.id },
    h(
      "div",
      { class: "card-top" },
      h("span", { class: `avatar ${isTeam ? "team" : "person"}`, "aria-hidden": "true" }, initials(owner.label || localName(owner.id))),
      h("div", { class: "who" }, assetLink(owner.id, owner.label || info.label || shortId(owner.id), { class: "card-name" }), info.emails.map((e) => h("a", { class: "mail small", href: `mailto:${e}` }, e))),
      h("span", { class: "spacer" }),
      badge("type", owner.type),
    ),
    ownerAssets(assets, labels),
    members.length
      ? h(
          "div",
          { class: "members small" },
          h("span", { class: "muted" }, "Members "),
          members.map((id, i) => [i ? ", " : "", assetLink(id, labels.get(id) || agents.get(id)?.label || shortId(id), { "data-testid": "impact-member" })]),
        )
      : isTeam
        ? h("div", { class: "members small muted" }, "No members recorded")
        : null,
  );
}

/** The owner's affected assets, listed when first opened (50, then the rest on demand). */
function ownerAssets(assets, labels) {
  const list = h("ul", { class: "asset-list" });
  const item = (id) => h("li", {}, assetLink(id, labels.get(id) || shortId(id)));
  const details = h(
    "details",
    { class: "owner-assets" },
    h("summary", { "data-testid": "impact-owner-count" }, `${assets.length} affected ${assets.length === 1 ? "asset" : "assets"}`),
    list,
  );
  details.addEventListener("toggle", () => {
    if (!details.open || list.childElementCount) return;
    list.append(...assets.slice(0, 50).map(item));
    if (assets.length > 50) {
      const more = h("button", { type: "button", class: "link" }, `Show all ${assets.length}`);
      more.addEventListener("click", () => {
        list.append(...assets.slice(50).map(item));
        more.remove();
      });
      details.append(more);
    }
  });
  return details;
}

function initials(name) {
  const words = String(name || "?").trim().split(/\s+/);
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
}

/** The list to paste into a mail: owners' addresses (an IRI when none is known), or IRIs. */
export function notifyList(owners, agents, { mode = "email", members = false } = {}) {
  const ids = [];
  for (const owner of owners) {
    ids.push(owner.id);
    if (members) ids.push(...(owner.members || []));
  }
  const lines = [];
  for (const id of ids) {
    const emails = mode === "email" ? agents.get(id)?.emails || [] : [];
    for (const one of emails.length ? emails : [id]) if (!lines.includes(one)) lines.push(one);
  }
  return lines;
}

function copyBox({ owners, agents }) {
  const hasEmail = owners.some((o) => (agents.get(o.id)?.emails || []).length);
  const mode = h(
    "select",
    { "aria-label": "What the list holds", "data-testid": "impact-list-mode" },
    h("option", { value: "email", selected: hasEmail || null }, "E-mail addresses"),
    h("option", { value: "id", selected: !hasEmail || null }, "IRIs"),
  );
  const withMembers = h("input", { type: "checkbox", "data-testid": "impact-list-members" });
  const area = h("textarea", { readonly: true, rows: 4, class: "mono", "aria-label": "People to tell", "data-testid": "impact-list", spellcheck: "false" });
  const status = h("span", { class: "muted small", role: "status", "aria-live": "polite", "data-testid": "impact-copy-status" });
  const refresh = () => {
    const lines = notifyList(owners, agents, { mode: mode.value, members: withMembers.checked });
    area.value = lines.join(mode.value === "email" ? ", " : "\n");
    area.dataset.count = String(lines.length);
    status.textContent = "";
  };
  mode.addEventListener("change", refresh);
  withMembers.addEventListener("change", refresh);
  refresh();
  const copy = h(
    "button",
    {
      type: "button",
      class: "primary",
      "data-testid": "impact-copy",
      onclick: async () => {
        const text = area.value;
        let done = false;
        try {
          if (navigator.clipboard && window.isSecureContext) {
            await navigator.clipboard.writeText(text);
            done = true;
          }
        } catch {
          done = false;
        }
        if (!done) {
          area.focus();
          area.select();
          try {
            done = document.execCommand("copy");
          } catch {
            done = false;
          }
        }
        status.textContent = done ? `Copied ${area.dataset.count} ${mode.value === "email" ? "addresses" : "ids"}` : "Selected: press Ctrl+C to copy";
      },
    },
    "Copy",
  );
  return h(
    "div",
    { class: "copy-box" },
    h("h3", {}, "List to copy"),
    h("div", { class: "row small" }, mode, h("label", { class: "row inline" }, withMembers, "with team members")),
    area,
    h("div", { class: "row" }, copy, status),
  );
}

function unownedSection({ impact, labels }) {
  const unowned = impact.unowned || [];
  if (!unowned.length) return null;
  return h(
    "section",
    { class: "panel unowned", "data-testid": "impact-unowned" },
    h("h2", {}, `No one to tell (${unowned.length})`),
    h("p", { class: "muted small" }, "These affected assets have no owner: the governance rules ask for one."),
    listWithMore(unowned, (item) => {
      const id = typeof item === "string" ? item : item.id;
      return h("li", {}, assetLink(id, labels.get(id) || (typeof item === "object" && item.label) || shortId(id)));
    }),
  );
}

/** A list of the first 50 items, and a button for the others. */
function listWithMore(items, render) {
  const list = h("ul", { class: "asset-list" }, items.slice(0, 50).map(render));
  if (items.length <= 50) return list;
  const more = h("button", { type: "button", class: "link" }, `Show all ${items.length}`);
  more.addEventListener("click", () => {
    list.append(...items.slice(50).map(render));
    more.remove();
  });
  return [list, more];
}

// -- export

/** The CSV of the affected assets: id, name, type, distance, owners (";"-separated), status. */
export function affectedCsv(affected) {
  return csv([
    ["id", "name", "type", "distance", "owners", "status"],
    ...affected.map((node) => [node.id, node.label || "", node.type || "", node.distance ?? "", (node.owners || []).join(";"), node.status || ""]),
  ]);
}

function exportSection({ affected, rootIri }) {
  const file = `impact-${shortId(rootIri).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "asset"}.csv`;
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Export"),
    h("p", { class: "muted small" }, `Every affected asset (${affected.length}) with its type, distance, owners and status.`),
    h(
      "button",
      { type: "button", "data-testid": "impact-csv", onclick: () => download(file, "text/csv;charset=utf-8", affectedCsv(affected)) },
      "Download CSV",
    ),
  );
}
