"""Audit trail and notifications, compiled: what the trail hides, who is notified, with what text.

A pass over a built IR (the compilers need the IR's names):

* ``audit_redacted``: attributes whose values never reach the audit table (password hashes:
  a change is recorded as ``"[redacted]"``);
* ``audit_hidden``: attributes with a per-field read rule; their values are recorded but the
  history endpoint shows them redacted, since it shows a record's whole history at once;
* ``notifications``: each spec notification with its recipients compiled to a SQL condition
  (``input.recipient == (record.submitter)`` or ``input.recipient in (record.project.members)``,
  the generated code binding ``input.recipient`` to the key column of an alias of the user model)
  and its message split into literal text and compiled placeholder values. Nothing in a message is
  formatted or evaluated at run time: placeholders are SQL values over the record.
"""

from __future__ import annotations

import dataclasses

from generator.checks.expressions import SpecSchemaView
from generator.compile import computed_from_spec, to_sql
from generator.expr.types import Context, FieldInfo, ListType
from generator.ir.nodes import AppIR, EntityIR, NotificationIR
from generator.model.spec import Spec
from generator.ir.typed import typed

__all__ = ["attach_trail", "split_message"]


def attach_trail(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    view = SpecSchemaView(spec)
    computed = computed_from_spec(spec)
    user = ir.auth.user_entity if ir.auth else None
    entities = tuple(_entity(ir, spec, e, view, computed, user, where) for e in ir.entities)
    return dataclasses.replace(ir, entities=entities)


def _entity(ir: AppIR, spec: Spec, e: EntityIR, view, computed, user, where) -> EntityIR:  # type: ignore[no-untyped-def]
    entity = spec.entity(e.name)
    redacted = tuple(c.name for c in e.columns
                     if c.spec_type == "password" or (not c.readable and c.server_value != "version"))
    hidden = tuple(
        c.name for c in e.columns
        if (f := entity.field(c.name[:-3] if c.spec_type == "ref" else c.name)) is not None
        and f.access_read is not None and c.name not in redacted
    )
    notifications = ()
    if user is not None:  # notifications go to users: a spec without auth has none (K510)
        notifications = tuple(_notification(ir, e, n, view, computed, user, where) for n in entity.notifications)
    return dataclasses.replace(e, notifications=notifications, audit_redacted=redacted, audit_hidden=hidden)


def _compile(ir: AppIR, e: EntityIR, text: str, view, computed, user: str, inputs=None, as_value=False):  # type: ignore[no-untyped-def]
    context = Context(record=e.name, user=user, input=inputs, where=f"a notification of {e.name}")
    tree, t, types = typed(text, view, context)
    return t, to_sql(tree, types, ir, e.name, user_entity=user, input_fields=inputs, computed=computed,
                     as_value=as_value)


def _notification(ir: AppIR, e: EntityIR, n, view, computed, user: str, where) -> NotificationIR:  # type: ignore[no-untyped-def]
    recipient = {"recipient": FieldInfo("recipient", "ref", target=user, nullable=False)}
    # The type of `to` decides the wrapper: one user (==) or a list of users (in).
    _, t, _ = typed(n.to.text, view, Context(record=e.name, user=user, input=None, where="recipients"))
    operator = "in" if isinstance(t, ListType) else "=="
    _, recipients = _compile(ir, e, f"input.recipient {operator} ({n.to.text})", view, computed, user,
                             inputs=recipient)
    parts: list[tuple[str, str]] = []
    for kind, piece in split_message(n.message or f"{n.name}: {e.name} {{record.id}}"):
        if kind == "text":
            parts.append(("text", piece))
        else:
            parts.append(("sql", _compile(ir, e, piece, view, computed, user, as_value=True)[1]))
    field = None
    if n.field is not None:
        field = next(c.name for c in e.columns if c.name in (n.field.name, f"{n.field.name}_id"))
    return NotificationIR(
        name=n.name,
        event=n.event,
        field=field,
        transitions=tuple(t.name for t in n.transitions),
        recipients=recipients,
        parts=tuple(parts),
        to_text=" ".join(n.to.text.split()),
        message=n.message or "",
        source=where(n.pointer),
    )


def split_message(text: str) -> list[tuple[str, str]]:
    """``"Hi {record.title}!"`` -> ``[("text", "Hi "), ("expr", "record.title"), ("text", "!")]``.

    Validated messages only (K514): every ``{`` is closed.
    """
    parts: list[tuple[str, str]] = []
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            if text[i:]:
                parts.append(("text", text[i:]))
            return parts
        end = text.find("}", start)
        assert end >= 0, "validated specs only"
        if text[i:start]:
            parts.append(("text", text[i:start]))
        parts.append(("expr", text[start + 1:end].strip()))
        i = end + 1
