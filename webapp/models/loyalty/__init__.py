"""The loyalty program's data: the domain the syncs export.

Split by area (members, contacts, points, ...); everything is imported here so that
``webapp.models`` (and so Alembic and ``create_all``) sees every table. Query helpers
that exporters use live beside the models: ``changefeed`` (the change log's read side)
and ``primary`` (primary account id / email / mobile phone rules).
"""

from webapp.models.loyalty.campaigns import Campaign, CampaignMember, Promotion, PromotionMember
from webapp.models.loyalty.cases import Case, CaseCategory, CaseDescriptor, CaseEvent, CaseQueue
from webapp.models.loyalty.change_log import (
    ChangeKind,
    ChangeLog,
    DescriptorTrigger,
    InteractionTrigger,
    MembershipTrigger,
    MemberTrigger,
    RankingTrigger,
    RewardTrigger,
    SurveyTrigger,
    TransactionTrigger,
)
from webapp.models.loyalty.contacts import (
    AccountId,
    AccountIdType,
    MemberAddress,
    MemberEmail,
    MemberPhone,
)
from webapp.models.loyalty.custom_fields import (
    CustomFieldDefinition,
    LocationCustomValue,
    MemberCustomValue,
    ProductCustomValue,
    RewardCustomValue,
    TransactionCustomValue,
)
from webapp.models.loyalty.descriptors import Descriptor, DescriptorAssignment
from webapp.models.loyalty.enums import (
    PRIMARY_RANK,
    AccountIdStatus,
    AddressType,
    BonusKind,
    CaseAction,
    CaseStatus,
    CustomFieldEntity,
    CustomFieldType,
    DeliveryMethod,
    Gender,
    LedgerKind,
    MemberStatus,
    PhoneType,
    QuestionKind,
    RewardEventKind,
    RewardMasterType,
    RewardStatus,
    TransactionStatus,
)
from webapp.models.loyalty.interactions import Interaction, InteractionEvent, InteractionType
from webapp.models.loyalty.locations import BusinessUnit, Location, PosCategory
from webapp.models.loyalty.members import Club, ClubMembership, Household, Member, MemberChild
from webapp.models.loyalty.points import PointBalance, PointExpirationProjection, PointLedgerEntry
from webapp.models.loyalty.products import MemberProductPurchase, Product
from webapp.models.loyalty.rankings import MemberRanking, MemberRfm, RankingLevel, RankingSet
from webapp.models.loyalty.rewards import Reward, RewardCategory, RewardEvent, RewardType
from webapp.models.loyalty.surveys import Question, QuestionAnswer, QuestionChoice, QuestionSet
from webapp.models.loyalty.transactions import (
    Transaction,
    TransactionBonus,
    TransactionLine,
    TransactionType,
)

__all__ = [
    "PRIMARY_RANK",
    "AccountId",
    "AccountIdStatus",
    "AccountIdType",
    "AddressType",
    "BonusKind",
    "BusinessUnit",
    "Campaign",
    "CampaignMember",
    "Case",
    "CaseAction",
    "CaseCategory",
    "CaseDescriptor",
    "CaseEvent",
    "CaseQueue",
    "CaseStatus",
    "ChangeKind",
    "ChangeLog",
    "Club",
    "ClubMembership",
    "CustomFieldDefinition",
    "CustomFieldEntity",
    "CustomFieldType",
    "DeliveryMethod",
    "Descriptor",
    "DescriptorAssignment",
    "DescriptorTrigger",
    "Gender",
    "Household",
    "Interaction",
    "InteractionEvent",
    "InteractionTrigger",
    "InteractionType",
    "LedgerKind",
    "Location",
    "LocationCustomValue",
    "Member",
    "MemberAddress",
    "MemberChild",
    "MemberCustomValue",
    "MemberEmail",
    "MemberPhone",
    "MemberProductPurchase",
    "MemberRanking",
    "MemberRfm",
    "MemberStatus",
    "MemberTrigger",
    "MembershipTrigger",
    "PhoneType",
    "PointBalance",
    "PointExpirationProjection",
    "PointLedgerEntry",
    "PosCategory",
    "Product",
    "ProductCustomValue",
    "Promotion",
    "PromotionMember",
    "Question",
    "QuestionAnswer",
    "QuestionChoice",
    "QuestionKind",
    "QuestionSet",
    "RankingLevel",
    "RankingSet",
    "RankingTrigger",
    "Reward",
    "RewardCategory",
    "RewardCustomValue",
    "RewardEvent",
    "RewardEventKind",
    "RewardMasterType",
    "RewardStatus",
    "RewardTrigger",
    "RewardType",
    "SurveyTrigger",
    "Transaction",
    "TransactionBonus",
    "TransactionCustomValue",
    "TransactionLine",
    "TransactionStatus",
    "TransactionTrigger",
    "TransactionType",
]
