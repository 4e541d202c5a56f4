"""A folder of cards as a source of truth: Croissant dataset cards (JSON-LD) and Hugging Face
model cards (Markdown with a YAML front matter); `kg.sources.cards_map` maps what it reads.

An entity is one file, named by its path relative to the folder (`dataset_card/croissant/x.json`),
so an edit, a rename or a deletion of a card is what sync sees. The folder is read as a tree of
its own: hidden files and folders are not cards, a symbolic link leading out of the folder is
not followed, and a file over `MAX_CARD_BYTES` is never read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from kg.errors import InputError
from kg.limits import DEFAULT_LIMITS, BoundedLoader, Limits, check_json, limit_error
from kg.sources.base import EntityRef, Mapped
from kg.sources.cards_map import is_croissant, map_card

MAX_CARD_BYTES = 8 * 1024 * 1024
DATASET_SUFFIXES = (".json", ".jsonld")
MODEL_SUFFIXES = (".md",)
_FENCE = "---"
_FENCE_ENDS = ("---", "...")  # YAML's document end closes a front matter too
_NOT_PROSE = ("#", "|", "![", "<", "- ", "* ", "+ ", "[![")


class CardsSource:
    """Croissant and Hugging Face cards under one folder."""

    name: str = "cards"
    kinds: tuple[str, ...] = ("dataset_card", "model_card")

    def __init__(self, folder: Path, base_iri: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.folder = Path(folder)
        self.base_iri = base_iri
        self.limits = limits

    # -- listing

    def entities(self) -> Iterator[EntityRef]:
        """Every card in the folder, by path. A JSON file that is valid JSON but no Croissant
        dataset is not a card; one that cannot be read at all is listed, so that its hydration
        says what is wrong with it rather than the card vanishing from kg."""
        for relative, path in self._files():
            kind = self._kind_of(path)
            if kind is not None:
                yield EntityRef(self.name, kind, relative)

    def _files(self) -> list[tuple[str, Path]]:
        """(relative path, path) of each card-named file, sorted; a file reached by two paths
        (a link to a card of the folder) is listed once, by its first path."""
        root = self.folder.resolve()
        if not root.is_dir():
            return []
        found: dict[Path, str] = {}
        visited: set[Path] = set()
        for top, folders, files in os.walk(root, followlinks=True):
            here = Path(top)
            real = here.resolve()
            if real in visited:  # a link back up the tree: walked once already
                folders[:] = []
                continue
            visited.add(real)
            folders[:] = sorted(
                name
                for name in folders
                if not name.startswith(".") and _inside((here / name).resolve(), root)
            )
            for name in files:
                path = here / name
                if name.startswith(".") or not name.lower().endswith(
                    DATASET_SUFFIXES + MODEL_SUFFIXES
                ):
                    continue
                target = path.resolve()
                if not _inside(target, root) or not target.is_file():
                    continue
                try:
                    if target.stat().st_size > MAX_CARD_BYTES:
                        continue  # never read: a card is small
                except OSError:
                    continue
                relative = path.relative_to(root).as_posix()
                found[target] = min(relative, found.get(target, relative))
        return sorted((relative, root / relative) for relative in found.values())

    def _kind_of(self, path: Path) -> str | None:
        if path.name.lower().endswith(MODEL_SUFFIXES):
            try:
                with path.open("rb") as stream:
                    first = stream.readline(64)
            except OSError:
                return "model_card"
            return "model_card" if _is_fence(first.decode("utf-8", "replace")) else None
        try:
            data = path.read_bytes()
            card = self._json(data, _decoded(data, path.name), path.name)
        except (OSError, InputError):
            return "dataset_card"
        return "dataset_card" if isinstance(card, dict) and is_croissant(card) else None

    # -- fetching

    def fetch(self, ref: EntityRef) -> dict[str, Any] | None:
        """The card as it is now: `{"card": ..., "digest": <sha256 of the file>}`, a model card
        with its `title` (the first `# ` heading) and `description` (the first paragraph) beside
        its front matter; None when the file is gone or is no longer a card of that kind."""
        path = self._path(ref)
        if path is None:
            return None
        data = self._read(path, ref.id)
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        text = _decoded(data, ref.id)
        if ref.kind == "dataset_card":
            card = self._json(data, text, ref.id)
            if not isinstance(card, dict) or not is_croissant(card):
                return None
            return {"card": card, "digest": digest}
        split = _front_matter(text, ref.id)
        if split is None:
            return None
        header, body = split
        title, description = _title_and_description(body)
        return {
            "card": self._yaml(header, ref.id),
            "title": title,
            "description": description,
            "digest": digest,
        }

    def map(self, ref: EntityRef, state: dict[str, Any]) -> Mapped:
        return map_card(ref, state, self.base_iri)

    def _path(self, ref: EntityRef) -> Path | None:
        """The file of an entity id, refusing ids that are not paths inside the folder."""
        if ref.kind not in self.kinds:
            raise InputError(f"the cards source has no entity kind {ref.kind!r}", source="cards")
        relative = PurePosixPath(ref.id)
        if (
            not ref.id
            or "\\" in ref.id
            or "\x00" in ref.id
            or relative.is_absolute()
            or any(part in ("", ".", "..") for part in ref.id.split("/"))
        ):
            raise InputError(f"{ref.id!r} is not a path inside the cards folder", source="cards")
        suffixes = DATASET_SUFFIXES if ref.kind == "dataset_card" else MODEL_SUFFIXES
        if not relative.name.lower().endswith(suffixes):
            raise InputError(
                f"a {ref.kind} is a {' or '.join(suffixes)} file, not {ref.id!r}", source="cards"
            )
        if any(part.startswith(".") for part in relative.parts):
            return None  # hidden files are no cards
        root = self.folder.resolve()
        path = root.joinpath(*relative.parts)
        if not os.path.lexists(path):
            return None
        if not _inside(path.resolve(), root):
            raise InputError(f"{ref.id!r} leads out of the cards folder", source="cards")
        return path if path.is_file() else None

    def _read(self, path: Path, name: str) -> bytes | None:
        try:
            if path.stat().st_size > MAX_CARD_BYTES:
                raise _too_large(name)
            with path.open("rb") as stream:
                data = stream.read(MAX_CARD_BYTES + 1)  # bounded, should it grow meanwhile
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"the card cannot be read: {exc.strerror}", source=name) from exc
        if len(data) > MAX_CARD_BYTES:
            raise _too_large(name)
        return data

    def _json(self, data: bytes, text: str, name: str) -> Any:
        check_json(data, self.limits, name)
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"JSON syntax error: {exc.msg} (column {exc.colno})", source=name, line=exc.lineno
            ) from exc

    def _yaml(self, header: str, name: str) -> dict[str, Any]:
        """The front matter as JSON-like data (`header` starts with the line of the opening
        fence, left empty, so that YAML's line numbers are the file's)."""
        try:
            loader = BoundedLoader(header, self.limits, name)
        except yaml.reader.ReaderError as exc:  # the reader refuses control characters at once
            line = header[: exc.position].count("\n") + 1
            raise InputError(f"YAML syntax error: {exc.reason}", source=name, line=line) from exc
        try:
            found = loader.get_single_data()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            raise InputError(
                f"YAML syntax error: {exc.problem}",
                source=name,
                line=mark.line + 1 if mark is not None else None,
            ) from exc
        except yaml.YAMLError as exc:
            raise InputError(f"YAML syntax error: {exc}", source=name) from exc
        finally:
            loader.dispose()
        if found is None:
            return {}
        if not isinstance(found, dict):
            raise InputError(
                f"the front matter must be a mapping, not {type(found).__name__}",
                source=name,
                line=2,
            )
        return {str(key): _json_like(value) for key, value in found.items()}


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _is_fence(line: str) -> bool:
    return line.lstrip("\ufeff").rstrip() == _FENCE


def _too_large(name: str) -> InputError:
    return limit_error(
        f"the card is larger than {MAX_CARD_BYTES // (1024 * 1024)} MiB",
        "MAX_CARD_BYTES",
        name,
        None,
    )


def _decoded(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("the card is not valid UTF-8", source=name, line=line) from exc


def _front_matter(text: str, name: str) -> tuple[str, str] | None:
    """(the YAML between the fences, with an empty line for the opening one; the Markdown after
    them), or None for a file without a front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or not _is_fence(lines[0]):
        return None
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _FENCE_ENDS:
            return "\n" + "".join(lines[1:number]), "".join(lines[number + 1 :])
    raise InputError("the front matter has no closing '---' line", source=name, line=1)


def _title_and_description(body: str) -> tuple[str | None, str | None]:
    """The first level-one heading, and the first paragraph of prose: lines that are not a
    heading, a list, a table, an image, HTML, a comment or code, up to a blank line."""
    title: str | None = None
    description: str | None = None
    paragraph: list[str] = []
    in_code = in_comment = False
    for raw in [*body.splitlines(), ""]:
        line = raw.strip()
        fence = line.startswith(("```", "~~~"))
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            prose = False
        else:
            in_code = in_code != fence
            prose = not (in_code or fence or not line or line.startswith(_NOT_PROSE))
        if title is None and not in_code and line.startswith("# "):
            title = line[2:].strip() or None
        if prose:
            paragraph.append(line)
            continue
        if paragraph and description is None:
            description = " ".join(paragraph)
        paragraph = []
        if title is not None and description is not None:
            break
    return title, description


def _json_like(value: Any) -> Any:
    """YAML's values as JSON has them: dates as ISO text, keys as text."""
    if isinstance(value, dict):
        return {str(k): _json_like(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_like(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):  # YAML's !!binary
        return value.decode("utf-8", "replace")
    return value
