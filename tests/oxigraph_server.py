"""A real Oxigraph server (PyPI `oxigraph`, the dev extra) for the remote store's tests: started
on a free loopback port over a folder of its own, stopped when the test module ends."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.remote import RemoteStore
from tests.conftest import stop_process, wait_for_sparql
from tests.test_serve import free_port


def binary() -> str | None:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    return found if Path(found).exists() else None


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def store(self, **options: object) -> RemoteStore:
        return RemoteStore.from_url(self.url, timeout=30.0, **options)

    def clear(self) -> None:
        """Every graph and the default graph emptied, as a fresh server has them."""
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}/update",
            data=b"DROP ALL",
            headers={"Content-Type": "application/sparql-update"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
            answer.read()


@contextmanager
def oxigraph_server(folder: Path | None, *options: str) -> Iterator[Server]:
    """`oxigraph serve` on `folder` (None: in memory), once it answers a query; skips when it
    is not installed."""
    program = binary()
    if program is None:
        pytest.skip("the oxigraph server is not installed (pip install -e '.[dev]')")
    port = free_port()
    location = [] if folder is None else ["--location", str(folder)]
    process = subprocess.Popen(
        [program, "serve", *location, "--bind", f"127.0.0.1:{port}", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_sparql(process, f"{url}/query", "oxigraph serve")
        yield Server(url, process)
    finally:
        stop_process(process, 30)
