"""Personal tags (个性标签): normalising, validating and parsing tag arguments.

A tag is stored and compared in its *normalised* form, so ``VIP``, ``vip`` and the
full-width ``ＶＩＰ`` are the same tag, and so are ``big  spender`` and ``big spender``.

Decisions:
- Normalising is NFKC, then removal of invisible zero-width characters (they come
  along when agents copy text out of chat tools), then casefold, strip and collapse
  inner whitespace to one space. Leading ``#`` marks are dropped, because agents
  type tags as hashtags (``#vip`` is ``vip``).
- A valid tag is 1-32 characters after normalising, has no control characters and no
  double-quote marks of any kind (``"“”「」『』``): those are the quoting syntax of
  ``parse_tag_args`` and of audience expressions, and forbidding them keeps every tag
  writable and printable without escapes. Everything else, including ``'``, ``;``,
  ``<b>`` and SQL-looking text, is just part of a name.
- ``parse_tag_args`` only splits; it does not normalise (the first argument of a
  command is often a buyer id, which is case-sensitive). Run ``validate_tag`` on the
  pieces that are tags.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_TAG_LENGTH",
    "QUOTE_PAIRS",
    "TagError",
    "normalize_tag",
    "parse_tag_args",
    "validate_tag",
]

MAX_TAG_LENGTH = 32

#: Opening quote -> closing quote, shared with the audience expression tokenizer.
QUOTE_PAIRS: dict[str, str] = {
    '"': '"',
    "\uff02": "\uff02",  # ＂ full-width quotation mark
    "\u201c": "\u201d",  # “ ”
    "\u300c": "\u300d",  # 「 」
    "\u300e": "\u300f",  # 『 』
}
_QUOTE_CHARS = frozenset(QUOTE_PAIRS) | frozenset(QUOTE_PAIRS.values())

# Invisible characters removed while normalising (not rejected): zero-width space,
# zero-width non-joiner, word joiner, BOM / zero-width no-break space, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u2060\ufeff\u00ad"))
_WHITESPACE = re.compile(r"\s+")


class TagError(ValueError):
    """A tag or a tag argument list is not acceptable; ``str(err)`` is user-facing."""


def normalize_tag(s: str) -> str:
    """Return the canonical form of tag ``s`` (may be empty; see ``validate_tag``)."""
    text = unicodedata.normalize("NFKC", s).translate(_INVISIBLE).casefold()
    # casefold can leave text that is not NFKC any more; normalise again so that
    # normalize_tag(normalize_tag(s)) == normalize_tag(s).
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _WHITESPACE.sub(" ", text).strip()
    while text.startswith("#"):
        text = text[1:].lstrip()
    return text


def _is_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls; Cf: format characters (bidi overrides and the like).
    # The zero-width joiner stays allowed: emoji sequences such as 👩‍💻 need it.
    return category == "Cc" or (category == "Cf" and ch != "\u200d")


def validate_tag(s: str) -> str:
    """Normalise ``s`` and check it is a usable tag; return the normalised tag.

    Raises ``TagError`` with a message that says what to do.
    """
    if not isinstance(s, str):
        raise TagError("a tag must be text")
    raw = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    # Ordinary whitespace (tab, newline) is collapsed into a space; other control
    # characters are refused so nothing invisible ends up in a tag.
    if any(_is_control(ch) for ch in raw if ch not in "\t\n\r"):
        raise TagError("the tag contains an invisible control character — retype it by hand")
    tag = normalize_tag(s)
    if not tag:
        raise TagError("the tag is empty — type a word such as vip")
    if any(ch in _QUOTE_CHARS for ch in tag):
        raise TagError(
            f'the tag {tag!r} contains a quote mark — quotes only group words, e.g. "big spender"'
        )
    if len(tag) > MAX_TAG_LENGTH:
        raise TagError(
            f"the tag '{tag[:12]}…' is too long ({len(tag)} characters) — "
            f"use at most {MAX_TAG_LENGTH}"
        )
    return tag


def parse_tag_args(text: str) -> list[str]:
    """Split a command's argument text on whitespace, honouring quotes.

    ``"double quotes"``, “Chinese quotes”, 「corner brackets」 and 『』 group words::

        >>> parse_tag_args('buyer1 vip "big spender" 「老 客户」')
        ['buyer1', 'vip', 'big spender', '老 客户']

    Quoted and unquoted parts that touch form one argument (``a"b c"`` is ``ab c``),
    as in a shell. An empty pair of quotes yields an empty argument, so the caller's
    ``validate_tag`` can say the tag is empty. A missing closing quote is a
    ``TagError``. The pieces are returned as typed, not normalised.
    """
    args: list[str] = []
    current: list[str] = []
    in_arg = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
            i += 1
        elif ch in QUOTE_PAIRS:
            closer = QUOTE_PAIRS[ch]
            end = text.find(closer, i + 1)
            if end < 0:
                raise TagError(
                    f"missing closing {closer} for the {ch} at position {i + 1} — close the quote"
                )
            current.append(text[i + 1 : end])
            in_arg = True
            i = end + 1
        else:
            current.append(ch)
            in_arg = True
            i += 1
    if in_arg:
        args.append("".join(current))
    return args
