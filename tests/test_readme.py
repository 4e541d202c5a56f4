"""The README's tour as a user follows it: its shell commands read as a shell reads them (quotes,
variables, continuations), run in a fresh folder; `make run` as the Makefile runs it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from kg import cli
from kg.api.app import create_app
from kg.cli import app
from kg.demo import load_demo
from kg.governance.gate import GateMode
from kg.graph import KnowledgeGraph
from tests.conftest import settings
from tests.test_serve import free_port, get, start_server

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOKEN = "readme-token"  # noqa: S105 (a test token)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.DOTALL | re.MULTILINE)


def shell_words(command: str, env: dict[str, str]) -> list[str]:
    """`command` split into words by bash itself (quotes, $NAME from `env`, $'…', line
    continuations, comments), as the user's shell would: each word printed NUL-terminated."""

    script = "words() { printf '%s\\0' \"$@\"; }\nwords " + command
    with tempfile.TemporaryDirectory() as scratch:  # where a stray redirection would land
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=scratch,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            capture_output=True,
            check=True,
        )
    return done.stdout.decode().split("\0")[:-1]


def _commands(block: str) -> list[str]:
    """The commands of a shell block, continuation lines joined."""
    return [c for c in re.split(r"(?<!\\)\n", block) if c.strip()]


def _curl(words: list[str]) -> tuple[str, str, dict[str, str], bytes | None]:
    """A curl command line (as words) as method, URL, headers and body."""
    assert words[0] == "curl", words
    method, url, headers, body = None, "", {}, None
    args = iter(words[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip().lower()] = value.strip()
        elif arg in ("--data-binary", "-d"):
            body = next(args).encode()
        elif arg.startswith("http"):
            url = arg
        else:
            pytest.fail(f"the test does not read curl's {arg}")
    return method or ("POST" if body is not None else "GET"), url, headers, body


def _shown_curl(marker: str) -> tuple[str, str, dict[str, str], bytes | None]:
    """The README's curl command holding `marker`, as the shell would run it with $TOKEN set."""
    found = [
        command
        for block in _blocks("sh")
        for command in _commands(block)
        if command.lstrip().startswith("curl") and marker in command
    ]
    assert len(found) == 1, found
    return _curl(shell_words(found[0], {"TOKEN": TOKEN}))


def _request(
    client: TestClient, shown: tuple[str, str, dict[str, str], bytes | None], **files: bytes
) -> Any:
    method, url, headers, body = shown
    if body is not None and body.startswith(b"@"):  # --data-binary @file
        body = files[body[1:].decode()]
    parts = urllib.parse.urlsplit(url)
    assert parts.netloc == "127.0.0.1:8000", url  # where `kg serve` listens by default
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.request(method, target, headers=headers, content=body)


# -- the quoting of the examples


def test_the_shell_reader_reads_as_a_shell_does() -> None:
    env = {"TOKEN": "t"}
    assert shell_words("""a 'b $TOKEN' "c $TOKEN" d$TOKEN ${TOKEN}e""", env) == [
        "a", "b $TOKEN", "c t", "dt", "te",
    ]  # fmt: skip
    assert shell_words("x \\\n  $'1\\n2' \"q\\\"\" # it's a comment", env) == ["x", "1\n2", 'q"']


def _single_quoted(block: str) -> list[str]:
    """The text inside single quotes (not $'…') in a shell block, comments left out."""
    masked = re.sub(r'"(?:\\.|[^"\\])*"', '""', block)  # double-quoted strings hold no quotes
    masked = re.sub(r"\$'(?:\\.|[^'\\])*'", "", masked)  # nor $'…' strings, which expand nothing
    masked = re.sub(r"(^|\s)#[^\n]*", r"\1", masked)  # comments (they may hold apostrophes)
    return re.findall(r"'([^']*)'", masked)


def test_no_variable_is_single_quoted_in_the_shell_examples() -> None:
    blocks = _blocks("sh")
    assert any("$TOKEN" in b for b in blocks)  # the examples do use the token
    for block in blocks:
        assert not re.search(r"'[^'\n]*\$TOKEN[^'\n]*'", block), block
        for quoted in _single_quoted(block):
            assert not re.search(r"\$\{?[A-Za-z_]", quoted), quoted  # a shell would not expand it


# -- the tour: "Five minutes with your own assets"


@pytest.fixture
def fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with no KG_ settings, and a wide console for the CLI."""
    for name in ("KG_STORE", "KG_MEMORY", "KG_GATE", "KG_API_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "out", Console(width=250))
    (tmp_path / "my-assets.yaml").write_text(_blocks("yaml")[0], encoding="utf-8")
    return tmp_path


def _tour() -> list[list[str]]:
    block = next(b for b in _blocks("sh") if "kg load my-assets.yaml" in b)
    return [
        shell_words(line, {})
        for line in _commands(block)
        if line.startswith("kg ") and not line.startswith("kg serve")
    ]


# what each command of the tour exits with: validate finds the planted violation
TOUR_CODES = {"load": 0, "lineage": 0, "impact": 0, "path": 0, "validate": 1}


def test_the_tour_commands_work_as_written(fresh_folder: Path) -> None:
    runner = CliRunner()
    commands = _tour()
    assert [words[1] for words in commands] == list(TOUR_CODES)
    for words in commands:
        result = runner.invoke(app, words[1:])
        assert result.exit_code == TOUR_CODES[words[1]], (words, result.output)
        output = result.output.replace("\n", " ")
        if words[1] == "load":
            assert "loaded 4 assets" in output
            assert "unresolved (not loaded yet): 1: " in output and "model/recs" in output
            assert "warning: governance: Evaluated before production: 1: " in output
        if words[1] == "path":
            assert "-[mlg:deploys]->" in output and "-[mlg:trainedOn]->" in output
    assert (fresh_folder / "kg-data").is_dir()  # the default store, as the README says


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """`kg serve` over an empty graph (or the demo): HTTP writes enforce the gate, and need
    the token."""
    graph = KnowledgeGraph.open(settings(gate="off"))
    if getattr(request, "param", "") == "demo":
        load_demo(graph)
    graph.settings = graph.settings.model_copy(
        update={"gate": GateMode.ENFORCE, "api_tokens": TOKEN}
    )
    with TestClient(create_app(graph=graph)) as client:
        yield client
    graph.close()


def test_the_upload_loads_despite_governance_findings(served: TestClient) -> None:
    document = _blocks("yaml")[0].encode()
    method, url, headers, body = _shown_curl("@my-assets.yaml")
    assert "gate=warn" in url
    headers = {**headers, "authorization": f"Bearer {TOKEN}"}  # tokens set: a writer's upload
    # without gate=warn the upload is refused: HTTP writes enforce the gate
    plain = served.post("/api/v1/assets", content=document,
                        headers=headers | {"content-type": "application/yaml"})  # fmt: skip
    assert plain.status_code == 422, plain.text
    response = _request(served, (method, url, headers, body), **{"my-assets.yaml": document})
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["assets"], report["gate"]) == (4, "warn")
    assert report["violations"]  # loaded, and the findings reported
    assert served.get("/api/v1/assets/service/home").status_code == 200


@pytest.mark.parametrize("served", ["demo"], indirect=True)
def test_the_sparql_update_example_works_on_the_demo(served: TestClient) -> None:
    response = _request(served, _shown_curl("application/sparql-update"))
    assert response.status_code == 204, response.text  # the token reached the server
    ask = 'ASK {{ ?d <http://www.w3.org/ns/dcat#keyword> "{}" }}'
    assert served.get("/sparql", params={"query": ask.format("archived")}).json()["boolean"]
    assert not served.get("/sparql", params={"query": ask.format("legacy")}).json()["boolean"]


# -- make run: the demo from its own store, ./kg-data never touched


def _make_run() -> list[str]:
    """The kg arguments of the Makefile's `run` recipe."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe, "the Makefile has a run target"
    words = shlex.split(recipe.group(1))
    assert words[0] == "$(BIN)/kg", words
    return words[1:]


def _contents(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_make_run_serves_the_demo_from_its_own_store(fresh_folder: Path) -> None:
    args = _make_run()
    assert args[:2] == ["serve", "--demo"] and "--store" in args
    demo_store = args[args.index("--store") + 1]
    assert Path(demo_store).resolve() != (fresh_folder / "kg-data").resolve()
    runner = CliRunner()
    mine = fresh_folder / "kg-data"
    assert runner.invoke(app, ["load", "my-assets.yaml"]).exit_code == 0  # the user's store
    before = _contents(mine)
    for _ in range(2):  # reloaded with the demo at every start
        process, base = start_server(*args[1:])  # it runs `kg serve` itself
        try:
            status, body = get(base + "/api/v1/stats")
            assert (status, json.loads(body)["assets"]) == (200, 91)
            assert get(base + "/api/v1/assets/service/home")[0] == 404  # not the user's graph
            assert _contents(mine) == before
            # ./kg-data is free while the demo runs: the tour's commands work beside it
            result = runner.invoke(app, ["stats", "--format", "json"])
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout)["assets"] == 4
        finally:
            process.terminate()
            process.wait(timeout=20)
        before = _contents(mine)
    assert (fresh_folder / demo_store).is_dir()


# -- every command of the README, run by bash as a user types it, against a fresh `make run`

# Files the README's commands name, as a user would have them (from the golden inputs).
_GOLDEN = ROOT / "tests" / "golden"
_FILES = {
    "bootstrap_mce.json": _GOLDEN / "datahub-metadata.json",
    "mlflow_mcps.json": _GOLDEN / "datahub-metadata.json",
    "catalog-info.yaml": _GOLDEN / "backstage-catalog.yaml",
    "examples/ab-tests.yaml": ROOT / "examples" / "ab-tests.yaml",
}
_BATCH = "<urn:batch:run-1> <https://w3id.org/mlg#status> <https://w3id.org/mlg#Active> .\n"


def _readme_commands() -> list[list[str]]:
    """Every shell block's commands, in README order, but set-up (`make`, activating the venv)."""
    return [
        [c for c in _commands(block) if not c.startswith(("make ", ". .venv"))]
        for block in _blocks("sh")
    ]


def _bash(command: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:

    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.embedded_only("the README's commands, each a `kg` process on the embedded store")
def test_every_readme_command_runs_against_a_fresh_make_run(fresh_folder: Path) -> None:

    for name, source in _FILES.items():
        (fresh_folder / name).parent.mkdir(parents=True, exist_ok=True)
        (fresh_folder / name).write_bytes(source.read_bytes())
    (fresh_folder / "batch.ttl").write_text(_BATCH)
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env |= {"PATH": f"{bin_dir}:{env.get('PATH', '')}", "TOKEN": "", "COLUMNS": "200"}
    demo, demo_url = start_server(*_make_run()[1:])  # `make run`, in the fresh folder
    demo_port = demo_url.rsplit(":", 1)[1]
    mine_port = str(free_port())
    failures: list[str] = []
    ran = 0
    try:
        for block in _readme_commands():
            background: subprocess.Popen[bytes] | None = None
            try:
                for command in block:
                    line = command.replace("127.0.0.1:8000", f"127.0.0.1:{demo_port}")
                    line = line.replace("--port 8001", f"--port {mine_port}")
                    if line.startswith("kg serve"):  # a second terminal: the user's graph served
                        background = subprocess.Popen(
                            ["bash", "-c", f"exec {line}"], cwd=fresh_folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        )  # fmt: skip
                        for _ in range(200):
                            try:
                                if get(f"http://127.0.0.1:{mine_port}/healthz")[0] == 200:
                                    break
                            except OSError:
                                pass
                            time.sleep(0.1)
                        else:
                            failures.append(f"{command}: did not start")
                        continue
                    if line.startswith("curl "):
                        line = "curl --fail-with-body -sS " + line.removeprefix("curl ")
                    expected = 1 if line.startswith("kg validate") else 0
                    code, output = _bash(line, fresh_folder, env)
                    ran += 1
                    if code != expected:
                        failures.append(
                            f"{command}\n  exit {code}, not {expected}:\n{output[-800:]}"
                        )
                    if (
                        line.startswith("kg load my-assets.yaml")
                        and "loaded 4 assets" not in output
                    ):
                        failures.append(f"{command}: {output[-800:]}")
            finally:
                if background is not None:
                    background.terminate()
                    background.wait(timeout=20)
    finally:
        demo.terminate()
        demo.wait(timeout=20)
    assert not failures, "\n\n".join(failures)
    assert ran >= 30  # every command of the README, not a few
