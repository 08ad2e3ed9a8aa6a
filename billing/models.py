"""Billing's models, defined in its parts and imported here so Django finds them under the one app
label `billing` (the label comes from the app that contains each module; the tables and migrations
stay as they were).

Code imports a model from its part (`from billing.invoicing.models import Invoice`), never from here:
the parts are layered (pyproject.toml, docs/architecture.md) and this module imports them all.
"""

from billing.collections.models import (
    DEFAULT_STEPS,
    CollectionLease,
    CollectionPolicy,
    CollectionRun,
    CollectionStep,
    CustomerCollections,
    CustomerDunning,
    InvoiceDunning,
    Notice,
    NoticeTemplate,
)
from billing.invoicing.models import (
    ZERO,
    CreditNote,
    ExportJob,
    ExportPart,
    IdempotencyKey,
    Invoice,
    InvoiceLine,
    NumberSeries,
    Payment,
    PaymentAllocation,
    Refund,
)
from billing.payments_online.models import (
    AutopayAttempt,
    OnlineCheckout,
    PaymentProviderAccount,
    ProviderEvent,
    SavedCard,
)
from billing.peppol.models import AccessPointAccount, EInvoiceSubmission, SubmissionEvent
from billing.reconciliation.models import MicrosoftPayable, ReconciliationImport, ReconciliationLine

__all__ = [
    "DEFAULT_STEPS",
    "ZERO",
    "AccessPointAccount",
    "AutopayAttempt",
    "CollectionLease",
    "CollectionPolicy",
    "CollectionRun",
    "CollectionStep",
    "CreditNote",
    "CustomerCollections",
    "CustomerDunning",
    "EInvoiceSubmission",
    "ExportJob",
    "ExportPart",
    "IdempotencyKey",
    "Invoice",
    "InvoiceDunning",
    "InvoiceLine",
    "MicrosoftPayable",
    "Notice",
    "NoticeTemplate",
    "NumberSeries",
    "OnlineCheckout",
    "Payment",
    "PaymentAllocation",
    "PaymentProviderAccount",
    "ProviderEvent",
    "ReconciliationImport",
    "ReconciliationLine",
    "Refund",
    "SavedCard",
    "SubmissionEvent",
]
