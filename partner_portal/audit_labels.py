"""How each audit action reads on the staff pages. Unknown actions show as they are recorded."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "auth.signed_in": _("Signed in"),
    "auth.sign_in_failed": _("Sign-in failed"),
    "auth.locked_out": _("Sign-in refused: too many failed attempts"),
    "auth.token_issued": _("API token issued"),
    "auth.token_revoked": _("API token revoked"),
    "auth.tokens_revoked": _("All API tokens revoked"),
    "customer.created": _("Customer created"),
    "customer.updated": _("Customer details updated"),
    "partner.updated": _("Partner details updated"),
    "invitation.sent": _("Invitation sent"),
    "invitation.accepted": _("Invitation accepted"),
    "invitation.resent": _("Invitation sent again"),
    "invitation.revoked": _("Invitation revoked"),
    "member.role_changed": _("Member's role changed"),
    "member.deactivated": _("Member deactivated"),
    "member.reactivated": _("Member reactivated"),
    "invoice.drafted": _("Invoice drafted"),
    "invoice.draft_updated": _("Draft updated"),
    "invoice.draft_deleted": _("Draft deleted"),
    "invoice.issued": _("Invoice issued"),
    "invoice.sent": _("Invoice emailed"),
    "invoice.voided": _("Invoice voided"),
    "payment.recorded": _("Payment recorded"),
    "payment.voided": _("Payment voided"),
    "payment.refunded": _("Payment refunded"),
    "credit.applied": _("Customer credit applied"),
    "credit_note.issued": _("Credit note issued"),
    "export.requested": _("PDF export requested"),
    "microsoft_payable.set": _("Microsoft payable entered"),
    "microsoft_payable.imported": _("Microsoft payable imported"),
    "microsoft_payable.chosen": _("Microsoft payable amount chosen"),
    "reconciliation.uploaded": _("Reconciliation file uploaded"),
    "reconciliation.imported": _("Reconciliation file imported"),
    "reconciliation.refused": _("Reconciliation file refused"),
    "reconciliation.mapped": _("Reconciliation line mapped"),
    "reconciliation.usage_billed": _("Usage billed"),
    "collections.policy_updated": _("Collections policy updated"),
    "collections.hold_granted": _("Customer held out of collections"),
    "collections.notice_sent": _("Collections notice sent"),
    "collections.notice_uncertain": _("Collections notice sent or not: to check in the mail log"),
    "collections.notice_marked_sent": _("Collections notice marked as sent"),
    "collections.notice_sent_again": _("Collections notice sent again"),
    "collections.run_finished": _("Collections run finished"),
    "collections.run_interrupted": _("Collections run interrupted: closed by the next run"),
    "collections.notice_template_saved": _("Notice wording changed"),
    "collections.notice_template_reset": _("Notice wording reset to the default"),
    "collections.notice_template_test_sent": _("Test notice emailed to staff"),
    "collections.suspension_requested": _("Suspension requested by collections"),
    "collections.reactivation_requested": _("Reactivation requested by collections"),
    "subscription.created": _("Subscription created"),
    "subscription.updated": _("Subscription updated"),
    "subscription.quantity_changed": _("Subscription quantity changed"),
    "subscription.suspension_requested": _("Suspension requested"),
    "subscription.reactivation_requested": _("Reactivation requested"),
    "subscription.suspended": _("Subscription suspended"),
    "subscription.reactivated": _("Subscription reactivated"),
    "subscription.cancellation_requested": _("Cancellation requested at Microsoft"),
    "subscription.cancelled": _("Subscription cancelled at Microsoft"),
    "partner_center.synced": _("Customers and subscriptions read from Partner Center"),
    "partner_center.sync_requested": _("Sync from Partner Center requested"),
    "partner_center.sync_failed": _("Sync from Partner Center failed"),
    "subscription.difference_resolved": _("Difference from Microsoft settled"),
    "subscription.azure_step_done": _("Azure Resource Manager step recorded"),
    "subscription.change_failed": _("Partner Center change failed"),
    "subscription.change_retried": _("Partner Center change retried"),
    "partner_center.account_set": _("Partner Center account updated"),
    "support_offering.updated": _("Support offering updated"),
    "support.charges_billed": _("Support charges billed"),
    "support.plan_charges_billed": _("Support plan charges billed"),
    "support_plan.updated": _("Support plan saved"),
    "customer.support_plan_changed": _("Customer's support plan changed"),
    "canned_reply.created": _("Canned reply created"),
    "canned_reply.updated": _("Canned reply changed"),
    "canned_reply.deleted": _("Canned reply deleted"),
    "knowledge_article.created": _("Knowledge base article created"),
    "knowledge_article.updated": _("Knowledge base article changed"),
    "knowledge_article.published": _("Knowledge base article published"),
    "knowledge_article.unpublished": _("Knowledge base article unpublished"),
    "knowledge_article.deleted": _("Knowledge base article deleted"),
    "payments.account_set": _("Payment provider account updated"),
    "payments.checkout_started": _("Card payment started"),
    "payments.online_paid": _("Card payment received"),
    "payments.disputed": _("Card payment disputed"),
    "payments.card_saved": _("Card saved for autopay"),
    "payments.card_removed": _("Saved card removed"),
    "payments.autopay_on": _("Autopay turned on"),
    "payments.autopay_off": _("Autopay turned off"),
    "payments.autopay_failed": _("Autopay charge failed"),
    "payments.autopay_paid": _("Autopay charge received"),
    "ticket.created": _("Ticket opened"),
    "ticket.updated": _("Ticket updated"),
    "ticket.assigned": _("Ticket assigned"),
    "ticket.replied": _("Ticket reply"),
    "ticket.note_added": _("Internal note added"),
    "ticket.status_changed": _("Ticket status changed"),
    "ticket.time_recorded": _("Time recorded"),
    "ticket.rated": _("Ticket rated by the customer"),
    "entitlement.created": _("Support entitlement recorded"),
    "entitlement.updated": _("Support entitlement updated"),
    "entitlement.ended": _("Support entitlement ended"),
    "escalation.created": _("Escalated to Microsoft"),
    "escalation.updated": _("Microsoft case updated"),
    "support_mailbox.saved": _("Support mailbox settings saved"),
    "support_mailbox.tested": _("Support mailbox connection tested"),
    "support_mailbox.email_read": _("Email read from the support mailbox"),
    "support_mailbox.email_accepted": _("Quarantined email accepted as a ticket"),
    "support_mailbox.email_dropped": _("Quarantined email dropped"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


# Areas of the audit log's action filter: the first part of an action's name.
AREA_LABELS: dict[str, Promise] = {
    "auth": _("Sign-in"),
    "customer": _("Customers"),
    "partner": _("Partner settings"),
    "invitation": _("Team"),
    "member": _("Team"),
    "invoice": _("Invoices"),
    "payment": _("Payments"),
    "credit": _("Payments"),
    "payments": _("Payments"),
    "credit_note": _("Invoices"),
    "export": _("Invoices"),
    "microsoft_payable": _("Reconciliation"),
    "reconciliation": _("Reconciliation"),
    "collections": _("Collections"),
    "subscription": _("Subscriptions"),
    "partner_center": _("Subscriptions"),
    "support_offering": _("Tickets"),
    "support_plan": _("Tickets"),
    "canned_reply": _("Tickets"),
    "knowledge_article": _("Tickets"),
    "support": _("Tickets"),
    "ticket": _("Tickets"),
    "escalation": _("Escalations"),
    "entitlement": _("Escalations"),
}


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The known actions grouped by area, in the active language, for a filter's `<select>`."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for action, label in ACTION_LABELS.items():
        area = AREA_LABELS.get(action.split(".")[0])
        groups.setdefault(str(area) if area is not None else _other(), []).append((action, str(label)))
    return [(area, sorted(actions, key=lambda choice: choice[1])) for area, actions in sorted(groups.items())]


def _other() -> str:
    return str(_("Other"))
