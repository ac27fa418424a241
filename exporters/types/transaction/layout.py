"""What a Transaction Sync run writes: its file kinds, their names, and the options.

Declarations only, kept apart from the SQL, because the settings page, the layout page,
the generated docs and the exporter all read them; only ``namers`` looks at a run (its
start and the names earlier runs took). The fields of each kind are in ``columns``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from exporters.base import ExportContext, Option, OptionKind
from exporters.naming import YMD, YMDHMS, NameRule
from exporters.options import max_records_option

# ---------------------------------------------------------------------------------------
# Option keys and file kinds

FILE_KINDS = "file_kinds"
INCLUDE_ISSUED_AND_CANCELLED = "include_issued_and_cancelled"
FILENAME_TIME = "filename_time"

ISSUED = "issued"
PRODUCT_LEVEL = "product_level"
CANCELLED = "cancelled"
POINT_EXPIRATION = "point_expiration"
TRANSACTIONAL_BONUS = "transactional_bonus"
PROMO_CODE_BONUS = "promo_code_bonus"
TRANSACTION_TYPE = "transaction_type"
CUSTOM_FIELD = "custom_field"

LABELS: dict[str, str] = {
    ISSUED: "Issued Transactions (transaction level)",
    PRODUCT_LEVEL: "Issued Transactions (product level)",
    CANCELLED: "Cancelled Transactions",
    POINT_EXPIRATION: "Point Expirations",
    TRANSACTIONAL_BONUS: "Transactional Bonuses",
    PROMO_CODE_BONUS: "Promo Code Bonuses",
    TRANSACTION_TYPE: "Transaction Type Details",
    CUSTOM_FIELD: "Transaction Custom Fields",
}
KIND_KEYS = tuple(LABELS)

# ---------------------------------------------------------------------------------------
# File names
#
# The documented patterns name one file (TransactionSync_YYYYMMDD[HHMMSS][_##].txt); how
# the other kinds are named was not captured. The Issued (transaction-level) file keeps
# the documented name; every other kind inserts its own word after "TransactionSync_", so
# a receiver tells them apart by the character after the underscore (a digit for the
# main file, a letter otherwise) and all files of one run share one stamp.

PREFIX = "TransactionSync_"
INFIXES: dict[str, str] = {
    ISSUED: "",
    PRODUCT_LEVEL: "ProductLevel_",
    CANCELLED: "Cancelled_",
    POINT_EXPIRATION: "PointExpiration_",
    TRANSACTIONAL_BONUS: "TransactionalBonus_",
    PROMO_CODE_BONUS: "PromoCodeBonus_",
    TRANSACTION_TYPE: "TransactionType_",
    CUSTOM_FIELD: "CustomField_",
}
# Date-only by default; a second run on the same day adds the time (the documented
# "filename time" form) instead of replacing the first run's files.
NAME_DATE = NameRule(PREFIX + "{stamp}{number}.txt", stamp=YMD, number="_##", repeat_stamp=YMDHMS)
NAME_TIME = NameRule(PREFIX + "{stamp}{number}.txt", stamp=YMDHMS, number="_##")


def _with_infix(name: str, infix: str) -> str:
    return PREFIX + infix + name[len(PREFIX) :]


def namers(ctx: ExportContext, numbered: bool) -> dict[str, Callable[[int], str]]:
    """``name_for(number)`` per file kind, all with the run's one stamp.

    The rule resolves repeats on the main file's name; it is told a name is taken when
    an earlier run used that stamp for *any* kind, so a run's files never mix with (or
    replace) an earlier run's, whichever kinds either run chose.
    """
    rule = NAME_TIME if ctx.options.get(FILENAME_TIME) else NAME_DATE

    def taken(name: str) -> bool:
        return any(ctx.name_taken(_with_infix(name, infix)) for infix in INFIXES.values())

    main = rule.namer(replace(ctx, name_taken=taken), numbered=numbered)

    def for_kind(infix: str) -> Callable[[int], str]:
        return lambda number: _with_infix(main(number), infix)

    return {key: for_kind(infix) for key, infix in INFIXES.items()}


def name_pattern(infix: str) -> str:
    base = PREFIX + infix
    return (
        f"{base}YYYYMMDD.txt; {base}YYYYMMDD_##.txt (max records per file); "
        f"{base}YYYYMMDDHHMMSS.txt (filename time, or a second run on the same day); "
        f"{base}YYYYMMDDHHMMSS_##.txt"
    )


# ---------------------------------------------------------------------------------------
# Options

OPTIONS = (
    Option(
        FILE_KINDS,
        "File kinds",
        OptionKind.MULTI,
        list(KIND_KEYS),
        help=(
            "Which files each run writes (one file per kind, or several with a maximum "
            "number of records per file). All kinds by default."
        ),
        choices=tuple((key, LABELS[key]) for key in KIND_KEYS),
        minimum=1,
    ),
    Option(
        INCLUDE_ISSUED_AND_CANCELLED,
        "Include issued-and-cancelled transactions",
        OptionKind.BOOL,
        True,
        help=(
            "Whether the Issued files (and the custom field file) include transactions "
            "both issued and cancelled since the last run. The Cancelled file lists "
            "every cancellation either way."
        ),
    ),
    max_records_option("_01, _02, ... for each kind", documented=True),
    Option(
        FILENAME_TIME,
        "Filename time",
        OptionKind.BOOL,
        False,
        help="Adds the run's time (HHMMSS) to the file names.",
    ),
)
