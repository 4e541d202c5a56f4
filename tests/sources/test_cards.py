"""The cards source: golden mappings of the real Croissant and Hugging Face cards in ../shared,
and a small card folder each test writes for itself (listing, fetching, refusals, edge cases of
the mapping as tables).

`KG_UPDATE_GOLDEN=1 pytest tests/sources/test_cards.py` rewrites tests/golden/cards/*.nt; read
the diff before committing it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.errors import InputError, LimitError
from kg.graph import KnowledgeGraph
from kg.identity import huggingface_dataset
from kg.sources.base import EntityRef
from kg.sources.cards import MAX_CARD_BYTES, CardsSource
from kg.sources.cards_map import map_card
from kg.sources.hydrate import Outcome, hydrate
from kg.sources.mlflow_map import dataset_identity
from kg.vocab import value
from kg.write.importers import as_stored
from tests.conftest import GOLDEN, SHARED, assert_golden, shared

BASE = "https://kg.example/id/"
MLG = "https://w3id.org/mlg#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
DATASETS = ("data", "croissant", "datasets")
MODELS = ("data", "ml-metadata", "huggingface")


def canonical(triples: list[ox.Triple]) -> str:
    """Sorted N-Triples as the store keeps them (blank nodes named by RDFC-1.0)."""
    return "".join(sorted(f"{t} .\n" for t in as_stored(triples)))


def values(triples: list[ox.Triple], subject: str, predicate: str) -> set[str]:
    return {
        value(t.object)
        for t in triples
        if value(t.subject) == subject and t.predicate.value == predicate
    }


def subjects_of_type(triples: list[ox.Triple], kind: str) -> set[str]:
    return {
        value(t.subject)
        for t in triples
        if t.predicate.value == RDF_TYPE and value(t.object) == kind
    }


# ---------------------------------------------------------------- the real cards in ../shared


def _real(parts: tuple[str, ...], pattern: str) -> list[str]:
    return sorted(p.name for p in SHARED.joinpath(*parts).glob(pattern))


# Without ../shared each list is one name whose test skips.
REAL_DATASETS = _real(DATASETS, "*.json") or ["absent.json"]
REAL_MODELS = _real(MODELS, "*.md") or ["absent.md"]


def real_card(parts: tuple[str, ...], kind: str, name: str) -> tuple[EntityRef, dict[str, Any]]:
    folder = shared(*parts)
    if not (folder / name).exists():
        pytest.skip(f"{folder / name} is not here")
    ref = EntityRef("cards", kind, name)
    state = CardsSource(folder, BASE).fetch(ref)
    assert state is not None
    return ref, state


def check_golden(name: str, text: str) -> None:
    if os.environ.get("KG_UPDATE_GOLDEN") == "1":
        (GOLDEN / "cards").mkdir(exist_ok=True)
    assert_golden(f"cards/{name}.nt", text)


@pytest.mark.parametrize("name", REAL_DATASETS)
def test_croissant_golden(name: str) -> None:
    ref, state = real_card(DATASETS, "dataset_card", name)
    mapped = map_card(ref, state, BASE)
    check_golden(Path(name).stem, canonical(mapped.triples))
    for subject in mapped.owned:
        assert values(mapped.triples, subject.value, MLG + "sourceEntity") == {ref.key}


@pytest.mark.parametrize("name", REAL_MODELS)
def test_model_card_golden(name: str) -> None:
    ref, state = real_card(MODELS, "model_card", name)
    mapped = map_card(ref, state, BASE)
    check_golden(Path(name).stem, canonical(mapped.triples))
    for subject in mapped.owned:
        assert values(mapped.triples, subject.value, MLG + "sourceEntity") == {ref.key}


def _croissant_fields(fields: list[dict[str, Any]]) -> int:
    return sum(1 + _croissant_fields(f.get("subField") or []) for f in fields)


@pytest.mark.parametrize("name", REAL_DATASETS)
def test_no_field_or_file_of_a_croissant_card_is_lost(name: str) -> None:
    ref, state = real_card(DATASETS, "dataset_card", name)
    card = state["card"]
    mapped = map_card(ref, state, BASE)
    fields = sum(_croissant_fields(rs.get("field") or []) for rs in card.get("recordSet") or [])
    assert len(subjects_of_type(mapped.triples, MLG + "Field")) == fields
    dataset, *owned_fields = mapped.owned
    assert {s.value for s in owned_fields} == subjects_of_type(mapped.triples, MLG + "Field")
    assert values(mapped.triples, dataset.value, MLG + "field") == {s.value for s in owned_fields}
    distributions = subjects_of_type(mapped.triples, DCAT + "Distribution")
    assert len(distributions) == len(card.get("distribution") or [])


def test_every_golden_has_its_card() -> None:
    shared(*DATASETS)
    shared(*MODELS)
    cards = {Path(n).stem for n in [*_real(DATASETS, "*.json"), *_real(MODELS, "*.md")]}
    assert {p.stem for p in (GOLDEN / "cards").glob("*.nt")} == cards


def test_every_real_card_is_listed_with_its_kind() -> None:
    datasets = CardsSource(shared(*DATASETS), BASE)
    assert [r.id for r in datasets.entities()] == _real(DATASETS, "*.json")
    assert {r.kind for r in datasets.entities()} == {"dataset_card"}
    models = CardsSource(shared(*MODELS), BASE)
    assert [(r.kind, r.id) for r in models.entities()] == [
        ("model_card", n) for n in _real(MODELS, "*.md")
    ]


def test_a_hugging_face_dataset_has_the_iri_an_mlflow_run_gives_it() -> None:
    ref, state = real_card(DATASETS, "dataset_card", "1.0_huggingface-mnist.json")
    dataset = map_card(ref, state, BASE).owned[0]
    platform, name, _ = dataset_identity(
        {"name": "mnist", "source_type": "huggingface", "source": '{"path": "ylecun/mnist"}'}
    )
    assert (
        dataset.value
        == f"{BASE}dataset/{platform}/{name}"
        == f"{BASE}dataset/huggingface/ylecun/mnist"
    )


def test_the_model_card_names_its_datasets_and_metrics() -> None:
    ref, state = real_card(MODELS, "model_card", "sample_simple_model_index.md")
    mapped = map_card(ref, state, BASE)
    model = f"{BASE}model/huggingface/my-cool-model"
    version = model + "/card"
    assert [s.value for s in mapped.owned] == [
        model,
        version,
        version + "/evaluation/0",
        version + "/evaluation/1",
    ]
    assert values(mapped.triples, version, MLG + "trainedOn") == {
        f"{BASE}dataset/huggingface/beans"
    }
    assert values(mapped.triples, version + "/evaluation/1", MLG + "evaluatedOn") == {
        f"{BASE}dataset/huggingface/beans"
    }
    metrics = {
        value(t.object) for t in mapped.triples if t.predicate.value.endswith("isMeasurementOf")
    }
    assert metrics == {f"{BASE}metric/accuracy", f"{BASE}metric/f1"}


# ---------------------------------------------------------------- a folder of our own

CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "sc": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "recordSet": "cr:recordSet",
    "field": "cr:field",
    "subField": "cr:subField",
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "includes": "cr:includes",
    "containedIn": "cr:containedIn",
}


def croissant(**fields: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "name": "reviews",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
    }
    card.update(fields)
    return {k: v for k, v in card.items() if v is not None}


REVIEWS = croissant(
    description="Product reviews with their rating.",
    url="https://example.org/reviews",
    license="https://creativecommons.org/licenses/by/4.0/",
    keywords="reviews, sentiment",
    version="2.1",
    datePublished="2024-05-01",
    dateModified="2024-06-01T10:00:00+00:00",
    citeAs="@misc{reviews}",
    creator=[
        {"@type": "sc:Person", "name": "Ana Lima", "url": "https://huggingface.co/analima"},
        {"@type": "sc:Organization", "name": "Data Team"},
    ],
    publisher={"@type": "Organization", "name": "Example Org"},
    distribution=[
        {
            "@type": "cr:FileObject",
            "@id": "archive",
            "name": "archive",
            "contentUrl": "https://example.org/reviews.zip",
            "encodingFormat": "application/zip",
            "contentSize": "2048 B",
            "sha256": "ab" * 32,
            "md5": "cd" * 16,
        },
        {
            "@type": "cr:FileSet",
            "@id": "csvs",
            "containedIn": {"@id": "archive"},
            "encodingFormat": "text/csv",
            "includes": "*.csv",
        },
    ],
    recordSet=[
        {
            "@type": "cr:RecordSet",
            "@id": "reviews",
            "field": [
                {"@type": "cr:Field", "@id": "reviews/text", "dataType": "sc:Text"},
                {
                    "@type": "cr:Field",
                    "name": "author",
                    "subField": [{"@type": "cr:Field", "name": "email", "dataType": "sc:Text"}],
                },
            ],
        }
    ],
)

MODEL_CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: text-classification
tags: [sentiment, reviews]
datasets:
- example/reviews
base_model: example/bert-base
released: 2024-05-01
model-index:
- name: reviews-sentiment
  results:
  - task: {type: text-classification}
    dataset: {type: example/reviews, name: Reviews, split: test}
    metrics:
    - {type: accuracy, value: 0.91}
    - {type: support, value: 1200}
---

<!-- a comment that is no description -->
# Model Card for reviews-sentiment

![badge](https://example.org/badge.svg)

A classifier of review sentiment,
fine-tuned on product reviews.

More text.
"""


def write(folder: Path, relative: str, content: str | bytes | dict[str, Any]) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, dict):
        content = json.dumps(content, indent=2)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    cards = tmp_path / "cards"
    write(cards, "datasets/reviews.json", REVIEWS)
    write(cards, "models/sentiment.md", MODEL_CARD)
    write(cards, "datasets/plain.json", {"name": "not a card"})
    write(cards, "notes.md", "# Notes\n\nNo front matter here.\n")
    write(cards, ".hidden.json", REVIEWS)
    write(cards, ".git/config.json", REVIEWS)
    write(cards, "readme.txt", "not a card")
    with (cards / "huge.jsonld").open("wb") as stream:  # sparse: nothing is written to disk
        stream.truncate(MAX_CARD_BYTES + 1)
    outside = write(tmp_path, "outside/elsewhere.json", REVIEWS)
    (cards / "linked.json").symlink_to(outside)
    (cards / "linked-folder").symlink_to(outside.parent, target_is_directory=True)
    (cards / "link-to-reviews.json").symlink_to(cards / "datasets" / "reviews.json")
    (cards / "loop").symlink_to(cards, target_is_directory=True)
    return cards


def test_entities_are_the_cards_sorted_and_nothing_else(folder: Path) -> None:
    refs = list(CardsSource(folder, BASE).entities())
    assert [(r.kind, r.id) for r in refs] == [
        ("dataset_card", "datasets/reviews.json"),
        ("model_card", "models/sentiment.md"),
    ]
    assert {r.source for r in refs} == {"cards"}


def test_a_missing_folder_has_no_entities(tmp_path: Path) -> None:
    assert list(CardsSource(tmp_path / "absent", BASE).entities()) == []


def test_fetch_a_dataset_card(folder: Path) -> None:
    ref = EntityRef("cards", "dataset_card", "datasets/reviews.json")
    state = CardsSource(folder, BASE).fetch(ref)
    assert state is not None
    assert state["card"] == REVIEWS
    data = (folder / "datasets" / "reviews.json").read_bytes()
    assert state["digest"] == hashlib.sha256(data).hexdigest()


def test_fetch_a_model_card(folder: Path) -> None:
    ref = EntityRef("cards", "model_card", "models/sentiment.md")
    state = CardsSource(folder, BASE).fetch(ref)
    assert state is not None
    assert state["title"] == "Model Card for reviews-sentiment"
    assert (
        state["description"] == "A classifier of review sentiment, fine-tuned on product reviews."
    )
    assert state["card"]["datasets"] == ["example/reviews"]
    assert state["card"]["released"] == "2024-05-01"  # a YAML date, kept as JSON text
    json.dumps(state)


def test_a_deleted_card_or_one_that_is_no_card_any_more_is_none(folder: Path) -> None:
    source = CardsSource(folder, BASE)
    (folder / "datasets" / "reviews.json").unlink()
    assert source.fetch(EntityRef("cards", "dataset_card", "datasets/reviews.json")) is None
    assert source.fetch(EntityRef("cards", "dataset_card", "datasets/plain.json")) is None
    assert source.fetch(EntityRef("cards", "model_card", "notes.md")) is None
    assert source.fetch(EntityRef("cards", "dataset_card", ".hidden.json")) is None


@pytest.mark.parametrize(
    "entity_id",
    [
        "../outside/elsewhere.json",
        "datasets/../../outside/elsewhere.json",
        "/etc/passwd.json",
        "",
        "datasets//reviews.json",
        "./datasets/reviews.json",
        "datasets\\reviews.json",
        "linked.json",
        "linked-folder/elsewhere.json",
        "datasets/reviews.md",
    ],
)
def test_an_id_that_is_no_card_path_in_the_folder_is_refused(folder: Path, entity_id: str) -> None:
    with pytest.raises(InputError):
        CardsSource(folder, BASE).fetch(EntityRef("cards", "dataset_card", entity_id))


def test_an_unknown_kind_is_refused(folder: Path) -> None:
    with pytest.raises(InputError, match="prompt"):
        CardsSource(folder, BASE).fetch(EntityRef("cards", "prompt", "datasets/reviews.json"))


def test_an_invalid_json_card_is_listed_and_refused_naming_file_and_line(folder: Path) -> None:
    write(folder, "broken.json", '{\n  "@type": "sc:Dataset",\n  "name": oops\n}\n')
    source = CardsSource(folder, BASE)
    ref = EntityRef("cards", "dataset_card", "broken.json")
    assert ref in list(source.entities())
    with pytest.raises(InputError) as caught:
        source.fetch(ref)
    assert caught.value.source == "broken.json"
    assert caught.value.line == 3
    assert caught.value.message.startswith("broken.json:3: JSON syntax error")


def test_a_card_nested_past_the_bound_is_refused_before_parsing(folder: Path) -> None:
    write(folder, "deep.json", "[" * 100 + "]" * 100)
    with pytest.raises(LimitError, match="KG_MAX_DEPTH"):
        CardsSource(folder, BASE).fetch(EntityRef("cards", "dataset_card", "deep.json"))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("---\nlicense: mit\ntags: [a, b\n---\n# x\n", 4),
        ("---\nlicense: mit\n  bad: indent\n---\n", 3),
        ("---\n- a list\n---\n", 2),
        ("---\nlicense: mit\n", 1),
    ],
)
def test_an_invalid_front_matter_is_refused_naming_file_and_line(
    folder: Path, text: str, line: int
) -> None:
    write(folder, "bad.md", text)
    with pytest.raises(InputError) as caught:
        CardsSource(folder, BASE).fetch(EntityRef("cards", "model_card", "bad.md"))
    assert (caught.value.source, caught.value.line) == ("bad.md", line)


def test_yaml_aliases_past_the_bound_are_refused(folder: Path) -> None:
    levels = "abcdefg"
    lines = ["a: &a [" + ", ".join(["x"] * 10) + "]"]
    lines += [f"{k}: &{k} [" + ", ".join([f"*{j}"] * 10) + "]" for j, k in pairwise(levels)]
    write(folder, "bomb.md", "---\n" + "\n".join(lines) + "\n---\n")
    with pytest.raises(LimitError, match="KG_MAX_YAML_NODES"):
        CardsSource(folder, BASE).fetch(EntityRef("cards", "model_card", "bomb.md"))


def test_an_oversized_card_is_skipped_and_refused(folder: Path) -> None:
    source = CardsSource(folder, BASE)
    assert "huge.jsonld" not in {r.id for r in source.entities()}
    with pytest.raises(LimitError, match="8 MiB"):
        source.fetch(EntityRef("cards", "dataset_card", "huge.jsonld"))


def test_map_is_the_pure_mapper(folder: Path) -> None:
    source = CardsSource(folder, BASE)
    ref = EntityRef("cards", "model_card", "models/sentiment.md")
    state = source.fetch(ref)
    assert state is not None
    before = copy.deepcopy(state)
    assert canonical(source.map(ref, state).triples) == canonical(
        map_card(ref, state, BASE).triples
    )
    assert state == before


# ---------------------------------------------------------------- mapping our own cards

DATASET = EntityRef("cards", "dataset_card", "datasets/reviews.json")
MODEL = EntityRef("cards", "model_card", "models/sentiment.md")
REVIEWS_IRI = f"{BASE}dataset/croissant/reviews"


def test_the_dataset_card_says_everything_it_has() -> None:
    mapped = map_card(DATASET, {"card": REVIEWS}, BASE)
    t = mapped.triples
    assert values(t, REVIEWS_IRI, RDF_TYPE) == {MLG + "Dataset", DCAT + "Dataset"}
    assert values(t, REVIEWS_IRI, MLG + "platform") == {"croissant"}
    assert values(t, REVIEWS_IRI, DCAT + "keyword") == {"reviews", "sentiment"}
    assert values(t, REVIEWS_IRI, DCTERMS + "license") == {
        "https://creativecommons.org/licenses/by/4.0/"
    }
    assert values(t, REVIEWS_IRI, DCTERMS + "creator") == {
        f"{BASE}person/analima",
        f"{BASE}team/Data%20Team",
    }
    assert values(t, f"{BASE}person/analima", LABEL) == {"Ana Lima"}
    assert values(t, REVIEWS_IRI, DCTERMS + "publisher") == {f"{BASE}team/Example%20Org"}
    assert values(t, REVIEWS_IRI, DCTERMS + "issued") == {"2024-05-01"}
    assert values(t, REVIEWS_IRI, DCTERMS + "modified") == {"2024-06-01T10:00:00+00:00"}
    assert values(t, REVIEWS_IRI, DCAT + "version") == {"2.1"}
    assert values(t, REVIEWS_IRI, DCAT + "landingPage") == {"https://example.org/reviews"}
    assert values(t, REVIEWS_IRI, DCTERMS + "bibliographicCitation") == {"@misc{reviews}"}
    fields = values(t, REVIEWS_IRI, MLG + "field")
    assert fields == {
        f"{REVIEWS_IRI}/field/reviews/text",
        f"{REVIEWS_IRI}/field/author",
        f"{REVIEWS_IRI}/field/author/email",
    }
    assert {s.value for s in mapped.owned} == {REVIEWS_IRI, *fields}
    assert values(t, f"{REVIEWS_IRI}/field/reviews/text", MLG + "dataType") == {"sc:Text"}
    checksums = {value(x.object) for x in t if x.predicate.value.endswith("checksumValue")}
    assert checksums == {"ab" * 32, "cd" * 16}
    media = {value(x.object) for x in t if x.predicate.value == DCAT + "mediaType"}
    assert media == {
        "https://www.iana.org/assignments/media-types/application/zip",
        "https://www.iana.org/assignments/media-types/text/csv",
    }
    assert len([x for x in t if x.predicate.value == DCTERMS + "isPartOf"]) == 1


def test_the_model_card_is_a_model_and_the_version_the_card_describes(folder: Path) -> None:
    state = CardsSource(folder, BASE).fetch(MODEL)
    assert state is not None
    mapped = map_card(MODEL, state, BASE)
    t = mapped.triples
    model = f"{BASE}model/huggingface/reviews-sentiment"
    version = model + "/card"
    assert [s.value for s in mapped.owned] == [model, version, version + "/evaluation/0"]
    assert values(t, model, DCTERMS + "description") == {
        "A classifier of review sentiment, fine-tuned on product reviews."
    }
    assert values(t, model, DCAT + "keyword") == {"sentiment", "reviews"}
    assert values(t, model, SCHEMA + "runtimePlatform") == {"transformers"}
    assert values(t, version, MLG + "versionOf") == {model}
    assert values(t, version, MLG + "trainedOn") == {f"{BASE}dataset/huggingface/example/reviews"}
    assert values(t, version, "https://w3id.org/fair4ml#fineTunedFrom") == {
        f"{BASE}model/huggingface/example/bert-base"
    }
    evaluation = version + "/evaluation/0"
    assert values(t, evaluation, MLG + "evaluates") == {version}
    measured = {value(x.object) for x in t if x.predicate.value == "http://www.w3.org/ns/dqv#value"}
    assert measured == {"0.91", "1200"}
    # A card says nothing of the datasets it names: another card may own their description.
    named = f"{BASE}dataset/huggingface/example/reviews"
    assert not [x for x in t if value(x.subject) == named]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://huggingface.co/datasets/ylecun/mnist", "ylecun/mnist"),
        ("https://huggingface.co/datasets/fashion_mnist", "fashion_mnist"),
        ("https://huggingface.co/datasets/fashion_mnist/tree/main", "fashion_mnist"),
        ("https://huggingface.co/datasets/org/name/viewer/default/train", "org/name"),
        ("http://www.huggingface.co/datasets/org/name/", "org/name"),
        ("https://hf.co/datasets/org/name", "org/name"),
        ("https://huggingface.co/org/model", None),
        ("https://huggingface.co/datasets", None),
        ("https://example.org/datasets/org/name", None),
        ("ftp://huggingface.co/datasets/org/name", None),
    ],
)
def test_hugging_face_dataset_pages(url: str, name: str | None) -> None:
    assert huggingface_dataset(url) == name


@pytest.mark.parametrize(
    ("fields", "dataset"),
    [
        ({"url": "https://huggingface.co/datasets/org/reviews"}, "dataset/huggingface/org/reviews"),
        (
            {"url": "https://huggingface.co/datasets/org/reviews", "name": None},
            "dataset/huggingface/org/reviews",
        ),
        ({"url": "https://example.org/reviews"}, "dataset/croissant/reviews"),
        ({}, "dataset/croissant/reviews"),
    ],
)
def test_dataset_identity(fields: dict[str, Any], dataset: str) -> None:
    mapped = map_card(DATASET, {"card": croissant(**fields)}, BASE)
    assert mapped.owned[0].value == BASE + dataset


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": None}, "name"),
        ({"name": {"en": "reviews"}}, "name"),
        ({"keywords": {"a": 1}}, "keywords"),
        ({"url": "not an iri"}, "url"),
        ({"creator": {"@type": "sc:Person"}}, "creator.name"),
        ({"creator": [{"name": "a"}, 7]}, "creator[1]"),
        ({"datePublished": "last spring"}, "datePublished"),
        (
            {"distribution": [{"@id": "x", "containedIn": {"@id": "y"}}]},
            "distribution[0].containedIn",
        ),
        ({"distribution": "files.zip"}, "distribution"),
        ({"recordSet": [{"field": [{"dataType": "sc:Text"}]}]}, "recordSet[0].field[0].name"),
        (
            {"recordSet": [{"field": [{"@id": "a", "dataType": ["sc:Text", {}]}]}]},
            "recordSet[0].field[0].dataType[1]",
        ),
    ],
)
def test_a_bad_dataset_field_is_an_input_error_naming_file_and_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError) as caught:
        map_card(DATASET, {"card": croissant(**fields)}, BASE)
    assert caught.value.source == DATASET.id
    assert repr(field) in caught.value.message


def model_state(front: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    return {"card": front, "title": title, "description": None, "digest": "0"}


RESULT = {"dataset": {"type": "org/reviews"}, "metrics": [{"type": "f1", "value": 0.5}]}


@pytest.mark.parametrize(
    ("front", "field"),
    [
        (
            {"model-index": [{"results": [{"metrics": [{"value": 1}]}]}]},
            "model-index[0].results[0].metrics[0].type",
        ),
        (
            {"model-index": [{"results": [{"metrics": [{"type": "f1", "value": "high"}]}]}]},
            "model-index[0].results[0].metrics[0].value",
        ),
        (
            {"model-index": [{"results": [{"metrics": [{"type": "f1"}]}]}]},
            "model-index[0].results[0].metrics[0].value",
        ),
        (
            {"model-index": [{"results": [{"dataset": {"name": "Reviews"}}]}]},
            "model-index[0].results[0].dataset.type",
        ),
        (
            {"model-index": [{"results": [{"dataset": "org/reviews"}]}]},
            "model-index[0].results[0].dataset",
        ),
        ({"model-index": ["x"]}, "model-index[0]"),
        ({"datasets": [{"id": "org/reviews"}]}, "datasets[0]"),
        ({"tags": [["nested"]]}, "tags[0]"),
        ({"license": {"name": "mit"}}, "license"),
    ],
)
def test_a_bad_model_card_field_is_an_input_error_naming_file_and_field(
    front: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError) as caught:
        map_card(MODEL, model_state(front), BASE)
    assert caught.value.source == MODEL.id
    assert repr(field) in caught.value.message


@pytest.mark.parametrize(
    ("front", "title", "name"),
    [
        (
            {"model-index": [{"name": "from-index", "results": []}]},
            "Model Card for titled",
            "from-index",
        ),
        ({}, "Model Card for org/titled", "org/titled"),
        ({}, "A title", "A%20title"),
        ({}, None, "sentiment"),
    ],
)
def test_the_model_name(front: dict[str, Any], title: str | None, name: str) -> None:
    mapped = map_card(MODEL, model_state(front, title), BASE)
    assert mapped.owned[0].value == f"{BASE}model/huggingface/{name}"


def test_metric_values_as_native_documents_write_them() -> None:
    metrics = [
        {"type": "a", "value": 1},
        {"type": "b", "value": 0.25},
        {"type": "c", "value": "0.5"},
    ]
    front = {"model-index": [{"name": "m", "results": [{"metrics": metrics}]}]}
    triples = map_card(MODEL, model_state(front), BASE).triples
    found = {
        str(t.object) for t in triples if t.predicate.value == "http://www.w3.org/ns/dqv#value"
    }
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert found == {f'"1"^^<{xsd}integer>', f'"0.25"^^<{xsd}double>', f'"0.5"^^<{xsd}double>'}
    evaluation = f"{BASE}model/huggingface/m/card/evaluation/0"
    assert values(triples, evaluation, MLG + "evaluatedOn") == set()


def test_evaluation_keeps_config_split_revision_and_arguments() -> None:
    result = {
        "dataset": {
            "type": "org/reviews",
            "config": "en",
            "split": "test",
            "revision": "abc",
            "args": {"date": 20240501, "lang": {"from": "en"}},
        },
        "source": {"name": "leaderboard", "url": "https://example.org/board"},
        "metrics": [{"type": "f1", "value": 0.5}],
    }
    front = {"model-index": [{"name": "m", "results": [result]}]}
    triples = map_card(MODEL, model_state(front), BASE).triples
    pairs = {
        (value(n.object), value(v.object))
        for n in triples
        if n.predicate.value == SCHEMA + "name"
        for v in triples
        if v.subject == n.subject and v.predicate.value == SCHEMA + "value"
    }
    assert pairs == {
        ("dataset.config", "en"),
        ("dataset.split", "test"),
        ("dataset.revision", "abc"),
        ("dataset.args.date", "20240501"),
        ("dataset.args.lang.from", "en"),
    }
    evaluation = f"{BASE}model/huggingface/m/card/evaluation/0"
    assert values(triples, evaluation, LABEL) == {"m on org/reviews (test)"}
    assert values(triples, evaluation, DCTERMS + "source") == {"https://example.org/board"}


@pytest.mark.parametrize(
    "card",
    [
        croissant(),
        croissant(**{"@type": "Dataset"}),
        croissant(**{"@type": ["sc:Dataset", "cr:Something"]}),
        croissant(
            **{"@type": "https://schema.org/Dataset", "@context": {"@vocab": "https://schema.org/"}}
        ),
    ],
)
def test_croissant_cards_are_recognised(tmp_path: Path, card: dict[str, Any]) -> None:
    write(tmp_path, "card.json", card)
    assert [r.kind for r in CardsSource(tmp_path, BASE).entities()] == ["dataset_card"]


@pytest.mark.parametrize(
    "card",
    [
        croissant(**{"@type": "sc:Person"}),
        croissant(**{"@context": {"@vocab": "https://schema.org/"}, "conformsTo": None}),
        croissant(**{"@type": None}),
        [croissant()],
    ],
)
def test_other_json_is_no_card(tmp_path: Path, card: Any) -> None:
    write(tmp_path, "other.json", json.dumps(card))
    assert list(CardsSource(tmp_path, BASE).entities()) == []


def test_cards_hydrate_into_kg_and_a_deleted_card_leaves_it(
    graph: KnowledgeGraph, folder: Path
) -> None:
    source = CardsSource(folder, BASE)
    refs = list(source.entities())
    assert [hydrate(graph, source, ref).outcome for ref in refs] == [Outcome.CREATED] * 2
    assert [hydrate(graph, source, ref).outcome for ref in refs] == [Outcome.UNCHANGED] * 2
    (folder / "models" / "sentiment.md").unlink()
    removed = hydrate(graph, source, EntityRef("cards", "model_card", "models/sentiment.md"))
    assert removed.outcome == Outcome.REMOVED
    assert f"{BASE}model/huggingface/reviews-sentiment/card/evaluation/0" in removed.subjects
