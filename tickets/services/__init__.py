"""Every write of tickets. Import from here: `from tickets.services import ticket_create`."""

from tickets.services.attachments import ALLOWED_TYPES, attachment_check, attachment_store
from tickets.services.charges import (
    SupportBillingResult,
    support_charges_bill,
    support_charges_bill_all,
    time_entry_add,
)
from tickets.services.offering import HolidayInput, OfferingInput, support_offering_get, support_offering_update
from tickets.services.tickets import (
    CUSTOMER_TRANSITIONS,
    STAFF_ONLY,
    STAFF_TRANSITIONS,
    UNSET,
    TicketChanges,
    is_customer_user,
    is_staff_of,
    sla_due_times,
    ticket_change,
    ticket_create,
    ticket_message_add,
    ticket_status_change,
    ticket_update,
    tickets_assign,
)

__all__ = [
    "ALLOWED_TYPES",
    "CUSTOMER_TRANSITIONS",
    "STAFF_ONLY",
    "STAFF_TRANSITIONS",
    "UNSET",
    "HolidayInput",
    "OfferingInput",
    "SupportBillingResult",
    "TicketChanges",
    "attachment_check",
    "attachment_store",
    "is_customer_user",
    "is_staff_of",
    "sla_due_times",
    "support_charges_bill",
    "support_charges_bill_all",
    "support_offering_get",
    "support_offering_update",
    "ticket_change",
    "ticket_create",
    "ticket_message_add",
    "ticket_status_change",
    "ticket_update",
    "tickets_assign",
    "time_entry_add",
]
