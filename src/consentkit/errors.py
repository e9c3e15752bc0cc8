"""The one exception tree of consentkit.

Every error the library raises on purpose is a :class:`ConsentKitError`. Each class
also subclasses the builtin it resembles, so ``except LookupError`` keeps working
for callers who do not know consentkit. Errors never print and never exit: the CLI
maps :attr:`ConsentKitError.exit_code` to the process exit status in one place.

Messages name what to fix (file, field, allowed values) and never contain personal
data, free text or key material. Failures that depend on a secret (a bad receipt
signature, a token that does not decrypt) stay deliberately opaque.

::

    ConsentKitError (Exception)                          exit 1
    ├── InvalidInputError (ValueError)                   a value the user gave is malformed
    │   └── ValidationError                              a document (pack, schema, consent) fails its rules
    ├── NotFoundError (LookupError)                      unknown subject, consent, pack, actor...
    ├── ConfigurationError                               the installation is unusable as configured
    │   ├── KeyStoreError (OSError)                      key file missing, unreadable, corrupt, too open
    │   ├── WrongKeyError                                the keys do not belong to this database
    │   └── SchemaOutdatedError                          the database schema is behind: run `consentkit init`
    ├── StorageError (OSError)                           the database cannot be reached or written
    ├── PermissionDeniedError (PermissionError)          the actor's roles do not allow the operation
    ├── OperationRefusedError                            a rule or record forbids it (legal hold...)
    ├── ErasedError                                      the subject's data key was destroyed
    └── IntegrityError                                   exit 4: tampering or a bad signature
        ├── AuditIntegrityError                          the audit trail does not verify
        └── ReceiptError                                 a consent receipt does not verify
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuditIntegrityError",
    "ConfigurationError",
    "ConsentKitError",
    "ErasedError",
    "IntegrityError",
    "InvalidInputError",
    "KeyStoreError",
    "NotFoundError",
    "OperationRefusedError",
    "PermissionDeniedError",
    "ReceiptError",
    "SchemaOutdatedError",
    "StorageError",
    "ValidationError",
    "WrongKeyError",
]


class ConsentKitError(Exception):
    """Base of every error consentkit raises on purpose."""

    #: The process exit status the CLI uses for this error.
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInputError(ConsentKitError, ValueError):
    """A value given by the user is malformed (a date, an id, an option)."""


class ValidationError(InvalidInputError):
    """A document fails its rules; ``problems`` lists each one for the user to fix."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return f"{self.message}: " + "; ".join(self.problems)


class NotFoundError(ConsentKitError, LookupError):
    """A subject, consent, pack, actor or other record does not exist."""


class ConfigurationError(ConsentKitError):
    """The installation cannot be used as configured."""


class KeyStoreError(ConfigurationError, OSError):
    """A key file is missing, unreadable, corrupt or readable by others."""


class WrongKeyError(ConfigurationError):
    """The keys given do not belong to this database."""


class SchemaOutdatedError(ConfigurationError):
    """The database schema is missing or behind this version of consentkit."""


class StorageError(ConsentKitError, OSError):
    """The database cannot be reached, read or written."""


class PermissionDeniedError(ConsentKitError, PermissionError):
    """The acting person's roles do not allow this operation."""


class OperationRefusedError(ConsentKitError):
    """The operation is well formed but a rule or a record forbids it."""


class ErasedError(ConsentKitError):
    """The subject was erased: their personal data can no longer be read."""


class IntegrityError(ConsentKitError):
    """Evidence of tampering, or a signature that does not verify."""

    exit_code: ClassVar[int] = 4


class AuditIntegrityError(IntegrityError):
    """The audit trail does not verify.

    ``seq`` is the first bad entry (when one can be named) and ``kind`` the damage:
    ``changed``, ``deleted``, ``inserted``, ``reordered``, ``truncated``, ``forged-checkpoint``,
    ``re-signed``, ``unknown-key``, ``key-destroyed``, ``key-restored``, ``forged-head``, or
    ``malformed`` (a line of an export or proof file was damaged so that it no longer parses).
    ``line`` is the line of the file being verified, when the damage is in a file.
    """

    def __init__(self, message: str, *, kind: str, seq: int | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.seq = seq
        self.line = line


class ReceiptError(IntegrityError):
    """A consent receipt failed verification (one opaque reason for every crypto failure)."""
