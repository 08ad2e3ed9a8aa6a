"""Sending issued invoices and credit notes over Peppol through an access point (Storecove)."""
