"""Product items (SKUs) and per-member lifetime purchase quantities.

``member_product_purchases`` is maintained by posting and cancelling transactions (a
cancellation takes its quantities back), so the Member Product Purchases Sync ranks a
member's products from one small table instead of the whole basket history.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime, utcnow
from loyalty.models._types import ExtRef, Money


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The SKU: text, because leading zeros are part of it ("0000000002").
    sku: Mapped[str] = mapped_column(ExtRef, unique=True)
    # Product Item Sync field 4, a second, user-maintained product reference.
    alt_ref: Mapped[str | None] = mapped_column(ExtRef)
    category: Mapped[str | None] = mapped_column(String(60))
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    zero_points: Mapped[bool] = mapped_column(Boolean, default=False)  # earns no base points
    zero_retail: Mapped[bool] = mapped_column(Boolean, default=False)  # retail value not kept
    drop_from_basket: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberProductPurchase(Base):
    __tablename__ = "member_product_purchases"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_purchased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
