"""Inference as data: SPARQL CONSTRUCT rules (rules/, and the user's with KG_RULES) whose
conclusions kg writes back as edges, kept in step with every write.

A rule's conclusions about one asset (its anchor: the subject of every triple the rule
constructs) live in `urn:kg:graph:inferred:<rule>:<IRI>`, written by a load of their own whose
record names the rule and the time. After each write, only the anchors the write can affect are
recomputed: those the rule's premises reached before the write and those they reach after it,
so a removed premise removes its conclusion.
"""
