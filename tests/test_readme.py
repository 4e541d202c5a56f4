"""The README's tour as a user follows it: its shell commands read as a shell reads them (quotes,
variables, continuations), run in a fresh folder; `make run` as the Makefile runs it."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
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
from tests.test_serve import get, start_server

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOKEN = "readme-token"  # noqa: S105 (a test token)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.DOTALL | re.MULTILINE)


def shell_words(command: str, env: dict[str, str]) -> list[str]:
    """`command` split into words as a POSIX shell does: '…' keeps everything, "…" and bare
    words expand $NAME and ${NAME} (from `env`, else empty), $'…' decodes backslash escapes,
    a backslash-newline continues the line, a word starting with # begins a comment."""
    words: list[str] = []
    word: list[str] | None = None
    i, n = 0, len(command)

    def expand(at: int) -> tuple[str, int]:
        found = re.match(r"\$(?:\{(\w+)\}|(\w+))", command[at:])
        if not found:
            return "$", at + 1
        return env.get(found.group(1) or found.group(2), ""), at + found.end()

    while i < n:
        c = command[i]
        if c == "\\" and command[i + 1 : i + 2] == "\n":
            i += 2
        elif c in " \t\n":
            if word is not None:
                words.append("".join(word))
                word = None
            i += 1
        elif c == "#" and word is None:
            i = command.find("\n", i) if "\n" in command[i:] else n
        elif c == "'":
            end = command.index("'", i + 1)
            word = (word or []) + [command[i + 1 : end]]
            i = end + 1
        elif command.startswith("$'", i):
            end = command.index("'", i + 2)
            text = command[i + 2 : end].encode().decode("unicode_escape")
            word = (word or []) + [text]
            i = end + 1
        elif c == '"':
            word = word or []
            i += 1
            while command[i] != '"':
                if command[i] == "\\" and command[i + 1] in '"\\$`':
                    word.append(command[i + 1])
                    i += 2
                elif command[i] == "$":
                    value, i = expand(i)
                    word.append(value)
                else:
                    word.append(command[i])
                    i += 1
            i += 1
        elif c == "\\":
            word = (word or []) + [command[i + 1]]
            i += 2
        elif c == "$":
            value, i = expand(i)
            word = (word or []) + [value]
        else:
            word = (word or []) + [c]
            i += 1
    if word is not None:
        words.append("".join(word))
    return words


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
    with TestClient(create_app(graph, close_on_shutdown=False)) as client:
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
