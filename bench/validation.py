"""Validation figures on a store: each compiled rule run alone over the whole graph, then the
full compiled validation, one JSON line each as it finishes.

    python -m bench.validation --store PATH

bench.run starts it in a child process so that a rule past its time can be stopped and the
figures of those before it are kept.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kg.config import Settings
from kg.governance.engines import run_check
from kg.governance.gate import GateMode
from kg.governance.shapes import Check
from kg.governance.validation import Engine
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
    args = parser.parse_args()
    graph = KnowledgeGraph.open(Settings(store=args.store, gate=GateMode.OFF))  # type: ignore[call-arg]
    try:
        shapes = graph.shapes()
        for check in shapes.checks:
            start = time.perf_counter()
            found = run_check(graph.store, check)
            seconds = time.perf_counter() - start
            line = {"rule": name(check), "seconds": seconds, "results": len(found)}
            print(json.dumps(line), flush=True)
        start = time.perf_counter()
        report = graph.validate(engine=Engine.COMPILED)
        seconds = time.perf_counter() - start
        print(json.dumps({"full": seconds, "counts": report.counts()}), flush=True)
    finally:
        graph.close()


if __name__ == "__main__":
    main()
