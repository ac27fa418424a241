"""Campaign Member and Promotion Member Syncs: one layout for two kinds of group.

The product's overview names both syncs ("basic information for members in a campaign"
/ "... in a promotion", all of them on every run) but publishes no layout, so this project
designs one, in the style of the Member Descriptor and Member Ranking syncs: one sync per
campaign or promotion, its external reference in the file name and on every row, a
header, month-first timestamp, and numbered files when a maximum of records per file is
set. The two differ only in names, so they are built here from one description.

"Currently in the group": a membership row (leaving deletes it) that has not expired on
the run's date in the sync's zone. Memberships expire at the end of their expiry day, and
nothing removes expired rows, so the date decides, as for descriptor assignments.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from exporters import scopes
from exporters.base import (
    Column,
    ExportContext,
    ExportResult,
    FileKind,
    ScopeParam,
    Semantics,
    SyncType,
)
from exporters.naming import MDYHMS, NameRule, name_token
from exporters.options import MAX_RECORDS, max_records_option
from exporters.single_file import export_one_file
from exporters.sql import date_field, int_field, text_field
from loyalty.models import Member

if TYPE_CHECKING:
    from exporters.base import AnySelect


def _columns(noun: str, lower: str) -> tuple[Column, ...]:
    return (
        Column(
            f"{noun}ExtRef",
            f"{noun} External Reference",
            "String(20)",
            "same on every row",
            documented=False,
        ),
        Column(
            "MemberInternalId",
            "Internal Member Id",
            "Numeric(10)",
            "platform-internal member id",
            documented=False,
        ),
        Column(
            "MemberPrimaryAccountId",
            "Member Primary Account Id",
            "String(60)",
            "primary account id; empty when the member has no active id",
            documented=False,
        ),
        Column("MemberFirstName", "First Name", "String(60)", documented=False),
        Column("MemberLastName", "Last Name", "String(60)", documented=False),
        Column(
            "MemberEmail", "Email", "String(254)", "primary email; empty if none", documented=False
        ),
        Column(
            f"{noun}JoinDate",
            "Joined Date",
            "Date YYYY-MM-DD",
            f"when the member entered the {lower}",
            documented=False,
        ),
        Column(
            f"{noun}ExpireDate",
            "Expiration Date",
            "Date YYYY-MM-DD",
            "last day of the membership; empty when it does not expire",
            documented=False,
        ),
    )


def membership_sync_type(
    noun: str, group: Any, membership: Any, group_key: str, scope: ScopeParam
) -> SyncType:
    """The sync type for members of one ``group`` (Campaign or Promotion) through ``membership``."""
    lower = noun.lower()
    columns = _columns(noun, lower)
    name = NameRule(
        f"Standard_{noun}_Member_Sync_{{ref}}_{{stamp}}{{number}}.txt", stamp=MDYHMS, number="_##"
    )
    group_fk = getattr(membership, f"{lower}_id")

    def query(group_id: int, on: date) -> AnySelect:
        return (
            select(
                text_field(group.ext_ref),
                int_field(Member.id),
                text_field(Member.primary_account_id),
                text_field(Member.first_name),
                text_field(Member.last_name),
                text_field(Member.primary_email),
                date_field(membership.joined_on),
                date_field(membership.expires_on),
            )
            .select_from(membership)
            .join(Member, Member.id == membership.member_id)
            .join(group, group.id == group_fk)
            .where(
                group_fk == group_id,
                or_(membership.expires_on.is_(None), membership.expires_on >= on),
                Member.deleted_at.is_(None),
            )
            .order_by(membership.member_id)
        )

    def export(ctx: ExportContext) -> ExportResult:
        ref = scopes.reference(scope, ctx.session, ctx.scope)
        max_records = ctx.options.get(MAX_RECORDS)
        return export_one_file(
            ctx,
            query(int(ctx.scope[group_key]), ctx.local_date),
            name_for=name.namer(ctx, numbered=bool(max_records), ref=name_token(ref)),
            header=[c.header for c in columns],
            max_records=int(max_records) if max_records else None,
        )

    return SyncType(
        key=f"{lower}_member",
        label=f"{noun} Member Sync",
        description=f"Basic data of every member currently in one {lower}.",
        semantics=Semantics.CUMULATIVE,
        scope=scope,
        file_kinds=(
            FileKind(
                key="",
                label=f"{noun} member file",
                columns=columns,
                header=True,
                name_pattern=f"Standard_{noun}_Member_Sync_XXXXX_MMDDYYYYHHMMSS.txt, split: "
                f"Standard_{noun}_Member_Sync_XXXXX_MMDDYYYYHHMMSS_##.txt "
                f"(XXXXX = {lower} external reference)",
            ),
        ),
        export=export,
        options=(max_records_option("_01, _02, ..."),),
        doc_status="designed",
        notes=(
            "The product publishes no layout for this sync; this one is designed in the style "
            "of the Member Descriptor Sync (same header habits, names and date format).",
            f"Every member currently in the {lower}, on every run, in internal member id "
            "order: a membership counts until the end of its expiry day (on the run's date in "
            "the sync's timezone). Deleted members are left out. A member who left the "
            f"{lower} is no longer written; compare two files to see who left.",
            f"File name: the {lower}'s external reference, with characters other than letters, "
            "digits, `.`, `-` and `_` written as `_`; the run's start in the sync's timezone, "
            "month first. With Max records per file set, the records are split into numbered "
            "files `_01`, `_02`, ..., each starting with the header; without it, one file and "
            "no number.",
        ),
        reference_queries=lambda ctx: [query(int(ctx.scope[group_key]), ctx.local_date)],
    )
