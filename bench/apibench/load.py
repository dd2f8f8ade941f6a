"""The load benchmark: generated app, hand-written baseline and bare ceiling, interleaved.

The three servers run side by side on one freshly migrated and seeded database (10,000
products of 100 suppliers), each one uvicorn worker. After a warm-up of every endpoint,
each round measures, for every endpoint, the generated app and the baseline back to
back (which goes first alternates from round to round), then the ceiling: whatever
else the shared machine is doing hits both members of a pair alike. Ratios are taken
within a pair (same round, same endpoint) and their median over the rounds is
reported, with their spread; absolute figures are medians too, for scale only.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from apibench import loadgen, seed, stack, workloads

LOAD_ROWS = 10_000
MAX_RPS = 5_000  # sizes the request files: a run never cycles back to requests it already sent
APPS = ("generated", "baseline")


def _request_file(name: str, endpoint: str, seconds: float, products: list[str], suppliers: list[str]) -> Path:
    count = max(1_000, int(seconds * MAX_RPS))
    return workloads.write(stack.WORK / f"{name}-{endpoint}.http",
                           workloads.requests(endpoint, count, products, suppliers))


def run(backend: str, tool: str | None, rounds: int, seconds: float, connections: int,
        log: Callable[[str], None]) -> dict:
    samples: dict[str, list[loadgen.Result]] = {}
    with stack.database(backend, "load") as url:
        seed.seed(url, 0, LOAD_ROWS)
        products, suppliers = seed.product_ids(url, 5_000), seed.supplier_ids(url)
        servers = {}
        try:
            for name in (*APPS, "ceiling"):
                servers[name] = stack.start(name, url, stack.WORK / f"{backend}-{name}.log")
            bare = workloads.write(stack.WORK / "bare.http", iter([workloads.raw("GET", "/bare")]))

            def measure(name: str, endpoint: str, duration: float) -> loadgen.Result:
                target = bare if name == "ceiling" else _request_file(name, endpoint, duration, products, suppliers)
                before = stack.cpu_seconds(servers[name])
                result = loadgen.run(tool, servers[name].url, target, duration, connections)
                after = stack.cpu_seconds(servers[name])
                if before is not None and after is not None and result.requests:
                    result.server_cpu_ms = (after - before) * 1000 / result.requests
                return result

            for endpoint in workloads.ENDPOINTS:  # warm-up: connection pools, caches, first-request costs
                for name in APPS:
                    measure(name, endpoint, 1)
            measure("ceiling", "bare", 1)
            for number in range(rounds):
                for endpoint in workloads.ENDPOINTS:
                    for name in APPS if number % 2 == 0 else APPS[::-1]:
                        result = measure(name, endpoint, seconds)
                        samples.setdefault(f"{endpoint}/{name}", []).append(result)
                        log(f"  {backend} round {number + 1}/{rounds} {endpoint:6} {name:9} {result.rps:7.0f} req/s  "
                            f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                            f"server CPU {result.server_cpu_ms or 0:5.2f} ms/request")
                samples.setdefault("ceiling", []).append(measure("ceiling", "bare", seconds))
        finally:
            for server in servers.values():
                stack.stop(server)
    return summarise(backend, samples)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _ratios(mine: list[float], theirs: list[float]) -> dict:
    ratios = [a / b for a, b in zip(mine, theirs) if a and b]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)} if ratios else {}


def summarise(backend: str, samples: dict[str, list[loadgen.Result]]) -> dict:
    ceiling = [r.rps for r in samples["ceiling"]]
    endpoints = {}
    for endpoint in workloads.ENDPOINTS:
        generated, baseline = samples[f"{endpoint}/generated"], samples[f"{endpoint}/baseline"]
        endpoints[endpoint] = {
            "apps": {name: {"rps": statistics.median(r.rps for r in runs),
                            "p50_ms": statistics.median(r.p50_ms for r in runs),
                            "p99_ms": statistics.median(r.p99_ms for r in runs),
                            "cpu_ms": _median([r.server_cpu_ms for r in runs]),
                            "requests": sum(r.requests for r in runs),
                            "failed": sum(r.errors + r.non_2xx for r in runs),
                            "runs": [vars(r) | {"rps": r.rps} for r in runs]}
                     for name, runs in (("generated", generated), ("baseline", baseline))},
            "rps_vs_baseline": _ratios([r.rps for r in generated], [r.rps for r in baseline]),
            "p50_vs_baseline": _ratios([r.p50_ms for r in generated], [r.p50_ms for r in baseline]),
            "p99_vs_baseline": _ratios([r.p99_ms for r in generated], [r.p99_ms for r in baseline]),
            "cpu_vs_baseline": _ratios([r.server_cpu_ms or 0 for r in generated],
                                       [r.server_cpu_ms or 0 for r in baseline]),
            "rps_vs_ceiling": _ratios([r.rps for r in generated], ceiling),
            "baseline_rps_vs_ceiling": _ratios([r.rps for r in baseline], ceiling),
        }
    return {"backend": backend, "ceiling_rps": statistics.median(ceiling), "endpoints": endpoints}
