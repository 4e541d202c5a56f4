"""Governance: SHACL rules over the graph, validation reports, and the write gate.

pyshacl is the reference engine. The rules kg ships (and any shape built from the same
constraint components) are also compiled to SPARQL and run inside the store, which is what full
validation and the write gate use; shapes with other components fall back to pyshacl.
"""
