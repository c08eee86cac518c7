"""Who may do what: permissions per role, as data, checked by every service function.

>>> may("support", "view_customer_status"), may("support", "view_case")
(True, False)
"""

from __future__ import annotations

from cases.errors import AccessDenied

PERMISSIONS: dict[str, frozenset[str]] = {
    "view_case": frozenset({"analyst", "supervisor", "admin"}),
    "view_customer_status": frozenset({"analyst", "supervisor", "support", "admin", "system"}),
    "work_case": frozenset({"analyst", "supervisor"}),
    "approve": frozenset({"supervisor"}),
    "view_deadlines": frozenset({"analyst", "supervisor", "admin"}),
    "recompute_deadlines": frozenset({"supervisor", "admin"}),
    "view_audit": frozenset({"supervisor", "admin"}),
    "manage_users": frozenset({"admin"}),
    "open_cases": frozenset({"system", "admin", "supervisor"}),
    "reply": frozenset({"analyst", "supervisor", "support"}),
    "approve_message": frozenset({"supervisor"}),
    "view_service_figures": frozenset({"supervisor", "admin"}),
    "rank_queue": frozenset({"system", "supervisor", "admin"}),
    "record_requests": frozenset({"analyst", "supervisor", "system"}),
}
"""permission -> the roles that have it. `system` is a service account, the one batch jobs act as."""


def may(role: str, permission: str) -> bool:
    """Whether a role has a permission."""
    return role in PERMISSIONS[permission]


def require(name: str, role: str, permission: str) -> None:
    """AccessDenied unless the role has the permission."""
    if not may(role, permission):
        raise AccessDenied(name, role, permission)
