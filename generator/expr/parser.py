"""Recursive-descent parser using precedence climbing for operators.

Lowest to highest: ``or``, ``and``, ``not``, comparisons (non-associative),
``+ -``, ``* /``, unary ``-``, then paths, calls, literals and parentheses.
Precedence climbing keeps the Python stack shallow: three frames per
bracket level rather than one per precedence level.
Nesting is counted while parsing, so ``((((...`` 10,000 deep stops at level 51
instead of exhausting the Python stack. A syntax error stops the parse; unknown
names and wrong argument counts are collected and parsing goes on, so one pass
reports all of them.
"""

from __future__ import annotations

from generator.expr.errors import MAX_DEPTH, MAX_LENGTH, ExprError, did_you_mean
from generator.expr.lexer import Token, tokenize
from generator.expr.nodes import (
    FUNCTIONS,
    ROOTS,
    Binary,
    Call,
    Expr,
    ListLiteral,
    Literal,
    Path,
    Unary,
)

__all__ = ["parse"]

_COMPARISON, _NOT, _NEGATE = 4, 3, 7
_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "==": _COMPARISON, "!=": _COMPARISON, "<": _COMPARISON, "<=": _COMPARISON,
    ">": _COMPARISON, ">=": _COMPARISON, "in": _COMPARISON, "not in": _COMPARISON,
    "+": 5, "-": 5,
    "*": 6, "/": 6,
}  # fmt: skip
_CONSTANT_HINTS = {"none": "null", "nil": "null", "null": "null", "true": "true", "false": "false"}
_WORD_HINTS = {"and": "use `and`", "or": "use `or`", "not": "use `not`", "is": "use `==` (or `== null`)"}


class _SyntaxError(Exception):
    def __init__(self, error: ExprError) -> None:
        super().__init__(error.message)
        self.error = error


def _shown(tok: Token) -> str:
    return "the end of the expression" if tok.kind == "eof" else f"`{tok.text}`"


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.nesting = 0
        self.depth: dict[int, int] = {}  # id(node) -> height of its subtree
        self.parens: dict[int, tuple[int, int]] = {}  # id(node) -> span including its brackets
        self.errors: list[ExprError] = []

    # -- helpers ---------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def at(self, kind: str, text: str | None = None, offset: int = 0) -> bool:
        tok = self.tokens[min(self.pos + offset, len(self.tokens) - 1)]
        return tok.kind == kind and (text is None or tok.text == text)

    def fail(self, message: str, tok: Token, hint: str | None = None) -> _SyntaxError:
        return _SyntaxError(ExprError("K501", message, tok.start, tok.end, hint))

    def expect(self, text: str, what: str) -> Token:
        if not self.at("op", text):
            raise self.fail(f"expected {what}, found {_shown(self.tok)}", self.tok)
        return self.next()

    def enter(self, tok: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.fail(f"expression is nested more than {MAX_DEPTH} levels deep", tok)

    def outer(self, node: Expr) -> tuple[int, int]:
        """Span of ``node`` including any parentheses around it, for enclosing nodes."""
        return self.parens.get(id(node), (node.start, node.end))

    def node(self, node: Expr, *kids: Expr, at: Token | None = None) -> Expr:
        """Record the subtree height of ``node``; refuse trees deeper than MAX_DEPTH."""
        height = 1 + max((self.depth.get(id(k), 1) for k in kids), default=0)
        if height > MAX_DEPTH:
            where = at or Token("op", "", node.start, node.end)
            raise self.fail(f"expression is nested more than {MAX_DEPTH} levels deep", where)
        self.depth[id(node)] = height
        return node

    # -- precedence climbing ----------------------------------------------------
    def binary_op(self) -> tuple[str, Token] | None:
        """The binary operator at the cursor (``not in`` is two tokens), if any."""
        tok = self.tok
        if tok.kind == "op" and tok.text in _PRECEDENCE:
            return tok.text, tok
        if tok.kind == "keyword" and tok.text in ("and", "or", "in"):
            return tok.text, tok
        if self.at("keyword", "not"):
            if self.at("keyword", "in", 1):
                return "not in", tok
            raise self.fail("unexpected `not` after a value", tok, "use `not in`, or put `not` first")
        return None

    def parse_expr(self, min_prec: int = 1) -> Expr:
        """An expression whose binary operators all bind at least as tightly as ``min_prec``."""
        left = self.parse_prefix(min_prec)
        compared = False
        while (found := self.binary_op()) is not None and _PRECEDENCE[found[0]] >= min_prec:
            op, tok = found
            prec = _PRECEDENCE[op]
            if prec == _COMPARISON and compared:
                hint = "comparisons cannot be chained; combine them with `and`"
                raise self.fail(f"unexpected `{tok.text}`", tok, hint)
            compared = prec == _COMPARISON
            self.next()
            if op == "not in":
                self.next()
            right = self.parse_expr(prec + 1)  # left-associative (comparisons: see above)
            binary = Binary(op, left, right, self.outer(left)[0], self.outer(right)[1])
            left = self.node(binary, left, right, at=tok)
        return left

    def parse_prefix(self, min_prec: int) -> Expr:
        """``not x`` (looser than comparisons) and ``-x`` (tighter than ``*``), else a primary."""
        tok = self.tok
        if self.at("keyword", "not") and min_prec <= _NOT:
            op, operand_prec = "not", _NOT
        elif self.at("op", "-"):
            op, operand_prec = "-", _NEGATE
        else:
            return self.parse_primary()
        self.next()
        self.enter(tok)
        operand = self.parse_expr(operand_prec)
        self.nesting -= 1
        return self.node(Unary(op, operand, tok.start, self.outer(operand)[1]), operand, at=tok)

    # -- primaries -----------------------------------------------------------
    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind in ("int", "decimal", "string"):
            self.next()
            return self.node(Literal(tok.value, tok.kind, tok.start, tok.end))
        if tok.kind == "keyword" and tok.text in ("true", "false", "null"):
            self.next()
            value = {"true": True, "false": False, "null": None}[tok.text]
            kind = "null" if value is None else "bool"
            return self.node(Literal(value, kind, tok.start, tok.end))
        if self.at("op", "("):
            self.next()
            self.enter(tok)
            inner = self.parse_expr()
            self.nesting -= 1
            close = self.expect(")", "`)`")
            self._no_field_access("a parenthesised expression")
            self.parens[id(inner)] = (tok.start, close.end)
            return inner
        if self.at("op", "["):
            return self.parse_list()
        if tok.kind == "name":
            return self.parse_name()
        raise self.fail(f"expected a value, found {_shown(tok)}", tok)

    def _no_field_access(self, what: str) -> None:
        if self.at("op", "."):
            hint = "fields can only follow `user`, `record` or `input`, e.g. `record.project.name`"
            raise self.fail(f"cannot take a field of {what}", self.tok, hint)
        if self.at("op", "("):
            raise self.fail(f"{what} cannot be called", self.tok, "only the built-in functions can be called")

    def _items(self, opener: Token, closer: str) -> tuple[list[Expr], Token]:
        """Comma-separated expressions up to ``closer`` (the opener is consumed)."""
        self.enter(opener)
        items: list[Expr] = []
        if not self.at("op", closer):
            items.append(self.parse_expr())
            while self.at("op", ","):
                self.next()
                items.append(self.parse_expr())
        self.nesting -= 1
        end = self.expect(closer, f"`,` or `{closer}`")
        return items, end

    def parse_list(self) -> Expr:
        opener = self.next()
        items, end = self._items(opener, "]")
        return self.node(ListLiteral(tuple(items), opener.start, end.end), *items, at=opener)

    def parse_name(self) -> Expr:
        name = self.next()
        if self.at("op", "("):
            return self.parse_call(name)
        fields: list[str] = []
        spans: list[tuple[int, int]] = []
        while self.at("op", "."):
            self.next()
            if not self.at("name"):
                raise self.fail(f"expected a field name after `.`, found {_shown(self.tok)}", self.tok)
            field = self.next()
            fields.append(field.text)
            spans.append((field.start, field.end))
        end = spans[-1][1] if spans else name.end
        if name.text not in ROOTS:
            self.errors.append(self._unknown_name(name))
        if self.at("op", "("):
            hint = "only the built-in functions can be called: " + ", ".join(FUNCTIONS)
            raise self.fail("fields cannot be called", self.tok, hint)
        return self.node(Path(name.text, tuple(fields), name.start, end, tuple(spans)))

    def _unknown_name(self, name: Token) -> ExprError:
        word = name.text
        if word.lower() in _CONSTANT_HINTS:
            hint = f"write `{_CONSTANT_HINTS[word.lower()]}` in lower case"
        else:
            hint = did_you_mean(word, ROOTS) or "names start with `user`, `record` or `input`"
        return ExprError("K503", f"unknown name `{word}`", name.start, name.end, hint)

    def parse_call(self, name: Token) -> Expr:
        opener = self.next()
        args, end = self._items(opener, ")")
        call = Call(name.text, tuple(args), name.start, end.end)
        if name.text not in FUNCTIONS:
            hint = did_you_mean(name.text, tuple(FUNCTIONS)) or "functions are: " + ", ".join(FUNCTIONS)
            self.errors.append(ExprError("K503", f"unknown function `{name.text}`", name.start, name.end, hint))
        elif len(args) != FUNCTIONS[name.text]:
            want = FUNCTIONS[name.text]
            message = f"`{name.text}()` takes {want} argument{'s' if want != 1 else ''}, got {len(args)}"
            self.errors.append(ExprError("K501", message, call.start, call.end))
        self._no_field_access("a function result")
        return self.node(call, *args, at=name)


def _trailing(parser: _Parser) -> ExprError:
    tok = parser.tok
    hint = _WORD_HINTS.get(tok.text.lower()) if tok.kind == "name" else None
    is_value = tok.kind in ("int", "decimal", "string", "name") or tok.text in ("true", "false", "null")
    if is_value and hint is None:
        hint = "a value cannot follow another value; add an operator such as `and` or `==`"
    return ExprError("K501", f"unexpected {_shown(tok)}", tok.start, tok.end, hint)


def parse(text: str) -> tuple[Expr | None, list[ExprError]]:
    """Parse ``text``; the tree is None exactly when the error list is non-empty."""
    if len(text) > MAX_LENGTH:
        message = f"expression is longer than {MAX_LENGTH:,} characters ({len(text):,})"
        return None, [ExprError("K501", message, MAX_LENGTH, len(text))]
    tokens, error = tokenize(text)
    if error is not None:
        return None, [error]
    if tokens[0].kind == "eof":
        return None, [ExprError("K501", "expression is empty", 0, len(text))]
    parser = _Parser(tokens)
    try:
        tree = parser.parse_expr()
        if parser.tok.kind != "eof":
            parser.errors.append(_trailing(parser))
    except _SyntaxError as exc:
        parser.errors.append(exc.error)
    if parser.errors:
        return None, sorted(parser.errors, key=lambda e: (e.start, e.end))
    return tree, []
