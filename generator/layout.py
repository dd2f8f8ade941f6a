"""Black's layout for the long, repetitive lines the generator prints, done before black runs.

Black still formats every generated file (``generator.formatting``); these helpers only make
its job short. On code it would change, black tries several ways to split each long line,
and that is most of its cost: at 200 entities, formatting the raw render took 1.8 times as
long as re-formatting black's own output. The view-models print their column, field and
call lines already laid out the way black lays them out, so black mostly confirms them.
A layout that differs from black's in some case is only slower, never wrong: black has the
last word, and the output is byte-identical either way.
"""

from __future__ import annotations

from generator.formatting import LINE_LENGTH

__all__ = ["call", "frozenset_of", "from_import", "list_comprehension", "one_tuple", "parenthesized", "py_str",
           "signature"]


def py_str(value: str) -> str:
    """``repr(value)`` with black's quotes: double, unless that would need more escapes."""
    text = repr(value)
    if not isinstance(value, str) or text.startswith('"'):
        return text  # repr chose double quotes itself (the value holds a ' and no ")
    inner = text[1:-1]
    escaped_single = inner.count("\\'")
    if value.count('"') > escaped_single:
        return text
    return '"' + inner.replace("\\'", "'").replace('"', '\\"') + '"'


def call(head: str, args: list[str], indent: int = 0, tail: str = "", reserve: int = 0) -> str:
    """``head(arg, ...)tail`` as black prints it at ``indent`` spaces.

    One line when it fits; otherwise the arguments on one line of their own ("hugged"), which is
    also where a lone argument goes however long it is; otherwise one argument per line with a
    trailing comma. The result is indented from its second line on
    (its first line goes where the caller puts it). ``reserve``: characters the caller prints
    right after the result (a template's trailing comma), counted but not returned.
    """
    joined = ", ".join(args)
    one = f"{head}({joined}){tail}"
    if indent + len(one) + reserve <= LINE_LENGTH and "\n" not in joined:
        return one
    pad, inner = " " * indent, " " * (indent + 4)
    # A lone argument has no comma to split at: black gives it a line of its own, however long.
    if (len(args) == 1 or len(inner) + len(joined) <= LINE_LENGTH) and "\n" not in joined:
        return f"{head}(\n{inner}{joined}\n{pad}){tail}"
    exploded = "".join(f"{inner}{arg},\n" for arg in args)
    return f"{head}(\n{exploded}{pad}){tail}"


def from_import(module: str, names: list[str]) -> str:
    """``from module import a, b``: black explodes a long import one name per line, always."""
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= LINE_LENGTH:
        return one
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in names) + ")"


def one_tuple(target: str, items: list[str], indent: int) -> str | None:
    """``target = (item,)`` when there is one item and it fits: black joins a one-item tuple whose
    trailing comma is not "magic". None otherwise (the caller prints the tuple one item per line)."""
    if len(items) != 1 or "\n" in items[0]:
        return None
    line = f"{target} = ({items[0].rstrip(',')},)"
    return line if indent + len(line) <= LINE_LENGTH else None


def frozenset_of(target: str, items: list[str]) -> str:
    """``target = frozenset({a, b})`` at module level, exploded one item per line when long."""
    one = f"{target} = frozenset({{{', '.join(items)}}})"
    if len(one) <= LINE_LENGTH:
        return one
    hugged = f"{{{', '.join(items)}}}"
    if 4 + len(hugged) <= LINE_LENGTH:
        return f"{target} = frozenset(\n    {hugged}\n)"
    return f"{target} = frozenset(\n    {{\n" + "".join(f"        {item},\n" for item in items) + "    }\n)"


def list_comprehension(target: str, element: str, clause: str, indent: int) -> str:
    """``target = [element clause]``; too long, black puts the element and the clause on lines of their own."""
    one = f"{target} = [{element} {clause}]"
    if indent + len(one) <= LINE_LENGTH:
        return one
    inner, pad = " " * (indent + 4), " " * indent
    return f"{target} = [\n{inner}{element}\n{inner}{clause}\n{pad}]"


def _top_level_split(text: str) -> list[str]:
    """``a: int, b: dict[str, Any] = f(x, y)`` -> its parts at commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def signature(head: str, params: str, indent: int = 0, tail: str = ":") -> str:
    """``def name(params) -> X:`` as black prints it (``tail`` holds the return annotation and colon)."""
    return call(head, _top_level_split(params), indent, tail)


def parenthesized(target: str, expression: str, indent: int) -> str:
    """``target = expression``; too long, black wraps the expression in parentheses on lines of its own."""
    one = f"{target} = {expression}"
    if indent + len(one) <= LINE_LENGTH or indent + 4 + len(expression) > LINE_LENGTH:
        return one  # fits; or black splits inside the expression instead (left to it)
    return f"{target} = (\n{' ' * (indent + 4)}{expression}\n{' ' * indent})"
