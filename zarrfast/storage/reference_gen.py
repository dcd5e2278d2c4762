"""Reading kerchunk reference sets: loading the JSON, inline values, templates and ``gen``.

:func:`load_refs` loads a reference set given as a dict, JSON text/bytes, or a path or URL to a
JSON file; :func:`iter_entries` normalizes its entries (version 0 or 1) to inline ``bytes`` or
``(url, offset, length)`` tuples. Version-1 reference sets may write URLs, keys, offsets and
lengths as jinja-style templates (``"{{u}}/data_{{i}}.nc"``, ``"{{ 1000 + i * 10 }}"``). Only a
small, safe subset is needed, so this module carries its own tiny evaluator instead of jinja (and
never Python's ``eval``):

* ``{{ expr }}`` blocks inside literal text; ``expr`` is built from integer and float literals,
  quoted strings, variable names, parentheses, ``+ - * / // % **`` (with the usual precedence;
  ``~`` joins as strings; ``"%05d" % i`` formats like Python), and the filters
  ``|int``, ``|string``, ``|abs`` and ``|format(...)``;
* a template that itself contains ``{{`` is a callable: ``{{ f(c='x') }}`` renders template ``f``
  with ``c='x'`` (keyword arguments only, as in the kerchunk spec);
* an undefined name is an error (jinja would silently render it as ``""``).

``expand_gen`` turns ``gen`` entries into ``(key, url, offset, length)`` tuples over the product of
their ``dimensions`` (``{"start", "stop", "step"}`` ranges or explicit lists).
"""
from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
import operator
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from zarrfast.errors import StoreError, StoreNotFoundError

__all__ = [
    "ReferenceFormatError",
    "Template",
    "expand_gen",
    "iter_entries",
    "load_refs",
    "make_templates",
    "render",
    "render_int",
]


class ReferenceFormatError(StoreError, ValueError):
    """A reference set (or one of its entries) that does not follow the kerchunk spec."""


_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^'\\]*'|\"[^\"\\]*\")|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>\*\*|//|[-+*/%()~|,=]))"
)
_MAX_POWER = 256
_ADD = {"+", "-", "~"}
_MUL = {"*", "/", "//", "%"}


class Template:
    """A template that contains ``{{``: rendered with keyword arguments when called."""

    __slots__ = ("name", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text

    def __call__(self, **kwargs: Any) -> str:
        return render(self.text, kwargs)

    def __repr__(self) -> str:
        return f"Template({self.name!r}, {self.text!r})"


def _tokenize(expr: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if m is None or m.end() == pos:
            raise ReferenceFormatError(f"cannot parse template expression {expr!r} at {expr[pos:]!r}")
        pos = m.end()
        if m.group("num") is not None:
            text = m.group("num")
            tokens.append(("lit", float(text) if "." in text else int(text)))
        elif m.group("str") is not None:
            tokens.append(("lit", m.group("str")[1:-1]))
        elif m.group("name") is not None:
            tokens.append(("name", m.group("name")))
        else:
            tokens.append(("op", m.group("op")))
    tokens.append(("end", None))
    return tokens


class _Parser:
    """Recursive descent over the tokens of one expression, building a tuple tree."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.pos = 0

    def _peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos]

    def _take(self) -> tuple[str, Any]:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _expect(self, op: str) -> None:
        tok = self._take()
        if tok != ("op", op):
            raise ReferenceFormatError(f"template expression {self.expr!r}: expected {op!r}")

    def parse(self) -> tuple:
        node = self._additive()
        if self._peek()[0] != "end":
            raise ReferenceFormatError(f"template expression {self.expr!r}: unexpected {self._peek()[1]!r}")
        return node

    def _filtered(self) -> tuple:
        node = self._primary()
        while self._peek() == ("op", "|"):
            self._take()
            kind, name = self._take()
            if kind != "name" or name not in ("int", "string", "abs", "format"):
                raise ReferenceFormatError(f"template expression {self.expr!r}: unsupported filter {name!r}")
            args: list[tuple] = []
            if self._peek() == ("op", "("):
                args = self._call_args(allow_positional=True)[0]
            node = ("filter", name, node, tuple(args))
        return node

    def _additive(self) -> tuple:
        node = self._term()
        while self._peek()[0] == "op" and self._peek()[1] in _ADD:
            op = self._take()[1]
            node = ("bin", op, node, self._term())
        return node

    def _term(self) -> tuple:
        node = self._unary()
        while self._peek()[0] == "op" and self._peek()[1] in _MUL:
            op = self._take()[1]
            node = ("bin", op, node, self._unary())
        return node

    def _unary(self) -> tuple:
        if self._peek() in (("op", "-"), ("op", "+")):
            op = self._take()[1]
            operand = self._unary()
            return ("neg", operand) if op == "-" else operand
        return self._power()

    def _power(self) -> tuple:
        node = self._filtered()
        if self._peek() == ("op", "**"):
            self._take()
            node = ("bin", "**", node, self._unary())
        return node

    def _call_args(self, allow_positional: bool) -> tuple[list[tuple], list[tuple[str, tuple]]]:
        self._expect("(")
        args: list[tuple] = []
        kwargs: list[tuple[str, tuple]] = []
        while self._peek() != ("op", ")"):
            kind, value = self._peek()
            if kind == "name" and self.tokens[self.pos + 1] == ("op", "="):
                self.pos += 2
                kwargs.append((value, self._additive()))
            elif allow_positional:
                args.append(self._additive())
            else:
                raise ReferenceFormatError(
                    f"template expression {self.expr!r}: templates take keyword arguments only"
                )
            if self._peek() == ("op", ","):
                self._take()
            elif self._peek() != ("op", ")"):
                raise ReferenceFormatError(f"template expression {self.expr!r}: expected ',' or ')'")
        self._take()
        return args, kwargs

    def _primary(self) -> tuple:
        kind, value = self._peek()
        if kind == "lit":
            self._take()
            return ("lit", value)
        if kind == "name":
            self._take()
            if self._peek() == ("op", "("):
                return ("call", value, tuple(self._call_args(allow_positional=False)[1]))
            return ("var", value)
        if (kind, value) == ("op", "("):
            self._take()
            node = self._additive()
            self._expect(")")
            return node
        raise ReferenceFormatError(f"template expression {self.expr!r}: unexpected {value!r}")


def _number(value: Any, expr: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReferenceFormatError(f"template expression {expr!r}: {value!r} is not a number")
    return value


def _build(node: tuple, expr: str) -> Callable[[Mapping[str, Any]], Any]:
    """Turn an expression tree into a function of the context (built once, called per key)."""
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda ctx: value
    if kind == "var":
        name = node[1]

        def var(ctx: Mapping[str, Any]) -> Any:
            try:
                found = ctx[name]
            except KeyError:
                raise ReferenceFormatError(f"template expression {expr!r}: undefined name {name!r}") from None
            return found() if isinstance(found, Template) else found

        return var
    if kind == "neg":
        inner = _build(node[1], expr)
        return lambda ctx: -_number(inner(ctx), expr)
    if kind == "call":
        name, kwargs = node[1], [(k, _build(v, expr)) for k, v in node[2]]

        def call(ctx: Mapping[str, Any]) -> Any:
            func = ctx.get(name)
            if not isinstance(func, Template):
                raise ReferenceFormatError(f"template expression {expr!r}: {name!r} is not a template")
            return func(**{k: f(ctx) for k, f in kwargs})

        return call
    if kind == "filter":
        fname, inner, args = node[1], _build(node[2], expr), [_build(a, expr) for a in node[3]]
        return lambda ctx: _apply_filter(fname, inner(ctx), [a(ctx) for a in args], expr)
    op, left, right = node[1], _build(node[2], expr), _build(node[3], expr)
    fast = _INT_OPS.get(op)

    def binary(ctx: Mapping[str, Any]) -> Any:
        a, b = left(ctx), right(ctx)
        if fast is not None and type(a) is int and type(b) is int and (b or op in "+-*"):
            return fast(a, b)
        return _binary(op, a, b, expr)

    return binary


_INT_OPS: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv, "%": operator.mod,
}


def _binary(op: str, left: Any, right: Any, expr: str) -> Any:
    if op == "~":
        return _to_str(left) + _to_str(right)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if op == "%" and isinstance(left, str):
        return _format(left, right, expr)
    a, b = _number(left, expr), _number(right, expr)
    try:
        if op == "**":
            if abs(b) > _MAX_POWER:
                raise ReferenceFormatError(f"template expression {expr!r}: exponent {b!r} is too large")
            return a**b
        if op == "/":
            return a / b
        return _INT_OPS[op](a, b)
    except ZeroDivisionError:
        raise ReferenceFormatError(f"template expression {expr!r}: division by zero") from None


def _format(fmt: str, args: Any, expr: str) -> str:
    try:
        return fmt % (tuple(args) if isinstance(args, (list, tuple)) else args)
    except (TypeError, ValueError) as exc:
        raise ReferenceFormatError(f"template expression {expr!r}: {exc}") from None


def _apply_filter(name: str, value: Any, args: list[Any], expr: str) -> Any:
    if name == "string":
        return _to_str(value)
    if name == "abs":
        return abs(_number(value, expr))
    if name == "format":
        if not isinstance(value, str):
            raise ReferenceFormatError(f"template expression {expr!r}: format needs a string")
        return _format(value, args if len(args) != 1 else args[0], expr)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ReferenceFormatError(f"template expression {expr!r}: cannot make {value!r} an int") from None


def _to_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


@functools.lru_cache(maxsize=1024)
def _compile(text: str) -> tuple[Any, ...]:
    """The template as a tuple of literal strings and functions of the context."""
    parts: list[Any] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            if pos < len(text):
                parts.append(text[pos:])
            return tuple(parts)
        end = text.find("}}", start + 2)
        if end < 0:
            raise ReferenceFormatError(f"template {text!r}: '{{{{' without a closing '}}}}'")
        if start > pos:
            parts.append(text[pos:start])
        expr = text[start + 2:end].strip()
        parts.append(_build(_Parser(expr).parse(), expr))
        pos = end + 2


def render(text: str, ctx: Mapping[str, Any]) -> str:
    """``text`` with each ``{{ expr }}`` replaced by its value under ``ctx``."""
    if "{{" not in text:
        return text
    out = []
    for part in _compile(text):
        if type(part) is str:
            out.append(part)
        else:
            value = part(ctx)
            out.append(value if type(value) is str else str(value))
    return "".join(out)


def render_int(value: Any, ctx: Mapping[str, Any], what: str) -> int:
    """An offset or length: an int, or a template rendering to an integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ReferenceFormatError(f"{what} must be an int or a template string, not {value!r}")
    text = render(value, ctx).strip()
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number.is_integer():
            return int(number)
        raise ReferenceFormatError(f"{what} {value!r} rendered to {text!r}, not an integer") from None


def make_templates(raw: Any) -> dict[str, Any]:
    """The ``templates`` of a version-1 set: plain strings, or :class:`Template` callables."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ReferenceFormatError(f"'templates' must be an object, not {type(raw).__name__}")
    out: dict[str, Any] = {}
    for name, text in raw.items():
        if not isinstance(text, str):
            raise ReferenceFormatError(f"template {name!r} must be a string, not {text!r}")
        out[name] = Template(name, text) if "{{" in text else text
    return out


def _dimension(name: str, spec: Any, where: str) -> range | list[Any]:
    if isinstance(spec, list):
        return spec
    if isinstance(spec, Mapping) and "stop" in spec:
        try:
            return range(int(spec.get("start", 0)), int(spec["stop"]), int(spec.get("step", 1)))
        except (TypeError, ValueError) as exc:
            raise ReferenceFormatError(f"{where}: dimension {name!r} {spec!r}: {exc}") from None
    raise ReferenceFormatError(
        f"{where}: dimension {name!r} must be a list or {{'start', 'stop', 'step'}}, not {spec!r}"
    )


def expand_gen(gens: Any, templates: Mapping[str, Any]) -> Iterator[tuple[str, str, int | None, int | None]]:
    """``(key, url, offset, length)`` for every entry generated by ``gens`` (offset/length may be None)."""
    if not gens:
        return
    if not isinstance(gens, list):
        raise ReferenceFormatError(f"'gen' must be a list, not {type(gens).__name__}")
    for n, gen in enumerate(gens):
        where = f"gen[{n}]"
        if not isinstance(gen, Mapping) or "key" not in gen or "url" not in gen:
            raise ReferenceFormatError(f"{where} must be an object with 'key', 'url' and 'dimensions'")
        if ("offset" in gen) != ("length" in gen):
            raise ReferenceFormatError(f"{where} (key {gen['key']!r}) needs both 'offset' and 'length', or neither")
        dims = gen.get("dimensions") or {}
        if not isinstance(dims, Mapping):
            raise ReferenceFormatError(f"{where}: 'dimensions' must be an object")
        names = list(dims)
        axes = [_dimension(name, dims[name], where) for name in names]
        ctx: dict[str, Any] = dict(templates)
        key_t, url_t = gen["key"], gen["url"]
        offset_t, length_t = gen.get("offset"), gen.get("length")
        for values in itertools.product(*axes):
            ctx.update(zip(names, values))
            key = render(key_t, ctx)
            url = render(url_t, ctx)
            if offset_t is None:
                yield key, url, None, None
            else:
                yield (key, url, render_int(offset_t, ctx, f"{where} key {key!r} offset"),
                       render_int(length_t, ctx, f"{where} key {key!r} length"))


def load_refs(refs: Any, storage_options: dict[str, Any] | None) -> tuple[Mapping[str, Any], str | None]:
    """The reference set as a mapping, and the file or URL it came from (``None`` for in-memory)."""
    if isinstance(refs, Mapping):
        return refs, None
    source = None
    if isinstance(refs, (bytes, bytearray, memoryview)):
        text: Any = bytes(refs)
    elif isinstance(refs, str) and refs.lstrip().startswith("{"):
        text = refs
    elif isinstance(refs, (str, os.PathLike)):
        source = os.fspath(refs)
        if not isinstance(source, str):
            source = os.fsdecode(source)
        text = _read_source(source, storage_options)
    else:
        raise TypeError(
            f"ReferenceStore refs must be a dict, JSON text or bytes, or a path or URL to a JSON "
            f"file, not {type(refs).__name__}"
        )
    try:
        loaded = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        where = repr(source) if source else "given as text"
        raise ReferenceFormatError(f"reference set {where} is not valid JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise ReferenceFormatError(f"reference set {source or ''!r} must be a JSON object")
    return loaded, source


def _read_source(source: str, storage_options: dict[str, Any] | None) -> bytes:
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme in ("", "file") and "::" not in source:
        path = unquote(urlsplit(source).path) if scheme else source
        if os.path.isdir(path):
            raise ReferenceFormatError(
                f"reference set {source!r} is a directory: the parquet reference format is not "
                "supported (convert it to JSON with kerchunk)"
            )
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise StoreNotFoundError(f"reference set {source!r} does not exist") from None
        except OSError as exc:
            raise StoreError(f"cannot read reference set {source!r}: {exc}") from exc
    import fsspec  # type: ignore[import-untyped]

    try:
        with fsspec.open(source, "rb", **(storage_options or {})) as f:
            return f.read()  # type: ignore[no-any-return]
    except FileNotFoundError:
        raise StoreNotFoundError(f"reference set {source!r} does not exist") from None


def iter_entries(loaded: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(key, value)`` for a loaded reference set: ``bytes`` inline values, or ``(url, offset,
    length)`` tuples (``length`` ``None`` for a whole file) with templates and ``gen`` expanded."""
    version = loaded.get("version")
    if version is None:
        entries, templates = loaded, {}
    elif version == 1:
        entries = loaded.get("refs", {})
        if not isinstance(entries, Mapping):
            raise ReferenceFormatError("'refs' of a version-1 reference set must be an object")
        templates = make_templates(loaded.get("templates"))
    else:
        raise ReferenceFormatError(f"unknown reference set version {version!r} (expected none or 1)")
    for key, value in entries.items():
        yield key, _entry(key, value, templates)
    if version == 1:
        for key, url, offset, length in expand_gen(loaded.get("gen"), templates):
            yield key, (url, 0, None) if offset is None else _range(key, url, offset, length)


def _entry(key: str, value: Any, templates: Mapping[str, Any]) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        if value.startswith("base64:"):
            try:
                return base64.b64decode(value[7:], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ReferenceFormatError(f"reference key {key!r}: bad base64 data: {exc}") from None
        return value.encode("utf-8")
    if isinstance(value, dict):
        return json.dumps(value).encode("utf-8")
    if isinstance(value, (list, tuple)) and len(value) in (1, 3) and isinstance(value[0], str):
        url = render(value[0], templates) if templates and "{{" in value[0] else value[0]
        return (url, 0, None) if len(value) == 1 else _range(key, url, value[1], value[2])
    raise ReferenceFormatError(
        f"reference key {key!r}: unknown reference form {value!r} (expected a string, an "
        "object, [url] or [url, offset, length])"
    )


def _range(key: str, url: str, offset: Any, length: Any) -> tuple[str, int, int]:
    for v in (offset, length):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ReferenceFormatError(
                f"reference key {key!r}: offset and length must be ints >= 0, "
                f"not [{url!r}, {offset!r}, {length!r}]"
            )
    return (url, offset, length)
