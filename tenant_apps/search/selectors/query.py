"""Reading the search box: ``parse_query`` splits its text into a name, a date of birth,
a postcode, identifiers and case references (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tenant_apps.casework.models import normalise_identifier, normalise_name, normalise_postcode

QUERY_MAX_LENGTH = 200

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
_DATE_DMY = re.compile(r"(?<![\w/])(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?![\w/])")
_DATE_ISO = re.compile(r"(?<![\w/])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w/])")
_DATE_WORDS = re.compile(r"(?<!\w)(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})(?!\w)", re.IGNORECASE)
_REFERENCE = re.compile(r"(?<![\w-])([a-z]{1,8}-\d{4}-\d{1,6})(?![\w-])", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<!\w)([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})(?!\w)", re.IGNORECASE)
_PNC = re.compile(r"(?<![\w/])(\d{2}|\d{4})\s*/\s*(\d{1,7})\s*([a-z])(?!\w)", re.IGNORECASE)
_NHS = re.compile(r"(?<![\w-])(\d{3})[\s-]?(\d{3})[\s-]?(\d{4})(?![\w-])")


@dataclass(frozen=True)
class ParsedQuery:
    name: str = ""
    date_of_birth: dt.date | None = None
    postcode: str = ""
    identifiers: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """What was searched for, without the terms: what the audit trail records."""
        pairs = [("name", self.name), ("date_of_birth", self.date_of_birth), ("postcode", self.postcode),
                 ("identifier", self.identifiers), ("case_reference", self.references)]  # fmt: skip
        return tuple(kind for kind, value in pairs if value)

    @property
    def is_empty(self) -> bool:
        return not self.kinds


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_query(text: str, date_of_birth: dt.date | None = None) -> ParsedQuery:
    """Split the box's text into the parts searched (see the module docstring)."""
    rest = " " + (text or "")[:QUERY_MAX_LENGTH] + " "

    def take(pattern, convert):
        nonlocal rest
        values = []
        for match in pattern.finditer(rest):
            value = convert(match)
            if value:
                values.append(value)
        rest = pattern.sub(" ", rest)  # an impossible date (31/02/2001) is dropped, not taken as a name
        return values

    dates = take(_DATE_DMY, lambda m: _date(int(m[3]), int(m[2]), int(m[1])))
    dates += take(_DATE_ISO, lambda m: _date(int(m[1]), int(m[2]), int(m[3])))
    dates += take(
        _DATE_WORDS, lambda m: _MONTHS.get(m[2].lower()) and _date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    )
    found_date = date_of_birth or (dates[0] if dates else None)
    references = take(_REFERENCE, lambda m: m[1].upper())
    identifiers = take(_PNC, lambda m: normalise_identifier(f"{m[1]}/{m[2]}{m[3]}"))
    identifiers += take(_NHS, lambda m: m[1] + m[2] + m[3])
    postcodes = take(_POSTCODE, lambda m: normalise_postcode(m[1] + m[2]))
    words = []
    for token in rest.split():
        if any(ch.isdigit() for ch in token):
            if len(normalise_identifier(token)) >= 4:
                identifiers.append(normalise_identifier(token))
        else:
            words.append(token)
    return ParsedQuery(
        name=normalise_name(" ".join(words)),
        date_of_birth=found_date,
        postcode=postcodes[0] if postcodes else "",
        identifiers=tuple(dict.fromkeys(identifiers)),
        references=tuple(dict.fromkeys(references)),
    )
