"""Markdown tables of the results (the JSON has every run; these are what a reader compares)."""

from __future__ import annotations

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _ratio(r: dict) -> str:
    if not r:
        return "–"
    spread = f" ({r['min']:.2f}–{r['max']:.2f})" if r["max"] - r["min"] >= 0.005 else ""
    return f"{r['median']:.2f}{spread}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def load_table(results: list[dict]) -> str:
    lines = ["| backend | endpoint | generated req/s | baseline req/s | generated/baseline req/s "
             "| p50 ms gen / base | p50 ratio | p99 ms gen / base | p99 ratio | server CPU ms/req gen / base "
             "| CPU ratio | generated/ceiling req/s | baseline/ceiling req/s | failed |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for result in results:
        for endpoint, e in result["endpoints"].items():
            g, b = e["apps"]["generated"], e["apps"]["baseline"]
            lines.append(
                f"| {NAMES[result['backend']]} | {endpoint} | {g['rps']:.0f} | {b['rps']:.0f} "
                f"| **{_ratio(e['rps_vs_baseline'])}** | {g['p50_ms']:.1f} / {b['p50_ms']:.1f} "
                f"| {_ratio(e['p50_vs_baseline'])} | {g['p99_ms']:.1f} / {b['p99_ms']:.1f} "
                f"| {_ratio(e['p99_vs_baseline'])} | {_ms(g['cpu_ms'])} / {_ms(b['cpu_ms'])} "
                f"| {_ratio(e['cpu_vs_baseline'])} | {_ratio(e['rps_vs_ceiling'])} "
                f"| {_ratio(e['baseline_rps_vs_ceiling'])} | {g['failed']} / {b['failed']} |")
    ceilings = ", ".join(f"{NAMES[r['backend']]} run {r['ceiling_rps']:.0f} req/s" for r in results)
    return "\n".join(lines) + f"\n\nCeiling (bare endpoint, same server stack): {ceilings}."


def scale_table(rows: list[dict]) -> str:
    probes = list(rows[0]["latency"]) if rows else []
    lines = ["| backend | rows | " + " | ".join(f"{p} ms" for p in probes) + " |",
             "|---|--:|" + "--:|" * len(probes)]
    for row in rows:
        cells = [f"{row['latency'][p]['median_ms']:.1f}" for p in probes]
        lines.append(f"| {NAMES[row['backend']]} | {row['rows']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def statements_table(rows: list[dict]) -> str:
    """Statements per request over every size; a range means the count changed with the size."""
    columns = sorted({(r["backend"], app) for r in rows for app in r["statements"]},
                     key=lambda c: (list(NAMES).index(c[0]), c[1] != "generated"))
    endpoints = list(dict.fromkeys(e for r in rows for app in r["statements"].values() for e in app))
    lines = ["| endpoint | " + " | ".join(f"{NAMES[b]} {app}" for b, app in columns) + " |",
             "|---|" + "--:|" * len(columns)]
    for endpoint in endpoints:
        cells = []
        for backend, app in columns:
            counts = {r["statements"][app][endpoint] for r in rows
                      if r["backend"] == backend and endpoint in r["statements"].get(app, {})}
            cells.append("–" if not counts else str(min(counts)) if len(counts) == 1
                         else f"{min(counts)}–{max(counts)} (varies)")
        lines.append(f"| {endpoint} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
