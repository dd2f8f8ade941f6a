"""The writer: plan/apply/check against a real temporary directory. Behaviour, not wording."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from generator.writer import (MANIFEST, MANIFEST_FORMAT, Conflict, Drift, Plan, WriteRefused, apply, check,
                              manifest_bytes, plan, sha256)

SPEC = "specs/tasks"
FILES = {
    "openapi.json": b'{"openapi": "3.1.0"}\n',
    "tasks/__init__.py": b"",
    "tasks/models.py": b"class Task:\n    pass\n",
    "tasks/api/routes.py": b"ROUTES = []\n",
    "README.md": "# Tasks \u2014 generated\n".encode(),
}
OLD = 1_000_000_000 * 10**9  # 2001, in ns: far from "now", so any rewrite shows


def generate(out: Path, files: dict[str, bytes] = FILES, force: bool = False) -> Plan:
    p = plan(out, files, SPEC)
    apply(out, p, files, SPEC, force=force)
    return p


def age(out: Path) -> dict[str, int]:
    """Backdate every file under out and return path -> mtime_ns."""
    stamps = {}
    for f in sorted(out.rglob("*")):
        if f.is_file():
            os.utime(f, ns=(OLD, OLD))
            stamps[f.relative_to(out).as_posix()] = OLD
    return stamps


def mtimes(out: Path) -> dict[str, int]:
    return {f.relative_to(out).as_posix(): f.stat().st_mtime_ns for f in sorted(out.rglob("*")) if f.is_file()}


def tree(out: Path) -> dict[str, bytes]:
    return {f.relative_to(out).as_posix(): f.read_bytes() for f in sorted(out.rglob("*")) if f.is_file()}


# --- generate, regenerate ---------------------------------------------------------------------------------


def test_fresh_generate_creates_every_file_and_the_manifest(tmp_path):
    out = tmp_path / "out"
    p = plan(out, FILES, SPEC)
    assert p == Plan(create=tuple(sorted(FILES)))
    assert p.has_changes
    apply(out, p, FILES, SPEC)
    assert tree(out) == {**FILES, MANIFEST: manifest_bytes(FILES, SPEC)}
    doc = json.loads((out / MANIFEST).read_text())
    assert doc == {"format": MANIFEST_FORMAT, "spec": SPEC, "files": {k: sha256(v) for k, v in FILES.items()}}
    raw = (out / MANIFEST).read_text()
    assert raw.endswith("}\n") and raw == json.dumps(doc, sort_keys=True, indent=2) + "\n"
    assert list(doc["files"]) == sorted(FILES)
    assert not list(out.rglob("*.keel-tmp"))


def test_second_run_with_same_files_writes_nothing(tmp_path):
    out = tmp_path / "out"
    generate(out)
    before = age(out)
    p = plan(out, FILES, SPEC)
    assert p == Plan(unchanged=tuple(sorted(FILES)))
    assert not p.has_changes
    apply(out, p, FILES, SPEC)
    assert mtimes(out) == before


def test_one_changed_file_is_the_only_one_rewritten(tmp_path):
    out = tmp_path / "out"
    generate(out)
    before = age(out)
    files = {**FILES, "tasks/models.py": b"class Task:\n    id: int\n"}
    p = plan(out, files, SPEC)
    assert p.update == ("tasks/models.py",)
    assert (p.create, p.delete, p.conflicts) == ((), (), ())
    apply(out, p, files, SPEC)
    after = mtimes(out)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"tasks/models.py", MANIFEST}
    assert tree(out) == {**files, MANIFEST: manifest_bytes(files, SPEC)}
    assert plan(out, files, SPEC) == Plan(unchanged=tuple(sorted(files)))


def test_dropped_file_is_deleted_and_its_empty_directory_removed(tmp_path):
    out = tmp_path / "out"
    generate(out)
    files = {k: v for k, v in FILES.items() if k != "tasks/api/routes.py"}
    p = plan(out, files, SPEC)
    assert p.delete == ("tasks/api/routes.py",)
    assert p.conflicts == ()
    apply(out, p, files, SPEC)
    assert not (out / "tasks" / "api").exists()
    assert (out / "tasks" / "models.py").is_file()
    assert json.loads((out / MANIFEST).read_text())["files"].keys() == files.keys()


def test_deleting_everything_keeps_out_dir_and_user_files(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / "tasks" / "notes.txt").write_text("mine")
    generate(out, {"openapi.json": b"{}"})
    assert tree(out) == {"openapi.json": b"{}", "tasks/notes.txt": b"mine",
                         MANIFEST: manifest_bytes({"openapi.json": b"{}"}, SPEC)}


def test_untracked_user_files_are_never_touched(tmp_path):
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "tasks" / "custom.py").write_bytes(b"# mine\n")
    (out / "keep").mkdir()
    generate(out)
    generate(out, {"openapi.json": b"{}"})
    assert (out / "tasks" / "custom.py").read_bytes() == b"# mine\n"
    assert (out / "keep").is_dir()


# --- conflicts -------------------------------------------------------------------------------------------


def test_hand_written_file_at_a_generated_path_is_a_conflict_and_refused(tmp_path):
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "tasks" / "models.py").write_bytes(b"# hand written\n")
    p = plan(out, FILES, SPEC)
    assert [c.path for c in p.conflicts] == ["tasks/models.py"]
    assert all(c.reason and c.forceable for c in p.conflicts)
    with pytest.raises(WriteRefused) as exc:
        apply(out, p, FILES, SPEC)
    assert [c.path for c in exc.value.conflicts] == ["tasks/models.py"]
    assert tree(out) == {"tasks/models.py": b"# hand written\n"}  # nothing written, not even the manifest


def test_existing_file_with_identical_content_is_adopted_not_a_conflict(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "openapi.json").write_bytes(FILES["openapi.json"])
    p = plan(out, FILES, SPEC)
    assert p.conflicts == () and "openapi.json" in p.unchanged
    apply(out, p, FILES, SPEC)
    assert "openapi.json" in json.loads((out / MANIFEST).read_text())["files"]


def test_hand_edited_generated_file_is_a_conflict(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / "tasks" / "models.py").write_bytes(b"class Task:  # my tweak\n    pass\n")
    files = {**FILES, "tasks/models.py": b"class Task:\n    id: int\n"}
    p = plan(out, files, SPEC)
    assert [c.path for c in p.conflicts] == ["tasks/models.py"]
    with pytest.raises(WriteRefused):
        apply(out, p, files, SPEC)
    assert (out / "tasks" / "models.py").read_bytes() == b"class Task:  # my tweak\n    pass\n"


def test_hand_edited_generated_file_that_is_no_longer_produced_is_a_conflict(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / "tasks" / "api" / "routes.py").write_bytes(b"ROUTES = ['mine']\n")
    files = {k: v for k, v in FILES.items() if k != "tasks/api/routes.py"}
    p = plan(out, files, SPEC)
    assert p.delete == ("tasks/api/routes.py",)
    assert [c.path for c in p.conflicts] == ["tasks/api/routes.py"]
    with pytest.raises(WriteRefused):
        apply(out, p, files, SPEC)
    assert (out / "tasks" / "api" / "routes.py").read_bytes() == b"ROUTES = ['mine']\n"


def test_force_overwrites_and_deletes_conflicting_files(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / "tasks" / "models.py").write_bytes(b"edited\n")
    (out / "tasks" / "api" / "routes.py").write_bytes(b"edited\n")
    (out / "new.py").write_bytes(b"hand written\n")
    files = {**{k: v for k, v in FILES.items() if k != "tasks/api/routes.py"}, "new.py": b"# generated\n"}
    p = plan(out, files, SPEC)
    assert {c.path for c in p.conflicts} == {"tasks/models.py", "tasks/api/routes.py", "new.py"}
    apply(out, p, files, SPEC, force=True)
    assert tree(out) == {**files, MANIFEST: manifest_bytes(files, SPEC)}
    assert plan(out, files, SPEC).conflicts == ()


def test_unreadable_manifest_is_a_conflict_and_nothing_is_deleted(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / MANIFEST).write_text("{not json")
    files = {k: v for k, v in FILES.items() if k != "README.md"}
    p = plan(out, files, SPEC)
    assert [c.path for c in p.conflicts] == [MANIFEST]
    assert p.delete == ()
    with pytest.raises(WriteRefused):
        apply(out, p, files, SPEC)
    apply(out, p, files, SPEC, force=True)
    assert (out / "README.md").exists()  # unknown provenance: kept
    assert json.loads((out / MANIFEST).read_text())["files"].keys() == files.keys()


def test_stale_plan_is_refused(tmp_path):
    out = tmp_path / "out"
    p = plan(out, FILES, SPEC)
    out.mkdir()
    (out / "openapi.json").write_bytes(b"written meanwhile\n")
    with pytest.raises(WriteRefused):
        apply(out, p, FILES, SPEC, force=True)
    assert tree(out) == {"openapi.json": b"written meanwhile\n"}


def test_a_directory_in_the_way_is_an_unforceable_conflict(tmp_path):
    out = tmp_path / "out"
    (out / "openapi.json").mkdir(parents=True)
    (out / "openapi.json" / "x").write_text("mine")
    p = plan(out, FILES, SPEC)
    assert [(c.path, c.forceable) for c in p.conflicts] == [("openapi.json", False)]
    with pytest.raises(WriteRefused):
        apply(out, p, FILES, SPEC, force=True)
    assert tree(out) == {"openapi.json/x": b"mine"}


# --- paths -----------------------------------------------------------------------------------------------


BAD_PATHS = ["", "/etc/passwd", "../x.py", "a/../../x.py", "a/..", "./a.py", "a/./b.py", "a\\b.py", "a//b.py",
             "a/", "a\x00b", MANIFEST]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_bad_paths_raise_value_error(tmp_path, bad):
    files = {**FILES, bad: b"x"}
    with pytest.raises(ValueError):
        plan(tmp_path, files, SPEC)
    with pytest.raises(ValueError):
        check(tmp_path, files)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("files", [{"a": b"", "a/b.py": b""}, {"A.py": b"", "a.py": b""}, {"a.py": "text"},
                                   {Path("a.py"): b""}])
def test_inconsistent_file_sets_raise_value_error(tmp_path, files):
    with pytest.raises(ValueError):
        plan(tmp_path, files, SPEC)


symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")


@symlinks
def test_symlinked_directory_escaping_out_dir_is_refused_even_with_force(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "tasks").symlink_to(outside, target_is_directory=True)
    p = plan(out, FILES, SPEC)
    escaped = {c.path for c in p.conflicts if not c.forceable}
    assert {"tasks/__init__.py", "tasks/models.py", "tasks/api/routes.py"} <= escaped
    for force in (False, True):
        with pytest.raises(WriteRefused):
            apply(out, p, FILES, SPEC, force=force)
    assert list(outside.iterdir()) == []
    assert not (out / MANIFEST).exists()
    assert not check(out, FILES).ok


@symlinks
def test_symlinked_file_escaping_out_dir_is_never_written_or_deleted(tmp_path):
    out, secret = tmp_path / "out", tmp_path / "secret.txt"
    generate(out)
    secret.write_bytes(b"secret\n")
    (out / "README.md").unlink()
    (out / "README.md").symlink_to(secret)
    for files in (FILES, {k: v for k, v in FILES.items() if k != "README.md"}):
        p = plan(out, files, SPEC)
        assert ("README.md", False) in [(c.path, c.forceable) for c in p.conflicts]
        with pytest.raises(WriteRefused):
            apply(out, p, files, SPEC, force=True)
    assert secret.read_bytes() == b"secret\n" and (out / "README.md").is_symlink()


@symlinks
def test_symlink_inside_out_dir_is_followed(tmp_path):
    out = tmp_path / "out"
    (out / "real").mkdir(parents=True)
    (out / "tasks").symlink_to(out / "real", target_is_directory=True)
    generate(out)
    assert (out / "real" / "models.py").read_bytes() == FILES["tasks/models.py"]


# --- check -----------------------------------------------------------------------------------------------


def test_check_missing_out_dir_means_everything_missing(tmp_path):
    out = tmp_path / "nope"
    d = check(out, FILES)
    assert d == Drift(missing=tuple(sorted([*FILES, MANIFEST])))
    assert not d.ok
    assert not out.exists()


def test_check_is_ok_after_generate_and_reads_only(tmp_path):
    out = tmp_path / "out"
    generate(out)
    before = age(out)
    assert check(out, FILES).ok
    assert check(out, FILES) == Drift()
    assert mtimes(out) == before


def test_check_reports_stale_missing_extra_and_a_diff(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / "tasks" / "models.py").write_bytes(b"class Task:\n    done: bool\n")
    (out / "openapi.json").unlink()
    files = {k: v for k, v in FILES.items() if k != "README.md"}
    snapshot = tree(out)
    d = check(out, files)
    assert d.stale == (MANIFEST, "tasks/models.py")
    assert d.missing == ("openapi.json",)
    assert d.extra == ("README.md",)
    assert not d.ok
    diff = d.diff("tasks/models.py")
    assert "-    done: bool" in diff.splitlines()
    assert "+    pass" in diff.splitlines()
    assert "README.md" in d.diff(MANIFEST)
    with pytest.raises(KeyError):
        d.diff("openapi.json")
    assert tree(out) == snapshot


def test_check_manifest_missing_or_out_of_date(tmp_path):
    out = tmp_path / "out"
    generate(out)
    (out / MANIFEST).unlink()
    assert check(out, FILES).missing == (MANIFEST,)
    generate(out, {**FILES, "extra.py": b""})
    (out / "extra.py").unlink()  # gone from disk but still in the manifest: not extra, manifest stale
    d = check(out, FILES)
    assert (d.stale, d.missing, d.extra) == ((MANIFEST,), (), ())


def test_check_diff_is_binary_safe_and_short(tmp_path):
    out = tmp_path / "out"
    big = "".join(f"line {i}\n" for i in range(200)).encode()
    files = {"logo.png": b"\x89PNG\r\n\x1a\n\xff\x00", "big.txt": big}
    generate(out, files)
    (out / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xfe\x00")
    (out / "big.txt").write_bytes(big.replace(b"line", b"LINE"))
    d = check(out, files)
    assert d.stale == ("big.txt", "logo.png")
    assert "binary" in d.diff("logo.png")
    assert len(d.diff("big.txt", max_lines=10).splitlines()) <= 11
    (out / "big.txt").write_bytes(big.replace(b"\n", b"\r\n"))
    assert check(out, files).diff("big.txt")  # differs only in line endings: still explained


# --- determinism -----------------------------------------------------------------------------------------


def test_manifest_is_byte_identical_across_runs_and_insertion_orders(tmp_path):
    reordered = dict(reversed(list(FILES.items())))
    assert list(reordered) != list(FILES)
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, FILES)
    generate(b, reordered)
    first = (a / MANIFEST).read_bytes()
    assert (b / MANIFEST).read_bytes() == first == manifest_bytes(reordered, SPEC)
    generate(a, reordered)
    assert (a / MANIFEST).read_bytes() == first
    assert plan(tmp_path / "c", FILES, SPEC) == plan(tmp_path / "c", reordered, SPEC)
    assert check(b, FILES) == check(b, reordered) == Drift()


def test_spec_change_rewrites_only_the_manifest(tmp_path):
    out = tmp_path / "out"
    generate(out)
    before = age(out)
    p = plan(out, FILES, "specs/other")
    apply(out, p, FILES, "specs/other")
    after = mtimes(out)
    assert {k for k in after if after[k] != before[k]} == {MANIFEST}
    assert json.loads((out / MANIFEST).read_text())["spec"] == "specs/other"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_new_files_get_umask_mode_and_updates_keep_mode(tmp_path):
    out = tmp_path / "out"
    generate(out)
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "openapi.json").stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(out / "tasks" / "models.py", 0o640)
    files = {**FILES, "tasks/models.py": b"# v2\n"}
    generate(out, files)
    assert (out / "tasks" / "models.py").stat().st_mode & 0o777 == 0o640


def test_conflict_and_refusal_values():
    c = Conflict("a.py", "why")
    assert c.forceable
    exc = WriteRefused((c,))
    assert exc.conflicts == (c,) and "a.py" in str(exc)
