"""Invoicing pages, one module per subject: invoices and credit notes, payments, bulk PDF exports."""
