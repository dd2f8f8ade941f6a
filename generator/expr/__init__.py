"""Keel's expression language: one small, safe language for every rule.

Permissions, guards, invariants, computed fields and effects are all written
in it. Text is lexed and parsed by hand (never ``eval``), type-checked against
a ``SchemaView`` of the spec, and later compiled to Python, SQL and English.
This package imports only the standard library.

    tree, errors = parse("user.role == 'admin'")
    type_, errors, types = check(tree, schema, Context(record="Task", user="User"))
"""

from generator.expr.english import to_english
from generator.expr.errors import MAX_DEPTH, MAX_LENGTH, ExprError
from generator.expr.nodes import (
    BINARY_OPS,
    FUNCTIONS,
    ROOTS,
    Binary,
    Call,
    Expr,
    ListLiteral,
    Literal,
    Path,
    Unary,
    children,
)
from generator.expr.parser import parse
from generator.expr.typecheck import check
from generator.expr.types import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    JSON,
    STRING,
    UUID,
    Context,
    EntityType,
    EnumType,
    FieldInfo,
    ListType,
    NullType,
    Scalar,
    SchemaView,
    Type,
    Unknown,
    describe,
)
from generator.expr.unparse import unparse

__all__ = [
    "BINARY_OPS",
    "BOOLEAN",
    "Binary",
    "Call",
    "Context",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "DURATION",
    "EntityType",
    "EnumType",
    "Expr",
    "ExprError",
    "FUNCTIONS",
    "FieldInfo",
    "INTEGER",
    "JSON",
    "ListLiteral",
    "ListType",
    "Literal",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "NullType",
    "Path",
    "ROOTS",
    "STRING",
    "Scalar",
    "SchemaView",
    "Type",
    "UUID",
    "Unary",
    "Unknown",
    "check",
    "children",
    "describe",
    "parse",
    "to_english",
    "unparse",
]
