"""How guessable a new password is: ``GuessabilityValidator`` (``AUTH_PASSWORD_VALIDATORS``).

The 12-character minimum leaves Django's list of common passwords almost idle (few of its
entries are that long), while "password1234" or "qwertyuiop123" pass it. zxcvbn estimates how
many guesses a password takes (dictionaries, keyboard walks, dates, repeats, l33t, the user's
own name and e-mail) and scores it 0-4; below ``MIN_SCORE`` it is refused with zxcvbn's warning
and suggestion, in plain English, so the person knows what to change. NCSC-style: no
composition rules (lower-case words are fine), no forced expiry.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

# zxcvbn's scores: 3 is "safely unguessable" (about 10^8 guesses or more), 2 "somewhat
# guessable" (under 10^8), where "Summer2024!" and "iloveyou2024!" fall. A hundred million
# guesses is out of reach online (the account locks after a few failures and the sign-in is
# throttled) and, against Argon2 hashes, years of work per account offline; 4 (10^10) would
# refuse many good 12-character phrases and push people to write passwords down.
MIN_SCORE = 3
# zxcvbn's cost grows quickly with length (it refuses over 72 characters): the first 72 are
# judged. A strong prefix is a strong password; a longer one whose start is weak is refused.
JUDGED_CHARACTERS = 72

_YOUR_OWN_WORDS = "It contains your name or e-mail address, which are among the first things tried."
_FALLBACK_REASON = "Add another word or two. Uncommon words are better."


def user_inputs(user) -> list[str]:
    """Words of the user's own that an attacker would try first: e-mail, its parts, names."""
    if user is None:
        return ["concord"]
    email = (getattr(user, "email", "") or "").lower()
    full_name = getattr(user, "full_name", "") or ""
    names = full_name.lower().split()
    words = [email, *re.split(r"[@.+_\-]+", email), " ".join(names), "".join(names), *names, "concord"]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


class GuessabilityValidator:
    """Refuse a password zxcvbn scores below ``min_score``, saying why."""

    def __init__(self, min_score: int = MIN_SCORE):
        self.min_score = min_score

    def validate(self, password, user=None):
        result = zxcvbn(password[:JUDGED_CHARACTERS], user_inputs=user_inputs(user))
        if result["score"] >= self.min_score:
            return
        feedback = result.get("feedback") or {}
        warning = feedback.get("warning") or ""
        if not warning and any(m.get("dictionary_name") == "user_inputs" for m in result.get("sequence") or []):
            warning = _YOUR_OWN_WORDS
        reasons = [warning, *(feedback.get("suggestions") or [])]
        reason = " ".join(_sentence(text) for text in reasons if text) or _FALLBACK_REASON
        raise ValidationError(
            "This password would be easy to guess. %(reason)s",
            code="password_too_guessable",
            params={"reason": reason},
        )

    def get_help_text(self):
        return "Your password must not be easy to guess: a few unrelated words work well."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."
