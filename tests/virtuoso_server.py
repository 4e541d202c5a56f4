"""A real Virtuoso (Debian's `virtuoso-opensource`) for the remote store's tests: a private
server over a folder of its own (its own virtuoso.ini, its SQL and HTTP listeners on free
loopback ports, no system service), with a user `kg` that may update, stopped when the test
module ends. Queries go to /sparql and updates to /sparql-auth (with Digest credentials), as
kg's README says to use Virtuoso; graphs are read by SELECT, or by its Graph Store endpoint
/sparql-graph-crud-auth when asked (`gsp=True`)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.remote import VIRTUOSO_GRAPHS, RemoteStore
from tests.conftest import stop_process, wait_for_sparql
from tests.test_serve import free_port

USER = "kg"
# Its [URIQA] DefaultHost is Debian's, so that its own graphs are named as kg expects by default
# (kg.remote.VIRTUOSO_GRAPHS) whatever port the server listens on.
_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = {folder}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CaseMode = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
ServerThreads = 4
MaxKeepAlives = 8
KeepAliveTimeout = 10
[URIQA]
DefaultHost = localhost:8890
[SPARQL]
; Virtuoso cuts every answer at ResultSetMaxRows (CONSTRUCT and Graph Store ones silently).
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 60
"""


def binaries() -> tuple[str, str] | None:
    server, client = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    return (server, client) if server and client else None


@dataclass
class Server:
    url: str  # the HTTP listener's root
    password: str
    process: subprocess.Popen[bytes]

    def store(self, *, gsp: bool = False, **options: object) -> RemoteStore:
        return RemoteStore(
            f"{self.url}/sparql",
            f"{self.url}/sparql-auth",
            f"{self.url}/sparql-graph-crud-auth" if gsp else None,
            auth=(USER, self.password),
            timeout=30.0,
            union="virtuoso",
            **options,  # type: ignore[arg-type]
        )

    def settings(self) -> dict[str, object]:
        """kg's settings for this server (KG_SPARQL_* as the README gives them for Virtuoso)."""
        return {
            "sparql_query_url": f"{self.url}/sparql",
            "sparql_update_url": f"{self.url}/sparql-auth",
            "sparql_user": USER,
            "sparql_password": self.password,
            "sparql_union": "virtuoso",
        }

    def select(self, query: str) -> list[list[str]]:
        """Rows of a SELECT as another client of /sparql reads them (TSV fields)."""
        data = urllib.parse.urlencode({"query": query}).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}/sparql", data=data, headers={"Accept": "text/tab-separated-values"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
            lines = answer.read().decode().splitlines()
        return [line.split("\t") for line in lines[1:]]

    def update(self, update: str) -> None:
        """A SPARQL update sent to /sparql-auth as `kg`, by the standard library's Digest."""
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, self.url, USER, self.password)
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.url}/sparql-auth",
            data=update.encode(),
            headers={"Content-Type": "application/sparql-update"},
        )
        with opener.open(request, timeout=30) as answer:
            answer.read()

    def clear(self) -> None:
        """Every graph but Virtuoso's own dropped, as a fresh server has them."""
        graphs = [row[0].strip('"') for row in self.select(GRAPHS)]
        drops = [f"DROP SILENT GRAPH <{g}>" for g in graphs if g not in VIRTUOSO_GRAPHS]
        if drops:
            self.update(" ;\n".join(drops))


# Not SELECT DISTINCT, which can leave graphs out (openlink/virtuoso-opensource#80).
GRAPHS = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@contextmanager
def virtuoso_server(folder: Path) -> Iterator[Server]:
    """A private Virtuoso on `folder`, once /sparql answers; skips when it is not installed."""
    found = binaries()
    if found is None:
        pytest.skip("Virtuoso is not installed (apt-get install virtuoso-opensource-7-bin)")
    program, isql = found
    folder.mkdir(parents=True, exist_ok=True)
    sql_port = http_port = free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_INI.format(folder=folder, sql_port=sql_port, http_port=http_port))
    process = subprocess.Popen(
        [program, "+foreground", "+configfile", str(ini)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        wait_for_sparql(process, f"{url}/sparql", "virtuoso-t")
        password = secrets.token_hex(12)
        # A user for kg's writes: SPARQL_UPDATE is the role Virtuoso's SPARQL updates need.
        subprocess.run(
            [
                isql,
                f"127.0.0.1:{sql_port}",
                "dba",
                "dba",
                f"exec=DB.DBA.USER_CREATE('{USER}', '{password}'); GRANT SPARQL_UPDATE TO \"{USER}\";",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield Server(url, password, process)
    finally:
        stop_process(process, 30)
