"""Who may do what: the permission each sensitive operation needs, by role.

``admin`` holds every permission: small services often have one person who runs the
installation and also sees clients, and every action is audited with its actor anyway.
The split between the other roles follows the duties they carry: caseworkers register
clients and record consent, supervisors approve overrides and erasures, the DPO audits.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from consentkit.errors import PermissionDeniedError
from consentkit.types import Role

__all__ = ["Permission", "allowed_roles", "require"]


class Permission(StrEnum):
    """Operations that check the actor's roles."""

    SUBJECT_WRITE = "subject.write"
    SUBJECT_READ = "subject.read"
    SUBJECT_ERASE = "subject.erase"
    SUBJECT_HOLD = "subject.hold"
    CONSENT_WRITE = "consent.write"
    DISCLOSURE_CHECK = "disclosure.check"
    OVERRIDE_USE = "override.use"
    OVERRIDE_REVIEW = "override.review"
    REIDENTIFY = "pseudonym.reidentify"
    EXPORT = "pseudonym.export"
    AUDIT_READ = "audit.read"
    AUDIT_READ_PERSONAL = "audit.read-personal"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    REPORT_SUBJECT = "report.subject"
    REPORT_DPO = "report.dpo"
    ACTOR_MANAGE = "actor.manage"
    KEY_ROTATE = "keys.rotate"


_C, _S, _D = Role.CASEWORKER, Role.SUPERVISOR, Role.DPO

_TABLE: dict[Permission, frozenset[Role]] = {
    Permission.SUBJECT_WRITE: frozenset({_C, _S}),
    Permission.SUBJECT_READ: frozenset({_C, _S, _D}),
    Permission.SUBJECT_ERASE: frozenset({_S, _D}),
    Permission.SUBJECT_HOLD: frozenset({_S, _D}),
    Permission.CONSENT_WRITE: frozenset({_C, _S}),
    Permission.DISCLOSURE_CHECK: frozenset({_C, _S, _D}),
    Permission.OVERRIDE_USE: frozenset({_S}),
    Permission.OVERRIDE_REVIEW: frozenset({_D}),
    Permission.REIDENTIFY: frozenset({_S, _D}),
    Permission.EXPORT: frozenset({_S, _D}),
    Permission.AUDIT_READ: frozenset({_S, _D}),
    Permission.AUDIT_READ_PERSONAL: frozenset({_D}),
    Permission.AUDIT_CHECKPOINT: frozenset({_S, _D}),
    Permission.REPORT_SUBJECT: frozenset({_S, _D}),
    Permission.REPORT_DPO: frozenset({_D}),
    Permission.ACTOR_MANAGE: frozenset(),
    Permission.KEY_ROTATE: frozenset(),
}


def allowed_roles(permission: Permission) -> frozenset[Role]:
    """Every role that holds ``permission`` (admin always does)."""
    return _TABLE[permission] | {Role.ADMIN}


def require(held: Iterable[Role], permission: Permission, *, actor: str) -> None:
    """Raise :class:`PermissionDeniedError` unless one of ``held`` grants ``permission``."""
    roles = allowed_roles(permission)
    if roles & set(held):
        return
    needed = ", ".join(sorted(roles))
    raise PermissionDeniedError(
        f"actor {actor} may not {permission.value}: it needs one of the roles {needed} "
        f"(an admin can grant one with `consentkit actor add --id {actor} --role ROLE`)"
    )
