"""Who a rule lets in, as a noun phrase: the building blocks of ``keel explain``'s sentences.

``user == record.assignee`` is "its assignee", ``user.role in ['manager', 'finance']`` is
"someone with the manager or finance role", ``user in record.project.members and
record.status == 'draft'`` is "one of its project's members" *when* "its status is draft".
A rule that does not fit these shapes is never guessed at: it reads "a signed-in user, when
<the rule in English>". Pure functions over the expression AST; nothing is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.expr import parse
from generator.expr.english import to_english, to_english_condition
from generator.expr.nodes import Binary, Expr, ListLiteral, Literal, Path, Unary, children

__all__ = ["Who", "a_noun", "by_phrase", "join", "parse_rule", "participle", "record_noun", "roles_people", "uses_user",
           "who_of"]


@dataclass(frozen=True, slots=True)
class Who:
    """Some people (a noun phrase), and the conditions on the record under which they may act."""

    people: str
    when: tuple[str, ...] = ()


def parse_rule(text: str) -> Expr | None:
    """The AST of a rule's text as written in a validated spec (None if it is not an expression)."""
    tree, errors = parse(text)
    return None if errors else tree


def uses_user(node: Expr) -> bool:
    if isinstance(node, Path):
        return node.root == "user"
    return any(uses_user(c) for c in children(node))


def a_noun(noun: str) -> str:
    """``task`` -> ``a task``; ``expense report`` -> ``an expense report``."""
    lower = noun.lower()
    vowel = lower[:1] in "aeiou" and not lower.startswith(("uni", "use", "usu", "uti", "ura", "eu", "one"))
    return ("an " if vowel or lower.startswith(("hour", "honest", "honor", "honour")) else "a ") + noun


def _flatten(node: Expr, op: str) -> list[Expr]:
    if isinstance(node, Binary) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


def _join(parts: list[str], word: str) -> str:
    if len(parts) <= 2:
        return f" {word} ".join(parts)
    return f"{', '.join(parts[:-1])}, {word} {parts[-1]}"


def _is_user(node: Expr) -> bool:
    return isinstance(node, Path) and node.root == "user" and not node.fields


def _is_role(node: Expr) -> bool:
    return isinstance(node, Path) and node.root == "user" and node.fields == ("role",)


def _is_null(node: Expr) -> bool:
    return isinstance(node, Literal) and node.kind == "null"


def _record_people(node: Path, noun: str) -> str:
    """A record path that holds users, as people: "its assignee", "that employee themselves"."""
    if not node.fields:
        return f"that {noun} themselves"
    if len(node.fields) == 1 and node.fields[0] == "created_by":
        return "its creator"
    return to_english(node, record="it")


def _roles(node: Expr) -> list[str] | None:
    if isinstance(node, Literal) and node.kind == "string":
        return [str(node.value)]
    if isinstance(node, ListLiteral) and all(isinstance(i, Literal) and i.kind == "string" for i in node.items):
        return [str(i.value) for i in node.items]  # type: ignore[union-attr]
    return None


def roles_people(roles: list[str] | tuple[str, ...]) -> str:
    return f"someone with the {_join(list(roles), 'or')} role" if roles else "nobody"


def _actor(node: Expr, noun: str) -> tuple[str, str] | None:
    """One comparison about the current user: ("person", phrase) or ("except", phrase); None if unknown."""
    if isinstance(node, Unary) and node.op == "not" and isinstance(node.operand, Binary):
        flipped = {"==": "!=", "!=": "==", "in": "not in", "not in": "in"}.get(node.operand.op)
        if flipped:
            return _actor(Binary(flipped, node.operand.left, node.operand.right), noun)
        return None
    if not isinstance(node, Binary):
        return None
    left, right = node.left, node.right
    if node.op in ("==", "!=") and _is_user(right) and not _is_user(left):
        left, right = right, left
    if _is_user(left) and node.op in ("==", "!=", "in", "not in"):
        if _is_null(right):
            return ("person", "any signed-in user") if node.op == "!=" else None
        if not isinstance(right, Path) or right.root != "record":
            return None
        people = _record_people(right, noun)
        if node.op == "==":
            return "person", people
        if node.op == "in":
            return "person", f"one of {people}"
        return "except", people if node.op == "!=" else f"any of {people}"
    if _is_role(left) and node.op in ("==", "!=", "in", "not in"):
        roles = _roles(right)
        if roles is None:
            return None
        phrase = roles_people(roles)
        return ("person", phrase) if node.op in ("==", "in") else ("except", phrase)
    return None


def _alternative(node: Expr, noun: str) -> Who:
    """One way in: the people (from the parts about the user) and the record's conditions."""
    parts = _flatten(node, "and")
    about_user = [p for p in parts if uses_user(p)]
    conditions = tuple(to_english_condition(p, record="it") for p in parts if not uses_user(p))
    if not about_user:  # no condition on who: any signed-in user may, when the record allows
        return Who("any signed-in user", conditions)
    decoded = [_actor(p, noun) for p in about_user]
    if len(about_user) == 1 and isinstance(about_user[0], Binary) and about_user[0].op == "or":
        inner = who_of(about_user[0], noun)
        if all(not w.when for w in inner):
            return Who(_join([w.people for w in inner], "or"), conditions)
    people = [d[1] for d in decoded if d is not None and d[0] == "person"]
    excepts = [d[1] for d in decoded if d is not None and d[0] == "except"]
    if any(d is None for d in decoded) or len(people) > 1:
        # Not a shape we can name: say the rule as it is, never a guess.
        whole = " and ".join(to_english_condition(p, record="it") for p in about_user) if len(about_user) > 1 \
            else to_english_condition(about_user[0], record="it")
        return Who("a signed-in user", (whole,) + conditions)
    base = people[0] if people else "any signed-in user"
    if excepts:
        base = f"{base} other than {_join(excepts, 'or')}"
    return Who(base, conditions)


def who_of(tree: Expr, noun: str) -> list[Who]:
    """The alternatives a rule allows (its top-level ``or``), each as people and conditions."""
    if isinstance(tree, Literal) and tree.kind == "bool":
        return [Who("anyone")] if tree.value else [Who("nobody")]
    return [_alternative(part, noun) for part in _flatten(tree, "or")]


def by_phrase(alternatives: list[Who]) -> str:
    """``[Who("its owner"), Who("someone with the admin role")]`` -> "its owner or someone with the admin role".

    Alternatives with conditions keep them: "its owner, or anyone when its status is draft".
    """
    merged: list[Who] = []
    for w in alternatives:  # people with the same conditions read as one list
        same = next((i for i, m in enumerate(merged) if m.when == w.when), None)
        if same is None:
            merged.append(w)
        elif w.people not in merged[same].people:
            merged[same] = Who(f"{merged[same].people}\0{w.people}", w.when)
    out = []
    for m in merged:
        people = _join(m.people.split("\0"), "or")
        out.append(f"{people} when {_join(list(m.when), 'and')}" if m.when else people)
    if not any(m.when for m in merged):
        return _join(out, "or")
    return ", or ".join(out) if len(out) < 3 else "; or ".join(out)  # keeps each "when" with its people


# --- verbs -------------------------------------------------------------------------------------

_IRREGULAR = {
    "pay": "paid", "send": "sent", "leave": "left", "make": "made", "put": "put", "set": "set", "get": "got",
    "give": "given", "take": "taken", "hold": "held", "keep": "kept", "buy": "bought", "sell": "sold",
    "write": "written", "read": "read", "run": "run", "begin": "begun", "split": "split", "shut": "shut",
    "lay": "laid", "find": "found", "bring": "brought", "choose": "chosen", "freeze": "frozen", "hide": "hidden",
    "undo": "undone", "redo": "redone", "withdraw": "withdrawn", "rebuild": "rebuilt", "resend": "resent",
    "list": "listed", "create": "created", "update": "changed", "delete": "deleted",
}
# Multi-syllable verbs stressed on the last syllable double their final consonant.
_DOUBLE = {"submit", "commit", "permit", "admit", "omit", "refer", "prefer", "transfer", "control", "compel",
           "patrol", "equip", "regret", "occur", "expel", "propel", "resubmit", "recommit", "unpin", "unflag"}
_VOWELS = "aeiou"


def _past_participle(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("e"):
        return verb + "d"
    if len(verb) > 1 and verb.endswith("y") and verb[-2] not in _VOWELS:
        return verb[:-1] + "ied"
    cvc = (len(verb) >= 3 and verb[-1] not in _VOWELS + "wxy" and verb[-2] in _VOWELS
           and verb[-3] not in _VOWELS)
    syllables = sum(1 for i, ch in enumerate(verb) if ch in _VOWELS and (i == 0 or verb[i - 1] not in _VOWELS))
    if cvc and (syllables == 1 or verb in _DOUBLE):
        return verb + verb[-1] + "ed"
    return verb + "ed"


def participle(name: str) -> str:
    """A transition or action name as a past participle: ``start`` -> ``started``, ``send_back`` -> ``sent back``."""
    words = name.split("_")
    return " ".join([_past_participle(words[0].lower())] + words[1:])


def record_noun(entity: str) -> str:
    """``ExpenseReport`` -> ``expense report``."""
    out = []
    for i, ch in enumerate(entity):
        if ch.isupper() and i and (not entity[i - 1].isupper() or (i + 1 < len(entity) and entity[i + 1].islower())):
            out.append(" ")
        out.append(ch)
    words = "".join(out).split()
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)


def join(parts: list[str] | tuple[str, ...], word: str = "and") -> str:
    return _join(list(parts), word)

