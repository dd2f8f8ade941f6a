"""Synthetic Keel specs of any size, for the benchmarks.

The same shape as ``synthetic_spec()`` in tests/test_generate_cli.py: n entities,
each with typical fields (string, text, decimal, enum, date) plus filters, sort
and a reference to the entity before it, so the generated app grows linearly
with n (a router, schemas, serializers and models per entity, one migration).
"""

from __future__ import annotations

from pathlib import Path


def synthetic_spec(n: int, *, variant: int = 0, changed: int | None = None) -> str:
    """The spec text for ``n`` entities.

    ``changed`` (an entity index) gets one extra field, named after ``variant``:
    the "one entity changed" case of the regeneration benchmark.
    """
    lines = ["keel: 1", "app: {name: synthetic}", "entities:"]
    for i in range(n):
        lines += [
            f"  Thing{i}:",
            "    permissions: {all: true}",
            "    filters: [name, status]",
            "    sort: [name, amount]",
            "    fields:",
            "      name: {type: string, max_length: 80}",
            "      notes: text?",
            "      amount: {type: decimal, precision: 12, scale: 2, min: 0}",
            "      status: {type: enum, values: [new, active, closed], default: new}",
            "      happened_on: date?",
        ]
        if i:
            lines.append(f"      previous: {{type: ref, to: Thing{i - 1}, required: false, on_delete: set_null}}")
        if changed == i:
            lines.append(f"      extra_{variant}: integer?")
    return "\n".join(lines) + "\n"


def write_synthetic_spec(directory: Path, n: int, **kwargs: int | None) -> Path:
    """Write ``keel.yaml`` for ``n`` entities into ``directory`` (created) and return the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "keel.yaml").write_text(synthetic_spec(n, **kwargs), encoding="utf-8")
    return directory


if __name__ == "__main__":  # python bench/synthetic.py N DIR
    import sys

    print(write_synthetic_spec(Path(sys.argv[2]), int(sys.argv[1])))
