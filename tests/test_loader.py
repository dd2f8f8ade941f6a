"""Unit tests for the safe loader: positions, YAML 1.2 reading, limits, includes.

Diagnostics are asserted by code, line and column, never by wording.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import generator.loader.events as events
import generator.loader.yaml_safe as yaml_safe
from generator.diagnostics import has_errors
from generator.loader import LoadedSpec, SourceMap, load_spec, load_yaml_bytes
from generator.loader.yaml_safe import load_yaml_file

PARSERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])

MINIMAL = """\
keel: 1
app:
  name: demo
  title: Demo
  version: "1.0.0"
  description: Demo app
entities:
  Note:
    permissions:
      all: "true"
    fields:
      title: string
"""


@pytest.fixture(params=PARSERS, ids=lambda p: p.__name__, autouse=True)
def parser(request, monkeypatch):
    """Every test runs with libyaml and with the pure-Python parser."""
    monkeypatch.setattr(yaml_safe, "_LOADER", request.param)
    return request.param


def load(text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load_yaml_bytes(data, "s.yaml")


def codes(text: str | bytes) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in load(text)[2]]


def pos(span) -> tuple[int, int, int | None, int | None]:
    return span.line, span.column, span.end_line, span.end_column


# --- positions --------------------------------------------------------------------

POSITIONS = 'top:\n  name: "Tésting"\n  list:\n    - one\n    - {k: v}\n'


def test_positions_of_keys_and_values():
    value, smap, diags = load(POSITIONS)
    assert diags == [] and value == {"top": {"name": "Tésting", "list": ["one", {"k": "v"}]}}
    assert pos(smap.info("/top/name").key) == (2, 3, 2, 7)
    assert pos(smap.info("/top/name").value) == (2, 9, 2, 18)
    assert pos(smap.info("/top/list/0").value) == (4, 7, 4, 10)
    assert pos(smap.info("/top/list/1/k").value) == (5, 11, 5, 12)
    assert pos(smap.info("/top/list/1").value) == (5, 7, 5, 13)
    assert pos(smap.info("/top").value) == (2, 3, 5, 13)
    assert smap.info("").value.line == 1
    assert smap.info("/top/list/0").key is None


def test_positions_with_crlf_and_bom_are_the_same():
    plain = load(POSITIONS)[1]
    value, smap, diags = load(b"\xef\xbb\xbf" + POSITIONS.replace("\n", "\r\n").encode())
    assert diags == [] and value["top"]["name"] == "Tésting"
    assert smap.nodes == plain.nodes


def test_columns_count_characters_not_bytes():
    _, smap, _ = load("ключ: 😀 значение\n")
    assert pos(smap.info("/ключ").value) == (1, 7, 1, 17)


def test_style_and_text_are_recorded():
    _, smap, _ = load("a: 1.10\nb: '1.10'\nc: \"x\"\nd: |\n  line\ne: >\n  fold\n")
    assert [(smap.info(p).style, smap.info(p).text) for p in ("/a", "/b", "/c", "/d", "/e")] == [
        (None, "1.10"), ("'", "1.10"), ('"', "x"), ("|", "line\n"), (">", "fold\n")]


def test_block_scalar_span_ends_at_its_last_line():
    _, smap, _ = load("a: |\n  one\n  two\n\n# note\nb: 1\n")
    assert pos(smap.info("/a").value) == (1, 4, 3, 6)


def test_value_span_starts_after_anchor_and_tag():
    _, smap, _ = load("a: &x !!str  value\nb: *x\n")
    assert pos(smap.info("/a").value) == (1, 14, 1, 19)
    assert pos(smap.info("/b").value) == (2, 4, 2, 6)


def test_pointer_prefix_and_escaping():
    _, smap, _ = load_yaml_bytes(b"a/b: {c~d: 1}\n", "s.yaml", "/entities")
    assert set(smap.nodes) == {"/entities", "/entities/a~1b", "/entities/a~1b/c~0d"}


def test_aliases_share_values_instead_of_copying():
    value, _, diags = load("a: &x {k: [1, 2]}\nb: *x\n")
    assert diags == [] and value["b"] is value["a"]


# --- YAML 1.2 core schema -----------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("", None),
    ("true", True), ("True", True), ("FALSE", False), ("tRUE", "tRUE"),
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"),
    ("12", 12), ("-7", -7), ("+3", 3), ("0123", 123), ("0o17", 15), ("0x1F", 31), ("0b101", "0b101"),
    ("1_000", "1_000"), ("12:30", "12:30"), ("1:20:30", "1:20:30"),
    ("1.10", 1.1), ("1.", 1.0), (".5", 0.5), ("1e3", 1000.0), ("-2.5E-1", -0.25),
    ("2024-01-01", "2024-01-01"), ("0x", "0x"), ("1.2.3", "1.2.3"), ("٣", "٣"),
    ("'12'", "12"), ('"true"', "true"), ("!!str 12", "12"), ("!!int '7'", 7), ("!!float 1", 1.0),
    ("!!bool true", True), ("!!null ''", None), ("! 12", "12"), ("|\n  12", "12\n"),
])
def test_yaml_12_core_schema(text, expected):
    value, _, diags = load(f"v: {text}\n")
    assert value["v"] == expected and type(value["v"]) is type(expected)
    assert [d.code for d in diags if d.code != "K911"] == []


@pytest.mark.parametrize(("text", "column"), [
    (".inf", 4), ("-.Inf", 4), ("+.INF", 4), (".nan", 4), ("!!float .nan", 12), ("1e999", 4), ("9" * 5000, 4),
])
def test_not_finite_numbers_are_K118(text, column):
    assert codes(f"v: {text}\n") == [("K118", 1, column)]


def test_infinity_value_is_still_read():
    assert math.isinf(load("v: -.inf\n")[0]["v"])


@pytest.mark.parametrize(("text", "warns"), [
    ("yes", True), ("No", True), ("ON", True), ("off", True), ("y", True), ("N", True), ("yEs", True),
    ("12:30", True), ("1:20:30", True), ("-1:30", True), ("09:30", False),
    ("0123", True), ("08", True), ("0", False), ("0o17", True), ("1_000", True), ("0b101", True),
    ("1.10", True), ("1e3", True), ("1.", True), (".5", True), ("1.5", False), ("-0.25", False),
    ("'no'", False), ('"12:30"', False), ("!!str yes", False), ("true", False), ("nope", False),
    ("one", False), ("12", False),
])
def test_K911_for_plain_scalars_yaml_11_reads_differently(text, warns):
    assert codes(f"v: {text}\n") == ([("K911", 1, 4)] if warns else [])


def test_K911_for_a_key():
    value, _, diags = load("  on: 1\n".strip() + "\nfields:\n  yes: string\n")
    assert value == {"on": 1, "fields": {"yes": "string"}}
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K911", 1, 1), ("K911", 3, 3)]


# --- diagnostics, one code at a time -------------------------------------------------------


def test_K101_syntax_error():
    assert codes("a: [1, 2\nb: 3\n")[0][0] == "K101"
    assert codes("a: 'open\n") == [("K101", 2, 1)]
    assert codes("a: b: c\n") == [("K101", 1, 5)]


def test_K101_undefined_and_recursive_alias():
    assert codes("a: 1\nb: *nope\n") == [("K101", 2, 4)]
    assert codes("a: &x [1, *x]\n") == [("K101", 1, 11)]
    assert load("a: *nope\n")[0] is None


def test_K102_duplicate_key_points_at_both():
    value, _, diags = load("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K102", 4, 3)]
    assert pos(diags[0].related[0].span)[:2] == (3, 3)
    assert diags[0].pointer == "/b/c"
    assert value["b"] == {"c": 1}


@pytest.mark.parametrize(("text", "column"), [
    ("!!python/object/apply:os.system ['echo hi']", 4),
    ("&a !!python/name:os.system x", 7),
    ("!foo bar", 4),
    ("!<tag:example.com,2000:x> y", 4),
    ("!!binary aGk=", 4),
    ("!!set {a}", 4),
    ("!!str {b: 1}", 4),
    ("!!map [1]", 4),
    ("!!int abc", 4),
    ("[1, !!timestamp 2001-12-14]", 8),
])
def test_K103_tags_are_refused_at_the_tag(text, column):
    value, _, diags = load(f"v: {text}\n")
    assert value is None
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K103", 1, column)]


def test_K103_tag_from_a_tag_directive():
    text = "%TAG !p! tag:yaml.org,2002:python/\n---\nv: !p!object:os.system x\n"
    assert codes(text) == [("K103", 3, 4)]


def test_K104_alias_bomb_is_bounded():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    value, _, diags = load("\n".join(lines) + "\n")
    assert value is None
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K104", 6, 8)]


def test_K104_counts_plain_nodes_too(parser):
    # root, key and list are 3 nodes: item 99,998 is node 100,001, at column 5 + 2 * 99,997
    assert codes("a: [" + "1," * 100_000 + "1]\n") == [("K104", 1, 5 + 2 * 99_997)]


def test_K104_limit_counts_every_node(monkeypatch):
    monkeypatch.setattr(events, "MAX_NODES", 10)
    assert codes("a: [1, 2, 3, 4, 5, 6]\n") == []  # 9 nodes
    assert codes("a: [1, 2, 3, 4, 5, 6, 7, 8]\n") == [("K104", 1, 26)]  # the 8th item is node 11
    assert codes("a: &x [1, 2]\nb: *x\nc: *x\n") == [("K104", 3, 4)]


def test_K105_too_large_bytes():
    assert codes(b"a: " + b"x" * (2 * 1024 * 1024)) == [("K105", 1, 1)]


def test_K105_large_file_is_rejected_by_stat_without_reading(tmp_path, monkeypatch):
    big = tmp_path / "keel.yaml"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: no disk blocks, but a 50 MB size

    def refuse(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(yaml_safe, "open", refuse, raising=False)
    value, _, diags = load_yaml_file(big, "keel.yaml")
    assert value is None and [(d.code, d.span.line) for d in diags] == [("K105", 1)]
    monkeypatch.chdir(tmp_path)
    assert [d.code for d in load_spec(Path(".")).diagnostics] == ["K105"]


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_K106_deep_flow_nesting_is_bounded(opening):
    closing = "]" if opening == "[" else "}"
    value, _, diags = load("a: " + opening * 10_000 + "x" + closing * 10_000 + "\n")
    assert value is None
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K106", 1, 4 + 63 * len(opening))]


def test_K106_deep_block_nesting():
    text = "".join("  " * i + "k:\n" for i in range(500))
    assert codes(text) == [("K106", 65, 129)]


def test_depth_limit_allows_64_levels():
    assert codes("[" * 64 + "]" * 64) == [("K111", 1, 1)]


def test_K106_alias_cannot_smuggle_depth():
    text = "a: &a " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    assert codes(text) == [("K106", 2, 34)]


def test_K107_invalid_utf8_at_first_bad_byte():
    assert codes("a: ok\nbé: ".encode() + b"\xff\xfe rest\n") == [("K107", 2, 5)]
    assert codes(b"\xef\xbb\xbfa: \xc0\xaf\n") == [("K107", 1, 4)]  # overlong form after a BOM
    assert codes("a: \U0001F600".encode("utf-16")) == [("K107", 1, 1)]


@pytest.mark.parametrize(("char", "name"), [
    ("\x00", "U+0000"), ("\x07", "U+0007"), ("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085"),
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"), ("\u2066", "U+2066"), ("\u200e", "U+200E"), ("\u061c", "U+061C"),
    ("\u200b", "U+200B ZERO WIDTH SPACE"), ("\u200d", "U+200D"), ("\u2060", "U+2060"), ("\ufeff", "U+FEFF"),
    ("\u2028", "U+2028"),
])
def test_K108_forbidden_characters_at_their_position(char, name):
    value, _, diags = load(f"a: 1\r\nbb: x{char}y\n")
    assert value is None
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K108", 2, 6)]
    assert name in diags[0].message


def test_K108_is_capped():
    diags = load("a: " + "\x00" * 1000)[2]
    assert len(diags) == 20 and {d.code for d in diags} == {"K108"}


def test_tabs_in_values_cr_line_ends_and_a_leading_bom_are_fine():
    value, smap, diags = load(b"\xef\xbb\xbfa: 1\rb: 'x\ty'\r")
    assert (value, diags) == ({"a": 1, "b": "x\ty"}, [])
    assert pos(smap.info("/b").value) == (2, 4, 2, 9)


def test_K109_second_document():
    assert codes("a: 1\n---\nb: 2\n") == [("K109", 2, 1)]
    assert codes("---\na: 1\n...\n---\nb: 2\n") == [("K109", 4, 1)]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- # x\n...\n", "\ufeff"])
def test_K110_empty(text):
    assert codes(text) == [("K110", 1, 1)]


@pytest.mark.parametrize(("text", "column"), [("- a\n- b\n", 1), ("just text\n", 1), ("  42\n", 3), ("[a]\n", 1)])
def test_K111_top_level_not_a_mapping(text, column):
    assert codes(text) == [("K111", 1, column)]


@pytest.mark.parametrize(("key", "column"), [
    ("1", 1), ("1.5", 1), ("true", 1), ("null", 1), ("~", 1), ("[a, b]", 1), ("{a: 1}", 1), ('? x\n', 3),
    ("0123", 1),
])
def test_K112_non_string_keys(key, column):
    value, _, diags = load(f"{key}: v\nok: 1\n")
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K112", 1, column)]
    assert value == {"ok": 1}


def test_quoted_keys_that_look_like_numbers_are_fine():
    assert load('"1": a\n\'true\': b\n')[0] == {"1": "a", "true": "b"}


def test_K113_merge_key():
    value, _, diags = load("base: &b {x: 1}\nthing:\n  <<: *b\n  z: 2\n")
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("K113", 3, 3)]
    assert value["thing"] == {"z": 2}


def test_quoted_merge_key_is_just_a_string():
    value, _, diags = load("'<<': 1\n")
    assert (value, diags) == ({"<<": 1}, [])


@pytest.mark.parametrize(("text", "where"), [
    ("a:\n\tb: 1\n", (2, 1)), ("a:\n  b: 1\n  \tc: 2\n", (3, 3)), ("a:\n  - 1\n\t- 2\n", (3, 1)),
    ("a: 1\n \tb: 2\n", (2, 2)),
])
def test_K114_tab_indentation(text, where):
    assert codes(text) == [("K114", *where)]


def test_tab_inside_a_quoted_scalar_is_fine():
    assert load('a: "x\n\ty"\n')[0] == {"a": "x y"}


# --- never raise, never construct ----------------------------------------------------------


def test_random_garbage_never_raises():
    rng = random.Random(1234)
    base = MINIMAL.encode()
    alphabet = b"[]{}:,-?|>!&*#'\"%@`\t\r\n \x00\xff\xc3abc019.~"
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.choice(alphabet)
        value, _, diags = load(bytes(data))
        assert value is None or isinstance(value, dict)
        if value is None:
            assert has_errors(diags)


def test_no_python_objects_are_ever_built(tmp_path):
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\nb: !!python/object/new:builtins.set [[1]]\n"
    value, _, diags = load(text)
    assert value is None and not marker.exists()
    assert [d.code for d in diags] == ["K103", "K103"]


def test_import_needs_only_yaml_and_the_standard_library():
    def modules(statement: str) -> set[str]:
        code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        return {name.split(".")[0] for name in out.split()}

    new = modules("import generator.loader") - modules("pass")
    allowed = set(sys.stdlib_module_names) | {"generator", "yaml", "_yaml"}
    assert {m for m in new if m not in allowed and "cython" not in m} == set()


def test_a_300_line_spec_loads_cleanly():
    lines = MINIMAL.splitlines()
    n = 0
    while len(lines) < 300:
        lines += [f"  E{n}:", "    permissions:", '      all: "true"', "    fields:",
                  "      title: string", "      body: {type: text, required: true}"]
        n += 1
    value, _, diags = load_yaml_bytes(("\n".join(lines) + "\n").encode(), "s.yaml")
    assert diags == [] and len(value["entities"]) == n + 1


# --- expression spans ----------------------------------------------------------------------

EXPRESSIONS = textwrap.dedent('''\
    plain: user.id == owner
    quoted: "x == \\"y\\" and z"
    single: 'it''s z'
    block: |
      first line
      user.role == admin
    folded: >-
      folded a
      folded b
    multi: plain start
      continued z
''')


@pytest.mark.parametrize(("pointer", "needle", "expected"), [
    ("/plain", "owner", (1, 19, 1, 24)),
    ("/quoted", '"y"', (2, 15, 2, 20)),
    ("/quoted", "z", (2, 25, 2, 26)),
    ("/single", "s z", (3, 14, 3, 17)),
    ("/block", "user.role", (6, 3, 6, 12)),
    ("/block", "first", (5, 3, 5, 8)),
    ("/folded", "b", (9, 10, 9, 11)),
    ("/multi", "z", (11, 13, 11, 14)),
])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_expression_span(pointer, needle, expected, newline):
    value, smap, diags = load(EXPRESSIONS.replace("\n", newline))
    assert diags == []
    text = value[pointer[1:]]
    start = text.index(needle)
    assert pos(smap.expression_span(pointer, start, start + len(needle))) == expected


def test_expression_span_falls_back_to_the_node():
    _, smap, _ = load("a: {b: 1}\n")
    assert smap.expression_span("/a", 0, 1) == smap.info("/a").value
    assert smap.expression_span("/a/zz", 0, 1) == smap.info("/a").value
    assert SourceMap().expression_span("/x", 0, 1) is None


# --- spec directories and includes ------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")


def spec_codes(result: LoadedSpec) -> list[tuple[str, str, int, int]]:
    return sorted((d.code, d.span.file, d.span.line, d.span.column) for d in result.diagnostics if d.span)


ENTITY = textwrap.dedent("""\
    entities:
      {name}:
        permissions:
          all: "true"
        fields:
          title: string
    """)


def test_load_spec_directory_file_and_names(tmp_path, monkeypatch):
    write(tmp_path, {"spec/keel.yaml": MINIMAL})
    monkeypatch.chdir(tmp_path)
    for given in (Path("spec"), Path("spec/keel.yaml"), tmp_path / "spec"):
        result = load_spec(given)
        assert result.diagnostics == () and result.files == ("spec/keel.yaml",)
        assert result.document["app"]["name"] == "demo"
        assert result.root == tmp_path / "spec"
        assert result.source_map.info("/app/name").value.file == "spec/keel.yaml"
    monkeypatch.chdir(tmp_path / "spec")
    outside = tmp_path / "other"
    write(outside, {"keel.yaml": MINIMAL})
    assert load_spec(outside).files == ((outside / "keel.yaml").as_posix(),)


def test_loaded_spec_is_frozen(tmp_path):
    write(tmp_path, {"keel.yaml": MINIMAL})
    with pytest.raises(AttributeError):
        load_spec(tmp_path).document = None


@pytest.mark.parametrize("target", ["missing", "empty-dir", "notes.txt"])
def test_K115_cannot_read(tmp_path, monkeypatch, target):
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "notes.txt").write_text("keel: 1\n")
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path(target))
    assert [d.code for d in result.diagnostics] == ["K115"]
    assert target in result.diagnostics[0].message
    assert result.document is None and result.files == ()


def test_includes_are_merged_in_sorted_order_with_their_own_files(tmp_path, monkeypatch):
    write(tmp_path, {
        "keel.yaml": MINIMAL + "include:\n  - entities/*.yaml\n  - more/**/*.yml\n",
        "entities/b.yaml": ENTITY.format(name="Beta"),
        "entities/a.yaml": ENTITY.format(name="Alpha"),
        "more/deep/c.yml": ENTITY.format(name="Gamma"),
    })
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path("."))
    assert result.diagnostics == ()
    assert result.files == ("keel.yaml", "entities/a.yaml", "entities/b.yaml", "more/deep/c.yml")
    assert list(result.document["entities"]) == ["Note", "Alpha", "Beta", "Gamma"]
    assert result.document["include"] == ["entities/*.yaml", "more/**/*.yml"]
    smap = result.source_map
    assert pos(smap.info("/entities/Beta").key)[:2] == (2, 3) and smap.info("/entities/Beta").key.file == "entities/b.yaml"
    assert smap.info("/entities/Gamma/fields/title").value.file == "more/deep/c.yml"
    assert smap.info("/entities/Note").value.file == "keel.yaml"


def test_include_only_entities_in_main_file(tmp_path, monkeypatch):
    main = "keel: 1\napp:\n  name: demo\ninclude: [parts/*.yaml]\n"
    write(tmp_path, {"keel.yaml": main, "parts/n.yaml": ENTITY.format(name="Note")})
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path("."))
    assert result.diagnostics == () and list(result.document["entities"]) == ["Note"]
    assert result.source_map.value_span("/entities/Note/fields").file == "parts/n.yaml"


def test_K307_entity_in_two_files(tmp_path, monkeypatch):
    write(tmp_path, {
        "keel.yaml": MINIMAL + "include: [entities/*.yaml]\n",
        "entities/a.yaml": ENTITY.format(name="Task"),
        "entities/b.yaml": ENTITY.format(name="Task"),
        "entities/c.yaml": ENTITY.format(name="Note"),
    })
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path("."))
    assert spec_codes(result) == [("K307", "entities/b.yaml", 2, 3), ("K307", "entities/c.yaml", 2, 3)]
    related = {d.span.file: d.related[0].span for d in result.diagnostics}
    assert (related["entities/b.yaml"].file, related["entities/b.yaml"].line) == ("entities/a.yaml", 2)
    assert (related["entities/c.yaml"].file, related["entities/c.yaml"].line) == ("keel.yaml", 8)
    assert result.source_map.info("/entities/Task").key.file == "entities/a.yaml"


@pytest.mark.parametrize("pattern", ["../x/*.yaml", "/etc/*.yaml", "a/../../b.yaml", "C:/x.yaml", "..\\\\x.yaml", "''"])
def test_K116_patterns_outside_the_spec_dir(tmp_path, monkeypatch, pattern):
    write(tmp_path, {"keel.yaml": MINIMAL + f"include:\n  - {pattern}\n"})
    monkeypatch.chdir(tmp_path)
    assert spec_codes(load_spec(Path("."))) == [("K116", "keel.yaml", 14, 5)]


def test_K116_symlink_out_of_the_spec_dir(tmp_path, monkeypatch):
    write(tmp_path, {"spec/keel.yaml": MINIMAL + "include: [entities/*.yaml]\n", "secret.yaml": ENTITY.format(name="X")})
    (tmp_path / "spec/entities").mkdir()
    try:
        (tmp_path / "spec/entities/x.yaml").symlink_to(tmp_path / "secret.yaml")
    except OSError:
        pytest.skip("symlinks not available")
    monkeypatch.chdir(tmp_path / "spec")
    result = load_spec(Path("."))
    assert spec_codes(result) == [("K116", "keel.yaml", 13, 11)]
    assert "X" not in result.document["entities"] and result.files == ("keel.yaml",)


def test_K117_other_sections_in_an_included_file(tmp_path, monkeypatch):
    write(tmp_path, {
        "keel.yaml": MINIMAL + "include: [parts/*.yaml]\n",
        "parts/a.yaml": "app:\n  name: x\ninclude: [b.yaml]\n" + ENTITY.format(name="Memo"),
        "parts/b.yaml": "entities: [Memo]\n",
    })
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path("."))
    assert spec_codes(result) == [("K117", "parts/a.yaml", 1, 1), ("K117", "parts/a.yaml", 3, 1),
                                  ("K117", "parts/b.yaml", 1, 11)]
    assert "Memo" in result.document["entities"]


def test_K912_pattern_matches_nothing(tmp_path, monkeypatch):
    write(tmp_path, {"keel.yaml": MINIMAL + "include:\n  - nothing/*.yaml\n"})
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path("."))
    assert spec_codes(result) == [("K912", "keel.yaml", 14, 5)]
    assert result.document is not None


def test_errors_in_included_files_carry_their_file(tmp_path, monkeypatch):
    write(tmp_path, {"keel.yaml": MINIMAL + "include: [p/*.yaml]\n", "p/x.yaml": "entities:\n  X: !!python/none x\n"})
    monkeypatch.chdir(tmp_path)
    assert spec_codes(load_spec(Path("."))) == [("K103", "p/x.yaml", 2, 6)]


def test_the_main_file_is_not_included_twice(tmp_path, monkeypatch):
    write(tmp_path, {"keel.yaml": MINIMAL + "include: ['*.yaml', '*.yaml']\n"})
    monkeypatch.chdir(tmp_path)
    result = load_spec(Path("."))
    assert result.diagnostics == () and result.files == ("keel.yaml",)
