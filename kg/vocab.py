"""Namespaces, the prefix map, and CURIE <-> IRI conversion."""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

MLG = "https://w3id.org/mlg#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCTERMS = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
DQV = "http://www.w3.org/ns/dqv#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES: dict[str, str] = {
    "mlg": MLG,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "prov": PROV,
    "dqv": DQV,
    "sh": SH,
    "mls": "http://www.w3.org/ns/mls#",
    "fair4ml": "https://w3id.org/fair4ml#",
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "mlgsh": "https://w3id.org/mlg/shapes#",
    "schema": "https://schema.org/",
}


def value(term: NamedNode | BlankNode | Literal | Triple) -> str:
    """The lexical value of a term (a quoted triple prints as N-Triples)."""
    return str(term) if isinstance(term, Triple) else term.value


def mlg(local: str) -> NamedNode:
    return NamedNode(MLG + local)


RDF_TYPE = NamedNode(RDF + "type")
RDFS_LABEL = NamedNode(RDFS + "label")
RDFS_SUBCLASS_OF = NamedNode(RDFS + "subClassOf")
RDFS_SUBPROPERTY_OF = NamedNode(RDFS + "subPropertyOf")
DCTERMS_DESCRIPTION = NamedNode(DCTERMS + "description")
DCTERMS_CREATED = NamedNode(DCTERMS + "created")
DCAT_KEYWORD = NamedNode(DCAT + "keyword")
DCAT_VERSION = NamedNode(DCAT + "version")
DEPENDS_ON = mlg("dependsOn")
SAME_AS = NamedNode(OWL + "sameAs")
OWNER = mlg("owner")
MEMBER_OF = mlg("memberOf")
STATUS = mlg("status")
STAGE = mlg("stage")

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def expand(name: str, prefixes: dict[str, str] | None = None) -> str | None:
    """`prefix:local` -> full IRI when the prefix is known, else None.

    >>> expand("mlg:Dataset")
    'https://w3id.org/mlg#Dataset'
    """
    prefix, sep, local = name.partition(":")
    if not sep or local.startswith("//"):
        return None
    namespace = (prefixes or PREFIXES).get(prefix)
    return namespace + local if namespace is not None else None


def compact(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """Full IRI -> `prefix:local` when a known namespace matches, else the IRI itself.

    >>> compact("https://w3id.org/mlg#Dataset")
    'mlg:Dataset'
    """
    for prefix, namespace in (prefixes or PREFIXES).items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri
