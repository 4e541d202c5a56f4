from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import InputError
from kg.ingest import native

BASE = "https://w3id.org/mlg/id/"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def canonical(triples: list[ox.Triple]) -> str:
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted(f"{q} .\n" for q in dataset))


@pytest.mark.parametrize("name", ["native-assets"])
def test_golden(name: str) -> None:
    batch = native.parse((GOLDEN / f"{name}.yaml").read_bytes(), source=name, base_iri=BASE)
    assert canonical(batch.triples) == (GOLDEN / f"{name}.nq").read_text()


def test_json_documents_are_read_like_yaml() -> None:
    yaml_batch = native.parse(
        b"- {id: a, type: Dataset, derivedFrom: [b]}", source="x.yaml", base_iri=BASE
    )
    json_batch = native.parse(
        b'[{"id": "a", "type": "Dataset", "derivedFrom": ["b"]}]', source="x.json", base_iri=BASE
    )
    assert canonical(yaml_batch.triples) == canonical(json_batch.triples)


def test_a_single_asset_document() -> None:
    batch = native.parse(b"id: a\ntype: model\n", source="x.yaml", base_iri=BASE)
    assert (
        ox.Triple(
            ox.NamedNode(BASE + "a"),
            ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode("https://w3id.org/mlg#Model"),
        )
        in batch.triples
    )


def test_empty_document_is_empty() -> None:
    assert native.parse(b"", source="x.yaml", base_iri=BASE).triples == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("assets:\n  - id: a\n    type: Dataset\n    derivedFrom: [b\n", 5, "YAML syntax error"),
        ('[{"id": "a",\n "type": }]', 2, "JSON syntax error"),
        ("- {id: a, type: Dataset}\n- \x02\n", 2, "YAML syntax error: special characters"),
        ("assets:\n  - id: a\n    type: Datset\n", 3, "unknown asset type 'Datset'"),
        ("assets:\n  - id: a\n    type: Dataset\n    trainedon: b\n", 4, "did you mean 'trainedOn'"),
        ("assets:\n  - id: a\n    type: Dataset\n    derivedFrom: 42\n", 4, "not the literal 42"),
        ("assets:\n  - id: a\n    type: Dataset\n    derivedFrom: [{x: 1}]\n", 4, "not the literal"),
        ("assets:\n  - id: a\n    type: Dataset\n    status: Live\n", 4, "status 'Live' is not one of"),
        ("assets:\n  - id: a\n    type: ModelVersion\n    stage: prod\n", 4, "stage 'prod'"),
        ("assets:\n  - type: Dataset\n", 2, "needs an 'id'"),
        ("assets:\n  - id: a\n", 2, "needs a 'type'"),
        ("- {id: a, type: Dataset}\n- {id: a, type: Model}\n", 2, "described twice"),
        ("- {id: e, type: Evaluation, metrics: {auc: high}}\n", 1, "must be a number"),
        ("- {id: e, type: Run, created: yesterday}\n", 1, "date or date-time"),
        ("- {id: e, type: Run, properties: {mlg:nope: 1}}\n", 1, "unknown property"),
        ("assets:\n  - {id: a, type: Dataset}\nteams: []\n", 3, "unknown top-level key"),
        ("- just text\n", None, "must be a mapping"),
        ("- {id: 'http://bad iri', type: Dataset}\n", 1, "not a valid asset id"),
    ],
)  # fmt: skip
def test_errors_name_the_line_and_the_problem(text: str, line: int | None, message: str) -> None:
    with pytest.raises(InputError) as caught:
        native.parse(text.encode(), source="assets.yaml", base_iri=BASE)
    assert caught.value.source == "assets.yaml"
    assert caught.value.line == line
    assert message in caught.value.message


def test_not_utf8() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        native.parse(b"- {id: \xff}", source="x.yaml", base_iri=BASE)
