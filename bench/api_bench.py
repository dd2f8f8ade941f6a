"""The generated API under load and at scale, as ratios against baselines measured in the same run.

The app is tests/specs/catalog (every rule `true`, no sign-in), generated fresh with
the current templates. Against it:

  * a hand-written FastAPI + SQLAlchemy implementation of the same endpoints
    (bench/baseline/), checked first to answer the same requests the same way
    (apibench/parity.py); the target is generated >= 0.95x its throughput;
  * the ceiling: a bare endpoint on the same server stack (bench/baseline/ceiling.py).

Load (apibench/load.py): list (filtered, sorted, with an include), get, create and
update, on SQLite and on PostgreSQL, from wrk in its own process (installed on demand,
else a small Python client), one uvicorn worker per server; requests per second and
p50/p99 latency, interleaved in rounds on a noisy shared machine, ratios within pairs.

Scale (apibench/scale.py): list latency at 1 thousand, 100 thousand and 1 million
rows, and SQL statements per request for every endpoint (no N+1).

PostgreSQL is $KEEL_TEST_POSTGRES (default postgres@127.0.0.1:5432/test), used only to
create and drop scratch databases; without it, SQLite alone is measured. Prints
Markdown tables and writes .cache/bench/api.json. About 7 minutes on a busy 2-core
machine (4 of load, 1 of seeding a million rows twice); `--quick` takes about 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apibench import load, loadgen, parity, report, scale, stack  # noqa: E402

RESULTS = stack.REPO / ".cache" / "bench" / "api.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one round of 2 s per measurement; scale at 1,000 and 10,000 rows")
    parser.add_argument("--rounds", type=int, help="load rounds (default 6; --quick 1)")
    parser.add_argument("--seconds", type=int, help="seconds per load measurement (default 2; --quick 2)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--sizes", type=int, nargs="+", help="scale sizes (default 1000 100000 1000000)")
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 6)  # many short pairs: the median resists noise best
    args.seconds = args.seconds or 2
    args.sizes = args.sizes or ([1_000, 10_000] if args.quick else [1_000, 100_000, 1_000_000])
    return args


def main() -> None:
    args = options()
    started = time.perf_counter()
    stack.WORK.mkdir(parents=True, exist_ok=True)
    backends = list(args.backends)
    if "postgresql" in backends and not stack.postgres_available():
        log(f"PostgreSQL is not reachable at {stack.PG_ADMIN_URL}: measuring SQLite only")
        backends.remove("postgresql")
    log("generating the catalog app ...")
    stack.generate_catalog()
    tool = None if args.skip_load else loadgen.find_wrk()
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "load_average_start": os.getloadavg()},
                     "settings": {k: v for k, v in vars(args).items()}, "load_generator": tool or "pyload.py",
                     "parity": {}, "load": [], "scale": []}
    for backend in backends:
        differences = asyncio.run(parity.check(backend))
        results["parity"][backend] = differences
        log(f"parity {backend}: " + ("the two apps answer alike" if not differences
                                     else f"{len(differences)} DIFFERENCES:\n" + "\n".join(differences)))
    if not args.skip_load:
        for backend in backends:
            log(f"load on {backend} with {tool or 'pyload.py'} ...")
            results["load"].append(load.run(backend, tool, args.rounds, args.seconds, args.connections, log))
    if not args.skip_scale:
        for backend in backends:
            log(f"scale on {backend} ...")
            results["scale"] += asyncio.run(scale.run(backend, args.sizes, 0.5 if args.quick else 1.5, log))
    results["machine"]["load_average_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    if any(results["parity"].values()):
        print("**The apps did not answer alike (see the log): the ratios compare different work.**\n")
    if results["load"]:
        print(f"## Generated API under load ({args.rounds} round(s) of {args.seconds:g} s per measurement, "
              f"{args.connections} connections, {tool or 'pyload.py'})\n")
        print(report.load_table(results["load"]) + "\n")
    if results["scale"]:
        print("## Scale: latency of one request at a time (median ms)\n")
        print(report.scale_table(results["scale"]) + "\n")
        print("## SQL statements per request (every size)\n")
        print(report.statements_table(results["scale"]) + "\n")
    load_avg = results["machine"]
    print(f"{results['seconds']:.0f} s in all; load average {load_avg['load_average_start'][0]:.1f} at the start, "
          f"{load_avg['load_average_end'][0]:.1f} at the end. Written to {RESULTS.relative_to(stack.REPO)}.")


if __name__ == "__main__":
    main()
