"""Customers pay online: a payment provider boundary (Stripe, and a demo provider inside the portal),
checkout for an invoice or the overdue balance, pay links, and webhooks that record what was paid."""
