"""Validation figures on a store: each compiled rule run alone over the whole graph (path rules
over the lineage index, and with --compare by SPARQL in the store too), then the full compiled
validation, one JSON line each as it finishes.

    python -m bench.validation --store PATH [--compare]

bench.run starts it in a child process so that a rule past its time can be stopped and the
figures of those before it are kept.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kg.config import Settings
from kg.governance.closure import walkable
from kg.governance.engines import run_check
from kg.governance.gate import GateMode
from kg.governance.shapes import Check
from kg.governance.validation import Engine, validate
from kg.graph import KnowledgeGraph


def _short(iri: str) -> str:
    return iri.strip("<>").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def name(check: Check) -> str:
    """A rule as a reader knows it: its node shape, the path of a property shape, and the
    kind of constraint."""
    component = _short(check.component).removesuffix("ConstraintComponent")
    path = f" {_short(check.path)}" if check.path else ""
    return f"{_short(check.node_shape)}{path} ({component})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument(
        "--compare", action="store_true", help="run path rules in SPARQL too, and compare"
    )
    args = parser.parse_args()
    graph = KnowledgeGraph.open(Settings(store=args.store, gate=GateMode.OFF))  # type: ignore[call-arg]
    try:
        shapes = graph.shapes()
        for check in shapes.checks:
            start = time.perf_counter()
            found = run_check(graph.store, check, index=graph.lineage_index)
            seconds = time.perf_counter() - start
            line: dict[str, object] = {
                "rule": name(check),
                "seconds": seconds,
                "results": len(found),
                "walked": walkable(check, graph.lineage_index),
            }
            if args.compare and line["walked"]:
                start = time.perf_counter()
                by_sparql = run_check(graph.store, check)
                line["sparql"] = time.perf_counter() - start
                line["same"] = sorted(by_sparql) == sorted(found)
            print(json.dumps(line), flush=True)
        start = time.perf_counter()
        report = graph.validate(engine=Engine.COMPILED)
        seconds = time.perf_counter() - start
        print(json.dumps({"full": seconds, "counts": report.counts()}), flush=True)
        # as the HTTP API's worker process runs it, with no lineage index: path rules walk the
        # store's mlg:dependsOn statements, read for the run
        start = time.perf_counter()
        without = validate(graph.store, shapes)
        seconds = time.perf_counter() - start
        same = without.results == report.results
        print(json.dumps({"full without index": seconds, "same": same}), flush=True)
    finally:
        graph.close()


if __name__ == "__main__":
    main()
