"""Identity across sources: the rules that make one IRI of an asset whichever system names it.

Datasets are named by (platform, name), the way DataHub's own OpenLineage converter matches
them: OpenLineage's `postgres://host:5432` + `db.schema.table` and DataHub's
`urn:li:dataset:(urn:li:dataPlatform:postgres,db.schema.table,PROD)` are both
`<base>dataset/postgres/db.schema.table`. File-like namespaces (`s3://bucket`) put the bucket in
front of the path, as DataHub does. An environment other than PROD becomes `@ENV` at the end.

People and teams are named by their user or group name: DataHub's `urn:li:corpuser:jdoe`,
Backstage's `user:default/jdoe` and OpenLineage's ownership `user:jdoe` are `<base>person/jdoe`.
Jobs are named by OpenLineage namespace + name, runs by their run id, other DataHub entities keep
their URN as their IRI. What the rules cannot see, users declare with `owl:sameAs`, which lineage
and impact follow in both directions.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

import pyoxigraph as ox

from kg.errors import InputError

_SAFE = "/-._~:@!$&'()*+,;=%"
# OpenLineage namespace schemes whose DataHub platform has another name.
_PLATFORMS = {
    "gs": "gcs",
    "postgresql": "postgres",
    "awsathena": "athena",
    "abfss": "abs",
    "wasbs": "abs",
    "sqlserver": "mssql",
    "hdfs": "hdfs",
}
# Schemes whose namespace is a storage location (bucket, host) that belongs in the name.
_FILE_LIKE = {"s3", "s3a", "s3n", "gs", "gcs", "abfss", "wasbs", "hdfs", "file"}
HUGGINGFACE_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
# Pages of a Hugging Face repository: `datasets/<name>/tree/main` names the dataset `<name>`.
_HUGGINGFACE_PAGES = {"tree", "blob", "resolve", "raw", "viewer", "discussions", "commits", "edit"}
_DATAHUB_DATASET = re.compile(r"^urn:li:dataset:\(urn:li:dataPlatform:([^,]+),(.+),([A-Za-z_]+)\)$")
_DATAHUB_FIELD = re.compile(r"^urn:li:schemaField:\((urn:li:dataset:\(.+\)),(.+)\)$")


def _mint(base_iri: str, *parts: str) -> ox.NamedNode:
    return ox.NamedNode(base_iri + "/".join(quote(p, safe=_SAFE) for p in parts))


def dataset(base_iri: str, platform: str, name: str, env: str = "PROD") -> ox.NamedNode:
    """The one IRI of a dataset, from its platform and its name on that platform."""
    if not platform or not name:
        raise InputError("a dataset needs a platform and a name")
    tail = name if env.upper() == "PROD" else f"{name}@{env.upper()}"
    return _mint(base_iri, "dataset", platform.lower(), tail)


def openlineage_dataset(namespace: str, name: str) -> tuple[str, str]:
    """(platform, name) of an OpenLineage dataset (namespace + name, see the naming spec)."""
    if "://" not in namespace:
        platform = namespace.lower()
        return platform, name.strip("/") if platform in _FILE_LIKE else name
    parts = urlsplit(namespace)
    scheme = parts.scheme.lower()
    platform = _PLATFORMS.get(scheme, scheme)
    if scheme in _FILE_LIKE:
        location = (parts.netloc + parts.path).strip("/")
        path = name.strip("/")
        return platform, f"{location}/{path}" if location else path
    return platform, name


def datahub_dataset(urn: str) -> tuple[str, str, str]:
    """(platform, name, env) of a DataHub dataset URN."""
    found = _DATAHUB_DATASET.match(urn)
    if found is None:
        raise InputError(f"{urn!r} is not a DataHub dataset URN")
    return found.group(1), found.group(2), found.group(3)


def datahub_dataset_iri(base_iri: str, urn: str) -> ox.NamedNode:
    platform, name, env = datahub_dataset(urn)
    return dataset(base_iri, platform, name, env)


def datahub_field(base_iri: str, urn: str) -> ox.NamedNode:
    """A DataHub schemaField URN -> the field IRI under its dataset's IRI."""
    found = _DATAHUB_FIELD.match(urn)
    if found is None:
        raise InputError(f"{urn!r} is not a DataHub schemaField URN")
    return field(datahub_dataset_iri(base_iri, found.group(1)), found.group(2))


def field(dataset_iri: ox.NamedNode, name: str) -> ox.NamedNode:
    return ox.NamedNode(dataset_iri.value + "/field/" + quote(name, safe=_SAFE))


def job(base_iri: str, namespace: str, name: str) -> ox.NamedNode:
    return _mint(base_iri, "job", namespace, name)


def run(base_iri: str, run_id: str) -> ox.NamedNode:
    return _mint(base_iri, "run", run_id)


def person(base_iri: str, name: str) -> ox.NamedNode:
    return _mint(base_iri, "person", name)


def team(base_iri: str, name: str) -> ox.NamedNode:
    return _mint(base_iri, "team", name)


def owner(base_iri: str, name: str) -> ox.NamedNode:
    """An owner as OpenLineage ownership facets write it: `user:jdoe`, `team:data`, `jdoe`."""
    kind, sep, rest = name.partition(":")
    if sep and kind.lower() in ("team", "group"):
        return team(base_iri, rest)
    if sep and kind.lower() in ("user", "person"):
        return person(base_iri, rest)
    return person(base_iri, name)


def datahub_agent(base_iri: str, urn: str) -> ox.NamedNode:
    """DataHub `urn:li:corpuser:x` / `urn:li:corpGroup:x` -> the person or team IRI."""
    if urn.startswith("urn:li:corpuser:"):
        return person(base_iri, urn.removeprefix("urn:li:corpuser:"))
    if urn.startswith("urn:li:corpGroup:"):
        return team(base_iri, urn.removeprefix("urn:li:corpGroup:"))
    raise InputError(f"{urn!r} is not a DataHub user or group URN")


def urn(value: str) -> ox.NamedNode:
    """A DataHub URN kept as the entity's IRI."""
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise InputError(f"{value!r} is not a usable URN: {exc}") from exc


def huggingface_dataset(url: str) -> str | None:
    """The Hugging Face name of the dataset whose page `url` is (`org/name`, or a legacy
    `name` without an organisation), else None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in HUGGINGFACE_HOSTS:
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0] != "datasets":
        return None
    rest = segments[1:]
    if len(rest) >= 2 and rest[1] not in _HUGGINGFACE_PAGES:
        return f"{rest[0]}/{rest[1]}"
    return rest[0]
