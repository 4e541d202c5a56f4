"""The write gate adds exactly the Violations a full validation before and after the write
tells apart, though it reads only a bounded neighbourhood: around a dataset with many
dependents and a team with many assets, and for writes on generated graphs."""

from __future__ import annotations

import random

import pytest

from bench.generate import generate
from kg.governance.gate import PRODUCTION_DEPENDENCY, Gate, GateMode
from kg.governance.model import Severity
from kg.governance.validation import Engine
from kg.graph import Document, KnowledgeGraph
from kg.write.pipeline import prepare
from tests.conftest import load_text

SHAPES = "https://w3id.org/mlg/shapes#"
MANY = 150  # dependents of the hub dataset, and assets of team/big

Key = tuple[str, str | None, str | None, str, str, str | None]

BASE = (
    """
- {id: team/a, type: Team, name: A}
- {id: team/big, type: Team, name: Big}
- {id: person/p, type: Person, name: P, memberOf: team/a}
- {id: raw, type: Dataset, name: Raw, description: d, owner: team/a, status: Active}
- {id: pii, type: Dataset, name: PII, description: d, owner: team/a, classification: PII}
- {id: hub, type: Dataset, name: Hub, description: d, owner: team/a, derivedFrom: raw}
- {id: old, type: Dataset, name: Old, description: d, owner: team/a, status: Deprecated}
- {id: m, type: Model, name: M, description: d, owner: team/a}
- {id: review, type: PrivacyReview, outcome: Approved}
- {id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: hub, stage: Production}
- {id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m, trainedOn: [pii, hub], usesModel: m/v1, privacyReview: review}
- {id: eval, type: Evaluation, name: E, owner: team/a, evaluates: [m/v1, m/v2], evaluatedOn: raw}
- {id: svc, type: Service, name: S, owner: team/a, stage: Production, deploys: m/v1}
- {id: svc2, type: Service, name: S2, owner: team/a, stage: Staging, deploys: m/v2}
"""
    + "".join(
        f"- {{id: d{i}, type: Dataset, name: D{i}, description: d, owner: team/big, "
        f"derivedFrom: hub, status: Experimental}}\n"
        for i in range(MANY)
    )
    + "".join(
        f"- {{id: s{i}, type: Service, name: S{i}, owner: team/big, stage: Staging, "
        f"deploys: m/v1}}\n"
        for i in range(MANY)
    )
)  # fmt: skip

V1 = "{id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m"
V2 = "{id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m"
HUB = "{id: hub, type: Dataset, name: Hub, description: d, owner: team/a"

CASES = [
    # name, the write, the rules it must be refused by (empty: accepted)
    ("retire the hub its many dependents stand on: none is active, a service is in production",
     f"- {HUB}, derivedFrom: raw, status: Retired}}", {"NoDeprecatedUpstream"}),
    ("one of the hub's many dependents becomes active while it is retired",
     f"- {HUB}, derivedFrom: raw, status: Retired}}\n- {{id: d7, type: Dataset, name: D7, description: d, owner: team/big, derivedFrom: hub, status: Active}}",
     {"RetiredUnused", "NoDeprecatedUpstream"}),
    ("deprecate what the hub derives from: production far downstream", "- {id: raw, type: Dataset, name: Raw, description: d, owner: team/a, status: Deprecated}",
     {"NoDeprecatedUpstream"}),
    ("retrain a version many services deploy on a deprecated dataset", f"- {V1}, trainedOn: [hub, old], stage: Production}}", {"NoDeprecatedUpstream"}),
    ("retrain it again on what it had", f"- {V1}, trainedOn: hub, stage: Production}}", set()),
    ("keep one of two paths to personal data, the review approved", f"- {V2}, trainedOn: pii, usesModel: m/v1, privacyReview: review}}", set()),
    ("drop the review of a version on personal data", f"- {V2}, trainedOn: [pii, hub], usesModel: m/v1}}", {"PrivacyReviewed"}),
    ("the review of a version on personal data turns pending", "- {id: review, type: PrivacyReview, outcome: Pending}", {"PrivacyReviewed"}),
    ("the hub becomes personal data: one version on it is reviewed, one is not",
     f"- {HUB}, derivedFrom: raw, classification: PII}}", {"PrivacyReviewed"}),
    ("one of many deployers goes to production on an unevaluated version",
     "- {id: eval, type: Evaluation, name: E, owner: team/a, evaluates: m/v1, evaluatedOn: raw}\n"
     "- {id: s3, type: Service, name: S3, owner: team/big, stage: Production, deploys: m/v2}",
     {"EvaluatedBeforeProduction"}),
    ("a team with many assets is renamed", "- {id: team/big, type: Team, name: Bigger}", set()),
    ("a team with many assets gets a second owner for one", "- {id: d3, type: Dataset, name: D3, description: d, owner: [team/big, team/a], derivedFrom: hub}", {"AssetOwner"}),
    ("a new version trained on the deprecated dataset, not in production", "- {id: m/v3, type: ModelVersion, name: v3, owner: team/a, versionOf: m, trainedOn: old}", set()),
]  # fmt: skip


def violations(graph: KnowledgeGraph) -> set[Key]:
    report = graph.validate(engine=Engine.COMPILED)
    return {r.key() for r in report.results if r.severity is Severity.VIOLATION}


def gate_and_full(graph: KnowledgeGraph, text: str) -> tuple[set[Key], set[Key]]:
    """What the gate adds for a write, and what a full validation before and after tells
    apart (the write is then committed, with the gate off)."""
    gate = Gate(graph.shapes(), GateMode.ENFORCE, graph.lineage_index)
    plan = prepare(graph.ontology, graph.parse([Document("write.yaml", text.encode())]))
    gated = {
        r.key()
        for r in gate.added_violations(graph.store, plan).results
        if r.shape != PRODUCTION_DEPENDENCY
    }
    before = violations(graph)
    load_text(graph, text, "write.yaml")
    return gated, violations(graph) - before


@pytest.mark.parametrize(
    ("name", "write", "refused_by"), CASES, ids=[c[0].replace(" ", "-") for c in CASES]
)
def test_the_gate_adds_what_a_full_validation_tells_apart(
    graph: KnowledgeGraph, name: str, write: str, refused_by: set[str]
) -> None:
    load_text(graph, BASE)
    gated, full = gate_and_full(graph, write)
    assert gated == full, name
    assert {shape.strip("<>").removeprefix(SHAPES) for *_, shape in full} == refused_by


def _writes(graph: KnowledgeGraph, rng: random.Random) -> list[str]:
    """Writes on a generated graph: versions retrained on other data, datasets deprecated,
    retired or classified, services moved to production."""

    def some(kind: str) -> list[str]:
        rows = graph.query(f"SELECT ?s WHERE {{ ?s a <https://w3id.org/mlg#{kind}> }}")
        return sorted(graph.short(row[0].value) for row in rows)  # type: ignore[index,union-attr]

    datasets, versions, services = some("Dataset"), some("ModelVersion"), some("Service")
    writes = []
    for _ in range(12):
        version, picked = rng.choice(versions), rng.sample(datasets, 2)
        writes.append(
            f"- {{id: {version}, type: ModelVersion, name: R, owner: team/t0, "
            f"trainedOn: [{', '.join(picked)}], stage: {rng.choice(['Production', 'Staging'])}}}"
        )
        dataset = rng.choice(datasets)
        status = rng.choice(["Deprecated", "Retired", "Active"])
        extra = ", classification: PII" if rng.random() < 0.3 else ""
        writes.append(
            f"- {{id: {dataset}, type: Dataset, name: D, description: d, owner: team/t1, "
            f"status: {status}{extra}}}"
        )
        service = rng.choice(services)
        writes.append(
            f"- {{id: {service}, type: Service, name: S, owner: team/t2, stage: Production, "
            f"deploys: {rng.choice(versions)}}}"
        )
    return writes


@pytest.mark.parametrize("seed", [5, 6])
def test_the_gate_agrees_with_full_validations_on_a_generated_graph(
    graph: KnowledgeGraph, seed: int
) -> None:
    lines, _ = generate(400, seed=seed)
    graph.load([Document("generated.nt", "\n".join(lines).encode())])
    rng = random.Random(seed)  # noqa: S311 (a reproducible sequence of writes)
    refused = 0
    for write in _writes(graph, rng):
        gated, full = gate_and_full(graph, write)
        assert gated == full, write
        refused += bool(full)
    assert refused  # the writes add violations: the comparison means something
