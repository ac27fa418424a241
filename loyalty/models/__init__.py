"""The loyalty program's data: the domain the syncs export.

Split by area (members, contacts, points, ...); everything is imported here so that
``webapp.models`` (and so Alembic and ``create_all``) sees every table. Query helpers
that exporters use live beside the models: ``changefeed`` (the change log's read side)
and ``primary`` (primary account id / email / mobile phone rules).
"""

from loyalty.models.campaigns import Campaign, CampaignMember, Promotion, PromotionMember
from loyalty.models.cases import Case, CaseCategory, CaseDescriptor, CaseEvent, CaseQueue
from loyalty.models.change_log import (
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
from loyalty.models.contacts import (
    AccountId,
    AccountIdType,
    MemberAddress,
    MemberEmail,
    MemberPhone,
)
from loyalty.models.custom_fields import (
    CustomFieldDefinition,
    LocationCustomValue,
    MemberCustomValue,
    ProductCustomValue,
    RewardCustomValue,
    TransactionCustomValue,
)
from loyalty.models.descriptors import Descriptor, DescriptorAssignment
from loyalty.models.enums import (
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
from loyalty.models.interactions import Interaction, InteractionEvent, InteractionType
from loyalty.models.locations import BusinessUnit, Location, PosCategory
from loyalty.models.members import Club, ClubMembership, Household, Member, MemberChild
from loyalty.models.points import PointBalance, PointExpirationProjection, PointLedgerEntry
from loyalty.models.products import MemberProductPurchase, Product
from loyalty.models.rankings import MemberRanking, MemberRfm, RankingLevel, RankingSet
from loyalty.models.rewards import Reward, RewardCategory, RewardEvent, RewardType
from loyalty.models.surveys import Question, QuestionAnswer, QuestionChoice, QuestionSet
from loyalty.models.transactions import (
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
