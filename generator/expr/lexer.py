"""Hand-written lexer: text -> tokens, or the first K501 error.

Only printable ASCII is allowed outside string literals, so look-alike letters
(a Cyrillic ``с`` in ``reсord``) and invisible characters are caught at the exact
character instead of turning into a confusing "unknown name".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from generator.expr.errors import ExprError

__all__ = ["KEYWORDS", "Token", "tokenize"]

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TWO_CHAR = ("==", "!=", "<=", ">=")
_ONE_CHAR = "<>+-*/()[],."
_WHITESPACE = " \t\r\n"
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n"}
_IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_IDENT_CHARS = _IDENT_START + "0123456789"
# Operators people bring from other languages, with what to write instead.
_MISTAKES = {
    "&&": "use `and`",
    "||": "use `or`",
    "<>": "use `!=`",
    "&": "use `and`",
    "|": "use `or`",
    "!": "use `not`",
    "=": "use `==` to compare",
    "{{": "templates are not expressions; write the expression without `{{ }}`",
}


@dataclass(frozen=True, slots=True)
class Token:
    """kind: "int", "decimal", "string", "name", "keyword", "op" or "eof"."""

    kind: str
    text: str
    start: int
    end: int
    value: object = None


class _LexError(Exception):
    def __init__(self, error: ExprError) -> None:
        super().__init__(error.message)
        self.error = error


def _fail(message: str, start: int, end: int, hint: str | None = None) -> _LexError:
    return _LexError(ExprError("K501", message, start, end, hint))


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    return f"{code} {name}" if name else code


def _bad_char(text: str, i: int) -> _LexError:
    ch = text[i]
    for token, hint in _MISTAKES.items():
        if text.startswith(token, i):
            return _fail(f"unexpected `{token}`", i, i + len(token), hint)
    if ord(ch) > 127:
        hint = "names and operators must use plain ASCII characters"
        return _fail(f"non-ASCII character {_describe(ch)}", i, i + 1, hint)
    if not ch.isprintable():
        return _fail(f"control character {_describe(ch)} is not allowed", i, i + 1)
    return _fail(f"unexpected character `{ch}`", i, i + 1)


def _number(text: str, i: int) -> tuple[Token, int]:
    start, n = i, len(text)
    while i < n and text[i].isascii() and text[i].isdigit():
        i += 1
    kind = "int"
    if i < n and text[i] == ".":
        if i + 1 < n and text[i + 1].isascii() and text[i + 1].isdigit():
            kind, i = "decimal", i + 1
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
        else:
            raise _fail("expected digits after the decimal point", i, i + 1)
    if i < n and text[i] in _IDENT_CHARS:
        raise _fail("a number cannot be followed directly by a letter", i, i + 1)
    raw = text[start:i]
    value = int(raw) if kind == "int" else Decimal(raw)
    return Token(kind, raw, start, i, value), i


def _string(text: str, i: int) -> tuple[Token, int]:
    quote, start, n = text[i], i, len(text)
    out: list[str] = []
    i += 1
    while i < n:
        ch = text[i]
        if ch == quote:
            return Token("string", text[start : i + 1], start, i + 1, "".join(out)), i + 1
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt not in _ESCAPES:
                hint = "supported escapes are \\\\, \\', \\\" and \\n"
                raise _fail("unknown escape sequence in string", i, min(i + 2, n), hint)
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        if ch == "\n":
            raise _fail("line break inside a string", i, i + 1, "write `\\n` instead")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise _fail(f"invisible or control character {_describe(ch)} in a string", i, i + 1)
        out.append(ch)
        i += 1
    raise _fail("string is not closed", start, n, f"end the string with {quote}")


def _scan(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch in _IDENT_START:
            start = i
            while i < n and text[i] in _IDENT_CHARS:
                i += 1
            word = text[start:i]
            tokens.append(Token("keyword" if word in KEYWORDS else "name", word, start, i))
        elif ch.isascii() and ch.isdigit():
            tok, i = _number(text, i)
            tokens.append(tok)
        elif ch in "'\"":
            tok, i = _string(text, i)
            tokens.append(tok)
        elif text[i : i + 2] in _TWO_CHAR:
            tokens.append(Token("op", text[i : i + 2], i, i + 2))
            i += 2
        elif ch in _ONE_CHAR and not text.startswith("<>", i):
            tokens.append(Token("op", ch, i, i + 1))
            i += 1
        else:
            raise _bad_char(text, i)
    tokens.append(Token("eof", "", n, n))
    return tokens


def tokenize(text: str) -> tuple[list[Token], ExprError | None]:
    """All tokens (ending with "eof"), or ``([], error)`` at the first bad character."""
    try:
        return _scan(text), None
    except _LexError as exc:
        return [], exc.error
