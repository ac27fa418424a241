"""member_descriptor — Member Descriptor Sync.

Documented completely by the product (fields, header, example rows): every member
currently assigned to one descriptor, with current values. A cumulative snapshot.

"Currently assigned": an assignment that exists and has not expired on the run's date in
the sync's zone (descriptors expire "end of day"; the batch that removes expired
assignments may not have run yet when the sync runs).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from exporters import scopes
from exporters.base import Column, ExportContext, ExportResult, FileKind, Semantics, SyncType
from exporters.naming import MDYHMS, NameRule, name_token
from exporters.single_file import export_one_file
from exporters.sql import date_field, int_field, text_field
from loyalty.models import Descriptor, DescriptorAssignment, Member

if TYPE_CHECKING:
    from exporters.base import AnySelect

COLUMNS = (
    Column("MemberInternalId", "Internal Member Id", "Numeric(10)", "platform-internal member id"),
    Column(
        "MemberPrimaryAccountId", "Member Primary Account Id", "String(60)", "primary account id"
    ),
    Column("MemberFirstName", "First Name", "String(60)"),
    Column("MemberLastName", "Last Name", "String(60)"),
    Column(
        "MemberDescriptorExpireDate",
        "Expiration Date",
        "Date YYYY-MM-DD",
        "when the assignment expires; empty when it does not",
    ),
    Column(
        "MemberDescriptorExtRef",
        "Member Descriptor External Reference",
        "String(20)",
        "same on every row",
    ),
)

NAME = NameRule("Standard_Member_Descriptor_Sync_{ref}_{stamp}.txt", stamp=MDYHMS)


def query(descriptor_id: int, on: date) -> AnySelect:
    return (
        select(
            int_field(Member.id),
            text_field(Member.primary_account_id),
            text_field(Member.first_name),
            text_field(Member.last_name),
            date_field(DescriptorAssignment.expires_on),
            text_field(Descriptor.ext_ref),
        )
        .join(DescriptorAssignment, DescriptorAssignment.member_id == Member.id)
        .join(Descriptor, Descriptor.id == DescriptorAssignment.descriptor_id)
        .where(
            DescriptorAssignment.descriptor_id == descriptor_id,
            or_(DescriptorAssignment.expires_on.is_(None), DescriptorAssignment.expires_on >= on),
            Member.deleted_at.is_(None),
        )
        .order_by(Member.id)
    )


def export(ctx: ExportContext) -> ExportResult:
    ref = scopes.reference(scopes.DESCRIPTOR, ctx.session, ctx.scope)
    return export_one_file(
        ctx,
        query(int(ctx.scope["descriptor_id"]), ctx.local_date),
        name_for=NAME.namer(ctx, numbered=False, ref=name_token(ref)),
        header=[c.header for c in COLUMNS],
    )


SYNC_TYPE = SyncType(
    key="member_descriptor",
    label="Member Descriptor Sync",
    description="Basic data of every member currently assigned to one member descriptor.",
    semantics=Semantics.CUMULATIVE,
    scope=scopes.DESCRIPTOR,
    file_kinds=(
        FileKind(
            key="",
            label="Member descriptor file",
            columns=COLUMNS,
            header=True,
            name_pattern="Standard_Member_Descriptor_Sync_XXXXX_MMDDYYYYHHMMSS.txt (XXXXX = descriptor external reference)",
        ),
    ),
    export=export,
    doc_status="documented",
    reference_queries=lambda ctx: [query(int(ctx.scope["descriptor_id"]), ctx.local_date)],
)
