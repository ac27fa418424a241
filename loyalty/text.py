"""One cleaner for every field a person types into the sync application.

Forms, the CLI and the type options of every exporter pass their text and numbers
through these functions, so one rule holds everywhere: no control character (NUL, CR,
LF, TAB, DEL, the C1 range, Unicode line separators) in a name, host, directory, user,
address or option; a length the column can hold; whole numbers in ASCII digits only
(``int()`` would take full-width digits and 4,000-digit numbers) and within a range the
database can store. A NUL byte would make PostgreSQL refuse the statement; a CR/LF in a
directory or user would end an FTP command early, and in a name would break the mail
header of a failure notice.

The domain services keep their own ``Checks`` (``loyalty.services._common``): loyalty data
may carry TAB and line breaks, which the exporters turn into safe characters.

Every function raises ``ValueError`` with the message a person sees; callers turn it into
a ``ValidationError`` for their field.
"""

from __future__ import annotations

import re

# The largest id of an INTEGER primary key (PostgreSQL's int4, SQLite's bound for ours).
MAX_ID = 2**31 - 1

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DIGITS = re.compile(r"[+-]?[0-9]{1,18}")


def clean_text(
    value: object,
    label: str,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """``value`` stripped; empty is ``""`` (or refused when ``required``).

    ``multiline`` lets LF and CR through (a pasted key); every other control character
    is refused all the same.
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(f"{label} must be text.")
    if not text:
        if required:
            raise ValueError(f"{label} is required.")
        return ""
    if len(text) > max_length:
        raise ValueError(f"{label} has at most {max_length} characters.")
    probe = text.replace("\r", "").replace("\n", "") if multiline else text
    if CONTROL.search(probe):
        what = "a NUL byte" if "\x00" in probe else "control characters or line breaks"
        raise ValueError(f"{label} contains {what}; remove them.")
    return text


def clean_int(value: object, label: str, *, minimum: int, maximum: int) -> int:
    """A whole number in ASCII digits between ``minimum`` and ``maximum``."""
    if isinstance(value, bool):
        raise ValueError(f"{label} must be a whole number.")
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not _DIGITS.fullmatch(text):
            raise ValueError(
                f"{label} must be a whole number from {minimum:,} to {maximum:,} (digits 0-9)."
            )
        number = int(text)
    if not minimum <= number <= maximum:
        raise ValueError(f"{label} must be between {minimum:,} and {maximum:,}.")
    return number


def parse_id(value: object) -> int | None:
    """A positive database id, or ``None`` when ``value`` cannot be one (text, 0, beyond int4)."""
    try:
        return clean_int(value, "id", minimum=1, maximum=MAX_ID)
    except ValueError:
        return None
