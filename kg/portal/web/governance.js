// The governance dashboard: every rule the shapes define with its findings, a scorecard per
// team, the failing assets of a rule, a validation run for writers and the report's downloads.
//
// The rules come from the rule catalogue (GET /api/v1/rules); the findings from the report kept
// last (GET /api/v1/validation/latest, what Run validation keeps) when the catalogue says one
// is kept, else from a validation of the live graph (GET /api/v1/validation, under the
// server's time budget).
import { get, write, url, ApiError } from "./api.js";
import { h, assetHref, assetLink, shortId, localName, errorBox, empty, setTitle, formatTime, pageData } from "./ui.js";
import { agentsInfo } from "./team.js";

const SEVERITIES = ["violation", "warning", "info"];
const RANK = { violation: 3, warning: 2, info: 1 };
const NO_OWNER = "none";
const FIRST_FINDINGS = 100;
const FIRST_TEAMS = 15; // scorecard rows before "show all"
const LABEL_LOOKUPS = 400; // owners whose names are looked up; others show their id
export async function mount(main) {
  setTitle("Governance");
  main.classList.add("gov-page");
  const page = new Dashboard(main);
  await page.start();
}

class Dashboard {
  constructor(main) {
    this.main = main;
    this.state = readState();
    this.rules = new Map(); // rule IRI -> {id, name, severity, description, group, targets}
    this.teams = new Map(); // team IRI -> label
    this.labels = new Map(); // any agent IRI -> label
    this.report = null;
    this.reportError = null;
    this.source = ""; // the report shown: "kept" (read back), "run" (Run validation), "fresh"
    this.runs = 0;
    this.runError = null;
    this.reveal = false; // scroll to the findings once a rule is picked
    this.allTeams = false;
    this.findingsShown = FIRST_FINDINGS;
    window.addEventListener("popstate", () => {
      this.state = readState();
      this.findingsShown = FIRST_FINDINGS;
      this.render();
    });
  }

  async start() {
    // the catalogue's counts=true says whether (and when) a report is kept
    const catalogue = await get("/api/v1/rules", { counts: true }).catch(() => ({ rules: [], generatedAt: null }));
    const [teams] = await Promise.all([
      get("/api/v1/assets", { type: "mlg:Team", limit: 1000 }).catch(() => ({ items: [] })),
      this.load(() => this.keptOrFresh(Boolean(catalogue.generatedAt))),
    ]);
    for (const rule of catalogue.rules || []) addRule(this.rules, rule);
    for (const team of teams.items || []) {
      this.teams.set(team.id, team.label || shortId(team.id));
      this.labels.set(team.id, team.label || shortId(team.id));
    }
    await this.lookupLabels();
    this.render();
  }

  /** Read a report: `fetchReport` answers [report, source]; the previous one stays shown
   * when this one fails. */
  async load(fetchReport) {
    try {
      const [report, source] = await fetchReport();
      this.report = report;
      this.source = source;
      this.reportError = null;
      this.runs += 1;
    } catch (err) {
      this.reportError = err;
    }
  }

  /** The kept report, else (none kept, or gone since: 404) a fresh validation of the graph. */
  async keptOrFresh(kept) {
    if (kept) {
      try {
        return [await get("/api/v1/validation/latest", { format: "json" }), "kept"];
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
      }
    }
    return [await get("/api/v1/validation", { format: "json" }), "fresh"];
  }

  async lookupLabels() {
    const wanted = new Set();
    for (const r of this.report?.results || []) {
      for (const id of [...(r.owners || []), ...(r.teams || [])]) if (!this.labels.has(id)) wanted.add(id);
    }
    if (!wanted.size) return;
    try {
      const found = await agentsInfo([...wanted].slice(0, LABEL_LOOKUPS));
      for (const [iri, info] of found) if (info.label) this.labels.set(iri, info.label);
    } catch {
      // names are a nicety: ids show instead
    }
  }

  async run(button) {
    button.disabled = true;
    button.textContent = "Validating…";
    this.runError = null;
    try {
      const response = await write("POST", "/api/v1/validation", { params: { format: "json" }, accept: "application/json" });
      await this.load(async () => [await response.json(), "run"]);
      await this.lookupLabels();
    } catch (err) {
      this.runError = err;
    }
    this.render();
  }

  setState(change) {
    this.state = { ...this.state, ...change };
    this.findingsShown = FIRST_FINDINGS;
    history.pushState(null, "", stateHref(this.state));
    this.render();
  }

  // -- the view

  render() {
    const rules = this.catalogue();
    const all = this.report?.results || [];
    const { rule, team, severity } = this.state;
    const ruleId = resolveRule(rule, rules);
    const teamId = resolveTeam(team);
    const byTeam = (r) => !teamId || (teamId === NO_OWNER ? !(r.teams || []).length : (r.teams || []).includes(teamId) || (r.owners || []).includes(teamId) || r.focusNode === teamId);
    const bySeverity = (r) => !severity || r.severity === severity;
    const byRule = (r) => !ruleId || r.shape === ruleId;
    const counted = (pick) => {
      const counts = new Map();
      for (const r of all.filter(pick)) {
        const row = counts.get(r.shape) || { violation: 0, warning: 0, info: 0, assets: new Set() };
        row[r.severity] = (row[r.severity] || 0) + 1;
        row.assets.add(r.focusNode);
        counts.set(r.shape, row);
      }
      return counts;
    };
    const ruleCounts = counted((r) => byTeam(r) && bySeverity(r));
    const findings = all.filter((r) => byTeam(r) && bySeverity(r) && byRule(r));
    const teamResults = all.filter((r) => bySeverity(r) && byRule(r));
    const ruleName = ruleId ? rules.get(ruleId)?.name || localName(ruleId) : "";
    const teamName = teamId === NO_OWNER ? "assets without an owner" : teamId ? this.labels.get(teamId) || shortId(teamId) : "";
    setTitle(ruleId ? `${ruleName} · Governance` : teamId ? `${teamName} · Governance` : "Governance");

    this.main.replaceChildren(
      this.head(),
      this.stats(rules, all),
      this.filters(rules, ruleId, teamId, ruleName, teamName),
      h(
        "div",
        { class: "grid two gov-body" },
        this.catalogueSection(rules, ruleCounts, ruleId, teamName),
        h("aside", { class: "gov-side" }, this.scorecardSection(teamResults, teamId, ruleName)),
      ),
      this.findingsSection(findings, rules, ruleId, ruleName, teamName),
    );
    if (this.reveal) {
      this.reveal = false;
      this.main.querySelector("[data-testid=findings]")?.scrollIntoView({ block: "start" });
    }
  }

  /** The rules the shapes define, and any rule the report names that they do not. */
  catalogue() {
    const rules = new Map(this.rules);
    for (const r of this.report?.results || []) {
      if (!rules.has(r.shape)) rules.set(r.shape, { id: r.shape, name: localName(r.shape) || r.shape, severity: r.severity, description: "", group: "", targets: [] });
    }
    return rules;
  }

  head() {
    const report = this.report;
    const counts = report?.counts || {};
    const button = h(
      "button",
      { type: "button", class: "primary", "data-testid": "run-validation", title: "Validate the whole graph and keep the report (a writer's action)" },
      "Run validation",
    );
    button.addEventListener("click", () => this.run(button));
    // the report's own time: when its validation ran, not when this page read it
    const at = report?.generatedAt || "";
    const time = at
      ? h("time", { datetime: at, "data-testid": "report-time", "data-time": at, "data-run": String(this.runs), "data-source": this.source }, formatTime(at))
      : h("span", { "data-testid": "report-time", "data-time": "" }, "not validated");
    const verdict = report
      ? counts.violation
        ? h("span", { class: "badge verdict bad", "data-testid": "verdict" }, "Does not conform")
        : h("span", { class: "badge verdict ok", "data-testid": "verdict" }, "Conforms")
      : null;
    const results = report?.results?.length ?? 0;
    const said = {
      kept: ["Validated ", "the kept report (urn:kg:graph:reports/latest): Run validation makes a new one"],
      run: ["Validated and kept ", "by Run validation"],
      fresh: ["Validated ", "on opening this page (a fresh run of the live graph)"],
    }[this.source] || ["Validated ", ""];
    const kept =
      this.source === "fresh"
        ? "No report kept yet: Run validation keeps one."
        : this.source
          ? `The kept report holds ${results} ${results === 1 ? "result" : "results"}.`
          : "";
    const team = resolveTeam(this.state.team);
    const scoped = team && team !== NO_OWNER;
    // the downloads are of the report shown: the kept one, or a fresh run (of a team's assets)
    const source = scoped || this.source === "fresh" ? "/api/v1/validation" : "/api/v1/validation/latest";
    const scope = scoped ? { team: shortId(team) } : {};
    const formats = [
      ["SARIF", "sarif", "kg-validation.sarif.json"],
      ["JUnit", "junit", "kg-validation.junit.xml"],
      ["HTML", "html", "kg-validation.html"],
      ["Turtle", "turtle", "kg-validation.ttl"],
    ];
    return h(
      "section",
      { class: "panel gov-head" },
      h(
        "div",
        { class: "gov-head-row" },
        h(
          "div",
          {},
          h("div", { class: "eyebrow" }, "Governance"),
          h("h1", {}, "Rules and findings"),
          h("p", { class: "muted" }, "The organisation's rules (SHACL shapes) checked against every asset in the graph."),
        ),
        h("span", { class: "spacer" }),
        h("div", { class: "gov-actions" }, button),
      ),
      h(
        "div",
        { class: "row report-line" },
        verdict,
        h("span", {}, said[0], time),
        said[1] ? h("span", { class: "muted small" }, said[1]) : null,
        report?.engine ? h("span", { class: "muted small" }, `· engine ${report.engine}`) : null,
        kept ? h("span", { class: "muted small", "data-testid": "kept-report" }, `· ${kept}`) : null,
      ),
      this.runError ? errorBox(this.runError) : null,
      this.reportError ? errorBox(describe(this.reportError)) : null,
      h(
        "div",
        { class: "row downloads small" },
        h("span", { class: "muted" }, scoped ? "Download this team's report:" : "Download the report:"),
        formats.map(([label, format, file]) =>
          h("a", { class: "download", href: url(source, { format, ...scope }), download: file, "data-testid": `download-${format}` }, label),
        ),
      ),
    );
  }

  stats(rules, all) {
    const counts = this.report?.counts || { violation: 0, warning: 0, info: 0 };
    const failing = new Set(all.map((r) => r.shape));
    const assets = new Set(all.map((r) => r.focusNode));
    const stat = (value, label, tone) => h("div", { class: `stat ${tone}` }, h("strong", {}, String(value)), h("span", {}, label));
    return h(
      "div",
      { class: "stats", "data-testid": "gov-stats" },
      stat(this.report ? counts.violation : "–", "violations", counts.violation ? "bad" : "ok"),
      stat(this.report ? counts.warning : "–", "warnings", counts.warning ? "warn" : "ok"),
      stat(this.report ? `${failing.size} / ${rules.size}` : "–", "rules with findings", failing.size ? "warn" : "ok"),
      stat(this.report ? assets.size : "–", "assets with findings", assets.size ? "accent" : "ok"),
    );
  }

  filters(rules, ruleId, teamId, ruleName, teamName) {
    const teamSelect = h(
      "select",
      { "aria-label": "Team", "data-testid": "filter-team" },
      h("option", { value: "" }, "All teams"),
      [...this.teamOptions().entries()]
        .sort((a, b) => a[1].localeCompare(b[1]))
        .map(([id, label]) => h("option", { value: id, selected: id === teamId || null }, label)),
      h("option", { value: NO_OWNER, selected: teamId === NO_OWNER || null }, "(no owner)"),
    );
    teamSelect.addEventListener("change", () => {
      const value = teamSelect.value;
      this.setState({ team: value && value !== NO_OWNER ? shortId(value) : value });
    });
    const severitySelect = h(
      "select",
      { "aria-label": "Severity", "data-testid": "filter-severity" },
      h("option", { value: "" }, "Every severity"),
      SEVERITIES.map((s) => h("option", { value: s, selected: s === this.state.severity || null }, `${cap(s)}s`)),
    );
    severitySelect.addEventListener("change", () => this.setState({ severity: severitySelect.value }));
    const chips = [];
    if (ruleId) chips.push(chip(`Rule: ${ruleName}`, () => this.setState({ rule: "" }), "filter-rule"));
    if (teamId) chips.push(chip(`Team: ${teamName}`, () => this.setState({ team: "" }), "filter-team-chip"));
    return h(
      "div",
      { class: "row gov-filters" },
      h("label", { class: "row inline" }, h("span", { class: "muted small" }, "Team"), teamSelect),
      h("label", { class: "row inline" }, h("span", { class: "muted small" }, "Severity"), severitySelect),
      chips,
      ruleId || teamId || this.state.severity
        ? h("button", { type: "button", class: "link", onclick: () => this.setState({ rule: "", team: "", severity: "" }) }, "Clear filters")
        : null,
    );
  }

  teamOptions() {
    const options = new Map(this.teams);
    for (const r of this.report?.results || []) {
      for (const t of r.teams || []) if (!options.has(t)) options.set(t, this.labels.get(t) || shortId(t));
    }
    const current = resolveTeam(this.state.team);
    if (current && current !== NO_OWNER && !options.has(current)) options.set(current, this.labels.get(current) || shortId(current));
    return options;
  }

  catalogueSection(rules, counts, ruleId, teamName) {
    const rows = [...rules.values()]
      .filter((rule) => !this.state.severity || rule.severity === this.state.severity || counts.has(rule.id))
      .map((rule) => ({ rule, count: counts.get(rule.id) || { violation: 0, warning: 0, info: 0, assets: new Set() } }))
      .sort(
        (a, b) =>
          b.count.violation - a.count.violation ||
          b.count.warning - a.count.warning ||
          b.count.info - a.count.info ||
          (RANK[b.rule.severity] || 0) - (RANK[a.rule.severity] || 0) ||
          a.rule.name.localeCompare(b.rule.name),
      );
    const known = this.report !== null;
    const body = rows.map(({ rule, count }) => {
      const select = () => {
        this.reveal = ruleId !== rule.id;
        this.setState({ rule: ruleId === rule.id ? "" : shortId(rule.id) });
      };
      const failing = count.violation + count.warning + count.info > 0;
      return h(
        "tr",
        {
          class: `rule-row ${ruleId === rule.id ? "selected" : ""} ${failing ? "failing" : "passing"}`,
          "data-testid": "rule",
          "data-rule": rule.id,
          "data-violations": String(count.violation),
          "data-warnings": String(count.warning),
          onclick: (event) => {
            if (!event.target.closest("a, button")) select();
          },
        },
        h(
          "td",
          {},
          h("button", { type: "button", class: "rule-name", "aria-pressed": ruleId === rule.id ? "true" : "false", "data-testid": "rule-open", onclick: select }, rule.name),
          rule.group && rule.group !== rule.name ? h("span", { class: "tag" }, rule.group) : null,
          h("div", { class: "muted small mono" }, shortId(rule.id)),
          rule.description ? h("div", { class: "small description" }, rule.description) : null,
          rule.targets.length ? h("div", { class: "muted small" }, "Applies to ", rule.targets.map((t, i) => [i ? ", " : "", shortId(t)])) : null,
        ),
        h("td", {}, severityBadge(rule.severity)),
        h("td", { class: `num ${count.violation ? "bad" : "zero"}`, "data-testid": "rule-violations" }, known ? String(count.violation) : "–"),
        h("td", { class: `num ${count.warning ? "warn" : "zero"}`, "data-testid": "rule-warnings" }, known ? String(count.warning) : "–"),
      );
    });
    return h(
      "section",
      { class: "panel", "data-testid": "rule-catalogue" },
      h("div", { class: "row" }, h("h2", {}, `Rules (${rows.length})`), teamName ? h("span", { class: "muted small" }, `counts for ${teamName}`) : null),
      rows.length
        ? h(
            "table",
            { class: "table rules" },
            h("thead", {}, h("tr", {}, h("th", {}, "Rule"), h("th", {}, "Severity"), h("th", { class: "num" }, "Violations"), h("th", { class: "num" }, "Warnings"))),
            h("tbody", {}, body),
          )
        : empty("No rule found in the shapes graph."),
    );
  }

  findingsSection(findings, rules, ruleId, ruleName, teamName) {
    const title = ruleId ? `Failing assets · ${ruleName}` : "All findings";
    const section = h("section", { class: "panel findings", "data-testid": "findings", "data-rule": ruleId || null });
    const headline = h(
      "div",
      { class: "row" },
      h("h2", {}, `${title} (${findings.length})`),
      teamName ? h("span", { class: "muted small" }, `for ${teamName}`) : null,
    );
    if (ruleId && rules.get(ruleId)?.description) {
      section.append(headline, h("p", { class: "muted small" }, rules.get(ruleId).description));
    } else {
      section.append(headline);
    }
    if (!this.report) {
      section.append(empty("No report to show."));
      return section;
    }
    if (!findings.length) {
      section.append(h("p", { class: "all-clear-line" }, ruleId ? "No asset fails this rule." : "Nothing to fix: every rule passes."));
      return section;
    }
    const sorted = [...findings].sort(
      (a, b) =>
        (RANK[b.severity] || 0) - (RANK[a.severity] || 0) ||
        String(a.shape).localeCompare(String(b.shape)) ||
        String(a.focusLabel || a.focusNode).localeCompare(String(b.focusLabel || b.focusNode)),
    );
    const body = h("tbody");
    const more = h("button", { type: "button", class: "more", "data-testid": "findings-more" });
    const fill = () => {
      body.replaceChildren(...sorted.slice(0, this.findingsShown).map((r) => this.findingRow(r, rules, !ruleId)));
      more.hidden = this.findingsShown >= sorted.length;
      more.textContent = `Show more (${sorted.length - Math.min(this.findingsShown, sorted.length)} left)`;
    };
    more.addEventListener("click", () => {
      this.findingsShown += FIRST_FINDINGS * 2;
      fill();
    });
    fill();
    section.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
        "table",
        { class: "table findings-table" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", {}, "Severity"), h("th", {}, "Asset"), ruleId ? null : h("th", {}, "Rule"), h("th", {}, "Owner"), h("th", {}, "Value"), h("th", {}, "Message")),
        ),
        body,
        ),
      ),
      more,
    );
    return section;
  }

  findingRow(r, rules, withRule) {
    const focus = r.focusNode || "";
    const linkable = /^(https?|urn):/i.test(focus);
    const value = r.value && r.value !== focus ? r.value : null;
    return h(
      "tr",
      { "data-testid": "violation", "data-rule": r.shape, "data-asset-id": focus, "data-severity": r.severity },
      h("td", {}, severityBadge(r.severity)),
      h("td", {}, linkable ? assetLink(focus, r.focusLabel || shortId(focus)) : h("code", {}, focus), r.focusLabel ? h("div", { class: "muted small mono" }, shortId(focus)) : null),
      withRule
        ? h(
            "td",
            {},
            h("button", { type: "button", class: "link rule-link", onclick: () => this.setState({ rule: shortId(r.shape) }) }, rules.get(r.shape)?.name || localName(r.shape)),
          )
        : null,
      h(
        "td",
        {},
        (r.owners || []).length
          ? r.owners.map((o, i) => [i ? ", " : "", assetLink(o, this.labels.get(o) || shortId(o))])
          : h("span", { class: "badge unresolved" }, "no owner"),
      ),
      h("td", { class: "value" }, value ? (/^(https?|urn):/i.test(value) ? assetLink(value, shortId(value)) : h("code", {}, value)) : ""),
      h("td", { class: "message" }, r.message || ""),
    );
  }

  scorecardSection(results, teamId, ruleName) {
    const rows = new Map();
    for (const [id, label] of this.teams) rows.set(id, { id, label, violation: 0, warning: 0, info: 0 });
    for (const r of results) {
      const teams = (r.teams || []).length ? r.teams : [NO_OWNER];
      for (const t of teams) {
        if (!rows.has(t)) rows.set(t, { id: t, label: t === NO_OWNER ? "(no owner)" : this.labels.get(t) || shortId(t), violation: 0, warning: 0, info: 0 });
        rows.get(t)[r.severity] += 1;
      }
    }
    const sorted = [...rows.values()]
      .map((row) => ({ ...row, total: row.violation + row.warning + row.info }))
      .sort((a, b) => b.total - a.total || b.violation - a.violation || a.label.localeCompare(b.label));
    const max = Math.max(1, ...sorted.map((r) => r.total));
    const row = (team) => {
      const own = team.id === NO_OWNER ? NO_OWNER : shortId(team.id);
      const filter = h(
        "button",
        { type: "button", class: "link team-filter", title: "Show this team's findings", onclick: () => this.setState({ team: team.id === teamId ? "" : own }) },
        team.label,
      );
      const page = team.id === NO_OWNER ? null : h("a", { class: "team-page small", href: assetHref(team.id), title: "The team's page", "aria-label": `${team.label}'s page` }, "↗");
      const bar = h(
        "div",
        { class: "bar", "aria-hidden": "true" },
        h("span", { class: "bar-v", style: `width:${(100 * team.violation) / max}%` }),
        h("span", { class: "bar-w", style: `width:${(100 * team.warning) / max}%` }),
      );
      return h(
        "tr",
        {
          class: `${team.id === teamId ? "selected" : ""} ${team.total ? "" : "clean"}`,
          "data-testid": "scorecard-team",
          "data-asset-id": team.id === NO_OWNER ? null : team.id,
          "data-team": team.id,
          "data-total": String(team.total),
        },
        h("td", {}, h("div", { class: "team-cell" }, filter, page), bar),
        h("td", { class: `num ${team.violation ? "bad" : "zero"}` }, String(team.violation)),
        h("td", { class: `num ${team.warning ? "warn" : "zero"}` }, String(team.warning)),
        h("td", { class: "num total" }, String(team.total)),
      );
    };
    // many teams: the ones with most to fix (and the one filtered on), the others on demand
    const shown = this.allTeams ? sorted : sorted.filter((t, i) => i < FIRST_TEAMS || t.id === teamId);
    const more =
      shown.length < sorted.length
        ? h(
            "button",
            {
              type: "button",
              class: "more",
              onclick: () => {
                this.allTeams = true;
                this.render();
              },
            },
            `Show all ${sorted.length} teams`,
          )
        : null;
    const head = h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, "Team"),
        h("th", { class: "num" }, h("abbr", { title: "Violations" }, "Viol.")),
        h("th", { class: "num" }, h("abbr", { title: "Warnings" }, "Warn.")),
        h("th", { class: "num" }, "Total"),
      ),
    );
    return h(
      "section",
      { class: "panel scorecard-panel", "data-testid": "scorecard" },
      h("h2", {}, "Scorecard by team"),
      h("p", { class: "muted small" }, ruleName ? `Findings of “${ruleName}” by owning team.` : "Findings by owning team (a person's assets count for their teams)."),
      sorted.length ? [h("table", { class: "table scorecard" }, head, h("tbody", {}, shown.map(row))), more] : empty("No teams in the graph."),
    );
  }
}

// -- rules

/** A rule of the catalogue (GET /api/v1/rules), as the page shows it. */
function addRule(rules, rule) {
  rules.set(rule.id, {
    id: rule.id,
    name: rule.name || rule.group?.name || localName(rule.curie || rule.id),
    severity: SEVERITIES.includes(rule.severity) ? rule.severity : "violation",
    description: rule.description || rule.message || "",
    group: rule.group?.name || "",
    targets: rule.targets || [],
  });
}

function severityBadge(severity) {
  return h("span", { class: `badge severity severity-${severity}` }, cap(severity || "violation"));
}

function cap(text) {
  return String(text).charAt(0).toUpperCase() + String(text).slice(1);
}

function chip(text, onclear, testid) {
  return h("span", { class: "filter-chip", "data-testid": testid }, text, h("button", { type: "button", "aria-label": `Clear ${text}`, onclick: onclear }, "×"));
}

function describe(err) {
  if (err instanceof ApiError && err.status === 503) {
    return new Error(`The validation did not finish within the server's time budget (KG_TASK_TIMEOUT): ${err.message}`);
  }
  return err;
}

// -- state in the URL: ?rule=<rule>&team=<team>&severity=<severity>

function readState() {
  const params = new URLSearchParams(location.search);
  const severity = (params.get("severity") || "").toLowerCase();
  return { rule: params.get("rule") || "", team: params.get("team") || "", severity: SEVERITIES.includes(severity) ? severity : "" };
}

function stateHref(state) {
  return url("/governance", { rule: state.rule, team: state.team, severity: state.severity });
}

/** A rule named by IRI, CURIE (mlgsh:AssetOwner) or local name. */
function resolveRule(given, rules) {
  if (!given) return "";
  if (rules.has(given)) return given;
  const expanded = expand(given);
  if (rules.has(expanded)) return expanded;
  for (const id of rules.keys()) if (localName(id) === given) return id;
  return expanded;
}

/** A team named by IRI, CURIE or local id (team/search); "none" for assets without an owner. */
function resolveTeam(given) {
  if (!given) return "";
  if (given === NO_OWNER) return NO_OWNER;
  return expand(given, true);
}

function expand(given, local = false) {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given) || /^urn:/i.test(given)) return given;
  const colon = given.indexOf(":");
  const prefixes = pageData().prefixes || {};
  if (colon > 0 && prefixes[given.slice(0, colon)]) return prefixes[given.slice(0, colon)] + given.slice(colon + 1);
  return local ? (pageData().baseIri || "") + given : given;
}

