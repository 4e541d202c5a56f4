"""Who changed what, and when: the audit of the requests kg's HTTP API served.

Every request that is not a plain read (its method is not GET, HEAD or OPTIONS), and every
401, 403 and 422 answer to any request, becomes one entry: who asked (the principal the
authentication recognised), from which peer address, what (method, path and query), the
status and outcome, why a refusal was refused, and the load record a write made.

The entries live in their own embedded store beside the data store (`<store>.audit/`, in
memory for an in-memory store), which only this package writes: no SPARQL Update, Graph Store
Protocol call or load reaches it, and /sparql never sees it. `log` keeps and reads it,
`middleware` records what the API answers, `vocab` names the terms.
"""
