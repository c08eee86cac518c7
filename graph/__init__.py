"""Provenance of deposits: transfers, the inbound index, and exposure to flagged wallets."""
