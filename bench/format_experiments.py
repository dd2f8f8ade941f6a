"""What black costs on Keel's output, and what the cheaper variants would give (docs/performance.md).

In one process, on the template output of one spec (before black), as ratios to
``black.format_str`` on every file, one after another (what Keel did before):

  * the process pool of generator.formatting (cold cache) with 2 and N workers;
  * ``black.format_file_contents(fast=True)``: the same work as format_str (it *is*
    format_str plus a "nothing changed" check); fast=False adds black's AST safety checks;
  * one pass of black (``black._format_str_once``, private): format_str runs a second,
    forced pass whenever the first changed anything, which template output always does;
    whether one pass would have given the same bytes here is printed too, but black does
    not promise it, so Keel does not use it;
  * format_str on input that is already black's output (what templates emitting
    black-stable code would cost: one pass), and the cache hit (read + checksum).

Usage: python bench/format_experiments.py [SPEC_DIR | ENTITIES]   (default: 50 synthetic entities)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import black  # noqa: E402

from generator import formatting  # noqa: E402
from synthetic import write_synthetic_spec  # noqa: E402


def raw_sources(spec: Path) -> dict[str, str]:
    from generator.generate import _environment
    from generator.ir import build_ir
    from generator.pipeline import validate_path
    from generator.targets import TemplateFile, plan_files

    result = validate_path(spec)
    assert result.ok, result.diagnostics
    ir = build_ir(result.spec, result.source_map, result.root)
    return {p.path: _environment().get_template(p.template).render(**p.context)
            for p in plan_files(ir) if isinstance(p, TemplateFile) and p.path.endswith(".py")}


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    arg = sys.argv[1] if len(sys.argv) > 1 else "50"
    tmp = Path(tempfile.mkdtemp(prefix="keel-format-"))
    spec = write_synthetic_spec(tmp / "spec", int(arg)) if arg.isdigit() else Path(arg)
    os.environ["KEEL_CACHE_DIR"] = str(tmp / "cache")
    sources = raw_sources(spec)
    texts = list(sources.values())
    mode = formatting._mode()
    lines = sum(t.count("\n") for t in texts)
    print(f"{spec}: {len(texts)} Python files, {lines} lines before black\n")

    base, reference = timed(lambda: [black.format_str(t, mode=mode) for t in texts])
    rows = [("black.format_str, each file in turn (before)", base)]

    def fresh():
        formatting._MEMO.clear()
        formatting._COMPILES.clear()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    for jobs in sorted({2, cores}):
        os.environ["KEEL_NO_CACHE"] = "1"
        fresh()
        seconds, out = timed(lambda: formatting.format_python_many(texts, jobs=jobs))
        assert out == reference
        rows.append((f"formatting.format_python_many, pool of {jobs} (no cache)", seconds))
    del os.environ["KEEL_NO_CACHE"]

    def file_contents(fast: bool) -> list[str]:
        out = []
        for t in texts:
            try:
                out.append(black.format_file_contents(t, fast=fast, mode=mode))
            except black.NothingChanged:
                out.append(t)
        return out

    seconds, out = timed(lambda: file_contents(True))
    assert out == reference
    rows.append(("black.format_file_contents(fast=True)", seconds))
    seconds, out = timed(lambda: file_contents(False))
    assert out == reference
    rows.append(("black.format_file_contents(fast=False): + AST safety checks", seconds))

    once = getattr(black, "_format_str_once", None)
    if once is not None:
        seconds, out = timed(lambda: [once(t, mode=mode) for t in texts])
        same = sum(a == b for a, b in zip(out, reference))
        rows.append((f"one pass only (_format_str_once): same bytes for {same}/{len(texts)} files here", seconds))

    seconds, out = timed(lambda: [black.format_str(t, mode=mode) for t in reference])
    assert out == reference
    rows.append(("format_str on already black-stable input (one pass)", seconds))

    fresh()
    formatting.format_python_many(texts)  # fill the cache
    fresh()
    seconds, out = timed(lambda: formatting.format_python_many(texts))
    assert out == reference
    rows.append(("formatting.format_python_many, warm disk cache", seconds))

    print("| variant | seconds | ratio to before |\n|---|--:|--:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / base:.3f}x |")


if __name__ == "__main__":
    main()
