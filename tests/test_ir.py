"""The IR decides names, keys, types and constraints; these tests pin those decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from generator.ir import build_ir, constraint_name, dump_ir
from generator.pipeline import validate_path
from tests.conftest import REPO


def ir_of(path: Path):
    result = validate_path(path)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


def entity(ir, name):
    return next(e for e in ir.entities if e.name == name)


def column(e, name):
    return next(c for c in e.columns if c.name == name)


def test_refs_become_foreign_key_columns_with_on_delete():
    task = entity(ir_of(REPO / "specs/tasks"), "Task")
    project = column(task, "project_id")
    assert (project.foreign_key.target_table, project.foreign_key.on_delete) == ("projects", "CASCADE")
    assert project.index and not project.nullable and project.on_create and not project.on_update  # write_once
    assignee = column(task, "assignee_id")
    assert assignee.nullable and assignee.foreign_key.on_delete == "SET NULL"
    created_by = column(task, "created_by_id")
    assert created_by.server_value == "current_user" and not created_by.on_create


def test_many_to_many_sides_share_one_link_table():
    ir = ir_of(REPO / "specs/tasks")
    [link] = ir.link_tables
    assert (link.name, link.left_table, link.left_column, link.right_table, link.right_column) == (
        "project_members", "projects", "project_id", "users", "user_id")
    members = next(r for r in entity(ir, "Project").relations if r.name == "members")
    projects = next(r for r in entity(ir, "User").relations if r.name == "projects")
    assert members.link_table == projects.link_table == "project_members"
    assert (members.back_populates, projects.back_populates) == ("projects", "members")


def test_has_many_and_ref_point_at_each_other():
    ir = ir_of(REPO / "specs/expenses")
    lines = next(r for r in entity(ir, "ExpenseReport").relations if r.name == "lines")
    report = next(r for r in entity(ir, "ExpenseLine").relations if r.name == "report")
    assert (lines.kind, lines.back_populates) == ("one_to_many", "report")
    assert (report.kind, report.back_populates, report.fk_attribute) == ("many_to_one", "lines", "report_id")


def test_server_managed_columns_are_never_client_writable():
    report = entity(ir_of(REPO / "specs/expenses"), "ExpenseReport")
    for name in ("id", "created_at", "updated_at", "status", "submitter_id", "rejection_reason", "lock_version"):
        c = column(report, name)
        assert not c.on_create and not c.on_update, name
    assert column(report, "status").server_value == "state"
    assert column(report, "status").default == "draft"


def test_passwords_are_stored_as_hashes_and_never_read():
    employee = entity(ir_of(REPO / "specs/expenses"), "Employee")
    pw = column(employee, "password_hash")
    assert not pw.readable and pw.on_create and pw.wire == "password"
    assert pw.json_schema["writeOnly"] is True and pw.json_schema["minLength"] == 12


def test_decimals_are_exact_strings_with_checks_from_the_spec():
    line = entity(ir_of(REPO / "specs/expenses"), "ExpenseLine")
    amount = column(line, "amount")
    assert amount.sa_type == "Numeric(12, 2, asdecimal=True)" and amount.py_type == "decimal.Decimal"
    assert amount.json_schema["type"] == "string"
    assert {c.sql for c in line.checks} >= {'"amount" >= 0.01', '"amount" <= 100000'}


def test_enums_get_a_check_constraint():
    task = entity(ir_of(REPO / "specs/tasks"), "Task")
    checks = {c.name: c.sql for c in task.checks}
    assert checks["ck_tasks_priority_enum"] == "\"priority\" IN ('low', 'normal', 'high', 'urgent')"
    assert checks["ck_tasks_status_enum"] == "\"status\" IN ('todo', 'in_progress', 'done')"


def test_filters_and_sorts_are_indexed_and_ordering_ends_with_the_id():
    task = entity(ir_of(REPO / "specs/tasks"), "Task")
    assert column(task, "priority").index and column(task, "priority").filter_ops == ("eq", "in")
    assert column(task, "title").sortable and column(task, "title").index
    assert [(o.column, o.descending) for o in task.ordering] == [("due_date", False), ("created_at", True),
                                                                 ("id", False)]


def test_lookup_and_paths_follow_the_api_conventions():
    project = entity(ir_of(REPO / "specs/tasks"), "Project")
    assert project.lookup == "slug" and project.collection_path == "/api/projects"
    paths = {(ep.method, ep.path) for ep in project.endpoints}
    assert ("GET", "/api/projects/{slug}") in paths and ("POST", "/api/projects/{slug}/join") in paths


def test_constraint_names_fit_postgresql():
    long = constraint_name("uq", "a" * 40, ("b" * 30, "c" * 30))
    assert len(long) <= 63 and long != constraint_name("uq", "a" * 40, ("b" * 30, "c" * 31))
    assert constraint_name("uq", "tasks", ("project_id", "title")) == "uq_tasks_project_id_title"


def test_camel_case_wire_names_and_envelopes(validate):
    result = validate("""\
        keel: 1
        app: {name: blog}
        api: {wire_names: camelCase, envelope: true}
        entities:
          BlogPost:
            permissions: {all: true}
            fields:
              title: string
              published_on: date?
        """)
    assert result.ok
    post = build_ir(result.spec, result.source_map, result.root).entities[0]
    assert column(post, "published_on").wire == "publishedOn"
    assert (post.envelope_one, post.envelope_many, post.envelope_count) == ("blogPost", "blogPosts", "blogPostsCount")


def test_ir_json_is_identical_under_different_hash_seeds():
    code = ("import sys; from pathlib import Path; from generator.pipeline import validate_path; "
            "from generator.ir import build_ir, dump_ir; v = validate_path(Path(sys.argv[1])); "
            "sys.stdout.write(dump_ir(build_ir(v.spec, v.source_map, v.root)))")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code, "specs/expenses"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=60, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    doc = json.loads(outputs.pop())
    assert [e["name"] for e in doc["entities"]] == ["Employee", "ExpenseReport", "ExpenseLine"]


def test_ir_does_not_depend_on_the_working_directory(monkeypatch, tmp_path):
    here = dump_ir(ir_of(REPO / "specs/tasks"))
    monkeypatch.chdir(tmp_path)
    assert dump_ir(ir_of(REPO / "specs/tasks")) == here
