"""The HTTP layer: thin FastAPI routes over kg.graph.

`app` builds the app (from settings, with a lifespan); `deps` holds what the routes share
(`GraphDep`, `WriterDep`...); one router module per resource: `system` (health, stats),
`lineage` (lineage, impact, path), `search`, `queries` (the named queries), `assets`, `sparql`,
`gsp` (the Graph Store Protocol), `governance`, `imports` (importers and exports). `models` are
the answers' schemas, shared with the CLI's JSON; `openapi` adds what the document says beyond
them; `errors` and `middleware` map errors and bound requests."""
