"""Validation speed, as ratios against baselines measured in the same run.

The machines are shared and noisy, so absolute times are printed for context
only; the numbers to compare across runs are the ratios:
  * cold `keel validate specs/expenses` vs a bare `python -c "import yaml, jsonschema"`
    (the floor any validator built on these libraries pays), and vs `python -c pass`;
  * in-process validation of each example spec and of the slowest hostile corpus
    case vs loading the same spec with plain `yaml.safe_load`.
Run with `make bench`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from generator.pipeline import validate_path  # noqa: E402

ROUNDS = 9


def median_seconds(fn, rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def cold(*args: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return median_seconds(lambda: subprocess.run([sys.executable, *args], cwd=REPO, env=env, check=False,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def main() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "generator")], check=True)
    bare = cold("-c", "pass")
    floor = cold("-c", "import yaml, jsonschema")
    keel = cold("-m", "generator", "validate", "specs/expenses")
    print("cold start (median of %d)" % ROUNDS)
    print(f"  python -c pass                    {bare * 1000:7.1f} ms")
    print(f"  python -c 'import yaml, jsonschema' {floor * 1000:5.1f} ms")
    print(f"  keel validate specs/expenses      {keel * 1000:7.1f} ms  = {keel / floor:.2f}x the import floor, "
          f"{keel / bare:.1f}x bare python")

    print("\nin process (median of %d), ratio to yaml.safe_load of the same files" % ROUNDS)
    for spec in ("specs/tasks", "specs/expenses"):
        files = sorted((REPO / spec).rglob("*.yaml"))
        baseline = median_seconds(lambda: [yaml.safe_load(f.read_text()) for f in files])
        ours = median_seconds(lambda: validate_path(REPO / spec))
        print(f"  validate {spec:<16} {ours * 1000:7.2f} ms  = {ours / baseline:.1f}x safe_load")

    corpus = sorted(p for p in (REPO / "tests/corpus").iterdir() if (p / "keel.yaml").exists())
    times = [(median_seconds(lambda c=c: validate_path(c), rounds=3), c.name) for c in corpus]
    times.sort(reverse=True)
    reference = median_seconds(lambda: validate_path(REPO / "specs/expenses"))
    print(f"\nbroken-spec corpus: {len(corpus)} cases; slowest, as a ratio to validating specs/expenses:")
    for seconds, name in times[:5]:
        print(f"  {name:<40} {seconds * 1000:7.2f} ms  = {seconds / reference:.2f}x")


if __name__ == "__main__":
    main()
