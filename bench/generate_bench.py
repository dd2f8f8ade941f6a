"""Generation speed, as ratios against baselines measured in the same run.

The machines are shared and noisy, so absolute times are printed for context only;
the numbers to compare across runs are the ratios. Every run is a cold process
(`python -m generator ...`, as a user runs `keel`), for the two example specs and
synthetic specs of 10, 50, 200 and 500 entities (bench/synthetic.py):

  * `keel validate`;
  * `keel generate` into an empty directory with an empty format cache (cold), vs
    datamodel-code-generator producing only the Pydantic models from the same JSON
    Schemas (the generated `schemas/*.json`; its default black + isort formatting);
    the issue's target is <= 2x;
  * the same with KEEL_NO_CACHE=1 KEEL_JOBS=1: black on every file in one process, as
    Keel did before the cache and the pool (by default up to 10 entities: it is the slow one);
  * regeneration of the unchanged spec (warm cache; nothing to write), vs `keel validate`
    of the same spec (what any regeneration pays first); the issue's target is < 0.5 s;
  * regeneration after one entity changed (a new field; warm cache for everything else),
    up to 200 entities.

One round for the synthetic specs of 50 entities and more, three below: 5.5 minutes in
all on a 2-core machine at load average 2 (the 500-entity cold generate alone is 100 s
there, 180 s when other work keeps both cores busy).

The format cache is a private directory under .cache/bench/, never the user's.
Writes .cache/bench/generate.json and prints a Markdown table. Run with `make bench`,
or `python bench/generate_bench.py --sizes 10 50` for a quicker look.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_synthetic_spec  # noqa: E402

WORK = REPO / ".cache" / "bench" / "generate"
RESULTS = REPO / ".cache" / "bench" / "generate.json"
DMC = Path(sys.executable).with_name("datamodel-codegen")
ONE_CHANGED_MAX = 200  # the one-entity-changed case for 500 entities adds a minute and shows nothing new


def rounds_for(entities: int) -> int:
    """Fewer rounds for the big specs: the whole bench stays within a few minutes."""
    return 3 if entities <= 10 else 1


CPU: dict[str, float] = {}  # "last": the CPU seconds of the last run, its worker processes included


def run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one cold process (CPU["last"]: its CPU seconds, workers included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    return elapsed


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def python_lines(out: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in out.rglob("*.py"))


def bench_spec(name: str, spec: Path, entities: int, env: dict[str, str], cache: Path,
               old_way: bool) -> dict:
    keel = [sys.executable, "-m", "generator"]
    rounds = rounds_for(entities)
    out = WORK / "out" / name
    row: dict = {"spec": name, "entities": entities, "rounds": rounds}

    row["validate"] = median([run([*keel, "validate", str(spec)], env) for _ in range(rounds)])

    def cold(extra_env: dict[str, str]) -> float:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        return run([*keel, "generate", str(spec), "--out", str(out)], {**env, **extra_env})

    if old_way:
        row["generate_uncached_serial"] = median([cold({"KEEL_NO_CACHE": "1", "KEEL_JOBS": "1"})
                                                  for _ in range(rounds)])
    samples, cpu = [], []
    for _ in range(rounds):
        samples.append(cold({}))
        cpu.append(CPU["last"] / samples[-1])
    row["generate_cold"] = median(samples)
    row["generate_cold_cpu_per_wall"] = median(cpu)  # above 1: the pool really ran in parallel
    row["python_lines"] = python_lines(out)
    row["regenerate_unchanged"] = median([run([*keel, "generate", str(spec), "--out", str(out)], env)
                                          for _ in range(rounds if entities > 200 else 3)])

    schemas = out / "schemas"
    dmc_out = WORK / "dmc" / name
    samples = []
    for _ in range(rounds):
        shutil.rmtree(dmc_out, ignore_errors=True)
        samples.append(run([str(DMC), "--input", str(schemas), "--input-file-type", "jsonschema",
                            "--output", str(dmc_out), "--output-model-type", "pydantic_v2.BaseModel"], env))
    row["datamodel_codegen"] = median(samples)
    row["datamodel_codegen_lines"] = python_lines(dmc_out)

    if 0 < entities <= ONE_CHANGED_MAX:  # change one entity (a new field each round: its files miss the cache)
        samples = []
        for variant in range(1, rounds + 1):
            write_synthetic_spec(spec, entities, variant=variant, changed=entities // 2)
            # Each round's new field replaces the last one's: the migration history records a drop, which
            # `keel generate` refuses without --allow-destructive (and each schema change adds a revision).
            samples.append(run([*keel, "generate", str(spec), "--out", str(out), "--allow-destructive"], env))
        write_synthetic_spec(spec, entities)
        row["regenerate_one_entity_changed"] = median(samples)

    row["ratio_cold_to_datamodel_codegen"] = row["generate_cold"] / row["datamodel_codegen"]
    row["ratio_unchanged_to_validate"] = row["regenerate_unchanged"] / row["validate"]
    if old_way:
        row["ratio_uncached_serial_to_cold"] = row["generate_uncached_serial"] / row["generate_cold"]
    if "regenerate_one_entity_changed" in row:
        row["ratio_one_changed_to_cold"] = row["regenerate_one_entity_changed"] / row["generate_cold"]
    return row


def table(rows: list[dict]) -> str:
    def s(row: dict, key: str) -> str:
        return f"{row[key]:.2f}" if key in row else "–"

    def x(row: dict, key: str) -> str:
        return f"{row[key]:.2f}x" if key in row else "–"

    lines = [
        "| spec | lines | validate s | generate cold s | cold CPU/wall | old way s | old/cold "
        "| datamodel-codegen s | cold/dmc | unchanged s | unchanged/validate | one changed s | one changed/cold |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['spec']} | {r['python_lines']} | {s(r, 'validate')} | {s(r, 'generate_cold')} "
            f"| {s(r, 'generate_cold_cpu_per_wall')} "
            f"| {s(r, 'generate_uncached_serial')} | {x(r, 'ratio_uncached_serial_to_cold')} "
            f"| {s(r, 'datamodel_codegen')} | {x(r, 'ratio_cold_to_datamodel_codegen')} "
            f"| {s(r, 'regenerate_unchanged')} | {x(r, 'ratio_unchanged_to_validate')} "
            f"| {s(r, 'regenerate_one_entity_changed')} | {x(r, 'ratio_one_changed_to_cold')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 50, 200, 500],
                        help="synthetic spec sizes, in entities (default: 10 50 200 500)")
    parser.add_argument("--old-way-max", type=int, default=10,
                        help="measure the uncached serial generate only up to this many entities (default: 10; "
                        "200 adds one to two minutes)")
    args = parser.parse_args()

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "generator")], check=True)
    if not DMC.exists():
        raise SystemExit(f"{DMC} not found: install the project (`make bench` does)")
    shutil.rmtree(WORK, ignore_errors=True)
    cache = WORK / "keel-cache"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "KEEL_NO_CACHE", "KEEL_JOBS", "KEEL_CACHE_DIR")}
    env |= {"KEEL_CACHE_DIR": str(cache), "NO_COLOR": "1"}

    started = time.perf_counter()
    specs = [("tasks", REPO / "specs/tasks", 0), ("expenses", REPO / "specs/expenses", 0)]
    specs += [(f"synthetic-{n}", write_synthetic_spec(WORK / "specs" / f"synthetic-{n}", n), n) for n in args.sizes]
    rows = []
    for name, spec, entities in specs:
        row = bench_spec(name, spec, entities, env, cache, old_way=entities <= args.old_way_max)
        rows.append(row)
        print(f"  {name}: done ({time.perf_counter() - started:.0f} s so far)", file=sys.stderr, flush=True)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\nkeel generate vs datamodel-code-generator (cold processes; medians; {cores} cores; "
          f"load average {os.getloadavg()[0]:.1f} at the end)\n")
    print(table(rows))
    print("\nold way = KEEL_NO_CACHE=1 KEEL_JOBS=1 (black on every file, one process: before the cache and the pool);"
          " cold = empty cache, pool; unchanged / one changed = warm cache.")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "python": platform.python_version(), "cores": cores, "load_average_end": os.getloadavg()[0],
        "seconds_total": time.perf_counter() - started, "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(REPO)} ({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
