"""Where the ontology, shapes, named queries and examples live.

An installed wheel carries them under kg/_data/; a checkout (and an editable install) has them at
the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DATA = Path(__file__).parent / "_data"
_CHECKOUT = Path(__file__).resolve().parents[1]


def data_dir(name: str) -> Path:
    """The folder `name` (ontology, shapes, queries, examples), installed or in a checkout."""
    for root in (_PACKAGE_DATA, _CHECKOUT):
        candidate = root / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"kg data folder {name!r} is missing from {_PACKAGE_DATA} and {_CHECKOUT}"
    )


def files(name: str, pattern: str) -> list[Path]:
    return sorted(data_dir(name).glob(pattern))
