"""Text as every database can store it: lone surrogates become U+FFFD, NUL is dropped.

Why these two and nothing else:
- A lone UTF-16 surrogate (``"\\ud800"``) is a valid Python ``str`` (a browser's JSON can carry
  one: ``JSON.stringify`` escapes it) but not Unicode text: encoding it to UTF-8 raises
  UnicodeEncodeError in every driver (sqlite3, psycopg, asyncpg) and on the socket. It can't
  mean anything, so it is replaced with U+FFFD, the replacement character; a well-formed
  pair stored as two code points is joined into the character it encodes.
- NUL (``"\\x00"``) is refused by PostgreSQL's text type (SQLite keeps it): dropped on both,
  so a conversation reads back the same whichever backend holds it. It is invisible in
  every rendering, so nothing a person can see is lost.
- Every other character, including the other C0 controls, bidi overrides and zero-width
  joiners, is stored exactly as sent: all are valid text on both backends, and the UI shows
  model and user text as inert text.

`clean_text` runs on every write of a turn, so the common cases are fast: an ASCII string is
checked for NUL only (``str.isascii`` is O(1) in CPython); any other is encoded to UTF-8 once
(cheaper than a regex search for surrogates), which fails only if it holds one. A clean
string is returned as is.
"""

from __future__ import annotations

NUL = "\x00"


def clean_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD and NUL characters removed."""
    if text.isascii():
        return text.replace(NUL, "") if NUL in text else text
    if NUL in text:
        text = text.replace(NUL, "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16: a pair (high then low) becomes its character, anything else U+FFFD.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def clean_optional(text: str | None) -> str | None:
    """`clean_text` for a nullable column."""
    return None if text is None else clean_text(text)
