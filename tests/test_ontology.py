from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.ontology import default_ontology
from kg.vocab import MLG, OWL, RDFS

REQUIRED_CLASSES = [
    "Asset", "Dataset", "Feature", "FeatureSet", "Model", "ModelVersion", "Evaluation",
    "Workflow", "Run", "Service", "Experiment", "Team", "Person",
]  # fmt: skip
LINEAGE_EDGES = [
    "derivedFrom", "inFeatureSet", "trainedOn", "usesFeature", "versionOf", "usesModel",
    "evaluates", "evaluatedOn", "deploys", "tests", "generatedBy", "used", "runOf",
]  # fmt: skip


def test_every_class_required_by_analysts_exists() -> None:
    onto = default_ontology()
    for name in REQUIRED_CLASSES:
        assert MLG + name in onto.classes, name


@pytest.mark.parametrize("name", LINEAGE_EDGES)
def test_lineage_edges_are_dependencies(name: str) -> None:
    onto = default_ontology()
    assert MLG + name in onto.object_properties
    assert MLG + "dependsOn" in onto.super_properties[MLG + name]
    assert MLG + name in onto.lineage_properties


def test_ownership_is_attribution_and_not_lineage() -> None:
    onto = default_ontology()
    assert "http://www.w3.org/ns/prov#wasAttributedTo" in onto.super_properties[MLG + "owner"]
    assert MLG + "owner" not in onto.lineage_properties
    assert MLG + "memberOf" not in onto.lineage_properties


def test_alignment_to_standard_vocabularies() -> None:
    supers = default_ontology().super_classes
    assert "http://www.w3.org/ns/dcat#Dataset" in supers[MLG + "Dataset"]
    assert "http://www.w3.org/ns/prov#Entity" in supers[MLG + "ModelVersion"]
    assert "https://w3id.org/fair4ml#MLModel" in supers[MLG + "ModelVersion"]
    assert "http://www.w3.org/ns/prov#Activity" in supers[MLG + "Run"]
    assert "http://www.w3.org/ns/org#Organization" in supers[MLG + "Team"]
    assert "http://xmlns.com/foaf/0.1/Person" in supers[MLG + "Person"]


def test_every_term_has_a_label_and_a_comment() -> None:
    onto = default_ontology()
    described = {
        (t.subject.value, t.predicate.value)
        for t in onto.triples
        if isinstance(t.subject, ox.NamedNode)
    }
    terms = {
        t.subject.value
        for t in onto.triples
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(MLG)
    }
    assert len(terms) > 40
    for term in terms:
        assert (term, RDFS + "label") in described, term
        assert (term, RDFS + "comment") in described, term


def test_ontology_header_has_a_version() -> None:
    onto = default_ontology()
    header = [t for t in onto.triples if t.object == ox.NamedNode(OWL + "Ontology")]
    assert len(header) == 1
    subject = header[0].subject
    assert any(
        t.subject == subject and t.predicate.value == OWL + "versionInfo" for t in onto.triples
    )


def test_status_and_stage_values() -> None:
    onto = default_ontology()
    assert {v.removeprefix(MLG) for v in onto.values_of("Status")} == {
        "Experimental", "Active", "Deprecated", "Retired",
    }  # fmt: skip
    assert {v.removeprefix(MLG) for v in onto.values_of("Stage")} == {
        "Development", "Staging", "Production",
    }  # fmt: skip
