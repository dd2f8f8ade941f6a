"""What a CRUD router imports: exactly the names its code uses, no more.

The router template prints a skeleton per operation plus Python sources the IR compiled
(rules, filter clauses, parsers, loaders). The names the skeleton needs follow from the same
conditions the template uses; the names the sources need are read from the sources
themselves (``free_names``). An unused import costs start-up time and hides real mistakes
from a linter, so the generated routers are checked with pyflakes in the tests.
"""

from __future__ import annotations

from typing import Any

from generator.compile import free_names

# The parsers of the app's query module that compiled sources may name (the workflow routers' too).
QUERY_PARSERS = frozenset({"one_of", "parse_bool", "parse_date", "parse_datetime", "parse_decimal", "parse_int",
                            "parse_text", "parse_uuid"})
_ORM_LOADERS = frozenset({"joinedload", "selectinload"})


def _source_names(ctx: dict[str, Any]) -> set[str]:
    """Every global name read by the compiled sources the template prints for this router."""
    e = ctx["e"]
    sources = [key.column for key in ctx["sort_keys"]] + [key.parse for key in ctx["sort_keys"]]
    sources += [x for f in e.filters for x in (f.column, f.parse)]
    sources += [x for f in ctx["computed_filters"] for x in (f.parse, f.clause)]
    for inc in e.includes:
        sources += [inc.loader, inc.relationship] + ([inc.visible] if inc.visible else [])
    for rules in ctx["rules"].values():
        sources += [rules["combined"]] + [rule["sql"] for rule in rules["rules"]]
    sources += [c["sql"] for c in ctx["computed"]] + [k["parse"] for k in ctx["computed_sorts"]]
    sources += [inv["python"] for inv in ctx["python_invariants"]] + [inv["sql"] for inv in ctx["sql_invariants"]]
    sources += [g["python"] for g in ctx["write_guards"] if g["python"]]
    ops = set(e.operations)
    if "list" in ops:
        sources.append(ctx["id_parse"])
    if ops & {"read", "update", "delete"}:
        sources += [e.lookup_parse, ctx["by_key"], ctx["load_statement"]]
    return free_names(*sources)


def router_imports(ctx: dict[str, Any]) -> dict[str, Any]:
    """The import lists of one router, given its full template context (hooks included)."""
    e = ctx["e"]
    ops = set(e.operations)
    names = _source_names(ctx)
    writes = ops & {"create", "update", "delete"}
    loads = ops & {"read", "update", "delete"}
    crud = {"parse_body"} if ops & {"create", "update"} else set()
    crud |= {"order", "keyset_page" if e.pagination == "cursor" else "offset_page"} if "list" in ops else set()
    crud |= {"includes"} if ops & {"list", "read"} else set()
    crud |= {"filters"} if "list" in ops and e.filters else set()
    crud |= {"load_one"} if loads else set()
    crud |= {"etag"} if ops & {"read", "create", "update"} else set()
    crud |= {"check_if_match"} if ops & {"update", "delete"} else set()
    crud |= {"committing"} if ops & {"create", "delete"} else set()
    if "update" in ops:
        plain = not (ctx["python_invariants"] or ctx["sql_invariants"]
                     or ctx["hooks"]["before_update"] or ctx["hooks"]["after_update"])
        crud.add("commit" if plain else "committing")
    crud |= {"decide"} if set(ctx["rules"]) & writes else set()
    crud |= {"check_references"} if e.refs and ops & {"create", "update"} else set()
    crud |= {"broken_invariant"} if ctx["python_invariants"] or ctx["sql_invariants"] else set()

    query = names & QUERY_PARSERS
    query |= {"parse_limit"} if "list" in ops else set()
    query |= {"parse_offset"} if "list" in ops and e.pagination != "cursor" else set()
    query |= {"parse_param"} if "list" in ops and ctx["computed_filters"] else set()
    query |= {"parse_lookup"} if loads else set()
    query |= {"reject_unknown"} if ops & {"list", "read"} else set()

    problems = {"invalid"} if "update" in ops else set()
    if ctx["write_guards"] or ("create" in ops and ctx["current_user_fields"]) or (
            "delete" in ops and not e.soft_delete):
        problems.add("Problem")

    sqlalchemy = {"delete"} if "delete" in ops and not e.soft_delete else set()
    sqlalchemy |= {"func"} if "delete" in ops and e.soft_delete else set()
    sqlalchemy |= {"bindparam", "select"} if loads else set()
    sqlalchemy |= {"select"} if ctx["computed"] or ctx["sql_invariants"] or ("create" in ops and e.slug) else set()
    orm = (names & _ORM_LOADERS) | ({"with_expression"} if ctx["computed"] else set())

    handled = ops if ctx["has_auth"] else set()  # without sign-in no handler takes a user
    takes_user = handled & set(ctx["needs_user"])
    auth = {"hash_password"} if ctx["password_fields"] and ops & {"create", "update"} else set()
    auth |= {"optional_user"} if takes_user - set(ctx["refuses_anonymous"]) else set()
    auth |= {"required_user"} if takes_user & set(ctx["refuses_anonymous"]) else set()
    sessions = ({"read_session"} if ops & {"list", "read"} else set()) | ({"write_session"} if writes else set())
    schemas = ({f"{e.name}Create"} if "create" in ops else set()) | ({f"{e.name}Update"} if "update" in ops else set())
    # Of the models the router may name, those it does: its own, its references' and its sources'.
    models = set(ctx["model_imports"]) & (names | {e.name} | {target for _, _, target in e.refs})
    return {
        "model_imports": sorted(models),
        "uses_sa": "sa" in names,
        "sqlalchemy_imports": sorted(sqlalchemy),
        "orm_imports": sorted(orm),
        "auth_imports": sorted(auth),
        "crud_imports": sorted(crud),
        "db_imports": sorted(sessions),
        "problem_imports": sorted(problems),
        "query_imports": sorted(query),
        "schema_imports": sorted(schemas),
    }
