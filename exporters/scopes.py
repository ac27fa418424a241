"""The objects a sync can be bound to (its scope parameter), shared by the types that use them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exporters.base import ScopeParam
from loyalty.models import Campaign, Descriptor, Promotion, RankingSet


def _scope(key: str, label: str, model: Any) -> ScopeParam:
    def choices(session: Session) -> list[tuple[int, str]]:
        rows = session.execute(select(model.id, model.ext_ref, model.name).order_by(model.ext_ref))
        return [(row.id, f"{row.ext_ref} — {row.name}") for row in rows]

    def external_reference(session: Session, object_id: int) -> str | None:
        value: str | None = session.scalar(select(model.ext_ref).where(model.id == object_id))
        return value

    def external_references(session: Session, ids: Collection[int]) -> dict[int, str]:
        rows = session.execute(select(model.id, model.ext_ref).where(model.id.in_(list(ids))))
        return {row.id: row.ext_ref for row in rows}

    return ScopeParam(
        key=key,
        label=label,
        choices=choices,
        external_reference=external_reference,
        external_references=external_references,
    )


DESCRIPTOR = _scope("descriptor_id", "Member descriptor", Descriptor)
RANKING_SET = _scope("ranking_set_id", "Member ranking set", RankingSet)
CAMPAIGN = _scope("campaign_id", "Campaign", Campaign)
PROMOTION = _scope("promotion_id", "Promotion", Promotion)


def reference(scope: ScopeParam, session: Session, ids: dict[str, Any]) -> str:
    """The scope object's external reference for this run (it must still exist)."""
    object_id = ids.get(scope.key)
    ref = scope.external_reference(session, int(object_id)) if object_id is not None else None
    if ref is None:
        raise LookupError(
            f"The {scope.label.lower()} this sync exports (id {object_id}) no longer exists."
        )
    return ref
