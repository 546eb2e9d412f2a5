"""Text in and out of the API: what an error may echo, and what no field may hold."""

from __future__ import annotations


def safe_text(value) -> str:
    """Text that can always be encoded: a lone surrogate (never valid UTF-8) becomes ``?``."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def text_problem(text: str) -> str | None:
    """Why no field of ours can hold ``text`` (NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "Text may not contain NUL (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (no lone surrogates)."
    return None
