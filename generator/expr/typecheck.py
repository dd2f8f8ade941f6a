"""Type checker: walks a parsed expression against the spec and a context.

It reports every problem in one pass, each pointing at the offending
sub-expression. A node that fails gets the ``Unknown`` type, which every rule
accepts, so one mistake is reported once instead of once per enclosing node.
The returned ``types`` dict (``id(node) -> Type``) is the typed AST the
compilers use.
"""

from __future__ import annotations

from generator.expr.errors import ExprError, did_you_mean
from generator.expr.nodes import FUNCTIONS, ROOTS, Binary, Call, Expr, ListLiteral, Literal, Path, Unary
from generator.expr.typerules import (
    MIN_MAX,
    NUMERIC,
    arithmetic,
    assignable,
    field_type,
    is_nullable,
    is_unknown,
    item_in,
    join,
    nullable,
    order_type,
    scalar_name,
    set_nullable,
)
from generator.expr.types import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    STRING,
    Context,
    EntityType,
    EnumType,
    FieldInfo,
    ListType,
    NullType,
    SchemaView,
    Type,
    Unknown,
    describe,
)

__all__ = ["check"]

_LITERALS: dict[str, Type] = {
    "int": INTEGER,
    "decimal": DECIMAL,
    "string": STRING,
    "bool": BOOLEAN,
    "null": NullType(),
}
# What each one-argument function accepts, for its error message and hint.
_ARGUMENTS: dict[str, tuple[str, str | None]] = {
    "days": ("an integer", "e.g. `days(3)`"),
    "count": ("a list", "e.g. `count(record.stars)`"),
    "sum": ("a list of numbers", "e.g. `sum(record.lines.amount)`"),
    "min": ("a list of numbers or dates", None),
    "max": ("a list of numbers or dates", None),
    "len": ("a string", None),
    "lower": ("a string", None),
}
_EQUALITY = ("==", "!=")
_ORDERING = ("<", "<=", ">", ">=")
_Span = tuple[int, int]


def _span(node: Expr) -> _Span:
    return (node.start, node.end)


class _Checker:
    def __init__(self, schema: SchemaView, ctx: Context) -> None:
        self.schema = schema
        self.ctx = ctx
        self.errors: list[ExprError] = []
        self.types: dict[int, Type] = {}

    def error(self, code: str, message: str, span: _Span, hint: str | None = None) -> Unknown:
        self.errors.append(ExprError(code, message, span[0], span[1], hint))
        return Unknown()

    def visit(self, node: Expr) -> Type:
        if isinstance(node, Literal):
            t = _LITERALS.get(node.kind, Unknown())
        elif isinstance(node, ListLiteral):
            t = self.list_literal(node)
        elif isinstance(node, Path):
            t = self.path(node)
        elif isinstance(node, Call):
            t = self.call(node)
        elif isinstance(node, Unary):
            t = self.unary(node)
        else:
            t = self.binary(node)
        self.types[id(node)] = t
        return t

    # -- paths -------------------------------------------------------------
    def path(self, node: Path) -> Type:
        if node.root == "input" and self.ctx.input is not None and node.fields:
            t, first = self.input_field(node, node.fields[0]), 1
        else:
            t, first = self.root(node), 0
        for index in range(first, len(node.fields)):
            if is_unknown(t):
                break
            t = self.step(node, index, t, node.fields[index])
        return t

    def root(self, node: Path) -> Type:
        """Type of the root name (``input.x`` is resolved by input_field)."""
        ctx, span, where = self.ctx, node.segment_span(-1), self.ctx.where
        if node.root == "record":
            if ctx.record is None:
                return self.error("K504", f"`record` is not available in {where}", span,
                                  f"{where} is not about one record")  # fmt: skip
            return EntityType(ctx.record)
        if node.root == "user":
            if ctx.user is None:
                return self.error("K504", "`user` is not available: there is no current user", span,
                                  ctx.no_user_reason)  # fmt: skip
            return EntityType(ctx.user, nullable=True)  # anonymous requests have no user
        if node.root == "input":
            if ctx.input is None:
                return self.error("K504", f"`input` is not available in {where}", span,
                                  f"{where} receives no request input")  # fmt: skip
            fields = ", ".join(f"`input.{n}`" for n in ctx.input) or "none"
            return self.error("K502", "`input` is not a value by itself", span, f"name a field: {fields}")
        hint = did_you_mean(node.root, ROOTS)
        return self.error("K503", f"unknown name `{node.root}`", span, hint)

    def input_field(self, node: Path, name: str) -> Type:
        fields = self.ctx.input or {}
        info = fields.get(name)
        if info is None:
            hint = did_you_mean(name, list(fields))
            return self.error("K503", f"the input has no field `{name}`", node.segment_span(0), hint)
        return self.of_field(info, "input", node.segment_span(0))

    def of_field(self, info: FieldInfo, owner: str, span: _Span) -> Type:
        t = field_type(info, owner)
        if t is None:
            return self.error("K502", f"password fields cannot be read (`{info.name}`)", span,
                              "passwords are stored hashed and never appear in expressions")  # fmt: skip
        return t

    def step(self, node: Path, index: int, t: Type, name: str) -> Type:
        """Type of ``<t>.name``: looks the field up, mapping over lists."""
        span = node.segment_span(index)
        if isinstance(t, ListType):
            inner = self.step(node, index, t.item, name)
            if is_unknown(inner):
                return inner
            return inner if isinstance(inner, ListType) else ListType(set_nullable(inner, False))
        if not isinstance(t, EntityType):
            before = node.fields[index - 1] if index else node.root
            return self.error("K502", f"`{before}` is a {describe(t)} and has no fields", span)
        info = self.schema.field(t.name, name)
        if info is None:
            hint = did_you_mean(name, self.schema.field_names(t.name))
            return self.error("K503", f"`{t.name}` has no field `{name}`", span, hint)
        return nullable(self.of_field(info, t.name, span), t.nullable)

    # -- literals and calls ----------------------------------------------------
    def list_literal(self, node: ListLiteral) -> Type:
        """All items share one type; string literals beside an enum must be its values."""
        types = [self.visit(child) for child in node.items]
        enum = next((t for t in types if isinstance(t, EnumType)), None)
        item: Type = Unknown()
        mixed = False
        for child, t in zip(node.items, types):
            if enum is not None and self.enum_vs_literal(enum, child):
                continue
            joined = join(item, t)
            if joined is None:
                mixed = True
                self.error("K502", f"list items must have one type: expected {describe(item)}, "
                                   f"found {describe(t)}", _span(child))  # fmt: skip
            else:
                item = joined
        return ListType(Unknown() if mixed else item)

    def call(self, node: Call) -> Type:
        args = [self.visit(a) for a in node.args]
        if node.name not in FUNCTIONS:
            hint = did_you_mean(node.name, tuple(FUNCTIONS))
            return self.error("K503", f"unknown function `{node.name}`", _span(node), hint)
        if len(args) != FUNCTIONS[node.name]:
            return self.error("K501", f"`{node.name}()` takes {FUNCTIONS[node.name]} argument(s)", _span(node))
        name = node.name
        if name in ("today", "now"):
            return DATE if name == "today" else DATETIME
        if name == "coalesce":
            return self.coalesce(node, args[0], args[1])
        arg, t = node.args[0], args[0]
        if is_unknown(t):
            return {"count": INTEGER, "len": INTEGER, "days": DURATION}.get(name, Unknown())
        if name == "days" and scalar_name(t) == "integer":
            return DURATION
        if name == "count" and isinstance(t, ListType):
            return INTEGER
        if name == "sum" and item_in(t, NUMERIC):
            return t.item  # type: ignore[union-attr]
        if name in ("min", "max") and item_in(t, MIN_MAX):
            return nullable(t.item)  # type: ignore[union-attr]  # null for an empty list
        if name in ("len", "lower") and scalar_name(t) == "string":
            return INTEGER if name == "len" else t
        wanted, hint = _ARGUMENTS[name]
        return self.error("K502", f"`{name}()` needs {wanted}, not {describe(t)}", _span(arg), hint)

    def coalesce(self, node: Call, a: Type, b: Type) -> Type:
        first, second = node.args
        if self.enum_vs_literal(a, second) or self.enum_vs_literal(b, first):
            return set_nullable(a if isinstance(a, EnumType) else b, False)
        joined = join(a, b)
        if joined is None:
            return self.error("K502", f"`coalesce()` needs two values of one type, not {describe(a)} "
                                      f"and {describe(b)}", _span(second))  # fmt: skip
        return set_nullable(joined, isinstance(b, NullType) or is_nullable(b))

    def enum_vs_literal(self, t: Type, other: Expr) -> bool:
        """If ``t`` is an enum and ``other`` a string literal, check the value; True when handled."""
        if not (isinstance(t, EnumType) and isinstance(other, Literal) and other.kind == "string"):
            return False
        if other.value not in t.values:
            hint = did_you_mean(str(other.value), t.values) or "allowed: " + ", ".join(t.values)
            self.error("K502", f"'{other.value}' is not a value of {t.entity}.{t.field}", _span(other), hint)
        return True

    # -- operators -----------------------------------------------------------
    def unary(self, node: Unary) -> Type:
        t = self.visit(node.operand)
        if node.op == "not":
            return BOOLEAN if self.need_boolean(node.operand, t, "`not`") else Unknown()
        if is_unknown(t) or scalar_name(t) in ("integer", "decimal", "duration"):
            return t
        return self.error("K502", f"cannot negate {describe(t)}", _span(node.operand))

    def need_boolean(self, node: Expr, t: Type, what: str) -> bool:
        if is_unknown(t) or scalar_name(t) == "boolean":
            return True
        self.error("K505", f"{what} needs a true/false condition, not {describe(t)}", _span(node))
        return False

    def binary(self, node: Binary) -> Type:
        lt, rt = self.visit(node.left), self.visit(node.right)
        op, before = node.op, len(self.errors)
        if op in ("and", "or"):
            self.need_boolean(node.left, lt, f"`{op}`")
            self.need_boolean(node.right, rt, f"`{op}`")
        elif op in ("in", "not in"):
            self.membership(node, lt, rt)
        elif op in _EQUALITY or op in _ORDERING:
            self.compare(node, lt, rt)
        else:
            return self.arithmetic(node, lt, rt)
        # A condition that was itself wrong is Unknown, so enclosing nodes stay quiet.
        return BOOLEAN if len(self.errors) == before else Unknown()

    def arithmetic(self, node: Binary, lt: Type, rt: Type) -> Type:
        op = node.op
        if is_unknown(lt, rt):
            return Unknown()
        for side, t in ((node.left, lt), (node.right, rt)):
            if isinstance(t, NullType):
                return self.error("K502", "`null` cannot be used in arithmetic", _span(side),
                                  "use coalesce(value, 0) for a default")  # fmt: skip
        result = arithmetic(op, lt, rt)
        if result is None:
            return self.error("K502", f"cannot apply `{op}` to {describe(lt)} and {describe(rt)}", _span(node))
        return result

    def compare(self, node: Binary, lt: Type, rt: Type) -> None:
        if is_unknown(lt, rt):
            return
        for t, side in ((lt, node.left), (rt, node.right)):
            if isinstance(t, ListType):
                self.error("K502", f"a list cannot be compared with `{node.op}`", _span(side),
                           "use `in`, or compare count(...)")  # fmt: skip
                return
        if node.op in _EQUALITY and (isinstance(lt, NullType) or isinstance(rt, NullType)):
            return
        if self.enum_vs_literal(lt, node.right) or self.enum_vs_literal(rt, node.left):
            if node.op in _ORDERING:
                self.error("K502", f"enum values cannot be ordered with `{node.op}`", _span(node))
            return
        for t, side in ((lt, node.left), (rt, node.right)):
            if isinstance(t, NullType):
                self.error("K502", "only `==` and `!=` can compare with null", _span(side))
                return
        joined = join(lt, rt)
        if joined is None:
            self.error("K502", f"cannot compare {describe(lt)} with {describe(rt)}", _span(node))
        elif node.op in _ORDERING and not order_type(joined):
            self.error("K502", f"`{node.op}` needs numbers, dates or strings, not {describe(joined)}", _span(node))

    def membership(self, node: Binary, lt: Type, rt: Type) -> None:
        right = node.right
        if isinstance(lt, NullType):
            self.error("K502", f"`null` cannot be the left side of `{node.op}`", _span(node.left),
                       "use `== null`")  # fmt: skip
            return
        literals = isinstance(right, ListLiteral) and isinstance(rt, ListType) and not isinstance(rt.item, EnumType)
        if isinstance(lt, EnumType) and literals:
            for item in right.items:  # string literals must be values; anything else must match
                if self.enum_vs_literal(lt, item) or is_unknown(rt.item):
                    continue
                if join(lt, self.types[id(item)]) is None:
                    self.error("K502", f"expected a value of {lt.entity}.{lt.field}", _span(item))
            return
        if is_unknown(lt, rt):
            return
        if not isinstance(rt, ListType):
            self.error("K502", f"the right side of `{node.op}` must be a list, not {describe(rt)}", _span(right))
        elif join(lt, rt.item) is None:
            self.error("K502", f"cannot look for {describe(lt)} in a {describe(rt)}", _span(node))


def check(
    expr: Expr, schema: SchemaView, ctx: Context, expected: Type | None = None
) -> tuple[Type, list[ExprError], dict[int, Type]]:
    """Type of ``expr``, all type errors, and the type of every node by ``id(node)``."""
    checker = _Checker(schema, ctx)
    t = checker.visit(expr)
    if expected is not None and not assignable(expected, t):
        if scalar_name(expected) == "boolean":
            checker.error("K505", f"{ctx.where} must be a true/false condition, not {describe(t)}", _span(expr))
        elif not (isinstance(expected, EnumType) and checker.enum_vs_literal(expected, expr)):
            checker.error("K502", f"expected {describe(expected)}, found {describe(t)}", _span(expr))
    return t, sorted(checker.errors, key=lambda e: (e.start, e.end)), checker.types
