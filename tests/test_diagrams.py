"""Mermaid diagrams (generator/diagrams.py): the ER diagram, the state diagrams, `keel diagram`, and the
generated app's docs/. Every diagram is also parsed by Mermaid itself: the `mermaid` npm package
(with jsdom, no browser) is installed once into the repo's .cache/ like Redocly in
test_generated_openapi.py; it skips when npm is missing, unless KEEL_REQUIRE_LINT=1 (CI).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from generator.cli import main
from generator.diagrams import MermaidNameError, _ident, _text, diagrams, er_diagram, state_diagrams
from generator.ir import build_ir
from generator.pipeline import validate_path
from generator.targets import TemplateFile, plan_files
from tests.conftest import REPO
from tests.npm_tools import npm_install

TASKS, EXPENSES = REPO / "specs/tasks", REPO / "specs/expenses"
MERMAID_VERSION, JSDOM_VERSION = "11.17.2", "26.1.0"

# Entity, field and state names that are Mermaid keywords, and text that would break a label.
TRICKY = """\
keel: 1
app: {name: tricky, title: Tricky, version: "1.0.0"}
auth: {user: Member, identity: email, password: password, roles: [admin]}
entities:
  Member:
    fields:
      email: {type: email, unique: true}
      password: {type: password, min_length: 12}
    permissions: {all: "user != null"}
  Style:
    fields:
      pk: {type: string, unique: true}
      one: string
      end: {type: ref, to: Member, required: false}
      many: {type: many, to: Member}
    permissions: {all: "user.role == 'admin'"}
    workflow:
      field: phase
      states: [note, end, state]
      initial: note
      final: [state]
      transitions:
        end: {from: "*", to: end, roles: [admin]}
        state:
          from: end
          to: state
          approvals:
            steps:
              - role: admin
                when: "record.one != 'say \\"hi\\"; end note'"
  One:
    fields:
      style: {type: ref, to: Style, on_delete: cascade}
    permissions: {all: "true"}
"""


def _ir(path: Path):  # type: ignore[no-untyped-def]
    result = validate_path(path)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


@pytest.fixture(scope="module")
def tricky_ir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tricky")
    (root / "keel.yaml").write_text(TRICKY)
    return _ir(root)


def test_er_diagram_of_the_tasks_spec():
    text = er_diagram(_ir(TASKS)).mermaid
    assert text.startswith("erDiagram\n")
    # Required refs: exactly one on the "one" side; optional refs: zero or one; many-to-many once.
    for line in ('"Project" ||--o{ "Task" : "project / tasks"',
                 '"User" |o--o{ "Task" : "assignee / assigned_tasks"',
                 '"User" ||--o{ "Task" : "created_by"',
                 '"User" ||--o{ "Project" : "owner"',
                 '"Project" }o--o{ "User" : "members / projects"'):
        assert f"    {line}\n" in text
    assert text.count("}o--o{") == 1  # the many-to-many is drawn once, not from both sides
    task = re.search(r'"Task" \{\n(.*?)\n    \}', text, re.S).group(1).splitlines()
    assert "        uuid id PK" in task
    assert '        uuid assignee_id FK "optional"' in task
    assert '        enum status "workflow state"' in task
    assert '        boolean overdue "computed"' in task
    assert "        email email UK" in text
    assert '        string name "unique with owner_id"' in text  # a composite unique constraint


def test_er_diagram_of_one_entity_shows_its_relations_only():
    text = er_diagram(_ir(EXPENSES), "ExpenseLine").mermaid
    assert '"ExpenseLine" {' in text and '"Employee" {' not in text
    assert '"ExpenseReport" ||--o{ "ExpenseLine" : "report / lines"' in text
    assert "submitter" not in text


def test_state_diagram_with_approvals_and_final_states():
    (diagram,) = state_diagrams(_ir(EXPENSES))
    lines = diagram.mermaid.splitlines()
    assert lines[:2] == ["stateDiagram-v2", "    direction LR"]
    assert '    state "draft" as s_draft' in lines
    assert "    [*] --> s_draft" in lines
    assert "    s_draft --> s_submitted : submit" in lines
    assert "    s_submitted --> s_approved : approve (approvals)" in lines
    assert "    s_paid --> [*]" in lines and "    s_rejected --> [*]" in lines
    note = diagram.mermaid.split("note right of s_approved\n")[1].split("    end note")[0]
    assert "manager, finance when record.total > 1000" in note
    assert "each by a different person, never by record.submitter" in note


def test_names_are_identifiers_and_free_text_is_made_safe(tricky_ir):
    with pytest.raises(MermaidNameError):
        _ident('Bad"Name')
    with pytest.raises(MermaidNameError):
        _ident("two words")
    assert _text('say "hi"\nend note; {x}') == "say 'hi' end note x"
    er = er_diagram(tricky_ir).mermaid
    assert '"Style" {' in er and '"One" {' in er  # keywords of Mermaid's ER lexer, quoted
    assert '        string pk_ UK "field pk"' in er  # `pk` would be read as a key marker
    state = state_diagrams(tricky_ir)[0].mermaid
    assert '    state "end" as s_end' in state and "    s_note --> s_end : end" in state
    note = state.split("note right of s_state\n")[1]
    assert '"' not in note.split("end note")[0] and ";" not in note.split("    end note")[0]


def test_output_is_deterministic():
    assert diagrams(_ir(TASKS)) == diagrams(_ir(TASKS))


# --- Mermaid's own parser -----------------------------------------------------------------------

PARSE_SCRIPT = """\
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });
const results = [];
for (const source of JSON.parse(readFileSync(0, 'utf8'))) {
  try {
    const parsed = await mermaid.parse(source);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (error) {
    results.push({ ok: false, error: String(error.message || error) });
  }
}
process.stdout.write(JSON.stringify(results));
"""


@pytest.fixture(scope="session")
def mermaid_parse() -> Path:
    """A Node script that parses diagrams with Mermaid at a pinned version (installed once into .cache/)."""
    prefix = npm_install("Mermaid parsing", f"mermaid-{MERMAID_VERSION}-jsdom-{JSDOM_VERSION}",
                         [f"mermaid@{MERMAID_VERSION}", f"jsdom@{JSDOM_VERSION}"],
                         Path("node_modules/mermaid/package.json"), timeout=300)
    script = prefix / "parse.mjs"
    script.write_text(PARSE_SCRIPT)
    return script


def _parse(script: Path, sources: list[str]) -> list[dict]:
    proc = subprocess.run(["node", str(script)], input=json.dumps(sources), capture_output=True, text=True,
                          timeout=120, cwd=script.parent, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_mermaid_parses_every_diagram(mermaid_parse, tricky_ir):
    sources, names = [], []
    for label, ir in (("tasks", _ir(TASKS)), ("expenses", _ir(EXPENSES)), ("tricky", tricky_ir)):
        for entity in [None] + [e.name for e in ir.entities]:
            for d in diagrams(ir, entity=entity):
                sources.append(d.mermaid)
                names.append(f"{label}:{d.kind}:{d.name}")
    # The parser must be able to fail, or passing proves nothing.
    sources += ['erDiagram\n    "Style" {\n        string pk\n    }\n', "erDiagram\n    Style {\n    }\n",
                "stateDiagram-v2\n    s_a --> s_b : x\n    note right of\n"]
    results = _parse(mermaid_parse, sources)
    expected_types = [("er" if ":er:" in n else "stateDiagram") for n in names]
    assert [(n, r.get("type"), r.get("error")) for n, r in zip(names, results)] == [
        (n, t, None) for n, t in zip(names, expected_types)]
    assert [r["ok"] for r in results[len(names):]] == [False, False, False]


# --- `keel diagram` and the generated app's docs -------------------------------------------------


def test_cli_prints_markdown_raw_and_json(capsys):
    assert main(["diagram", str(EXPENSES)]) == 0
    out = capsys.readouterr().out
    assert out.count("```mermaid\n") == 2 and "## Expenses: entities" in out
    assert main(["diagram", str(EXPENSES), "ExpenseReport", "--kind", "state", "--raw"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stateDiagram-v2\n") and "```" not in out
    assert main(["diagram", str(TASKS), "--format", "json", "--kind", "er"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "keel.diagram/1" and document["ok"] is True
    assert [d["kind"] for d in document["diagrams"]] == ["er"]
    assert document["diagrams"][0]["mermaid"].startswith("erDiagram\n")


def test_cli_errors(capsys, tmp_path):
    assert main(["diagram", str(TASKS), "Tsk"]) == 2
    assert "no entity `Tsk` in `tasks`; entities: User, Project, Task" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["diagram", str(TASKS), "--kind", "nope"])
    assert exited.value.code == 2
    (tmp_path / "keel.yaml").write_text("keel: 1\napp: {name: x}\n")
    assert main(["diagram", str(tmp_path)]) == 1


def test_generated_app_has_rules_and_diagrams_docs():
    ir = _ir(EXPENSES)
    planned = {f.path: f for f in plan_files(ir) if isinstance(f, TemplateFile)}
    rules, drawn = planned["docs/rules.md"].context["body"], planned["docs/diagrams.md"].context["body"]
    assert "An expense report can be submitted by its submitter, when it is in state draft" in rules
    assert drawn.count("```mermaid") == 2 and "stateDiagram-v2" in drawn
    readme = (REPO / "generated/expenses/README.md").read_text()
    assert "[docs/rules.md](docs/rules.md)" in readme and "[docs/diagrams.md](docs/diagrams.md)" in readme
    committed = (REPO / "generated/expenses/docs/rules.md").read_text()
    assert committed.startswith("<!-- Generated by Keel") and rules in committed
