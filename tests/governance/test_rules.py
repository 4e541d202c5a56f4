"""Each governance rule fires on a graph that breaks it and stays quiet on one that does not;
the compiled engine and pyshacl agree on every one of these graphs."""

from __future__ import annotations

import pytest

from kg.governance.validation import Engine
from kg.graph import KnowledgeGraph
from tests.conftest import iri, load_text

CLEAN = """
- {id: team/a, type: Team, name: A}
- {id: person/p, type: Person, name: P, memberOf: team/a}
- {id: raw, type: Dataset, name: Raw, description: Raw data., owner: team/a, status: Active}
- {id: m, type: Model, name: M, description: A model., owner: team/a}
- {id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: raw, stage: Production, status: Active}
- {id: eval, type: Evaluation, name: E, owner: team/a, evaluates: m/v1, evaluatedOn: raw}
- {id: svc, type: Service, name: S, owner: team/a, stage: Production, deploys: m/v1}
- {id: ab, type: Experiment, name: AB, owner: team/a, tests: m/v1}
"""

RAW = "{id: raw, type: Dataset, name: Raw, description: Raw data., owner: team/a"

CASES = [
    # rule, change that breaks it, expected focus, change that keeps it quiet
    ("AssetOwner", "- {id: raw, type: Dataset, name: Raw, description: d}", "raw", f"- {RAW}}}"),
    ("AssetOwner", f"- {RAW.replace('team/a', '[team/a, person/p]')}}}", "raw", f"- {RAW.replace('team/a', 'person/p')}}}"),
    # an owner of another type (a model) is refused by the write pipeline (the range of
    # mlg:owner); an owner not described anywhere is the rule's
    ("AssetOwner", f"- {RAW.replace('team/a', 'team/unknown')}}}", "raw", f"- {RAW.replace('team/a', 'team/a')}}}"),
    ("OwnerInTeam", f"- {{id: person/q, type: Person, name: Q}}\n- {RAW.replace('team/a', 'person/q')}}}", "person/q",
     f"- {{id: person/q, type: Person, name: Q, memberOf: team/a}}\n- {RAW.replace('team/a', 'person/q')}}}"),
    ("AssetLabel", "- {id: raw, type: Dataset, description: d, owner: team/a}", "raw", f"- {RAW}}}"),
    ("AssetDescription", "- {id: raw, type: Dataset, name: Raw, owner: team/a}", "raw",
     "- {id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: raw, stage: Production}"),
    ("StatusValue", f"- {RAW}, properties: {{mlg:status: [{{id: mlg:Active}}, {{id: mlg:Deprecated}}]}}}}", "raw", f"- {RAW}, status: Deprecated}}"),
    # a value of another class (mlg:Production, a stage) is refused by the write pipeline (the
    # range of mlg:status); a value the ontology does not describe is the rule's
    ("StatusValue", f"- {RAW}, properties: {{mlg:status: {{id: 'https://example.org/live'}}}}}}", "raw", f"- {RAW}, status: Experimental}}"),
    ("StageValue", "- {id: svc, type: Service, name: S, owner: team/a, deploys: m/v1, properties: {mlg:stage: [{id: mlg:Staging}, {id: mlg:Production}]}}", "svc",
     "- {id: svc, type: Service, name: S, owner: team/a, deploys: m/v1, stage: Staging}"),
    ("RetiredUnused", f"- {RAW}, status: Retired}}", "raw",
     f"- {RAW}, status: Retired}}\n- {{id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: raw, status: Retired}}"),
    ("EvaluatedBeforeProduction", "- {id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m, stage: Production}", "m/v2",
     "- {id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m, stage: Staging}"),
    ("EvaluatedBeforeProduction", "- {id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m, stage: Staging}\n"
     "- {id: svc2, type: Service, name: S2, owner: team/a, stage: Production, deploys: m/v2}", "m/v2",
     "- {id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m, stage: Staging}\n"
     "- {id: svc2, type: Service, name: S2, owner: team/a, stage: Staging, deploys: m/v2}"),
    ("NoDeprecatedUpstream", f"- {RAW}, status: Deprecated}}", "svc",
     f"- {RAW}, status: Deprecated}}\n- {{id: svc, type: Service, name: S, owner: team/a, stage: Staging, deploys: m/v1}}"),
    ("ExperimentTestsVersion", "- {id: ab, type: Experiment, name: AB, owner: team/a}", "ab",
     "- {id: ab, type: Experiment, name: AB, owner: team/a, tests: [m/v1]}"),
    ("ExperimentTestsVersion", "- {id: ab, type: Experiment, name: AB, owner: team/a}", "ab",
     "- {id: ab, type: Experiment, name: AB, owner: team/a}\n- {id: ab/a, type: TestCell, name: A, owner: team/a, cellOf: ab}"),
    ("ExperimentTestsModelVersion", "- {id: ab, type: Experiment, name: AB, owner: team/a, tests: m/unknown}", "ab",
     "- {id: ab, type: Experiment, name: AB, owner: team/a, tests: m/v1}"),
    ("ClassificationValue", f"- {RAW}, properties: {{mlg:classification: {{id: 'https://example.org/secret'}}}}}}", "raw", f"- {RAW}, classification: Confidential}}"),
    ("PrivacyReviewed", f"- {RAW}, classification: PII}}", "m/v1",
     f"- {RAW}, classification: PII}}\n- {{id: review, type: PrivacyReview, outcome: Approved}}\n"
     "- {id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: raw, stage: Production, privacyReview: review}"),
    ("PrivacyReviewed", f"- {RAW}, classification: PII}}\n- {{id: review, type: PrivacyReview, outcome: Pending}}\n"
     "- {id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: raw, stage: Production, privacyReview: review}", "m/v1",
     f"- {RAW}, classification: Internal}}"),
]  # fmt: skip

SHAPES = "https://w3id.org/mlg/shapes#"


def results(graph: KnowledgeGraph) -> set[tuple[str, str]]:
    compiled = graph.validate(engine=Engine.COMPILED)
    reference = graph.validate(engine=Engine.PYSHACL)
    assert {r.key() for r in compiled.results} == {r.key() for r in reference.results}
    return {
        (r.node_shape if r.shape.startswith("_:") else r.shape, r.focus) for r in compiled.results
    }


def test_the_clean_graph_conforms_without_warnings(graph: KnowledgeGraph) -> None:
    load_text(graph, CLEAN)
    assert results(graph) == set()


@pytest.mark.parametrize(
    ("rule", "breaks", "focus", "keeps"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_fires_and_stays_quiet(
    graph: KnowledgeGraph, rule: str, breaks: str, focus: str, keeps: str
) -> None:
    load_text(graph, CLEAN)
    load_text(graph, breaks)
    found = results(graph)
    assert (f"<{SHAPES}{rule}>", f"<{iri(focus)}>") in found
    load_text(graph, CLEAN)
    load_text(graph, keeps)
    assert all(shape != f"<{SHAPES}{rule}>" for shape, _ in results(graph))


def test_deleting_what_a_production_service_deploys_is_refused(graph: KnowledgeGraph) -> None:
    from kg.governance.gate import GateError, GateMode

    load_text(graph, CLEAN)
    graph.settings = graph.settings.model_copy(update={"gate": GateMode.ENFORCE})
    with pytest.raises(GateError) as caught:
        graph.delete_asset("m/v1")
    assert any(
        r.shape == f"<{SHAPES}ProductionDependencyKept>" and r.focus == f"<{iri('svc')}>"
        for r in caught.value.report.results
    )
    assert graph.exists(iri("m/v1"))
    # once the service no longer runs it in production (and the experiment is over), it may go
    load_text(graph, "- {id: svc, type: Service, name: S, owner: team/a, stage: Staging}")
    graph.delete_asset("ab")
    graph.delete_asset("m/v1")
    assert not graph.exists(iri("m/v1"))


def test_two_constraints_finding_one_value_give_two_results(graph: KnowledgeGraph) -> None:
    """A dataset both deprecated and retired (two sources disagree) under a production service:
    both of NoDeprecatedUpstream's constraints fire, and the report keeps both, every time."""
    load_text(graph, CLEAN)
    both = f"- {RAW}, properties: {{mlg:status: [{{id: mlg:Deprecated}}, {{id: mlg:Retired}}]}}}}"
    load_text(graph, both)
    messages = sorted(
        r.message
        for r in graph.validate(engine=Engine.COMPILED).results
        if r.shape == f"<{SHAPES}NoDeprecatedUpstream>" and r.focus == f"<{iri('svc')}>"
    )
    assert [m.rsplit(", which is ", 1)[1] for m in messages] == ["deprecated.", "retired."]
