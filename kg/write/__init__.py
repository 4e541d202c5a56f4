"""The whole write: every change to the graph of record goes through this package.

* `records`: what a write reports and the load record it leaves in the store (a leaf: no kg
  module it imports writes anything).
* `pipeline`: parse -> check -> derive -> gate -> commit, then the followers told of the change.
* `log`: the change log the load records form, read by position (catch-up at start, followers of
  other processes' writes).
* `graph_store`, `sparql_update`: the Graph Store Protocol's and SPARQL Update's operations as
  batches for the pipeline.
* `importers`: OpenLineage, DataHub and Backstage documents mapped and merged into batches.
"""
