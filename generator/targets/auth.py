"""View-models for sign-in: the generated ``auth.py`` (passwords, tokens, who is asking, login
throttling, the ``create-admin`` command) and ``routers/auth.py`` (login, sign-up, ``/me``).

Only a spec with an ``auth:`` section gets them: ``auth_files`` returns nothing otherwise.

Failed logins are counted in one table shared by every app process, ``auth_login_failures``;
its columns are declared once, here, and both ``models.py`` (``login_throttle_model``) and the
initial migration (``login_throttle_columns``) are printed from that declaration, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.ir.nodes import AppIR, AuthIR, ColumnIR, EntityIR
from generator.layout import call
from generator.naming import camel

if TYPE_CHECKING:  # generator.targets imports this module: import it back lazily
    from generator.targets import TemplateFile

__all__ = ["LOGIN_THROTTLE_MODEL", "LOGIN_THROTTLE_TABLE", "ThrottleColumn", "auth_context", "auth_files",
           "login_throttle_columns", "login_throttle_model", "main_auth_context"]

LOGIN_THROTTLE_TABLE = "auth_login_failures"
LOGIN_THROTTLE_MODEL = "AuthLoginFailure"

# Spec types a command-line option passes through as text; any other type is read as JSON (`--active false`).
_TEXT_TYPES = frozenset({"string", "text", "email", "url", "slug", "password", "enum"})


@dataclass(frozen=True)
class ThrottleColumn:
    name: str
    sa_type: str  # SQLAlchemy type call, unqualified (models import the names; migrations prefix ``sa.``)
    py_type: str
    primary_key: bool = False
    index: bool = False


# The login throttle table: one row per identity with recent failed logins (key = SHA-256 of the
# identity, case-folded: fixed length, and no stored copy of what strangers typed as a user name).
THROTTLE_COLUMNS = (
    ThrottleColumn("login_key", "String(64)", "str", primary_key=True),
    ThrottleColumn("failures", "Integer()", "int"),
    ThrottleColumn("first_failure_at", "DateTime(timezone=True)", "datetime.datetime"),
    ThrottleColumn("last_failure_at", "DateTime(timezone=True)", "datetime.datetime", index=True),
)


def login_throttle_columns(ir: AppIR) -> tuple[ThrottleColumn, ...]:
    """The throttle table's columns, or none when the app has no sign-in."""
    return THROTTLE_COLUMNS if ir.auth is not None else ()


def login_throttle_model(ir: AppIR) -> dict[str, Any] | None:
    """What models.py prints for the throttle table (None without sign-in)."""
    if ir.auth is None:
        return None
    lines = []
    for c in THROTTLE_COLUMNS:
        kwargs = ["primary_key=True"] if c.primary_key else ["nullable=False"]
        if c.index:
            kwargs.append("index=True")
        lines.append(call(f"{c.name}: Mapped[{c.py_type}] = mapped_column", [c.sa_type, *kwargs], 4))
    return {
        "name": LOGIN_THROTTLE_MODEL,
        "table": LOGIN_THROTTLE_TABLE,
        "doc": "Recent failed logins per identity, shared by every app process (see auth.py).",
        "columns": tuple(lines),
    }


def _key(ir: AppIR, name: str) -> str:
    return camel(name) if ir.wire_names == "camelCase" else name


def _user(ir: AppIR) -> EntityIR:
    assert ir.auth is not None
    return next(e for e in ir.entities if e.name == ir.auth.user_entity)


def _column(e: EntityIR, attr: str) -> ColumnIR:
    return next(c for c in e.columns if c.name == attr)


def _option(c: ColumnIR) -> dict[str, Any]:
    return {"attr": c.name, "wire": c.wire, "flag": "--" + c.name.replace("_", "-"),
            "text": c.spec_type in _TEXT_TYPES,
            "required": c.required_on_create and not c.has_default and not c.nullable}


def auth_context(ir: AppIR) -> dict[str, Any]:
    """Everything ``auth.py.j2`` and ``routers/auth.py.j2`` print."""
    from generator.targets import header  # lazily: generator.targets imports this module
    from generator.targets.api import api_view

    auth: AuthIR | None = ir.auth
    assert auth is not None
    user = _user(ir)
    view = api_view(ir, user)
    create_fields = [c for c in user.columns if c.on_create]
    id_column = _column(user, "id")
    return {
        "header": header(ir),
        "package": ir.package,
        "title": ir.title,
        "user": user.name,
        "user_module": user.module,
        # The user entity's serializer shows rule-guarded fields only when told who is reading.
        "user_guarded": any(r.op == "read" for r in user.field_rules),
        "user_table": user.table,
        "identity": auth.identity,
        "identity_wire": auth.identity_wire,
        "identity_max_length": _column(user, auth.identity).json_schema.get("maxLength", 320),
        "password": auth.password,
        "password_wire": auth.password_wire,
        "roles": list(auth.roles),
        "default_role": auth.default_role,
        "role": next(c.name for c in user.columns if c.server_value == "role"),
        "admin_role": "admin" if "admin" in auth.roles else None,
        "signup": auth.signup,
        "active": auth.active,
        "scheme": auth.scheme,
        "token_type": auth.scheme.lower(),
        "soft_delete": user.soft_delete,
        "id_is_uuid": id_column.py_type == "uuid.UUID",
        "login_path": f"{ir.prefix}/auth/login",
        "signup_path": f"{ir.prefix}/auth/signup",
        "me_path": f"{ir.prefix}/me",
        "user_location": user.collection_path if "read" in user.operations else None,  # prefix included
        "user_location_attr": user.lookup,
        "keys": {k: _key(ir, k) for k in ("access_token", "token_type", "expires_in", "user")},
        "envelope_one": view.envelope_one if view.envelope else None,
        "server_fields": list(view.server_fields),
        "options": [_option(c) for c in create_fields if c.name != auth.password],
        "throttle_model": LOGIN_THROTTLE_MODEL,
        "throttle_table": LOGIN_THROTTLE_TABLE,
    }


def main_auth_context(ir: AppIR) -> dict[str, Any] | None:
    """What ``__main__.py.j2`` needs to offer ``create-admin`` (None: the app has no sign-in)."""
    if ir.auth is None:
        return None
    return {"identity_flag": "--" + ir.auth.identity.replace("_", "-"),
            "admin_role": "admin" if "admin" in ir.auth.roles else None}


def auth_files(ir: AppIR) -> list[TemplateFile]:
    """The sign-in modules of the generated app, to append to ``plan_files`` (none without ``auth:``)."""
    from generator.targets import TemplateFile  # lazily: generator.targets imports this module

    if ir.auth is None:
        return []
    context = auth_context(ir)
    return [
        TemplateFile(f"{ir.package}/auth.py", "app/package/auth.py.j2", context),
        TemplateFile(f"{ir.package}/routers/auth.py", "app/package/routers/auth.py.j2", context),
    ]
