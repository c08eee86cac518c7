"""Freeze cases: persistence, lifecycle, deadlines and audit trail (built in a later issue)."""
