"""``keel mcp``: a real MCP client session (the SDK's stdio client) against ``keel mcp --root DIR``.

One server for the module, serving a temporary project (a copy of specs/tasks, a broken spec
and two versions of a small spec), started from the repository so ``--root`` is what decides.
Tool results are compared with what the CLI prints with ``--format json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

from tests.conftest import REPO

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

TOOLS = {"validate", "plan", "explain", "diagram", "spec_schema", "generate", "diff"}

SMALL = """\
keel: 1
app: {name: notes, title: Notes, version: "1.0.0", description: Notes}
entities:
  Note:
    permissions:
      all: "true"
    fields:
      title: string
      body: {type: string, required: false}
"""


class Client:
    """Synchronous calls into the session, which lives in the portal's event loop."""

    def __init__(self, portal: Any, session: ClientSession, root: Path, errlog: Path) -> None:
        self.portal, self.session, self.root, self.errlog = portal, session, root, errlog

    def call(self, name: str, **arguments: Any):  # type: ignore[no-untyped-def]
        result = self.portal.call(self.session.call_tool, name, arguments)
        assert len(result.content) == 1 and result.content[0].type == "text"
        # The text content is the same document as the structured content.
        assert json.loads(result.content[0].text) == result.structuredContent, self.errlog.read_text()
        return result


def keel_json(*args: str, cwd: Path) -> dict:
    """What the CLI prints with --format json, run in ``cwd``."""
    proc = subprocess.run([sys.executable, "-m", "generator", *args, "--format", "json"], cwd=cwd,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mcp-project")
    shutil.copytree(REPO / "specs/tasks", root / "specs/tasks")
    (root / "broken").mkdir()
    (root / "broken/keel.yaml").write_text(SMALL + "    sort: [titel]\n", encoding="utf-8")
    for name, text in (("v1", SMALL), ("v2", SMALL.replace("      body: {type: string, required: false}\n", ""))):
        (root / name).mkdir()
        (root / name / "keel.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(project: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    errlog = tmp_path_factory.mktemp("mcp-log") / "stderr.txt"
    params = StdioServerParameters(command=sys.executable, args=["-m", "generator", "mcp", "--root", str(project)],
                                   cwd=str(REPO), env={**os.environ, "PYTHONPATH": str(REPO)})

    @asynccontextmanager
    async def connected():  # type: ignore[no-untyped-def]
        with errlog.open("w") as err:
            async with stdio_client(params, errlog=err) as (read, write):
                async with ClientSession(read, write) as session:
                    info = await session.initialize()
                    assert info.serverInfo.name == "keel"
                    yield session

    with start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(connected()) as session:
            yield Client(portal, session, project, errlog)


def test_lists_the_tools_with_precise_input_schemas(client: Client) -> None:
    tools = {t.name: t for t in client.portal.call(client.session.list_tools).tools}
    assert set(tools) == TOOLS
    validate = tools["validate"].inputSchema
    assert validate["required"] == ["spec"] and validate["additionalProperties"] is False
    assert validate["properties"]["spec"]["type"] == "string"
    diagram = tools["diagram"].inputSchema["properties"]
    assert diagram["kind"]["enum"] == ["er", "state", "all"] and diagram["kind"]["default"] == "all"
    generate = tools["generate"].inputSchema
    assert generate["properties"]["check"] == {"type": "boolean", "default": False,
                                               "description": generate["properties"]["check"]["description"]}
    assert set(generate["properties"]) == {"spec", "out", "check"}
    assert set(tools["diff"].inputSchema["properties"]) == {"old", "new", "against"}
    assert tools["diff"].inputSchema["required"] == ["old"]
    assert set(tools["plan"].inputSchema["properties"]) >= {"spec", "against"}
    assert tools["spec_schema"].inputSchema["properties"] == {}
    assert tools["validate"].annotations.readOnlyHint is True
    assert tools["generate"].annotations.readOnlyHint is False


def test_validate_a_valid_spec_returns_the_cli_document(client: Client) -> None:
    result = client.call("validate", spec="specs/tasks")
    assert result.isError is False
    doc = result.structuredContent
    assert doc["format"] == "keel.diagnostics/1" and doc["ok"] is True and doc["diagnostics"] == []
    assert doc == keel_json("validate", "specs/tasks", cwd=client.root)


def test_validate_a_broken_spec_is_an_error_with_located_diagnostics(client: Client) -> None:
    result = client.call("validate", spec="broken")
    assert result.isError is True
    doc = result.structuredContent
    assert doc["ok"] is False and doc["summary"]["errors"] == 1
    (d,) = doc["diagnostics"]
    assert (d["code"], d["file"], d["line"], d["column"]) == ("K311", "broken/keel.yaml", 10, 12)
    assert "`title`" in d["hint"]
    assert doc == keel_json("validate", "broken", cwd=client.root)


def test_a_missing_spec_and_bad_arguments_are_errors_not_crashes(client: Client) -> None:
    missing = client.call("validate", spec="nowhere")
    assert missing.isError is True
    assert [d["code"] for d in missing.structuredContent["diagnostics"]] == ["K115"]
    bad = client.call("diagram", spec="specs/tasks", kind="pie")
    assert bad.isError is True
    assert bad.structuredContent["format"] == "keel.diagram/1"
    assert "kind: 'pie' is not one of" in bad.structuredContent["error"]
    extra = client.call("validate", spec="specs/tasks", verbose=True)
    assert extra.isError is True and "'verbose' was unexpected" in extra.structuredContent["error"]
    # The server is still serving.
    assert client.call("validate", spec="specs/tasks").isError is False


def test_explain_a_transition(client: Client) -> None:
    result = client.call("explain", spec="specs/tasks", target="Task.start")
    assert result.isError is False
    doc = result.structuredContent
    assert doc["format"] == "keel.explain/1" and doc["target"] == "Task.start"
    (entity,) = doc["entities"]
    (topic,) = entity["topics"]
    assert (topic["kind"], topic["name"]) == ("transition", "start")
    assert any("assignee" in s for s in topic["sentences"])
    assert doc == keel_json("explain", "specs/tasks", "Task.start", cwd=client.root)
    unknown = client.call("explain", spec="specs/tasks", target="Tsk")
    assert unknown.isError is True
    assert "Task" in unknown.structuredContent["valid"]


def test_diagram(client: Client) -> None:
    doc = client.call("diagram", spec="specs/tasks").structuredContent
    assert doc["format"] == "keel.diagram/1" and doc["app"] == "tasks"
    kinds = [d["kind"] for d in doc["diagrams"]]
    assert "er" in kinds and "state" in kinds
    er = next(d for d in doc["diagrams"] if d["kind"] == "er")
    assert er["mermaid"].startswith("erDiagram") and "Task" in er["mermaid"]
    state = client.call("diagram", spec="specs/tasks", kind="state", entity="Task").structuredContent
    assert [d["kind"] for d in state["diagrams"]] == ["state"]
    assert "stateDiagram-v2" in state["diagrams"][0]["mermaid"] and "in_progress" in state["diagrams"][0]["mermaid"]
    assert state == keel_json("diagram", "specs/tasks", "Task", "--kind", "state", cwd=client.root)


def test_spec_schema_is_the_schema_keel_schema_prints(client: Client) -> None:
    result = client.call("spec_schema")
    assert result.isError is False
    proc = subprocess.run([sys.executable, "-m", "generator", "schema"], capture_output=True, text=True, timeout=60,
                          cwd=REPO, check=True)
    assert result.structuredContent == json.loads(proc.stdout)
    assert "entities" in result.structuredContent["properties"]


def test_generate_then_check(client: Client) -> None:
    out = client.root / "generated/tasks"
    assert client.call("generate", spec="specs/tasks", check=True).structuredContent["missing"]  # nothing yet
    assert not out.exists()  # check writes nothing
    first = client.call("generate", spec="specs/tasks")
    assert first.isError is False, first.structuredContent
    doc = first.structuredContent
    assert doc["format"] == "keel.generate/1" and doc["out"] == "generated/tasks" and doc["ok"] is True
    assert "tasks/models.py" in doc["created"] and (out / "tasks/models.py").is_file()

    check = client.call("generate", spec="specs/tasks", out="generated/tasks", check=True)
    assert check.isError is False
    assert check.structuredContent == {"format": "keel.check/1", "ok": True, "out": "generated/tasks",
                                       "stale": [], "missing": [], "extra": []}
    assert check.structuredContent == keel_json("check", "specs/tasks", "--out", "generated/tasks", cwd=client.root)

    again = client.call("generate", spec="specs/tasks").structuredContent
    assert (again["created"], again["updated"], again["deleted"]) == ([], [], [])
    assert again["unchanged"] == len(doc["created"])

    models = out / "tasks/models.py"
    models.write_text(models.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    stale = client.call("generate", spec="specs/tasks", check=True)
    assert stale.isError is False  # a report, not a failure of the call
    assert stale.structuredContent["ok"] is False and stale.structuredContent["stale"] == ["tasks/models.py"]
    refused = client.call("generate", spec="specs/tasks")  # the edited file is not Keel's any more
    assert refused.isError is True
    assert [c["path"] for c in refused.structuredContent["conflicts"]] == ["tasks/models.py"]
    assert models.read_text(encoding="utf-8").endswith("# edited\n")


def test_diff_of_two_specs(client: Client) -> None:
    result = client.call("diff", old="v1", new="v2")
    assert result.isError is False  # a breaking change is reported, not an error
    doc = result.structuredContent
    assert doc["format"] == "keel.diff/1" and doc["ok"] is False
    (change,) = doc["changes"]
    assert (change["rule"], change["target"], change["breaking"]) == ("field-removed", "Note.body", True)
    assert change["old"]["line"] == 9
    assert doc == keel_json("diff", "v1", "v2", cwd=client.root)
    same = client.call("diff", old="v1", new="v1").structuredContent
    assert same["ok"] is True and same["changes"] == []
    usage = client.call("diff", old="v1")
    assert usage.isError is True and "--against" in usage.structuredContent["error"]


def test_plan(client: Client) -> None:
    result = client.call("plan", spec="specs/tasks", against=None, out="planned/tasks")
    assert result.isError is False
    doc = result.structuredContent
    assert doc["format"] == "keel.plan/1" and doc["validation"]["ok"] is True
    assert doc["diff"]["baseline"] is None
    assert "tasks/models.py" in doc["files"]["create"] and doc["verdict"]["acceptable"] is True
    assert not (client.root / "planned").exists()  # a plan writes nothing
    broken = client.call("plan", spec="broken", against=None)
    assert broken.isError is True
    assert [d["code"] for d in broken.structuredContent["validation"]["diagnostics"]] == ["K311"]


def test_paths_outside_the_root_are_refused(client: Client, tmp_path: Path) -> None:
    for spec in (str(REPO / "specs/tasks"), "../" + client.root.name + "-elsewhere", "/etc"):
        result = client.call("validate", spec=spec)
        assert result.isError is True
        assert "outside the served directory" in result.structuredContent["error"]
        assert "diagnostics" not in result.structuredContent  # nothing was read
    target = tmp_path / "out"
    refused = client.call("generate", spec="specs/tasks", out=str(target))
    assert refused.isError is True and "outside the served directory" in refused.structuredContent["error"]
    assert not target.exists()
    link = client.root / "link-out"
    link.symlink_to(REPO / "specs")
    try:
        assert client.call("validate", spec="link-out/tasks").isError is True
    finally:
        link.unlink()


def test_an_internal_error_is_a_short_error_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import mcp_server

    def boom(arguments: dict) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(mcp_server.TOOLS["validate"], "run", boom)
    document = mcp_server.call("validate", {"spec": "specs/tasks"}, REPO)
    assert document.error is True and document.doc["ok"] is False
    assert document.doc["error"].startswith("internal error: ZeroDivisionError: division by zero")
    assert "Traceback" not in document.text()


def test_a_bad_root_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "generator", "mcp", "--root", str(tmp_path / "missing")],
                          cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "not a directory" in proc.stderr and proc.stdout == ""
