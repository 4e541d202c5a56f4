"""Settings from the environment (KG_*), with defaults that work on a fresh machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.errors import SettingsError
from kg.governance.gate import GateMode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KG_", env_file=".env", extra="ignore")

    store: Path = Field(
        Path("kg-data"),
        description="Folder of the embedded on-disk store; or the URL of a SPARQL 1.1 server "
        "to use as the store (http://host:7878, an Oxigraph server's root: its /query, /update "
        "and /store), whose search index and lineage snapshot then sit beside ./kg-data.",
    )
    sparql_query_url: str = Field(
        "", description="A SPARQL 1.1 server as the store: its query endpoint."
    )
    sparql_update_url: str = Field(
        "", description="Its update endpoint (empty: the query endpoint takes updates too)."
    )
    gsp_url: str = Field(
        "", description="Its Graph Store Protocol endpoint (empty: graphs are read by SPARQL)."
    )
    sparql_user: str = Field(
        "", description="User name for the server, sent as it asks (HTTP Basic or Digest)."
    )
    sparql_password: str = Field("", description="Password for the server (Basic or Digest).")
    sparql_token: str = Field("", description="Bearer token for the server (instead of a user).")
    sparql_timeout: float = Field(
        60.0, description="Seconds kg waits on the server for each network operation."
    )
    sparql_union: Literal["parameter", "server", "virtuoso"] = Field(
        "parameter",
        description="How the server gives the union of all graphs: parameter (Oxigraph "
        "server's union-default-graph), server (its default graph is the union), or virtuoso.",
    )
    sparql_system_graphs: str = Field(
        "",
        description="On Virtuoso: the graphs it keeps for itself, comma-separated, which kg's "
        "reads leave out (empty: those of a fresh Debian install, kg.remote.VIRTUOSO_GRAPHS).",
    )
    search_exact_facets: int = Field(
        5_000,
        ge=0,
        description="Searches with up to this many matches count every match's facets; past "
        "it the counts are estimated from a sample (exact on request: exactFacets).",
    )
    follow_interval: float = Field(
        0.2,
        ge=0,
        description="On a SPARQL server store: seconds between two looks at the change log for "
        "what other kg processes wrote (0: only when this one writes).",
    )
    write_lease: float = Field(
        30.0,
        gt=0,
        description="On a SPARQL server store: seconds after which a writer's claim that was not "
        "renewed (its process died mid-write) is taken as stale.",
    )
    write_wait: float = Field(
        120.0,
        ge=0,
        description="On a SPARQL server store: seconds a write waits for its turn (503 after).",
    )
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
    rules: str = Field(
        "",
        description="Extra inference rules (SPARQL CONSTRUCT, rules/ shows how): files or folders "
        "of *.rq, comma-separated.",
    )

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
    mlflow_uri: str | None = Field(
        None, description="MLflow tracking server kg hydrates from (http://host:5000)."
    )
    mlflow_token: str | None = Field(
        None, description="Bearer token for the MLflow server, when it needs one."
    )
    mlflow_webhook_secret: str | None = Field(
        None,
        description="Secret of the MLflow webhooks that POST to /api/v1/events/mlflow; without "
        "it that route refuses every call.",
    )
    cards_dir: Path | None = Field(
        None,
        description="Folder of Croissant dataset cards and Hugging Face model cards to hydrate.",
    )
    sync_interval: float = Field(
        0.0,
        ge=0,
        description="Seconds between scheduled syncs of every source by `kg serve` (0: only "
        "`kg sync` and events).",
    )
    source_rate: float = Field(
        20.0, ge=0, description="Requests a second kg sends to one source at most (0: no limit)."
    )
    api_tokens: str = Field(
        "", description="Bearer tokens allowed to write, comma-separated (empty: writes are open)."
    )
    tokens_file: Path | None = Field(
        None,
        description="File of named tokens with a role and a team, stored as hashes (written by "
        "`kg token add`).",
    )
    read_open: bool = Field(
        True, description="Whether reads need no token (false: every read needs a reader's)."
    )
    oidc_issuer: str = Field(
        "", description="Issuer (iss) of the OIDC bearer tokens kg accepts (empty: none)."
    )
    oidc_audience: str = Field("", description="Audience (aud) those tokens must name.")
    oidc_jwks: str = Field(
        "",
        description="The issuer's signing keys: a JWKS file, or a URL KG_FEDERATION_ALLOW allows.",
    )
    oidc_role_claim: str = Field("kg_role", description="Claim holding reader, writer or admin.")
    oidc_team_claim: str = Field("kg_team", description="Claim holding a writer's team id.")
    oidc_name_claim: str = Field(
        "sub", description="Claim naming the caller in the history and the audit."
    )
    history: bool = Field(
        True,
        description="Keep what every write replaced, for answers as of any moment (false: only "
        "the load records).",
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

    @model_validator(mode="before")
    @classmethod
    def _store_url(cls, data: Any) -> Any:
        """KG_STORE=http://... names the server's endpoints instead of a folder."""
        if isinstance(data, dict):
            store = data.get("store")
            if isinstance(store, str) and store.lower().startswith(("http://", "https://")):
                from kg.remote import endpoints

                query, update, gsp = endpoints(store)
                data = {k: v for k, v in data.items() if k != "store"}
                data.setdefault("sparql_query_url", query)
                data.setdefault("sparql_update_url", update)
                data.setdefault("gsp_url", gsp or "")
        return data

    def sparql_endpoints(self) -> tuple[str, str, str | None] | None:
        """The remote store's query, update and Graph Store endpoints; None: the embedded one."""
        if not self.sparql_query_url:
            return None
        update = self.sparql_update_url or self.sparql_query_url
        return self.sparql_query_url, update, self.gsp_url or None

    def sparql_hidden_graphs(self) -> list[str] | None:
        names = [g.strip() for g in self.sparql_system_graphs.split(",") if g.strip()]
        return names or None

    def sparql_auth(self) -> tuple[str, str] | str | None:
        if self.sparql_token:
            return self.sparql_token
        return (self.sparql_user, self.sparql_password) if self.sparql_user else None

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

    def rule_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.rules.split(",") if p.strip()]

    def store_path(self) -> Path | None:
        return None if self.memory else self.store


def load_settings() -> Settings:
    """The settings from the environment and .env, or a SettingsError naming each variable
    that is wrong, what it should be and what it holds."""
    try:
        return Settings()  # type: ignore[call-arg]  # every field has a default
    except ValidationError as exc:
        problems = [
            f"KG_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']} "
            f"(it is {error['input']!r})"
            for error in exc.errors()
        ]
        raise SettingsError("; ".join(problems)) from exc
