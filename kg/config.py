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

    def shape_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.shapes.split(",") if p.strip()]

    def store_path(self) -> Path | None:
        return None if self.memory else self.store
