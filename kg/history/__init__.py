"""Every change kept: what each write replaced, and the graph as it stood at any moment.

A write that replaces or drops a graph with content keeps that content as a version of the
graph (`record`), in the same atomic commit as the write; graphs a write leaves as they were are
not written at all, so the change log names only real changes. From the versions and the change
log, `timeline` finds which writes changed which graphs and when, `state` rebuilds any graph as
of a position, `lineage` walks lineage as of a moment without rebuilding anything, `changes`
lists what differs between two moments, and `prune` removes versions before a moment (the one
way history is ever destroyed).
"""
