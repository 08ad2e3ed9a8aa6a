"""Escalation models. Their issue has not landed yet; the app is registered so the layout holds."""
