from __future__ import annotations

import pytest

from kg.errors import InputError
from kg.ids import to_id, to_iri

BASE = "https://kg.example/id/"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("clicks-raw", BASE + "clicks-raw"),
        ("dataset/clicks raw", BASE + "dataset/clicks%20raw"),
        ("team:ads", BASE + "team:ads"),
        ("mlg:Production", "https://w3id.org/mlg#Production"),
        ("https://data.example/x", "https://data.example/x"),
        ("<https://data.example/x>", "https://data.example/x"),
        ("urn:li:dataset:(urn:li:dataPlatform:hive,db.t,PROD)", "urn:li:dataset:(urn:li:dataPlatform:hive,db.t,PROD)"),
    ],
)  # fmt: skip
def test_to_iri(given: str, expected: str) -> None:
    assert to_iri(given, BASE).value == expected


@pytest.mark.parametrize("bad", ["", "   ", "http://bad iri/x"])
def test_to_iri_refuses(bad: str) -> None:
    with pytest.raises(InputError):
        to_iri(bad, BASE)


def test_to_id_round_trip() -> None:
    assert to_id(BASE + "x/y", BASE) == "x/y"
    assert to_id("https://w3id.org/mlg#Dataset", BASE) == "mlg:Dataset"
    assert to_id("https://other.example/z", BASE) == "https://other.example/z"
