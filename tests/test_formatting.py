"""generator.formatting: black's exact output, cached on disk, formatted in parallel; never a timed assertion.

Every test points KEEL_CACHE_DIR at its own temporary directory, so the user's cache is never touched.
"""

from __future__ import annotations

import hashlib
import sys
import textwrap
from pathlib import Path

import black
import pytest

from generator import formatting
from generator.formatting import LINE_LENGTH, format_python, format_python_many
from generator.generate import render_files
from generator.ir import build_ir
from generator.pipeline import validate_path
from tests.conftest import REPO

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH,
                  string_normalization=True, magic_trailing_comma=True)
_FORMAT_STR = black.format_str  # the real one, whatever a test patches


def reference(source: str) -> str:
    """What black itself gives for ``source``: the bytes Keel must produce."""
    return _FORMAT_STR(source, mode=MODE)

SOURCES = [
    "x = {  'a':37,'b':42,\n'c':927}\n",
    "def f(a,):\n  return a\n",
    "class C( object ):\n    def m(self, first_argument_name, second_argument_name, third_argument_name, fourth=4):"
    " return 1\n",
    textwrap.dedent("""\
        import os
        def g(items):
            return [os.path.join('a', str(i)) for i in items if i is not None and i != 'some long string value']
        """),
    "",
    "y = 1\n",
]


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    """A private cache directory, an empty in-process memo, and no KEEL_NO_CACHE/KEEL_JOBS from outside."""
    monkeypatch.setenv("KEEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KEEL_NO_CACHE", raising=False)
    monkeypatch.delenv("KEEL_JOBS", raising=False)
    forget(monkeypatch)


def forget(monkeypatch) -> None:
    """What a new process would start with: nothing memoised."""
    monkeypatch.setattr(formatting, "_MEMO", {})
    monkeypatch.setattr(formatting, "_COMPILES", set())


def count_black_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    def counting(src, *, mode):
        calls.append(src)
        return _FORMAT_STR(src, mode=mode)

    monkeypatch.setattr(black, "format_str", counting)
    return calls


def forbid_black(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("black was called")

    monkeypatch.setattr(black, "format_str", boom)


def entries(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "cache" / "format").rglob("*") if p.is_file())


def test_output_is_blacks_exactly():
    assert format_python_many(SOURCES) == [reference(s) for s in SOURCES]


def test_a_cache_hit_returns_the_same_text_without_calling_black(monkeypatch, tmp_path):
    first = format_python_many(SOURCES)
    assert len(entries(tmp_path)) == len(set(SOURCES))
    forget(monkeypatch)
    forbid_black(monkeypatch)
    assert format_python_many(SOURCES) == first
    assert format_python(SOURCES[0]) == first[0]


def test_identical_sources_are_formatted_once(monkeypatch):
    calls = count_black_calls(monkeypatch)
    assert format_python_many([SOURCES[0], SOURCES[1], SOURCES[0]]) == [reference(s) for s in
                                                                         (SOURCES[0], SOURCES[1], SOURCES[0])]
    assert len([c for c in calls if c in (SOURCES[0], SOURCES[1])]) == 2


@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped", "not utf-8", "directory"])
def test_a_corrupt_entry_is_ignored_and_replaced(monkeypatch, tmp_path, damage):
    expected = format_python(SOURCES[2])
    [entry] = entries(tmp_path)
    data = entry.read_bytes()
    if damage == "empty":
        entry.write_bytes(b"")
    elif damage == "truncated":
        entry.write_bytes(data[:-5])
    elif damage == "flipped":
        entry.write_bytes(data[:-3] + bytes([data[-3] ^ 0x20]) + data[-2:])
    elif damage == "not utf-8":  # a consistent checksum over bytes that do not decode
        body = b"\xff\xfe not text"
        entry.write_bytes(formatting._HEADER + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    else:
        entry.unlink()
        entry.mkdir()
    forget(monkeypatch)
    calls = count_black_calls(monkeypatch)
    assert format_python(SOURCES[2]) == expected
    assert calls == [SOURCES[2]]
    if damage != "directory":  # rewritten, good as new
        forget(monkeypatch)
        forbid_black(monkeypatch)
        assert format_python(SOURCES[2]) == expected


def test_keel_no_cache_neither_reads_nor_writes(monkeypatch, tmp_path):
    format_python(SOURCES[0])  # an entry exists...
    monkeypatch.setenv("KEEL_NO_CACHE", "1")
    assert formatting.cache_root() is None and formatting.cache_dir() is None
    forget(monkeypatch)
    calls = count_black_calls(monkeypatch)
    assert format_python_many(SOURCES[:2]) == [reference(s) for s in SOURCES[:2]]
    assert SOURCES[0] in calls  # ...and is not read
    assert len(entries(tmp_path)) == 1  # nor is anything written
    monkeypatch.setenv("KEEL_NO_CACHE", "0")  # 0 means: cache
    assert formatting.cache_dir() == tmp_path / "cache" / "format"


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("KEEL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert formatting.cache_root() == tmp_path / "xdg" / "keel"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert formatting.cache_root() == tmp_path / "home" / ".cache" / "keel"


def test_an_unusable_cache_directory_still_formats(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("KEEL_CACHE_DIR", str(blocker))
    assert format_python_many(SOURCES) == [reference(s) for s in SOURCES]


def test_the_key_covers_black_version_mode_and_python(monkeypatch):
    key = formatting._key(SOURCES[0])
    assert key != formatting._key(SOURCES[1])
    prefix = formatting._PREFIX.decode()
    assert black.__version__ in prefix and f"line_length={LINE_LENGTH}" in prefix
    assert "python %d.%d" % sys.version_info[:2] in prefix
    monkeypatch.setattr(formatting, "_PREFIX", None)
    monkeypatch.setitem(formatting._MODE, "line_length", LINE_LENGTH + 1)
    assert formatting._key(SOURCES[0]) != key


def test_the_cache_is_pruned_least_recently_used_first(monkeypatch, tmp_path):
    import os

    format_python_many(SOURCES)
    paths = entries(tmp_path)
    for age, path in enumerate(paths):  # the first entry is the oldest
        os.utime(path, ns=(10**18 + age * 10**9, 10**18 + age * 10**9))
    total = sum(p.stat().st_size for p in paths)
    formatting._prune(tmp_path / "cache" / "format", limit=total - 1)
    left = entries(tmp_path)
    assert paths[0] not in left and left == paths[len(paths) - len(left):] and sum(
        p.stat().st_size for p in left) <= (total - 1) * 3 // 4


def test_parallel_and_serial_formatting_agree(monkeypatch):
    """Many files through the process pool give what one process gives, in the same order."""
    monkeypatch.setenv("KEEL_NO_CACHE", "1")
    monkeypatch.setattr(formatting, "PARALLEL_MIN_LINES", 0)
    sources = [src.replace("x =", f"x{i} =").replace("def f", f"def f{i}") for i in range(8) for src in SOURCES]
    sources += [raw for raw in raw_python(REPO / "specs/expenses").values()]
    serial = format_python_many(sources, jobs=1)
    forget(monkeypatch)
    parallel = format_python_many(sources, jobs=2)
    assert parallel == serial == [reference(s) for s in sources]


def test_parallel_formatting_really_runs_in_worker_processes(monkeypatch):
    """The pool path is taken (a worker cannot see this process's monkeypatches), and its output is the same."""
    monkeypatch.setattr(formatting, "PARALLEL_MIN_LINES", 0)
    calls = count_black_calls(monkeypatch)
    sources = [f"value_{i} = [ {i},{i + 1} ]\n" for i in range(6)]
    assert format_python_many(sources, jobs=2) == [f"value_{i} = [{i}, {i + 1}]\n" for i in range(6)]
    assert calls == []  # formatted in the workers, not here
    forget(monkeypatch)
    assert format_python_many(sources, jobs=1) == [f"value_{i} = [{i}, {i + 1}]\n" for i in range(6)]


def test_blacks_error_comes_through_the_pool(monkeypatch, tmp_path):
    monkeypatch.setattr(formatting, "PARALLEL_MIN_LINES", 0)
    with pytest.raises(black.InvalidInput):
        format_python_many(["x = 1\n", "def (:\n", "y = 2\n"], jobs=2)
    assert entries(tmp_path) == []


def test_a_module_that_does_not_compile_names_its_file_and_is_not_cached(monkeypatch, tmp_path):
    bad = "def f(:\n    pass\n"
    monkeypatch.setattr(formatting, "_black", lambda source: (bad, False))  # black itself would refuse it
    with pytest.raises(SyntaxError) as raised:
        format_python_many(["anything\n"], filenames=["pkg/broken.py"])
    assert raised.value.filename == "pkg/broken.py"
    assert entries(tmp_path) == []


@pytest.mark.parametrize("threshold", [0, 40, 10**9])  # the pool from the first file, midway, never
def test_a_batch_gives_what_format_python_many_gives(monkeypatch, threshold):
    """FormatBatch formats while sources are still being added (the pool starts once the misses add
    up to PARALLEL_MIN_LINES): the bytes, by file name, are format_python_many's."""
    monkeypatch.setattr(formatting, "PARALLEL_MIN_LINES", threshold)
    sources = {f"pkg/m{i}_{j}.py": src.replace("x =", f"x{i} =") for i in range(4) for j, src in enumerate(SOURCES)}
    sources.update({f"app/{name}": raw for name, raw in raw_python(REPO / "specs/tasks").items()})
    batch = formatting.FormatBatch(jobs=2)
    for name, source in sources.items():
        batch.add(source, name)
    assert batch.results() == {name: reference(source) for name, source in sources.items()}
    forget(monkeypatch)
    again = formatting.FormatBatch(jobs=2)  # everything from the disk cache now: black is not called
    calls = count_black_calls(monkeypatch)
    for name, source in sources.items():
        again.add(source, name)
    assert again.results() == {name: reference(source) for name, source in sources.items()} and calls == []


def test_a_batch_names_the_file_that_does_not_compile(monkeypatch, tmp_path):
    monkeypatch.setattr(formatting, "_black", lambda source: ("def f(:\n    pass\n", False))
    batch = formatting.FormatBatch(jobs=1)
    batch.add("anything\n", "pkg/broken.py")
    with pytest.raises(SyntaxError) as raised:
        batch.results()
    assert raised.value.filename == "pkg/broken.py" and entries(tmp_path) == []


def raw_python(spec: Path) -> dict[str, str]:
    """The example's Python files as rendered by the templates, before black."""
    from generator.generate import _environment
    from generator.targets import TemplateFile, plan_files

    result = validate_path(spec)
    ir = build_ir(result.spec, result.source_map, result.root)
    return {p.path: _environment().get_template(p.template).render(**p.context)
            for p in plan_files(ir) if isinstance(p, TemplateFile) and p.path.endswith(".py")}


@pytest.mark.parametrize("app", ["tasks", "expenses"])
def test_render_files_is_unchanged_by_the_cache(monkeypatch, tmp_path, app):
    """A cold cache and a warm one that never calls black give black's bytes for every template's output."""
    result = validate_path(REPO / "specs" / app)
    ir = build_ir(result.spec, result.source_map, result.root)
    cold = render_files(ir)
    assert entries(tmp_path)
    forget(monkeypatch)
    forbid_black(monkeypatch)
    warm = render_files(ir)
    assert cold == warm
    raw = raw_python(REPO / "specs" / app)
    assert raw and {path: warm[path].decode() for path in raw} == {path: reference(text) for path, text in raw.items()}


def test_a_corrupt_compiled_template_is_recompiled(monkeypatch, tmp_path):
    """The Jinja bytecode cache (generator.generate) ignores what it cannot read."""
    from generator.generate import _bytecode_cache

    class Bucket:
        key = "k"
        reset_called = False

        def load_bytecode(self, f):
            raise ValueError("corrupt")

        def reset(self):
            self.reset_called = True

    (tmp_path / "cache" / "jinja").mkdir(parents=True)
    (tmp_path / "cache" / "jinja" / "k.cache").write_bytes(b"garbage")
    bucket = Bucket()
    _bytecode_cache().load_bytecode(bucket)
    assert bucket.reset_called
