from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.ingest import openlineage as ol
from kg.ingest.olschema import CoreCheck, EventSchema, SpecSchema
from kg.write import importers
from tests.conftest import GOLDEN, assert_golden, data_nquads, iri, settings, shared

EVENTS = GOLDEN / "openlineage-events.jsonl"


def ingest(graph: KnowledgeGraph, *documents: tuple[str, bytes], strict: bool = True):  # type: ignore[no-untyped-def]
    return importers.openlineage(
        graph, [Document(name, data) for name, data in documents], strict=strict
    )


def owners(graph: KnowledgeGraph, asset: str) -> list[str]:
    return [r.node for r in graph.asset(asset).owners]


def events() -> list[dict[str, object]]:
    return [json.loads(line) for line in EVENTS.read_text().splitlines()]


def test_golden(graph: KnowledgeGraph) -> None:
    report = ingest(graph, (EVENTS.name, EVENTS.read_bytes()))
    assert report.counts()["accepted"] == 3
    assert_golden("openlineage-events.nq", data_nquads(graph))


def test_start_then_complete_make_one_run_in_any_order() -> None:
    start, complete, dataset_event = (json.dumps(e).encode() for e in events())
    answers = []
    for order in ([start, complete], [complete, start]):
        graph = KnowledgeGraph.open(settings())
        for n, body in enumerate([*order, dataset_event]):
            ingest(graph, (f"event {n}", body))  # one request per event
        answers.append(data_nquads(graph))
        run = graph.asset("run/0190a0c4-1f2e-7a3b-9c4d-5e6f7a8b9c0d")
        graph.close()
    assert answers[0] == answers[1]
    text = answers[0]
    assert "<https://w3id.org/mlg#runState> <https://w3id.org/mlg#Completed>" in text
    assert 'startedAtTime> "2026-03-02T10:00:00Z"' in text
    assert 'endedAtTime> "2026-03-02T10:12:30.5Z"' in text
    assert run.type == "https://w3id.org/mlg#Run"


def test_a_later_event_replaces_what_an_earlier_one_said() -> None:
    first = events()[2]
    second = json.loads(json.dumps(first))
    second["eventTime"] = "2026-03-04T08:00:00Z"
    second["dataset"]["facets"]["lifecycleStateChange"]["lifecycleStateChange"] = "CREATE"
    for order in ([first, second], [second, first]):
        graph = KnowledgeGraph.open(settings())
        for n, event in enumerate(order):
            ingest(graph, (f"e{n}", json.dumps(event).encode()))
        status = [
            t.object.value
            for t in graph.asset_rdf("dataset/postgres/analytics.public.clicks_raw")
            if t.predicate.value.endswith("#status")
        ]
        assert status == ["https://w3id.org/mlg#Active"]
        graph.close()


def test_lineage_runs_input_to_run_to_output_with_fields(graph: KnowledgeGraph) -> None:
    ingest(graph, (EVENTS.name, EVENTS.read_bytes()))
    up = graph.lineage("dataset/s3/feature-store/user_features/daily")
    ids = {n.id: n.distance for n in up.nodes}
    assert ids[iri("run/0190a0c4-1f2e-7a3b-9c4d-5e6f7a8b9c0d")] == 1
    assert ids[iri("dataset/postgres/analytics.public.clicks_clean")] == 1
    fields = graph.sparql(
        "SELECT ?name WHERE { <" + iri("dataset/s3/feature-store/user_features/daily") + "> "
        "<https://w3id.org/mlg#field>/<http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    )
    assert sorted(row[0].value for row in fields) == ["clicks_7d", "user_id"]  # type: ignore[union-attr]
    column = graph.lineage("dataset/s3/feature-store/user_features/daily/field/clicks_7d")
    assert iri("dataset/postgres/analytics.public.clicks_clean/field/clicked_at") in {
        n.id for n in column.nodes
    }
    # The symlink names the same dataset: lineage reaches it through owl:sameAs.
    assert iri("dataset/hive/features.user_features_daily") in ids
    # The job owns its outputs and runs; the input's own ownership facet wins.
    assert owners(graph, "dataset/s3/feature-store/user_features/daily") == [
        iri("team/feature-eng")
    ]
    assert owners(graph, "dataset/postgres/analytics.public.clicks_clean") == [
        iri("team/data-platform")
    ]


def test_the_namespace_mapping_owns_what_events_leave_unowned() -> None:
    graph = KnowledgeGraph.open(
        settings(namespace_owners={"postgres://warehouse.internal:5432": "team:warehouse"})
    )
    ingest(graph, (EVENTS.name, EVENTS.read_bytes()))
    assert owners(graph, "dataset/postgres/analytics.public.clicks_raw") == [iri("team/warehouse")]
    graph.close()


def test_enforced_gate_accepts_unowned_automated_assets_and_reports_them() -> None:
    graph = KnowledgeGraph.open(settings(gate=GateMode.ENFORCE))
    event = events()[2]
    report = ingest(graph, ("event", json.dumps(event).encode()))
    data = report.as_dict()
    assert data["counts"]["created"] == 1
    assert any("owner" in v["message"] for v in data["violations"])
    assert graph.exists(iri("dataset/postgres/analytics.public.clicks_raw"))
    graph.close()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("eventTime"), "eventTime: required, missing"),
        (lambda e: e["run"].pop("runId"), "run.runId: required, missing"),
        (lambda e: e["run"].update(runId="not-a-uuid"), "run.runId"),
        (lambda e: e["job"].pop("namespace"), "job.namespace: required, missing"),
        (lambda e: e["inputs"][0].pop("name"), "inputs[0].name: required, missing"),
        (
            lambda e: e["job"]["facets"]["ownership"]["owners"][0].pop("name"),
            "job.facets.ownership.owners[0].name: required, missing",
        ),
        (lambda e: e.update(eventTime="2026-03-02T10:00:00"), "eventTime"),
    ],
)
def test_invalid_events_are_refused_naming_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    event = events()[0]
    mutate(event)
    problems = CoreCheck().problems(event)
    assert any(field in p for p in problems), problems
    graph = KnowledgeGraph.open(settings())
    before = data_nquads(graph)
    with pytest.raises(InputError, match="invalid OpenLineage event"):
        ingest(graph, ("bad", json.dumps([events()[1], event]).encode()))
    assert data_nquads(graph) == before  # the valid event of the batch is not stored either
    graph.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the body is empty"),
        (b"{not json", "not JSON"),
        (b'{"a": 1}\n{oops}\n', "JSON line 2 is not JSON"),
    ],
)
def test_unreadable_bodies(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ol.read_events(body, "body")


def test_json_lines_and_arrays_read_alike() -> None:
    lines = EVENTS.read_bytes()
    array = json.dumps(events()).encode()
    assert ol.read_events(lines, "a") == ol.read_events(array, "b")


def _expected(spec_root: Path) -> dict[str, str]:
    table = {}
    for line in (spec_root / "events" / "VALIDATION.tsv").read_text().splitlines():
        status, key, *_ = line.split("\t")
        table[key] = status
    return table


def test_spec_schema_agrees_with_the_published_validation_of_every_event() -> None:
    root = shared("data", "openlineage")
    schema = SpecSchema(root / "spec")
    expected = _expected(root)
    checked = 0
    for folder in sorted((root / "events").iterdir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            for n, event in enumerate(ol.read_events(path.read_bytes(), path.name)):
                key = f"{path.name}#{n}"
                if key in expected:
                    assert ("VALID" if not schema.problems(event) else "INVALID") == expected[key]
                    checked += 1
    assert checked == len(expected)


def test_the_events_folder_valid_accepted_invalid_refused_nothing_partial() -> None:
    root = shared("data", "openlineage")
    graph = KnowledgeGraph.open(settings(openlineage_spec=root / "spec", gate=GateMode.ENFORCE))
    valid = sorted((root / "events" / "valid").glob("*.json"))
    report = importers.openlineage(
        graph, [Document(p.name, p.read_bytes()) for p in valid], strict=False
    )
    assert report.refused == [] and report.accepted == 39
    before = data_nquads(graph)
    for path in sorted((root / "events" / "invalid").glob("*.json")):
        with pytest.raises(InputError):
            ingest(graph, (path.name, path.read_bytes()))
        files = importers.openlineage(graph, [Document(path.name, path.read_bytes())], strict=False)
        assert files.refused and files.accepted == 0
    assert data_nquads(graph) == before
    graph.close()


def test_without_the_spec_the_core_check_still_refuses_what_kg_maps() -> None:
    root = shared("data", "openlineage")
    schema = EventSchema(None)
    for path in sorted((root / "events" / "valid").glob("*.json")):
        for event in ol.read_events(path.read_bytes(), path.name):
            assert schema.problems(event) == [], path.name
    for name in ("ol_proxy_event_no_run_id.json", "ol_proxy_event_invalid_job_facet.json",
                 "marquez_event_without_schema_url.json", "ol_proxy_event_invalid_run_facet.json"):  # fmt: skip
        event = ol.read_events((root / "events" / "invalid" / name).read_bytes(), name)[0]
        assert schema.problems(event), name


WAREHOUSE = "postgres://wh.internal:5432"


def _ownership(owner: str, kind: str) -> dict[str, object]:
    return {
        "ownership": {
            "_producer": "https://example.com/kg-tests",
            "_schemaURL": f"https://openlineage.io/spec/facets/1-0-1/Ownership{kind}Facet.json",
            "owners": [{"name": owner}],
        }
    }


def _event(
    time: str,
    job: str,
    *,
    job_owner: str | None = None,
    inputs: list[dict[str, object]] | None = None,
    outputs: list[dict[str, object]] | None = None,
    run: str = "0190a0c4-1f2e-7a3b-9c4d-000000000001",
) -> dict[str, object]:
    facets = _ownership(job_owner, "Job") if job_owner else {}
    return {
        "eventType": "COMPLETE",
        "eventTime": time,
        "producer": "https://example.com/kg-tests",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run},
        "job": {"namespace": "dbt", "name": job, "facets": facets},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


def _dataset(name: str, owner: str | None = None) -> dict[str, object]:
    facets = _ownership(owner, "Dataset") if owner else {}
    return {"namespace": WAREHOUSE, "name": name, "facets": facets}


def _dbt_build() -> list[dict[str, object]]:
    mart, explicit, seed = (
        _dataset("db.mart"),
        _dataset("db.explicit", "user:ana"),
        _dataset("db.seed"),
    )
    return [
        # the models: the job owns its output, the explicit facet wins over the job
        _event(
            "2026-03-02T10:00:00Z",
            "model.mart",
            job_owner="team:analytics",
            inputs=[seed],
            outputs=[mart, explicit],
        ),
        # the tests: they name the marts as inputs, and the job says no owner
        _event(
            "2026-03-02T10:05:00Z",
            "test.mart",
            inputs=[_dataset("db.mart"), _dataset("db.explicit")],
            run="0190a0c4-1f2e-7a3b-9c4d-000000000002",
        ),
        # another owned job writes the explicitly owned table, without a facet this time
        _event(
            "2026-03-02T10:10:00Z",
            "model.other",
            job_owner="team:other",
            outputs=[_dataset("db.explicit")],
            run="0190a0c4-1f2e-7a3b-9c4d-000000000003",
        ),
    ]


@pytest.mark.parametrize("one_request", [True, False])
def test_ownership_precedence_facet_then_producing_job_then_namespace(one_request: bool) -> None:
    graph = KnowledgeGraph.open(
        settings(namespace_owners={WAREHOUSE: "team:warehouse", "dbt": "team:dbt"})
    )
    build = _dbt_build()
    for repeat in range(2):  # every `dbt build` says it all again
        if one_request:
            ingest(graph, (f"build{repeat}", json.dumps(build).encode()))
        else:
            for n, event in enumerate(build):
                ingest(graph, (f"build{repeat}-{n}", json.dumps(event).encode()))
        assert owners(graph, "dataset/postgres/db.explicit") == [iri("person/ana")]
        assert owners(graph, "dataset/postgres/db.mart") == [iri("team/analytics")]
        assert owners(graph, "dataset/postgres/db.seed") == [iri("team/warehouse")]
        assert owners(graph, "job/dbt/model.mart") == [iri("team/analytics")]
        assert owners(graph, "job/dbt/test.mart") == [iri("team/dbt")]
    graph.close()


def test_an_input_keeps_the_owner_another_source_gave_it() -> None:
    from kg.write.importers import Importer

    graph = KnowledgeGraph.open(settings(namespace_owners={WAREHOUSE: "team:warehouse"}))
    catalog = [{
        "entityUrn": "urn:li:dataset:(urn:li:dataPlatform:postgres,db.seed,PROD)",
        "aspectName": "ownership",
        "aspect": {"json": {"owners": [{"owner": "urn:li:corpGroup:finance", "type": "DATAOWNER"}]}},
    }]  # fmt: skip
    importers.ingest(
        graph, Importer.DATAHUB, [Document("dh.json", json.dumps(catalog).encode())], strict=True
    )
    ingest(graph, ("e", json.dumps(_dbt_build()[0]).encode()))
    assert owners(graph, "dataset/postgres/db.seed") == [iri("team/finance")]
    graph.close()


def test_an_ownership_facet_gives_no_second_name_to_a_known_team(graph: KnowledgeGraph) -> None:
    from kg.write.importers import Importer

    sample = GOLDEN / "datahub-metadata.json"
    importers.ingest(
        graph, Importer.DATAHUB, [Document(sample.name, sample.read_bytes())], strict=True
    )
    ingest(graph, (EVENTS.name, EVENTS.read_bytes()))  # facets name team:data-platform
    labels = graph.sparql(
        "SELECT ?l WHERE { GRAPH ?g { <" + iri("team/data-platform") + "> "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l } }"
    )
    assert [row[0].value for row in labels] == ["Data Platform"]  # type: ignore[index,union-attr]
    # a team kg has not seen is named after the facet
    assert graph.asset("team/feature-eng").label == "feature-eng"


@pytest.mark.parametrize("named_by", ["native", "datahub"])
def test_an_ownership_facet_never_adds_a_second_name(graph: KnowledgeGraph, named_by: str) -> None:
    from kg.write.importers import Importer
    from tests.conftest import load_text

    if named_by == "native":
        load_text(graph, "- {id: team/data-platform, type: Team, name: Data Platform}")
    else:
        sample = GOLDEN / "datahub-metadata.json"
        importers.ingest(
            graph, Importer.DATAHUB, [Document(sample.name, sample.read_bytes())], strict=True
        )
    query = (
        "SELECT ?l WHERE { GRAPH ?g { <" + iri("team/data-platform") + "> "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l } }"
    )
    for _ in range(2):  # the facets name team:data-platform; and again, as producers resend
        ingest(graph, (EVENTS.name, EVENTS.read_bytes()))
        labels = [row[0].value for row in graph.sparql(query)]  # type: ignore[index,union-attr]
        assert labels == ["Data Platform"]


@pytest.mark.parametrize("named_by", ["datahub", "native", "update"])
def test_a_source_naming_a_team_later_replaces_the_facet_name(
    graph: KnowledgeGraph, named_by: str
) -> None:
    """The other order: the facets name team:data-platform first, then another source does."""
    from kg.write.importers import Importer
    from tests.conftest import load_text

    ingest(graph, (EVENTS.name, EVENTS.read_bytes()))  # the facet's name: "data-platform"
    team = iri("team/data-platform")
    query = f"SELECT ?l WHERE {{ GRAPH ?g {{ <{team}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }} }}"

    def labels() -> list[str]:
        return [row[0].value for row in graph.sparql(query)]  # type: ignore[index,union-attr]

    assert labels() == ["data-platform"]
    if named_by == "datahub":
        sample = GOLDEN / "datahub-metadata.json"
        importers.ingest(
            graph, Importer.DATAHUB, [Document(sample.name, sample.read_bytes())], strict=True
        )
    elif named_by == "native":
        load_text(graph, "- {id: team/data-platform, type: Team, name: Data Platform}")
    else:
        graph.sparql_update(
            f"INSERT DATA {{ <{team}> a <https://w3id.org/mlg#Team> ; "
            '<http://www.w3.org/2000/01/rdf-schema#label> "Data Platform" }'
        )
    assert labels() == ["Data Platform"]
    assert graph.asset("team/data-platform").label == "Data Platform"
    ingest(graph, (EVENTS.name, EVENTS.read_bytes()))  # and producers resend
    assert labels() == ["Data Platform"]
