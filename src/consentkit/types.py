"""Small shared value types: identifiers and the fixed vocabularies of the core."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum

from consentkit.errors import InvalidInputError

__all__ = [
    "ACTOR_ID_PATTERN",
    "MAX_REASON",
    "Role",
    "check_actor_id",
    "check_reason",
    "check_subject_id",
    "shown_terms",
]

#: Actor ids are staff logins or system names; no spaces or control characters, so they
#: can stand in an audit line unescaped.
ACTOR_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}")


class Role(StrEnum):
    """Roles an actor can hold. ``admin`` holds every permission of the others."""

    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    DPO = "dpo"
    ADMIN = "admin"


#: What a vocabulary term looks like (``substance-use``, ``treatment-provider``): only such a
#: value is repeated in an error; anything else typed there may be a name or free text.
_TERM = re.compile(r"[a-z0-9][a-z0-9._-]{0,47}")


def shown_terms(values: list[str] | set[str] | tuple[str, ...]) -> str:
    """``values`` for an error message: the ones shaped like vocabulary terms, the rest counted, never shown."""
    terms = sorted(v for v in values if _TERM.fullmatch(v))
    hidden = len(values) - len(terms)
    if hidden:
        terms.append(f"{hidden} value{'s' if hidden > 1 else ''} not shown (not a term: it may be personal)")
    return ", ".join(terms)


#: The longest free-text reason (a withdrawal, a legal hold, a re-identification) accepted.
MAX_REASON = 2000


def check_reason(value: str, option: str, why: str) -> str:
    """A free-text reason as typed: not empty, at most MAX_REASON characters, no control characters
    but line breaks and tabs. ``why`` says what the reason should tell (for the empty case)."""
    if not value.strip():
        raise InvalidInputError(f"{option}: {why}")
    if len(value) > MAX_REASON or any((ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 0x7F for ch in value):
        raise InvalidInputError(f"{option}: at most {MAX_REASON} characters, no control characters")
    return value


def check_actor_id(value: str) -> str:
    """Return ``value`` if it is a well-formed actor id, else raise with the rule."""
    if not ACTOR_ID_PATTERN.fullmatch(value):
        raise InvalidInputError(
            "actor id: use 1-128 letters, digits and . _ @ : + - (starting with a letter or digit)"
        )
    return value


def check_subject_id(value: str) -> str:
    """Return the canonical form of a subject id (a UUID), else raise."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidInputError(
            "subject id: expected a UUID such as 3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b"
        ) from None
