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
    max_body: int = Field(100 * 1024 * 1024, description="Largest request body, in bytes.")
    max_rows: int = Field(100_000, description="Most rows a SPARQL SELECT answers.")
    query_timeout: float = Field(30.0, description="Seconds a SPARQL query may run.")
    query_workers: int = Field(4, description="SPARQL queries evaluated at once.")

    def tokens(self) -> list[str]:
        return [t.strip() for t in self.api_tokens.split(",") if t.strip()]

    def shape_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.shapes.split(",") if p.strip()]

    def store_path(self) -> Path | None:
        return None if self.memory else self.store
