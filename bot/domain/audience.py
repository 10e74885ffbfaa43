"""The audience expression language: which customers a command or campaign targets.

Agents type ``/audience lace and (vneck or slit) and not refund_risk`` or
``/tag where orders >= 3 and tier = gold loyal``; campaigns store the same text.

Grammar (precedence ``not`` > ``and`` > ``or``; parentheses group)::

    expr    := and_expr  (OR  and_expr)*
    and_expr:= unary     (AND unary)*
    unary   := NOT unary | primary
    primary := "(" expr ")" | WORD OP value | WORD | STRING
    value   := WORD | STRING

- ``AND`` is ``and``, ``&&``, ``&``, ``且``, ``并且``; ``OR`` is ``or``, ``||``, ``|``,
  ``或``, ``或者``; ``NOT`` is ``not``, ``!``, ``非``. Word keywords are
  case-insensitive and, like English ones, must stand apart: ``蕾丝 且 V领``
  (a tag may contain 且 inside it).
- ``OP`` is ``=`` (also ``==``), ``!=`` (also ``<>``, ``≠``), ``<``, ``<=`` (``≤``),
  ``>``, ``>=`` (``≥``). Full-width ``（）＝！＜＞＆｜`` typed by a Chinese IME work too.
- A bare word or a quoted string (``"…"``, ``“…”``, ``「…」``, ``『…』``) on its own
  is a tag test; its name is normalised with ``tags.normalize_tag``. Two tests side
  by side without ``and``/``or`` are an error (no implicit ``and``), which is what
  lets ``/tag where <expr> <tag>`` know where the expression ends.
- ``WORD OP value`` compares a field from the registry. ``tag = x`` / ``tag != x``
  are spelled-out tag tests and parse to ``Tag(x)`` / ``Not(Tag(x))``.
- Money fields take yuan (``spent > 1000``, ``99.5``, ``¥1,000``, ``1000元``) and
  are held in the AST as integer fen. Enum values are matched case-insensitively,
  also through aliases (``class = 重要挽留`` and ``class = 重要挽留客户`` both give the
  stored code ``important_retain``), and are held in the registry's spelling.
- Limits: 500 characters, 20 levels of parentheses/``not``; numbers up to 15 digits.

Semantics when a customer has no value for a field (NULL): every comparison is
false except ``!=``, which is true (``tier != gold`` includes customers without a
tier). ``evaluate`` is the reference; ``bot.storage.audience_sql`` compiles the same
AST to SQL with identical results.
"""

from __future__ import annotations

import difflib
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.domain.tags import QUOTE_PAIRS, TagError, parse_tag_args, validate_tag

__all__ = [
    "And",
    "AudienceSyntaxError",
    "Compare",
    "CustomerFacts",
    "DEFAULT_FIELDS",
    "Expr",
    "FieldSpec",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Not",
    "Or",
    "Tag",
    "default_fields",
    "describe",
    "evaluate",
    "parse",
    "parse_tag_where",
    "tags_in",
]

MAX_LENGTH = 500
MAX_DEPTH = 20

# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Tag:
    """The customer carries tag ``name`` (normalised)."""

    name: str


@dataclass(frozen=True)
class Compare:
    """``field op value``; ``value`` is an int (fen for money fields) or a str."""

    field: str
    op: str
    value: int | str


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr = Tag | Compare | And | Or | Not

OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
EQUALITY_OPS = frozenset({"=", "!="})

# ---------------------------------------------------------------------- registry

FieldKind = Literal["text", "int", "money", "enum"]


@dataclass(frozen=True)
class FieldSpec:
    """How a field is typed: ``kind`` and, for enums, the allowed ``values``."""

    kind: FieldKind
    values: tuple[str, ...] = ()
    hint: str = ""  # an example value for error messages, e.g. "R3F2M3"
    #: other spellings agents may type -> the stored value, e.g. 重要挽留 -> important_retain
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.kind not in ("text", "int", "money", "enum"):
            raise ValueError(f"unknown field kind {self.kind!r}")
        if self.kind == "enum" and not self.values:
            raise ValueError("an enum field needs its allowed values")
        if any(target not in self.values for target in self.aliases.values()):
            raise ValueError("every alias must point at one of the allowed values")

    def lookup(self) -> dict[str, str]:
        """Casefolded spelling (value or alias) -> stored value."""
        table = {alias.casefold(): value for alias, value in self.aliases.items()}
        table.update({value.casefold(): value for value in self.values})
        return table


Registry = Mapping[str, FieldSpec]

#: Value classes (bot.domain.value_classes.ValueClass): stored code -> Chinese name.
#: Agents may type the code, the Chinese name, or the name without 客户.
VALUE_CLASSES: Mapping[str, str] = MappingProxyType({
    "important_value": "重要价值客户",
    "important_develop": "重要发展客户",
    "important_keep": "重要保持客户",
    "important_retain": "重要挽留客户",
    "ordinary_value": "一般价值客户",
    "ordinary_develop": "一般发展客户",
    "ordinary_keep": "一般保持客户",
    "ordinary_retain": "一般挽留客户",
})  # fmt: skip
DEFAULT_TIERS: tuple[str, ...] = ("normal", "silver", "gold", "platinum")
PRICE_LEVELS: tuple[str, ...] = ("low", "medium", "high")


def default_fields(
    *,
    tiers: Iterable[str] = DEFAULT_TIERS,
    classes: Mapping[str, str] = VALUE_CLASSES,
    price_levels: Iterable[str] = PRICE_LEVELS,
    rfm_scale: int = 5,
) -> dict[str, FieldSpec]:
    """The standard field registry; tiers etc. come from the shop's configuration."""
    scores = range(1, rfm_scale + 1)
    rfm = tuple(f"R{r}F{f}M{m}" for r in scores for f in scores for m in scores)
    return {
        "class": FieldSpec(
            "enum",
            tuple(classes),
            hint="重要挽留",
            aliases={
                **{zh: code for code, zh in classes.items()},
                **{zh.removesuffix("客户"): code for code, zh in classes.items()},
            },
        ),
        "rfm": FieldSpec("enum", rfm, hint="R3F2M3"),
        "abc": FieldSpec("enum", ("A", "B", "C")),
        "price": FieldSpec("enum", tuple(price_levels)),
        "tier": FieldSpec("enum", tuple(tiers)),
        "segment": FieldSpec("text"),
        "orders": FieldSpec("int", hint="3"),
        "spent": FieldSpec("money", hint="1000"),
        "days_since_last": FieldSpec("int", hint="30"),
    }


DEFAULT_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(default_fields())

#: Field names that mean "a tag": ``tag = lace`` is the tag test ``lace``.
TAG_FIELDS = frozenset({"tag", "tags", "标签"})

# ------------------------------------------------------------------------ errors


class AudienceSyntaxError(ValueError):
    """A user-facing parse error.

    ``position`` is the 0-based offset into the text; the message counts from 1
    like a person does ("at position 1" is the first character).
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def pointer(self, text: str) -> str:
        """``text`` and a caret line under the offending character (for <pre>)."""
        prefix = text[: self.position].replace("\n", " ").replace("\t", " ")
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in prefix)
        return f"{text}\n{' ' * width}^"


def _at(pos: int) -> str:
    return f"at position {pos + 1}"


# --------------------------------------------------------------------- tokenizer

# token kinds
WORD, STRING, LPAREN, RPAREN, AND_, OR_, NOT_, OP, EOF = (
    "word", "string", "(", ")", "and", "or", "not", "op", "end",
)  # fmt: skip

AND_WORDS = frozenset({"and", "且", "并且"})
OR_WORDS = frozenset({"or", "或", "或者"})
NOT_WORDS = frozenset({"not", "非"})
KEYWORDS = AND_WORDS | OR_WORDS | NOT_WORDS

# full-width punctuation from Chinese IMEs -> ASCII
_FULLWIDTH = str.maketrans("（）＝！＜＞＆｜", "()=!<>&|")
_SPECIAL = frozenset("()=!<>&|≠≤≥") | frozenset("（）＝！＜＞＆｜") | frozenset(QUOTE_PAIRS)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str  # as typed, for messages
    pos: int
    value: str = ""  # operator symbol or string contents


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        c = ch.translate(_FULLWIDTH)
        nxt = text[i + 1].translate(_FULLWIDTH) if i + 1 < n else ""
        if ch.isspace():
            i += 1
        elif c == "(":
            tokens.append(_Token(LPAREN, ch, i))
            i += 1
        elif c == ")":
            tokens.append(_Token(RPAREN, ch, i))
            i += 1
        elif c in "&|":
            size = 2 if nxt == c else 1
            tokens.append(_Token(AND_ if c == "&" else OR_, text[i : i + size], i))
            i += size
        elif c == "!":
            if nxt == "=":
                tokens.append(_Token(OP, text[i : i + 2], i, "!="))
                i += 2
            else:
                tokens.append(_Token(NOT_, ch, i))
                i += 1
        elif c in "=<>≠≤≥":
            two = c + nxt
            if two in ("==", "<=", ">=", "<>"):
                op = {"==": "=", "<>": "!="}.get(two, two)
                tokens.append(_Token(OP, text[i : i + 2], i, op))
                i += 2
            else:
                op = {"≠": "!=", "≤": "<=", "≥": ">="}.get(c, c)
                tokens.append(_Token(OP, ch, i, op))
                i += 1
        elif ch in QUOTE_PAIRS:
            closer = QUOTE_PAIRS[ch]
            end = text.find(closer, i + 1)
            if end < 0:
                raise AudienceSyntaxError(
                    f"missing closing {closer} for the {ch} {_at(i)} — close the quote", i
                )
            tokens.append(_Token(STRING, text[i : end + 1], i, text[i + 1 : end]))
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            word = text[start:i]
            folded = unicodedata.normalize("NFKC", word).casefold()
            kind = (
                AND_
                if folded in AND_WORDS
                else OR_
                if folded in OR_WORDS
                else NOT_
                if folded in NOT_WORDS
                else WORD
            )
            tokens.append(_Token(kind, word, start, word))
    tokens.append(_Token(EOF, "", n))
    return tokens


# ------------------------------------------------------------------------ parser

_MONEY = re.compile(r"[¥]?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:元|块)?")
_INT = re.compile(r"-?(\d{1,3}(?:,\d{3})+|\d+)")
_MAX_DIGITS = 15  # well inside SQLite's 64-bit integers


class _Parser:
    def __init__(self, text: str, fields: Registry) -> None:
        self.text = text
        self.fields = {name.casefold(): (name, spec) for name, spec in fields.items()}
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    # -- helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, pos: int) -> AudienceSyntaxError:
        return AudienceSyntaxError(message, pos)

    def paren_error(self, tok: _Token) -> AudienceSyntaxError:
        return self.error(
            f"unexpected '{tok.text}' {_at(tok.pos)} — check the parentheses", tok.pos
        )

    def unexpected_after_term(self, tok: _Token) -> AudienceSyntaxError:
        if tok.kind == RPAREN:
            return self.paren_error(tok)
        if tok.kind == OP:
            return self.error(
                f"unexpected '{tok.text}' {_at(tok.pos)} — a comparison needs a field name "
                "on its left, e.g. orders >= 3",
                tok.pos,
            )
        return self.error(
            f"expected 'and' or 'or' before '{tok.text}' {_at(tok.pos)} — join conditions "
            'with and/or, or put a tag with spaces in quotes: "two words"',
            tok.pos,
        )

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the expression is nested too deeply {_at(pos)} — use at most "
                f"{MAX_DEPTH} levels of parentheses and 'not'",
                pos,
            )

    # -- grammar
    def parse_or(self) -> Expr:
        parts = [self.parse_and()]
        while self.tok.kind == OR_:
            self.advance()
            parts.append(self.parse_and())
        return _flatten(Or, parts)

    def parse_and(self) -> Expr:
        parts = [self.parse_unary()]
        while self.tok.kind == AND_:
            self.advance()
            parts.append(self.parse_unary())
        return _flatten(And, parts)

    def parse_unary(self) -> Expr:
        if self.tok.kind == NOT_:
            tok = self.advance()
            self.enter(tok.pos)
            operand = self.parse_unary()
            self.depth -= 1
            return Not(operand)
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind == LPAREN:
            self.advance()
            self.enter(tok.pos)
            inner = self.parse_or()
            self.depth -= 1
            if self.tok.kind == RPAREN:
                self.advance()
                return inner
            if self.tok.kind == EOF:
                raise self.error(
                    f"missing ')' for the '(' {_at(tok.pos)} — close the parentheses", tok.pos
                )
            raise self.unexpected_after_term(self.tok)
        if tok.kind == STRING:
            self.advance()
            return Tag(self.tag_name(tok.value, tok))
        if tok.kind == WORD:
            self.advance()
            if self.tok.kind == OP:
                return self.parse_compare(tok)
            return Tag(self.tag_name(tok.value, tok))
        # nothing usable where a tag or condition must be
        if tok.kind == EOF:
            if self.i == 0:
                raise self.error(
                    "the expression is empty — type a tag or a condition, "
                    "e.g. lace and not refund_risk",
                    0,
                )
            prev = self.tokens[self.i - 1]
            raise self.error(
                f"the expression ends after '{prev.text}' {_at(prev.pos)} — add a tag or a "
                "condition after it",
                prev.pos,
            )
        if tok.kind == RPAREN:
            raise self.paren_error(tok)
        if tok.kind in (AND_, OR_):
            raise self.error(
                f"unexpected '{tok.text}' {_at(tok.pos)} — put a tag or a condition before it",
                tok.pos,
            )
        raise self.unexpected_after_term(tok)  # OP

    def tag_name(self, raw: str, tok: _Token) -> str:
        try:
            return validate_tag(raw)
        except TagError as exc:
            raise self.error(f"{exc} ({_at(tok.pos)})", tok.pos) from None

    def parse_compare(self, field_tok: _Token) -> Expr:
        op_tok = self.advance()
        op = op_tok.value
        name = unicodedata.normalize("NFKC", field_tok.value).casefold()
        value_tok = self.tok
        if value_tok.kind not in (WORD, STRING):
            raise self.error(
                f"expected a value after '{op_tok.text}' {_at(op_tok.pos)} — "
                f"e.g. {field_tok.text} {op_tok.text} {self.example(name)}",
                op_tok.pos,
            )
        self.advance()
        raw = value_tok.value

        if name in TAG_FIELDS:
            if op not in EQUALITY_OPS:
                raise self.error(
                    f"a tag can only be tested with = or != {_at(op_tok.pos)} — e.g. tag = vip",
                    op_tok.pos,
                )
            tag = Tag(self.tag_name(raw, value_tok))
            return tag if op == "=" else Not(tag)

        if name not in self.fields:
            raise self.unknown_field(field_tok)
        canonical, spec = self.fields[name]
        if spec.kind in ("text", "enum") and op not in EQUALITY_OPS:
            raise self.error(
                f"'{canonical}' can only be compared with = or != {_at(op_tok.pos)} — "
                f"e.g. {canonical} = {self.example(name)}",
                op_tok.pos,
            )
        return Compare(canonical, op, self.convert(canonical, spec, raw, value_tok))

    def example(self, name: str) -> str:
        if name in TAG_FIELDS:
            return "vip"
        if name not in self.fields:
            return "…"
        _, spec = self.fields[name]
        example = spec.hint or (spec.values[0] if spec.values else "")
        if not example:
            example = {"int": "3", "money": "1000"}.get(spec.kind, "…")
        return _quote_if_needed(example)

    def unknown_field(self, tok: _Token) -> AudienceSyntaxError:
        names = sorted({canonical for canonical, _ in self.fields.values()})
        guess = difflib.get_close_matches(
            unicodedata.normalize("NFKC", tok.value).casefold(),
            [*self.fields, "tag"],
            n=1,
            cutoff=0.6,
        )
        if guess:
            hint = self.fields[guess[0]][0] if guess[0] in self.fields else guess[0]
            advice = f"did you mean '{hint}'?"
        else:
            advice = (
                f"fields are: {', '.join(names)}; to test a tag, write it alone "
                f"(e.g. {_quote_if_needed(tok.value)})"
            )
        return self.error(f"unknown field '{tok.text}' {_at(tok.pos)} — {advice}", tok.pos)

    def convert(self, name: str, spec: FieldSpec, raw: str, tok: _Token) -> int | str:
        value = unicodedata.normalize("NFKC", raw).strip()
        if spec.kind == "int":
            m = _INT.fullmatch(value)
            digits = m.group(1).replace(",", "") if m else ""
            if not m or len(digits) > _MAX_DIGITS:
                raise self.error(
                    f"'{raw}' {_at(tok.pos)} is not a whole number — '{name}' needs "
                    f"one like {spec.hint or 3}",
                    tok.pos,
                )
            return int(value.replace(",", ""))
        if spec.kind == "money":
            m = _MONEY.fullmatch(value)
            digits = m.group(1).replace(",", "") if m else ""
            if not m or len(digits) > _MAX_DIGITS - 2:
                raise self.error(
                    f"'{raw}' {_at(tok.pos)} is not an amount — '{name}' needs yuan "
                    "like 1000 or 99.50",
                    tok.pos,
                )
            cents = (m.group(2) or "").ljust(2, "0")
            return int(digits) * 100 + int(cents)
        if spec.kind == "enum":
            by_fold = spec.lookup()
            found = by_fold.get(value.casefold())
            if found is not None:
                return found
            spellings = {v.casefold(): v for v in (*spec.values, *spec.aliases)}
            guess = difflib.get_close_matches(value.casefold(), list(spellings), n=1, cutoff=0.6)
            if guess:
                advice = f"did you mean '{spellings[guess[0]]}'?"
            elif len(spec.values) <= 12:
                advice = f"choose one of: {', '.join(spec.values)}"
            else:
                advice = f"use a value like {spec.hint or spec.values[0]}"
            raise self.error(
                f"unknown value '{raw}' for '{name}' {_at(tok.pos)} — {advice}", tok.pos
            )
        return raw.strip()  # text: compared exactly as typed


def _flatten(cls: type[And] | type[Or], parts: list[Expr]) -> Expr:
    if len(parts) == 1:
        return parts[0]
    flat: list[Expr] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, cls) else (part,))
    return cls(tuple(flat))


def _check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise AudienceSyntaxError(
            f"the expression is too long ({len(text)} characters) — keep it under "
            f"{MAX_LENGTH}, or tag the customers in steps",
            MAX_LENGTH,
        )


def parse(text: str, fields: Registry | None = None) -> Expr:
    """Parse an audience expression into an AST; raise ``AudienceSyntaxError``."""
    _check_length(text)
    parser = _Parser(text, DEFAULT_FIELDS if fields is None else fields)
    expr = parser.parse_or()
    if parser.tok.kind != EOF:
        raise parser.unexpected_after_term(parser.tok)
    return expr


def parse_tag_where(text: str, fields: Registry | None = None) -> tuple[Expr, list[str]]:
    """Split the arguments of ``/tag where <expression> <tag>...``.

    The expression is the longest prefix that parses; the tags are what follows it
    (quotes allowed), validated and normalised. ``lace and vneck summer "big spender"``
    gives ``(And(lace, vneck), ['summer', 'big spender'])``.
    """
    _check_length(text)
    parser = _Parser(text, DEFAULT_FIELDS if fields is None else fields)
    expr = parser.parse_or()
    rest_tok = parser.tok
    if rest_tok.kind == EOF:
        raise AudienceSyntaxError(
            "add the tag to set after the expression — e.g. /tag where lace and vneck summer_sale",
            len(text),
        )
    if rest_tok.kind not in (WORD, STRING):
        raise parser.unexpected_after_term(rest_tok)
    rest = text[rest_tok.pos :]
    try:
        tags = [validate_tag(arg) for arg in parse_tag_args(rest)]
    except TagError as exc:
        raise AudienceSyntaxError(f"{exc} ({_at(rest_tok.pos)})", rest_tok.pos) from None
    return expr, list(dict.fromkeys(tags))


# -------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class CustomerFacts:
    """What ``evaluate`` knows about one customer: normalised tags and field values.

    ``values`` maps field names to int (fen for money), str, or None (unknown).
    """

    tags: frozenset[str] = frozenset()
    values: Mapping[str, int | str | None] = field(default_factory=lambda: MappingProxyType({}))


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def evaluate(expr: Expr, facts: CustomerFacts) -> bool:
    """The reference semantics: does the customer described by ``facts`` match?"""
    if isinstance(expr, Tag):
        return expr.name in facts.tags
    if isinstance(expr, Compare):
        actual = facts.values.get(expr.field)
        if expr.op == "=":
            return actual is not None and actual == expr.value
        if expr.op == "!=":
            return actual is None or actual != expr.value
        if actual is None:
            return False
        return bool(_COMPARE[expr.op](actual, expr.value))
    if isinstance(expr, And):
        return all(evaluate(part, facts) for part in expr.parts)
    if isinstance(expr, Or):
        return any(evaluate(part, facts) for part in expr.parts)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, facts)
    raise TypeError(f"not an audience expression: {expr!r}")


# ---------------------------------------------------------------------- describe


def _quote_if_needed(s: str) -> str:
    bare = (
        s
        and not any(ch.isspace() or ch in _SPECIAL for ch in s)
        and unicodedata.normalize("NFKC", s).casefold() not in KEYWORDS
    )
    if bare:
        return s
    for opener, closer in (('"', '"'), ("「", "」"), ("“", "”"), ("『", "』")):
        if opener not in s and closer not in s:
            return f"{opener}{s}{closer}"
    raise ValueError(f"cannot quote {s!r}")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}" if not cents else f"{sign}{yuan}.{cents:02d}"


def describe(expr: Expr, fields: Registry | None = None) -> str:
    """Print ``expr`` back canonically: lower-case keywords, minimal parentheses.

    ``parse(describe(e)) == e`` for any AST that ``parse`` produces. ``fields`` is
    needed to print money in yuan (default: ``DEFAULT_FIELDS``).
    """
    registry = DEFAULT_FIELDS if fields is None else fields
    return _describe(expr, registry, 0)


def _describe(expr: Expr, fields: Registry, parent: int) -> str:
    # precedence: or 1, and 2, not 3, atoms 4
    if isinstance(expr, Tag):
        return _quote_if_needed(expr.name)
    if isinstance(expr, Compare):
        spec = fields.get(expr.field)
        if spec is not None and spec.kind == "money" and isinstance(expr.value, int):
            value = _yuan(expr.value)
        else:
            value = _quote_if_needed(str(expr.value))
        return f"{expr.field} {expr.op} {value}"
    if isinstance(expr, Not):
        return f"not {_describe(expr.operand, fields, 3)}"
    if isinstance(expr, And | Or):
        prec, word = (2, " and ") if isinstance(expr, And) else (1, " or ")
        text = word.join(_describe(p, fields, prec) for p in expr.parts)
        return f"({text})" if parent > prec else text
    raise TypeError(f"not an audience expression: {expr!r}")


def tags_in(expr: Expr) -> frozenset[str]:
    """All tag names an expression mentions (for 'unknown tag' hints)."""
    if isinstance(expr, Tag):
        return frozenset({expr.name})
    if isinstance(expr, Not):
        return tags_in(expr.operand)
    if isinstance(expr, And | Or):
        return frozenset().union(*(tags_in(p) for p in expr.parts))
    return frozenset()
