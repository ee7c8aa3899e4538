"""The tokenizer of the search filter language: text in, positioned tokens out.

Kept apart from the parser (``search_filter.py``) so each reads on its own;
every lexical error is an :class:`~nbtrack.errors.InvalidFilter` with the
offset of the character to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbtrack.errors import InvalidFilter

__all__ = ["NUMBER_OPS", "Token", "tokenize"]

NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
OPERATORS = {**{op: op for op in NUMBER_OPS}, "==": "=", "<>": "!="}
TOKEN_RE = re.compile(
    r"""(?P<WORD>[\w.+/-]+)
      | (?P<OP>==|!=|<>|<=|>=|[=<>])
      | (?P<SQ>'(?:\\.|''|[^'\\])*')
      | (?P<DQ>"(?:\\.|""|[^"\\])*")
      | (?P<BQ>`[^`]*`)
      | (?P<LPAREN>\() | (?P<RPAREN>\)) | (?P<COMMA>,)""",
    re.VERBOSE | re.DOTALL,
)
UNESCAPE = {q: re.compile(rf"\\([\\{q}])|{q}{q}") for q in "'\""}
# Neither database takes NUL in text, and lone surrogates cannot be encoded.
BAD_CHAR_RE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # WORD, SQ/DQ/BQ (quoted), OP, LPAREN, RPAREN, COMMA, END
    value: str  # the text, unescaped for quoted tokens
    pos: int
    end: int

    def shown(self) -> str:
        return "end of filter" if self.kind == "END" else repr(self.value)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; quoted ones carry their unescaped content.

    Inside strings a backslash or a doubled quote escapes the quote and ``\\\\``
    is one backslash; other backslashes are kept (they escape LIKE wildcards).
    Backquoted keys have no escapes. A backquoted entity name (MLflow's
    `` `params`.x ``, `` `metric`.a ``) becomes the bare word it quotes.
    """
    bad = BAD_CHAR_RE.search(text)
    if bad:
        raise InvalidFilter(text, bad.start(), f"unexpected character U+{ord(bad.group()):04X}")
    tokens: list[Token] = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos == n:
            tokens.append(Token("END", "", n, n))
            return tokens
        match = TOKEN_RE.match(text, pos)
        c = text[pos]
        if match is None and c in "'\"`":
            what = "key" if c == "`" else "string"
            raise InvalidFilter(text, pos, f"unterminated {what}: add the closing {c}")
        if match is None:
            hint = "; did you mean '!='?" if c == "!" else ""
            raise InvalidFilter(text, pos, f"unexpected character {c!r}{hint}")
        kind, value = match.lastgroup or "", match.group()
        if kind in ("SQ", "DQ"):
            value = UNESCAPE[value[0]].sub(lambda m: m[1] or m[0][0], value[1:-1])
        elif kind == "BQ":
            value = value[1:-1]
        elif kind == "OP":
            value = OPERATORS[value]
        token = Token(kind, value, pos, match.end())
        if _is_quoted_entity(tokens, token):
            # MLflow's `params`.x: a backquoted entity name reads as the bare word.
            quoted = tokens.pop()
            token = Token("WORD", quoted.value + value, quoted.pos, token.end)
        tokens.append(token)
        pos = match.end()


def _is_quoted_entity(tokens: list[Token], token: Token) -> bool:
    """True when ``token`` is the ``.key`` of a backquoted entity such as `` `metrics` ``."""
    if token.kind != "WORD" or not token.value.startswith(".") or not tokens:
        return False
    quoted = tokens[-1]
    if quoted.kind != "BQ" or quoted.end != token.pos or not quoted.value.isidentifier():
        return False
    # After ``metrics.`` a backquoted word is a key, not an entity.
    before = tokens[-2] if len(tokens) > 1 else None
    return not (before is not None and before.kind == "WORD" and before.end == quoted.pos)
