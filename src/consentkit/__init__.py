"""consentkit keeps the confidentiality promises of social and addiction services.

The public API is what ``__all__`` lists. Heavy modules (SQLAlchemy, presidio) load only
when a name that needs them is first used, so importing consentkit stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from consentkit.errors import (
    AuditIntegrityError,
    ConfigurationError,
    ConsentKitError,
    ErasedError,
    IntegrityError,
    InvalidInputError,
    KeyStoreError,
    NotFoundError,
    OperationRefusedError,
    PermissionDeniedError,
    ReceiptError,
    SchemaOutdatedError,
    StorageError,
    ValidationError,
    WrongKeyError,
)

if TYPE_CHECKING:
    from consentkit.clock import Clock, FixedClock, SystemClock
    from consentkit.kit import ConsentKit
    from consentkit.subjects import PersonalData, SubjectRecord
    from consentkit.types import Role

__version__ = "0.1.0"

_LAZY = {
    "ConsentKit": "consentkit.kit",
    "Clock": "consentkit.clock",
    "FixedClock": "consentkit.clock",
    "SystemClock": "consentkit.clock",
    "PersonalData": "consentkit.subjects",
    "SubjectRecord": "consentkit.subjects",
    "Role": "consentkit.types",
}

__all__ = [
    "AuditIntegrityError",
    "Clock",
    "ConfigurationError",
    "ConsentKit",
    "ConsentKitError",
    "ErasedError",
    "FixedClock",
    "IntegrityError",
    "InvalidInputError",
    "KeyStoreError",
    "NotFoundError",
    "OperationRefusedError",
    "PermissionDeniedError",
    "PersonalData",
    "ReceiptError",
    "Role",
    "SchemaOutdatedError",
    "StorageError",
    "SubjectRecord",
    "SystemClock",
    "ValidationError",
    "WrongKeyError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'consentkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
