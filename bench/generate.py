"""A deterministic generator of realistic ML lifecycle graphs, as N-Triples.

About ten triples per asset: layered dataset derivations with fan-in, features in feature sets,
model versions that consume features, datasets and other models' versions (so lineage chains run
tens of hops deep), evaluations, runs of workflows, services, A/B tests, teams and people, with
a share of unowned and deprecated assets. The same scale and seed always give the same file.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MLG = "https://w3id.org/mlg#"
BASE = "https://w3id.org/mlg/id/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
DESCRIPTION = "<http://purl.org/dc/terms/description>"

SHARES = {  # of the assets that are not teams or people
    "Dataset": 0.30, "FeatureSet": 0.02, "Feature": 0.20, "Model": 0.02, "ModelVersion": 0.12,
    "Evaluation": 0.08, "Workflow": 0.02, "Run": 0.14, "Service": 0.05, "Experiment": 0.05,
}  # fmt: skip
LAYERS = 24
KEYWORD = "<http://www.w3.org/ns/dcat#keyword>"
TAGS = ["events", "ranking", "ads", "search", "embeddings", "members", "titles", "daily",
        "streaming", "payments", "fraud", "growth", "images", "audio", "text", "pii"]  # fmt: skip


@dataclass
class Generated:
    assets: int = 0
    triples: int = 0
    deepest_version: str = ""
    root_dataset: str = ""
    small_version: str = ""
    depth: dict[str, int] = field(default_factory=dict)


def _iri(local: str) -> str:
    return f"<{BASE}{local}>"


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(assets: int, seed: int = 7) -> tuple[list[str], Generated]:
    """Lines of N-Triples for about `assets` assets, and what the benchmark needs to know."""
    rng = random.Random(seed)
    out: list[str] = []
    info = Generated()
    teams = [f"team/t{i}" for i in range(max(6, assets // 2000))]
    people = [f"person/p{i}" for i in range(len(teams) * 3)]
    rest = max(len(SHARES), assets - len(teams) - len(people))
    count = {kind: max(1, int(rest * share)) for kind, share in SHARES.items()}
    depth: dict[str, int] = {}

    def emit(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .")

    def asset(local: str, kind: str, *, described: bool = True) -> str:
        s = _iri(local)
        emit(s, RDF_TYPE, f"<{MLG}{kind}>")
        emit(s, LABEL, _lit(f"{kind} {local.rsplit('/', 1)[-1]}"))
        for tag in rng.sample(TAGS, rng.randint(1, 2)):
            emit(s, KEYWORD, _lit(tag))
        if described:
            emit(
                s,
                DESCRIPTION,
                _lit(
                    f"Generated {kind.lower()} number {local.rsplit('/', 1)[-1]} for the benchmark."
                ),
            )
        if rng.random() > 0.02:  # 2% unowned
            owner = rng.choice(teams) if rng.random() < 0.8 else rng.choice(people)
            emit(s, f"<{MLG}owner>", _iri(owner))
        # Deprecation is common at the leaves (old versions, services, tests) and rare on data
        # others build on: a deprecated dataset feeding production is the problem worth finding.
        share = 0.03 if kind in ("Evaluation", "Experiment") else 0.0005
        status = "Deprecated" if rng.random() < share else "Active"
        emit(s, f"<{MLG}status>", f"<{MLG}{status}>")
        info.assets += 1
        return local

    def edge(s: str, p: str, o: str) -> None:
        emit(_iri(s), f"<{MLG}{p}>", _iri(o))
        depth[s] = max(depth.get(s, 0), depth.get(o, 0) + 1)

    for team in teams:
        emit(_iri(team), RDF_TYPE, f"<{MLG}Team>")
        emit(_iri(team), LABEL, _lit(f"Team {team}"))
        info.assets += 1
    for i, person in enumerate(people):
        emit(_iri(person), RDF_TYPE, f"<{MLG}Person>")
        emit(_iri(person), LABEL, _lit(f"Person {i}"))
        emit(_iri(person), f"<{MLG}memberOf>", _iri(teams[i % len(teams)]))
        info.assets += 1

    workflows = [asset(f"workflow/w{i}", "Workflow") for i in range(count["Workflow"])]
    runs: list[str] = []
    layers: list[list[str]] = [[] for _ in range(LAYERS)]
    for i in range(count["Dataset"]):
        layer = 0 if i < count["Dataset"] // 10 else 1 + (i * (LAYERS - 1)) // count["Dataset"]
        layer = min(layer, LAYERS - 1)
        d = asset(f"dataset/d{i}", "Dataset", described=True)
        if layer:
            for _ in range(rng.randint(1, 3)):  # fan-in from the last few layers
                source_layer = rng.randint(max(0, layer - 3), layer - 1)
                if layers[source_layer]:
                    edge(d, "derivedFrom", rng.choice(layers[source_layer]))
            if rng.random() < 0.3 and len(runs) < count["Run"]:
                run = asset(f"run/r{len(runs)}", "Run", described=False)
                runs.append(run)
                edge(run, "runOf", rng.choice(workflows))
                for source in rng.sample(layers[layer - 1], min(2, len(layers[layer - 1]))):
                    edge(run, "used", source)
                edge(d, "generatedBy", run)
        layers[layer].append(d)
    all_datasets = [d for layer in layers for d in layer]
    deep = [d for layer in layers[LAYERS // 2 :] for d in layer] or all_datasets
    feature_sets = []
    for i in range(count["FeatureSet"]):
        fs = asset(f"featureset/fs{i}", "FeatureSet", described=True)
        edge(fs, "derivedFrom", rng.choice(deep))
        feature_sets.append(fs)
    features = []
    for i in range(count["Feature"]):
        f = asset(f"feature/f{i}", "Feature", described=True)
        edge(f, "derivedFrom", rng.choice(all_datasets))
        edge(f, "inFeatureSet", rng.choice(feature_sets))
        features.append(f)
    models = [asset(f"model/m{i}", "Model", described=True) for i in range(count["Model"])]
    versions: list[str] = []
    for i in range(count["ModelVersion"]):
        v = asset(f"model/m{i % len(models)}/v{i}", "ModelVersion")
        emit(
            _iri(v),
            f"<{MLG}stage>",
            f"<{MLG}{rng.choice(['Development', 'Staging', 'Production'])}>",
        )
        edge(v, "versionOf", models[i % len(models)])
        edge(v, "trainedOn", rng.choice(deep))
        for f in rng.sample(features, min(len(features), rng.randint(2, 4))):
            edge(v, "usesFeature", f)
        if versions and rng.random() < 0.35:  # consumes another model's output: chains deepen
            edge(v, "usesModel", versions[-rng.randint(1, min(len(versions), 50))])
        versions.append(v)
    while len(runs) < count["Run"]:
        run = asset(f"run/r{len(runs)}", "Run", described=False)
        edge(run, "runOf", rng.choice(workflows))
        edge(run, "used", rng.choice(deep))
        runs.append(run)
    for i in range(count["Evaluation"]):
        e = asset(f"evaluation/e{i}", "Evaluation")
        edge(e, "evaluates", rng.choice(versions))
        edge(e, "evaluatedOn", rng.choice(all_datasets))
    for i in range(count["Service"]):
        s = asset(f"service/s{i}", "Service")
        emit(
            _iri(s), f"<{MLG}stage>", f"<{MLG}{'Production' if rng.random() < 0.7 else 'Staging'}>"
        )
        for v in rng.sample(versions, min(len(versions), rng.randint(1, 2))):
            edge(s, "deploys", v)
    for i in range(count["Experiment"]):
        x = asset(f"experiment/x{i}", "Experiment")
        for v in rng.sample(versions, min(len(versions), 2)):
            edge(x, "tests", v)
    info.triples = len(out)
    info.depth = depth
    info.deepest_version = max(versions, key=lambda v: (depth.get(v, 0), v))
    info.root_dataset = layers[0][0]
    shallow = sorted(versions, key=lambda v: (depth.get(v, 0), v))
    info.small_version = shallow[len(shallow) // 20]
    return out, info


def write(path: Path, assets: int, seed: int = 7) -> Generated:
    lines, info = generate(assets, seed)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return info


def _lines(lines: list[str]) -> Iterator[str]:
    yield from lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assets", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = write(args.output, args.assets, args.seed)
    print(json.dumps({k: v for k, v in result.__dict__.items() if k != "depth"}, indent=2))
