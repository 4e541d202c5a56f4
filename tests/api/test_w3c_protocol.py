"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol manifests against a live kg."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import SHARED
from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

RUNNER = SHARED / "tools" / "run_w3c_protocol_tests.py"
TESTS = SHARED / "data" / "w3c-sparql-protocol-tests"


@pytest.mark.skipif(
    not RUNNER.exists() or not TESTS.is_dir(), reason="../shared is not beside the repo"
)
def test_every_protocol_and_graph_store_test_passes() -> None:
    server, base = start_server("--memory")
    try:
        run = subprocess.run(
            [
                sys.executable, str(RUNNER), "--tests", str(TESTS),
                "--query-url", f"{base}/sparql", "--update-url", f"{base}/sparql",
                "--gsp-url", f"{base}/store", "--gsp-direct-base", f"{base}/store",
            ],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"47 passed, 0 failed, 0 skipped", summary), run.stdout + run.stderr
