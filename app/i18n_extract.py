"""The messages the code can answer with, found in its syntax: a Babel extraction
method (`babel.cfg`, `make messages`) and the catalog's coverage test use it.

A message is one of:
- the template of `msg("...", ...)`;
- the first argument or `detail=` of a call to an `AppError` subclass (found by
  following class bases through `app/`), and the message argument of the calls in
  `CARRIERS` (`_invalid(field, message)` helpers, domain refusals);
- the `"message"` value of a `{"field": ..., "message": ...}` literal;
- a module constant named `MESSAGE` or `*_MESSAGE`, the values of a `*_MESSAGES` dict;
- the text of `ValueError("...")` raised in `app/schemas/` or in a pydantic validator
  module listed in `VALIDATOR_MODULES` (pydantic shows it as the field's message).

An f-string in any of these places is reported (`FSTRING`): write a template with
`msg` instead, so the translation does not depend on the values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

APP = Path(__file__).parent
# Calls that carry a message besides the AppError classes (whose message is the first
# argument): the position of the message among the positional arguments (-1: last).
CARRIERS: dict[str, int] = {
    "_invalid": -1,
    "_unprocessable": -1,
    "unprocessable": -1,
    "_deny": -1,
    "fail": -1,
    "TooManyRequests": 1,
    "SessionRestricted": 1,
    "UnsafeUrl": 1,
    "ImageFormatError": 0,
    "IllegalTransition": 0,
    "StageError": 1,
    "Refusal": 1,
    "EntitlementDecision": 2,
    "TokenError": 0,
}
# Modules whose ValueError text reaches the caller as a field's message.
VALIDATOR_MODULES = frozenset({"services/person_fields.py", "security/normalize.py"})
FSTRING = "<f-string>"


@cache
def error_classes() -> frozenset[str]:
    """Names of AppError and its subclasses defined anywhere in `app/`."""
    bases: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {_name(b) for b in node.bases} - {None}
                bases.setdefault(node.name, set()).update(n for n in names if n)
    found = {"AppError"}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in found and parents & found:
                found.add(name)
                grew = True
    return frozenset(found)


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _text(node: ast.AST | None) -> str | None:
    """The literal's text, FSTRING for an f-string, None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return FSTRING
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return FSTRING  # "..." + x or "..." % x: a template is needed as well
    return None


def messages_in(source: str, relative: str) -> Iterator[tuple[int, str]]:
    """(line, msgid) for every message in one module's source."""
    classes = error_classes()
    validators = relative.startswith("schemas/") or relative in VALIDATOR_MODULES
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            candidates: list[ast.AST | None] = []
            if name == "msg" and node.args:
                candidates.append(node.args[0])
            elif name in CARRIERS:
                index = CARRIERS[name]
                if -len(node.args) <= index < len(node.args):
                    candidates.append(node.args[index])
                candidates += [k.value for k in node.keywords if k.arg in ("detail", "message")]
            elif name in classes:
                candidates.append(node.args[0] if node.args else None)
                candidates += [k.value for k in node.keywords if k.arg == "detail"]
            elif name == "ValueError" and validators and node.args:
                candidates.append(node.args[0])
            for candidate in candidates:
                if isinstance(candidate, ast.Call) and _name(candidate.func) == "msg":
                    continue  # its own node yields it
                text = _text(candidate)
                if text is not None:
                    yield node.lineno, text
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "message":
                    text = _text(value)
                    if text is not None:
                        yield node.lineno, text
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and (
                    target.id == "MESSAGE" or target.id.endswith("_MESSAGE")
                ):
                    text = _text(node.value)
                    if text is not None:
                        yield node.lineno, text
                elif (
                    isinstance(target, ast.Name)
                    and target.id.endswith("_MESSAGES")
                    and isinstance(node.value, ast.Dict)
                ):
                    for value in node.value.values:
                        text = _text(value)
                        if text is not None:
                            yield value.lineno, text


def all_messages() -> dict[str, list[str]]:
    """msgid → the places (`path:line`) that use it, over all of `app/`."""
    found: dict[str, list[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP).as_posix()
        for line, text in messages_in(path.read_text(encoding="utf-8"), relative):
            found.setdefault(text, []).append(f"app/{relative}:{line}")
    return found


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method (`[app.i18n_extract:extract: app/**.py]`)."""
    source = fileobj.read().decode("utf-8")
    name = getattr(fileobj, "name", "")
    relative = Path(name).resolve().relative_to(APP).as_posix() if name else ""
    for line, text in messages_in(source, relative):
        if text != FSTRING:
            yield line, None, text, []
