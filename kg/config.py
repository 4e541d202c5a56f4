"""Settings from the environment (KG_*), with defaults that work on a fresh machine."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.governance.gate import GateMode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KG_", env_file=".env", extra="ignore")

    store: Path = Field(Path("kg-data"), description="Folder of the embedded on-disk store.")
    memory: bool = Field(False, description="Keep the graph in memory only (nothing on disk).")
    base_iri: str = Field(
        "https://w3id.org/mlg/id/", description="IRI prefix minted for local asset ids."
    )
    host: str = Field("127.0.0.1", description="Address `kg serve` listens on.")
    port: int = Field(8000, description="Port `kg serve` listens on.")
    gate: GateMode = Field(
        GateMode.ENFORCE,
        description="Governance on writes: enforce (refuse new Violations), warn, or off.",
    )
    shapes: str = Field("", description="Extra SHACL shapes: files or folders, comma-separated.")

    openlineage_spec: Path | None = Field(
        None,
        description="Folder of the OpenLineage JSON Schema (OpenLineage.json and facets/) that "
        "events are validated against; without it kg checks what the spec requires itself.",
    )
    namespace_owners: dict[str, str] = Field(
        default_factory=dict,
        description="Owner of datasets and jobs whose events name none, by OpenLineage "
        'namespace, as JSON: {"postgres://db:5432": "team:data-platform"}.',
    )
    api_tokens: str = Field(
        "", description="Bearer tokens allowed to write, comma-separated (empty: writes are open)."
    )
    url: str = Field(
        "",
        description="The kg server the CLI talks to instead of opening a store, e.g. "
        "http://127.0.0.1:8000 (empty: the store, or the server that holds it).",
    )
    token: str = Field(
        "",
        description="Bearer token the CLI sends to a server for writes (empty: the first of "
        "KG_API_TOKENS, if set).",
    )
    max_body: int = Field(100 * 1024 * 1024, description="Largest request body, in bytes.")
    max_rows: int = Field(100_000, description="Most rows a SPARQL SELECT answers.")
    query_timeout: float = Field(30.0, description="Seconds a SPARQL query may run.")
    query_workers: int = Field(
        4, description="Evaluations (SPARQL, named queries, validations, exports) run at once."
    )
    query_queue: float = Field(
        5.0, description="Seconds an evaluation may wait for a free worker before a 503."
    )
    task_timeout: float = Field(
        300.0, description="Seconds a validation or an export over HTTP may run."
    )
    max_query: int = Field(
        1024 * 1024, description="Longest SPARQL query text, in bytes (updates: KG_MAX_BODY)."
    )
    max_depth: int = Field(
        64,
        description="Deepest nesting of SPARQL groups, JSON, YAML and XML an input may have.",
    )
    max_literal: int = Field(
        1024 * 1024, description="Longest literal an input may carry, in characters."
    )
    max_iri: int = Field(8192, description="Longest IRI an input may carry, in characters.")
    max_yaml_nodes: int = Field(
        1_000_000, description="Most YAML nodes a document may expand to (aliases counted)."
    )
    federation_allow: str = Field(
        "",
        description="URL prefixes SPARQL SERVICE and LOAD may call, comma-separated (empty: "
        "none). Only callers with a write token get them when reads are open.",
    )

    def federation_prefixes(self) -> list[str]:
        return [p.strip() for p in self.federation_allow.split(",") if p.strip()]

    def tokens(self) -> list[str]:
        return [t.strip() for t in self.api_tokens.split(",") if t.strip()]

    def client_token(self) -> str | None:
        """The token the CLI writes to a server with: KG_TOKEN, else one the server accepts
        when it runs in the same environment."""
        return self.token.strip() or next(iter(self.tokens()), None)

    def shape_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.shapes.split(",") if p.strip()]

    def store_path(self) -> Path | None:
        return None if self.memory else self.store
