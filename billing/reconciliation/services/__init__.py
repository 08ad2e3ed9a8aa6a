"""Every write of reconciliation: imports of Partner Center files, matching, billing usage, Microsoft payables."""

from billing.reconciliation.services.imports import (
    ImportSubmission,
    reconciliation_import_create,
    reconciliation_import_run,
    reconciliation_import_submit,
)
from billing.reconciliation.services.payables import (
    microsoft_payable_choose,
    microsoft_payable_set,
    payable_default_due_date,
)
from billing.reconciliation.services.usage import (
    reconciliation_line_map,
    reconciliation_usage_bill,
    reconciliation_usage_release,
)

__all__ = [
    "ImportSubmission",
    "microsoft_payable_choose",
    "microsoft_payable_set",
    "payable_default_due_date",
    "reconciliation_import_create",
    "reconciliation_import_run",
    "reconciliation_import_submit",
    "reconciliation_line_map",
    "reconciliation_usage_bill",
    "reconciliation_usage_release",
]
