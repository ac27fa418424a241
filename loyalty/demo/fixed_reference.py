"""The demo program's fixed reference data: business units, id types, descriptors, ranking
sets and levels, reward types, transaction types, custom fields, clubs, interaction types,
questions, case categories and queues, campaigns, promotions.

These rows are the same for every seed and program size (no random draws): the member
generator and the ledger rely on their ids (which reward types are free or bought, which
descriptor a ranking level carries). ``reference`` adds the drawn, sized part (locations,
products and their custom values).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from loyalty.demo.bulk import Formats

# A table's rows: (column names, rows in that column order); Rows: per table name.
Table = tuple[tuple[str, ...], list[tuple[Any, ...]]]
Rows = dict[str, Table]

ACCOUNT_ID_TYPES = (  # id, ext_ref, name, Rank for Display
    (1, "CARD", "Loyalty card", 1),
    (2, "APP", "Mobile app id", 2),
    (3, "PHONEID", "Phone number id", 3),
    (4, "LEGACY", "Legacy card", 1),
)
DESCRIPTORS = (  # id, ext_ref, name, default expiry days
    (1, "VIP", "VIP", 90),
    (2, "NEWSLETTER", "Newsletter subscriber", None),
    (3, "STAFF", "Staff member", None),
    (4, "BDAYCLUB", "Birthday club", 365),
    (5, "LAPSED", "Lapsed member", 30),
    (6, "GOLDPERKS", "Gold perks", None),
    (7, "HIGHENG", "Highly engaged", None),
    (8, "ABC", "ABC partner", None),
)
RANKING_SETS = (  # id, ext_ref, name, configured descriptor id
    (1, "RS", "Spend tiers", 1),
    (2, "ENG", "Engagement", None),
)
RANKING_LEVELS = (  # id, set id, ext_ref, name, position, level descriptor id
    (1, 1, "REGULAR", "Regular", 1, None),
    (2, 1, "BRONZE", "Bronze", 2, None),
    (3, 1, "SILVER", "Silver", 3, None),
    (4, 1, "GOLD", "Gold", 4, 6),
    (5, 2, "LOW", "Low", 1, None),
    (6, 2, "MEDIUM", "Medium", 2, None),
    (7, 2, "HIGH", "High", 3, 7),
)
REWARD_CATEGORIES = (
    (1, "Default Category"),
    (2, "Dining"),
    (3, "Gift Cards"),
    (4, "Partner Offers"),
)
REWARD_TYPES = (  # id, name, ext_ref, category, master type, retail, points, valid days
    (1, "$10 Forced Reward", None, 1, "Forced", 10.0, 0.0, 60),
    (2, "Unique $20 Dinner Reward", "20_DINNER_REWARD", 2, "Choice", 20.0, 200.0, 90),
    (3, "Visa Gift Card", "VISA", 3, "Gift Card", 25.0, 250.0, None),
    (4, "Free Coffee", "FREE_COFFEE", 1, "Choice", 3.5, 40.0, 30),
    (5, "Birthday Treat", "BDAY_TREAT", 1, "Recurring", 5.0, 0.0, 30),
    (6, "Monthly Member Gift", "MONTHLY_GIFT", 1, "Recurring", 2.0, 0.0, 30),
    (7, "Points to Cash $5", "CASH5", 1, "Variable", 5.0, 50.0, 180),
    (8, "Points to Cash $15", "CASH15", 1, "Variable", 15.0, 150.0, 180),
    (9, "Staff Appreciation", "STAFF_INT", 1, "Internal", 0.0, 0.0, None),
    (10, "Welcome Offer", "WELCOME", 1, "Forced", 5.0, 0.0, 30),
    (11, "Partner Hotel Night", "HOTEL_NIGHT", 4, "Choice", 120.0, 1200.0, 365),
    (12, "Amazon Gift Card", "AMZN_GC", 3, "Gift Card", 50.0, 500.0, None),
    (13, "Service Recovery", None, 1, "Internal", 10.0, 0.0, 60),
    (14, "Free Dessert", "FREE_DESSERT", 2, "Choice", 6.0, 60.0, 30),
)
# Reward types members can be given without spending points, and ones they buy.
FREE_REWARDS = (1, 5, 6, 9, 10, 13)
BOUGHT_REWARDS = (2, 3, 4, 7, 8, 11, 12, 14)
TRANSACTION_TYPES = (  # id, ext_ref, name, counts for RFM, earns points
    (1, "PURCHASE", "In-store purchase", True, True),
    (2, "ONLINE", "Online order", True, True),
    (3, "SERVICE", "Service visit", False, False),
)
CUSTOM_FIELDS = (  # id, entity, ext_ref, name, type
    (1, "member", "FAV_STORE", "Favourite store", "text"),
    (2, "member", "PET_OWNER", "Pet owner", "boolean"),
    (3, "member", "ANNIVERSARY", "Anniversary", "date"),
    (4, "transaction", "LANE", "Checkout lane", "number"),
    (5, "transaction", "CASHIER", "Cashier", "text"),
    (6, "location", "REGION_MGR", "Region manager", "text"),
    (7, "location", "SQFT", "Floor area (sq ft)", "number"),
    (8, "product", "BRAND", "Brand", "text"),
    (9, "product", "ORGANIC", "Organic", "boolean"),
    (10, "reward", "GIFTED", "Gifted", "boolean"),
)
CLUBS = (
    (1, "GOLFERS", "Golfers"),
    (2, "RUNNERS", "Runners"),
    (3, "WINE", "Wine club"),
    (4, "KIDS", "Kids club"),
)
INTERACTION_TYPES = (  # id, ext_ref, name
    (1, "BIRTHDATE_ADDED", "Birthdate Added"),
    (2, "ADDR_ADD", "Address Added"),
    (3, "EMAIL_ADD", "Email Added"),
    (4, "PHONE_ADD", "Phone Added"),
    (5, "PROFILE_UPD", "Profile Updated"),
    (6, "APP_LOGIN", "App Login"),
    (7, "STORE_VISIT", "Store Visit"),
    (8, "CALL_CENTER", "Call Center Contact"),
    (9, "EMAIL_OPEN", "Email Opened"),
    (10, "REFERRAL", "Referral"),
    (11, "COMPLAINT", "Complaint"),
    (12, "ENROLLED", "Enrolled"),
)
INTERACTION_EVENTS = (
    (1, "TRADESHOW", "Spring Trade Show"),
    (2, "ROADSHOW", "Summer Roadshow"),
    (3, "GALA", "Holiday Gala"),
)
QUESTION_SETS = (
    (1, "PQ", "Pizza preferences"),
    (2, "TRIV", "Weekly trivia"),
    (3, "POLL", "Member polls"),
)
QUESTIONS = (  # id, set, kind, name, multiple answers, choices [(text, correct)]
    (
        1,
        1,
        "survey",
        "Favorite Pizza Topping",
        True,
        (
            ("Extra Cheese", False),
            ("Pepperoni", False),
            ("Mushrooms", False),
            ("Olives", False),
            ("Pineapple", False),
        ),
    ),
    (
        2,
        1,
        "survey",
        "Visit Frequency",
        False,
        (("Weekly", False), ("Monthly", False), ("Rarely", False)),
    ),
    (
        3,
        2,
        "trivia",
        "Capital of Canada",
        False,
        (("Toronto", False), ("Ottawa", True), ("Montréal", False)),
    ),
    (
        4,
        2,
        "trivia",
        "Largest Ocean",
        False,
        (("Atlantic", False), ("Pacific", True), ("Indian", False)),
    ),
    (
        5,
        2,
        "trivia",
        "Primary Colours",
        True,
        (("Red", True), ("Green", False), ("Blue", True), ("Yellow", True)),
    ),
    (
        6,
        3,
        "poll",
        "Next Store Location",
        False,
        (("Downtown", False), ("Airport", False), ("Suburbs", False)),
    ),
    (
        7,
        3,
        "poll",
        "Preferred Reward",
        False,
        (("Cash back", False), ("Free items", False), ("Experiences", False)),
    ),
)
CASE_CATEGORIES = (
    (1, "BILLING", "Billing"),
    (2, "POINTS", "Missing points"),
    (3, "REWARDS", "Rewards"),
    (4, "PROFILE", "Profile"),
)
CASE_QUEUES = (
    (1, "FRONT", "Front line"),
    (2, "ESCAL", "Escalations"),
    (3, "BACKOFF", "Back office"),
)
CAMPAIGNS = (  # id, ext_ref, name, starts days ago, ends in days (None: open)
    (1, "SPRING", "Spring sale", 300, -200),
    (2, "WINBACK", "Win back lapsed members", 200, None),
    (3, "BDAY", "Birthday emails", 365, None),
    (4, "APPLAUNCH", "Mobile app launch", 120, 60),
)
PROMOTIONS = (  # id, ext_ref, name, promo code, bonus points, starts days ago, ends in days
    (1, "DOUBLEPTS", "Double points weekends", None, None, 365, None),
    (2, "WELCOME10", "Welcome code", "WELCOME10", 10.0, 365, None),
    (3, "SUMMER25", "Summer code", "SUMMER25", 25.0, 150, 30),
    (4, "BONUS500", "Bonus 500 challenge", None, None, 90, 90),
)


def question_choices() -> list[tuple[int, int, str, bool, int]]:
    """(choice id, question id, text, is correct, position); ids run across questions."""
    choices = []
    choice_id = 0
    for question in QUESTIONS:
        for position, (label, correct) in enumerate(question[5], start=1):
            choice_id += 1
            choices.append((choice_id, question[0], label, correct, position))
    return choices


def rows(fmt: Formats, as_of: date, created: str) -> Rows:
    """The rows of every fixed table (``created``: the program's creation time, formatted;
    campaign and promotion dates count from ``as_of``)."""
    day = fmt.day
    tables: Rows = {}

    def put(table: str, columns: tuple[str, ...], data: list[tuple[Any, ...]]) -> None:
        tables[table] = (columns, data)

    put(
        "business_units",
        ("id", "ext_ref", "name"),
        [(1, "BU_EAST", "East"), (2, "BU_WEST", "West"), (3, "BU_ONLINE", "Online")],
    )
    put(
        "pos_categories",
        ("id", "ext_ref", "name"),
        [
            (1, "GROCERY", "Grocery"),
            (2, "FASHION", "Fashion"),
            (3, "DINING", "Dining"),
            (4, "SERVICES", "Services"),
        ],
    )

    put(
        "account_id_types",
        ("id", "ext_ref", "name", "display_rank", "created_at"),
        [(*t, created) for t in ACCOUNT_ID_TYPES],
    )
    put(
        "descriptors",
        ("id", "ext_ref", "name", "default_expiry_days", "created_at"),
        [(*d, created) for d in DESCRIPTORS],
    )
    put(
        "ranking_sets",
        ("id", "ext_ref", "name", "descriptor_id", "created_at"),
        [(*r, created) for r in RANKING_SETS],
    )
    put(
        "ranking_levels",
        ("id", "ranking_set_id", "ext_ref", "name", "position", "descriptor_id"),
        list(RANKING_LEVELS),
    )
    put("reward_categories", ("id", "name"), list(REWARD_CATEGORIES))
    put(
        "reward_types",
        (
            "id",
            "name",
            "ext_ref",
            "category_id",
            "master_type",
            "retail_value",
            "point_value",
            "valid_days",
            "active",
            "created_at",
        ),
        [(*t, True, created) for t in REWARD_TYPES],
    )
    put(
        "transaction_types",
        ("id", "ext_ref", "name", "counts_for_rfm", "earns_points"),
        list(TRANSACTION_TYPES),
    )
    put(
        "custom_field_definitions",
        ("id", "entity", "ext_ref", "name", "data_type", "created_at"),
        [(*f, created) for f in CUSTOM_FIELDS],
    )
    put("clubs", ("id", "ext_ref", "name", "created_at"), [(*c, created) for c in CLUBS])
    put("interaction_types", ("id", "ext_ref", "name"), list(INTERACTION_TYPES))
    put("interaction_events", ("id", "ext_ref", "name"), list(INTERACTION_EVENTS))
    put(
        "question_sets",
        ("id", "ext_ref", "name", "created_at"),
        [(*q, created) for q in QUESTION_SETS],
    )
    put(
        "questions",
        ("id", "question_set_id", "kind", "name", "text", "multiple_answers", "position"),
        [(q[0], q[1], q[2], q[3], f"{q[3]}?", q[4], q[0]) for q in QUESTIONS],
    )
    put(
        "question_choices",
        ("id", "question_id", "text", "is_correct", "position"),
        question_choices(),
    )
    put("case_categories", ("id", "ext_ref", "name"), list(CASE_CATEGORIES))
    put("case_queues", ("id", "ext_ref", "name"), list(CASE_QUEUES))
    put(
        "campaigns",
        ("id", "ext_ref", "name", "starts_on", "ends_on", "created_at"),
        [
            (
                c[0],
                c[1],
                c[2],
                day(as_of - timedelta(days=c[3])),
                None if c[4] is None else day(as_of + timedelta(days=c[4])),
                created,
            )
            for c in CAMPAIGNS
        ],
    )
    put(
        "promotions",
        (
            "id",
            "ext_ref",
            "name",
            "promo_code",
            "bonus_points",
            "starts_on",
            "ends_on",
            "created_at",
        ),
        [
            (
                p[0],
                p[1],
                p[2],
                p[3],
                p[4],
                day(as_of - timedelta(days=p[5])),
                None if p[6] is None else day(as_of + timedelta(days=p[6])),
                created,
            )
            for p in PROMOTIONS
        ],
    )
    return tables
