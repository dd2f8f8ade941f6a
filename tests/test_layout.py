"""generator.layout lays long lines out as black would, to make black's pass short: it must
never change what black finally prints, nor the meaning of a literal."""

from __future__ import annotations

import ast
import sys

import pytest

from generator import layout
from generator.formatting import LINE_LENGTH
from generator.generate import render_files
from generator.ir import build_ir
from generator.pipeline import validate_path
from tests.conftest import REPO


@pytest.mark.parametrize("value", ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash", "\x00\n\t",
                                   "'\"'\"", "", "é ü 中"])
def test_py_str_is_a_literal_of_the_same_value(value):
    text = layout.py_str(value)
    assert ast.literal_eval(text) == value
    if '"' not in value:
        assert text.startswith('"')  # black's preferred quotes


def test_call_fits_hugs_or_explodes():
    assert layout.call("f", ["a", "b"], 4) == "f(a, b)"
    hugged = layout.call("x = f", ["a" * 45, "b" * 45], 4)
    assert hugged == f"x = f(\n        {'a' * 45}, {'b' * 45}\n    )"
    exploded = layout.call("x = f", ["a" * 60, "b" * 60], 4, ",")
    assert exploded == f"x = f(\n        {'a' * 60},\n        {'b' * 60},\n    ),"
    assert all(len(line) <= LINE_LENGTH for line in exploded.splitlines())


def _naive(monkeypatch) -> None:
    """The layout helpers replaced by what the templates printed before them: one long line."""
    def call(head, args, indent=0, tail="", reserve=0):
        return f"{head}({', '.join(args)}){tail}"

    def from_import(module, names):
        return f"from {module} import {', '.join(names)}"

    originals = {"call": layout.call, "py_str": layout.py_str, "from_import": layout.from_import}
    naives = {"call": call, "py_str": repr, "from_import": from_import}
    for name, module in list(sys.modules.items()):
        if name.startswith("generator.") and module is not None:
            for attr, original in originals.items():
                if getattr(module, attr, None) is original:
                    monkeypatch.setattr(module, attr, naives[attr])


@pytest.mark.parametrize("spec", ["tasks", "expenses"])
def test_layout_never_changes_the_formatted_output(spec, monkeypatch):
    monkeypatch.setenv("KEEL_NO_CACHE", "1")
    result = validate_path(REPO / "specs" / spec)
    assert result.ok, result.diagnostics
    ir = build_ir(result.spec, result.source_map, result.root)
    laid_out = render_files(ir)
    _naive(monkeypatch)
    naive = render_files(build_ir(result.spec, result.source_map, result.root))
    assert sorted(naive) == sorted(laid_out)
    assert [p for p in laid_out if laid_out[p] != naive[p]] == []


def test_the_files_that_grow_with_the_spec_are_black_stable_as_rendered(tmp_path, monkeypatch):
    """Black formats a file in one pass when it would change nothing, two otherwise: the files
    that grow with the number of entities (routers, models, schemas, serializers, the initial
    migration) are rendered exactly as black prints them, for a synthetic spec like the bench's."""
    import black

    import generator.generate as generate

    import importlib.util

    # bench/synthetic.py by path: other tests import generated packages named `synthetic`.
    loader = importlib.util.spec_from_file_location("keel_bench_synthetic", REPO / "bench" / "synthetic.py")
    bench = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(bench)
    spec = bench.write_synthetic_spec(tmp_path / "spec", 10)
    rendered: dict[str, str] = {}

    class Keep:  # the render, before black
        def add(self, source: str, filename: str) -> None:
            rendered[filename] = source

        def results(self) -> dict[str, str]:
            return dict(rendered)

        def close(self) -> None:
            pass

    monkeypatch.setattr(generate, "FormatBatch", Keep)
    result = validate_path(spec)
    assert result.ok, result.diagnostics
    render_files(build_ir(result.spec, result.source_map, result.root))
    ends = ("/models.py", "/schemas.py", "/serializers.py", "/app.py", "versions/0001_initial.py")
    growing = [p for p in rendered if "/routers/" in p or p.endswith(ends)]
    assert len(growing) >= 14
    mode = black.Mode(line_length=LINE_LENGTH)
    unstable = [p for p in growing if black.format_str(rendered[p], mode=mode) != rendered[p]]
    assert unstable == []
