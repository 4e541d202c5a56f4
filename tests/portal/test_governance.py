"""The governance dashboard and the team pages as a user meets them, checked against the
validation API: counts per rule, the failing assets of a rule, the team scorecards, and a
validation run that asks for the write token once."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.portal.conftest import Server, open_context, ready, start_server, stop_server

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

TEAM = "team/personalization"


def fetch(server: Server, path: str, accept: str = "application/json", **params: str) -> bytes:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + path + query, headers={"Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (loopback)
        body: bytes = answer.read()
        return body


def api(server: Server, path: str, **params: str) -> Any:
    return json.loads(fetch(server, path, **params))


def report(server: Server, **params: str) -> Any:
    return api(server, "/api/v1/validation", format="json", **params)


def attrs(scope: Any, selector: str, name: str = "data-asset-id") -> list[str]:
    return [element.get_attribute(name) for element in scope.locator(selector).all()]


def iri(server: Server, local: str) -> str:
    return str(api(server, "/api/v1/assets/" + local)["id"])


# -- the dashboard


def test_every_rule_with_the_reports_counts(
    page: Any, server: Server, shoot: Callable[[Any, str], None]
) -> None:
    ready(page, "/governance")
    answer = report(server)
    assert answer["results"], "the demo plants governance problems"
    by_rule: dict[str, Counter[str]] = {}
    for r in answer["results"]:
        by_rule.setdefault(r["shape"], Counter())[r["severity"]] += 1

    catalogue = {rule["id"]: rule for rule in api(server, "/api/v1/rules")["rules"]}
    rules = attrs(page, "[data-testid=rule]", "data-rule")
    assert len(rules) == len(set(rules))
    assert set(rules) == set(catalogue) | set(by_rule)
    for row in page.locator("[data-testid=rule]").all():
        rule = row.get_attribute("data-rule")
        counts = by_rule.get(rule, Counter())
        assert row.get_by_test_id("rule-violations").inner_text() == str(counts["violation"])
        assert row.get_by_test_id("rule-warnings").inner_text() == str(counts["warning"])
        assert row.get_by_test_id("rule-open").inner_text() == catalogue[rule]["name"]

    findings = page.locator("[data-testid=violation]")
    assert findings.count() == len(answer["results"])
    assert Counter(attrs(page, "[data-testid=violation]", "data-rule")) == Counter(
        r["shape"] for r in answer["results"]
    )
    # nothing kept on this server: the page ran a fresh validation, and shows its time
    shown = page.get_by_test_id("report-time")
    assert shown.get_attribute("data-source") == "fresh"
    assert shown.get_attribute("data-time") <= report(server)["generatedAt"]
    shoot(page, "governance")


def test_a_rule_drills_down_to_exactly_its_failing_assets(page: Any, server: Server) -> None:
    answer = report(server)
    counted = Counter(r["shape"] for r in answer["results"])
    rule = counted.most_common(1)[0][0]
    ready(page, "/governance")
    page.locator(f'[data-testid=rule][data-rule="{rule}"] [data-testid=rule-open]').click()
    page.wait_for_selector(f'[data-testid=findings][data-rule="{rule}"]')
    assert "rule=" in page.url

    expected = Counter(r["focusNode"] for r in answer["results"] if r["shape"] == rule)
    assert set(attrs(page, "[data-testid=violation]", "data-rule")) == {rule}
    assert Counter(attrs(page, "[data-testid=violation]")) == expected
    for link in page.locator("[data-testid=violation] a[data-asset-id]").all():
        assert link.get_attribute("href")

    # the same view by address (a rule by its CURIE), and back to every finding
    curie = "mlgsh:" + rule.rsplit("#", 1)[1]
    ready(page, f"/governance?rule={urllib.parse.quote(curie)}")
    assert Counter(attrs(page, "[data-testid=violation]")) == expected
    page.get_by_test_id("filter-rule").locator("button").click()
    page.wait_for_selector("[data-testid=findings]:not([data-rule])")
    assert page.locator("[data-testid=violation]").count() == len(answer["results"])


def test_filters_by_team_and_severity(page: Any, server: Server) -> None:
    answer = report(server)
    team = iri(server, TEAM)
    ready(page, "/governance")
    page.get_by_test_id("filter-team").select_option(team)
    page.wait_for_selector("[data-testid=filter-team-chip]")
    ours = [r for r in answer["results"] if team in r["teams"]]
    assert ours, "the demo plants problems on the personalization team's assets"
    assert Counter(attrs(page, "[data-testid=violation]")) == Counter(r["focusNode"] for r in ours)
    # the team-scoped validation of the API finds the same
    scoped = report(server, team=TEAM)
    assert Counter(attrs(page, "[data-testid=violation]")) == Counter(
        r["focusNode"] for r in scoped["results"]
    )
    assert f"team={urllib.parse.quote(TEAM, safe='')}" in page.url or f"team={TEAM}" in page.url

    page.get_by_test_id("filter-severity").select_option("warning")
    page.wait_for_url("**severity=warning**")
    warnings = [r for r in ours if r["severity"] == "warning"]
    assert page.locator("[data-testid=violation]").count() == len(warnings)


def test_the_scorecard_is_the_apis(page: Any, server: Server) -> None:
    card = api(server, "/api/v1/validation", format="scorecard")
    totals = {row["team"]: row["total"] for row in card["teams"]}
    ready(page, "/governance")
    shown = {
        row.get_attribute("data-team"): int(row.get_attribute("data-total"))
        for row in page.locator("[data-testid=scorecard-team]").all()
    }
    expected = {"none" if team == "(no owner)" else team: total for team, total in totals.items()}
    assert shown == {**dict.fromkeys(shown, 0), **expected}  # teams with nothing to fix show 0
    teams = api(server, "/api/v1/assets", type="mlg:Team", limit="1000")["items"]
    assert {t["id"] for t in teams} <= set(shown)


def test_downloads_link_the_report_formats(page: Any, server: Server) -> None:
    ready(page, "/governance")
    for fmt in ("sarif", "junit", "html", "turtle"):
        href = page.get_by_test_id(f"download-{fmt}").get_attribute("href")
        assert href == f"/api/v1/validation?format={fmt}"
    sarif = json.loads(fetch(server, "/api/v1/validation", format="sarif"))
    assert sarif["version"] == "2.1.0"


@pytest.fixture
def token_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("governance") / "store",
        "--demo",
        env={"KG_API_TOKENS": "secret"},
    )
    yield running
    stop_server(running)


def test_run_validation_asks_for_the_token_once(browser: Any, token_server: Server) -> None:
    context, watch = open_context(browser, token_server.url)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        ready(page, "/governance")
        first = page.get_by_test_id("report-time").get_attribute("data-time")
        assert page.get_by_test_id("report-time").get_attribute("data-run") == "1"

        page.get_by_test_id("run-validation").click()
        page.get_by_test_id("token-dialog").wait_for()
        page.get_by_test_id("token-input").fill("secret")
        page.get_by_test_id("token-save").click()
        page.wait_for_selector("[data-testid=report-time][data-run='2']")
        second = page.get_by_test_id("report-time").get_attribute("data-time")
        assert second and second != first
        assert "kept" in page.locator(".report-line").inner_text()

        # kept, as many results as the report shows, made when the page says
        kept = api(token_server, "/api/v1/validation/latest")
        assert kept["generatedAt"] == second
        assert len(kept["results"]) == page.locator("[data-testid=violation]").count()

        # the token is asked once per session: the second run goes straight through
        page.get_by_test_id("run-validation").click()
        page.wait_for_selector("[data-testid=report-time][data-run='3']")
        assert page.get_by_test_id("token-dialog").count() == 0
        third = page.get_by_test_id("report-time").get_attribute("data-time")
        assert third and third != second

        # opened again, the page shows the kept report with its own time, and runs nothing
        ready(page, "/governance")
        shown = page.get_by_test_id("report-time")
        assert shown.get_attribute("data-source") == "kept"
        assert shown.get_attribute("data-time") == third
        assert api(token_server, "/api/v1/validation/latest")["generatedAt"] == third
        assert page.locator("[data-testid=violation]").count() == len(kept["results"])
        href = page.get_by_test_id("download-sarif").get_attribute("href")
        assert href == "/api/v1/validation/latest?format=sarif"
    finally:
        context.close()
    # the page knew writes need a token and asked first: no write was refused
    watch.check()


# -- team pages


def team_sections(page: Any, server: Server) -> None:
    """The team sections the asset page shows, once their scorecard is in."""
    page.wait_for_selector("[data-testid=team-scorecard][data-state=done]")


def test_a_team_page_lists_members_assets_and_scorecard(
    page: Any, server: Server, shoot: Callable[[Any, str], None]
) -> None:
    team = api(server, "/api/v1/assets/" + TEAM)
    ready(page, f"/id/{TEAM}")
    team_sections(page, server)

    members = [r["source"] for r in team["incoming"] if r["property"] == "mlg:memberOf"]
    assert members
    assert sorted(attrs(page, "[data-testid=team-member]")) == sorted(members)

    owned = api(server, "/api/v1/assets", owner=team["id"], limit="1000")
    assert owned["items"]
    assert sorted(attrs(page, "[data-testid=team-asset]")) == sorted(
        item["id"] for item in owned["items"]
    )
    for kind, count in owned["facets"]["type"].items():
        assert (
            page.locator(f'.team-group[data-type="{kind}"] [data-testid=team-asset]').count()
            == count
        )

    scoped = report(server, team=TEAM)
    by_rule: dict[str, Counter[str]] = {}
    for r in scoped["results"]:
        by_rule.setdefault(r["shape"], Counter())[r["severity"]] += 1
    rows = page.locator("[data-testid=scorecard-row]")
    assert sorted(attrs(page, "[data-testid=scorecard-row]", "data-rule")) == sorted(by_rule)
    names = {rule["id"]: rule["name"] for rule in api(server, "/api/v1/rules")["rules"]}
    for row in rows.all():
        counts = by_rule[row.get_attribute("data-rule")]
        cells = row.locator("td.num").all_inner_texts()
        assert cells[:2] == [str(counts["violation"]), str(counts["warning"])]
        assert row.locator("td a").first.inner_text() == names[row.get_attribute("data-rule")]
    shoot(page, "team")

    # the dashboard, filtered to the team
    page.get_by_test_id("team-governance-link").click()
    page.wait_for_url("**/governance?team=**")
    page.wait_for_selector("main[data-ready=true]")
    assert page.get_by_test_id("filter-team").input_value() == team["id"]
    assert Counter(attrs(page, "[data-testid=violation]")) == Counter(
        r["focusNode"] for r in scoped["results"]
    )


def test_a_persons_page_lists_their_teams(page: Any, server: Server) -> None:
    person = api(server, "/api/v1/assets/person/ben")
    ready(page, "/id/person/ben")
    team_sections(page, server)
    teams = [r["target"] for r in person["outgoing"] if r["property"] == "mlg:memberOf"]
    assert teams
    assert sorted(attrs(page, "[data-testid=team-member]")) == sorted(teams)
    owned = api(server, "/api/v1/assets", owner=person["id"], limit="1000")
    assert sorted(attrs(page, "[data-testid=team-asset]")) == sorted(
        item["id"] for item in owned["items"]
    )
