"""Subjects (clients): the record, its personal fields and how they are sealed.

The subject id is a random UUID, never a national ID. Personal fields travel only as
ciphertext under the subject's own data key (see :mod:`consentkit.keys`); the database
holds a keyed blind index of the normalised national ID so a caseworker can find a client
without the number being stored in clear.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from consentkit.errors import InvalidInputError

__all__ = [
    "DEFAULT_ID_TYPE",
    "LANGUAGES",
    "PersonalData",
    "SubjectRecord",
    "age_on",
    "check_typed_line",
    "check_typed_person",
    "personal_aad",
]

#: Languages consentkit speaks to subjects in (notices, receipts, reports).
LANGUAGES = ("en", "el", "sv", "ru", "kk")

#: The national identifier a jurisdiction uses when the caller does not say.
DEFAULT_ID_TYPE = {
    "gr": "GR_AMKA",
    "se": "SE_PERSONNUMMER",
    "ru": "RU_SNILS",
    "kz": "KZ_IIN",
}

_MAX_TEXT = 200


@dataclass(frozen=True)
class PersonalData:
    """The personal fields of a subject; only ever stored sealed."""

    name: str
    birth_date: date
    national_id: str | None = None
    national_id_type: str | None = None
    contact: str | None = None
    other_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for label, text in (("name", self.name), ("contact", self.contact or "")):
            if len(text) > _MAX_TEXT or any(ord(ch) < 32 for ch in text):
                raise InvalidInputError(f"{label}: at most {_MAX_TEXT} characters, no control characters")
        if not self.name.strip():
            raise InvalidInputError("name: must not be empty")

    def to_bytes(self) -> bytes:
        """Canonical JSON bytes, the plaintext that gets sealed."""
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat()
        data["other_names"] = list(self.other_names)
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> PersonalData:
        """Inverse of :meth:`to_bytes`."""
        data = json.loads(raw)
        return cls(
            name=data["name"],
            birth_date=date.fromisoformat(data["birth_date"]),
            national_id=data.get("national_id"),
            national_id_type=data.get("national_id_type"),
            contact=data.get("contact"),
            other_names=tuple(data.get("other_names", ())),
        )

    @staticmethod
    def birth_date_from_bytes(raw: bytes) -> date:
        """``from_bytes(raw).birth_date`` without building the rest (a decision needs only the date).

        ``raw`` comes out of AES-GCM, so it is bytes :meth:`to_bytes` wrote for a valid
        instance: the field checks of ``__post_init__`` would pass again.
        """
        birth: str = json.loads(raw)["birth_date"]
        return date.fromisoformat(birth)

    @property
    def all_names(self) -> tuple[str, ...]:
        """The subject's name and other names, for known-entity redaction."""
        return (self.name, *self.other_names)


@dataclass(frozen=True)
class SubjectRecord:
    """A subject as the library returns it; ``personal`` is ``None`` once erased."""

    subject_id: str
    jurisdiction: str
    language: str
    created_at: datetime
    personal: PersonalData | None
    erased_at: datetime | None = None
    on_hold: bool = False

    @property
    def erased(self) -> bool:
        """True once the data key has been destroyed."""
        return self.erased_at is not None

    def public_view(self) -> dict[str, object]:
        """A JSON-ready view; personal fields read as ``None`` with status ``erased``."""
        person = self.personal
        return {
            "subject_id": self.subject_id,
            "jurisdiction": self.jurisdiction,
            "language": self.language,
            "created_at": self.created_at.isoformat(),
            "status": "erased" if self.erased else "active",
            "erased_at": self.erased_at.isoformat() if self.erased_at else None,
            "legal_hold": self.on_hold,
            "name": person.name if person else None,
            "birth_date": person.birth_date.isoformat() if person else None,
            "national_id": person.national_id if person else None,
            "national_id_type": person.national_id_type if person else None,
            "contact": person.contact if person else None,
            "other_names": list(person.other_names) if person else None,
        }


# Bidirectional formatting characters: they make a name display as something else
# (U+202E turns "Karin" into "niraK"), and no name needs them.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_typed_person(name: str, contact: str | None, other_names: tuple[str, ...]) -> None:
    """What a new record may hold, checked where it is typed: stricter than :class:`PersonalData`,
    which must keep reading records stored before these rules."""
    if not name.strip():
        raise InvalidInputError("--name: give the client's name")
    fields = [("--name", name), *([("--contact", contact)] if contact is not None else []),
              *(("--other-name", other) for other in other_names)]
    for label, text in fields:
        check_typed_line(label, text)


def check_typed_line(label: str, text: str) -> str:
    """A one-line value typed for a record (a name, a reference number): not blank, no line
    breaks, direction or other control characters (they let it pass for something else)."""
    if not text.strip():
        raise InvalidInputError(f"{label}: must not be empty (leave the option out instead)")
    if len(text) > _MAX_TEXT or any(ch in _BIDI or ord(ch) < 32 or ord(ch) == 0x7F for ch in text):
        raise InvalidInputError(f"{label}: at most {_MAX_TEXT} characters on one line, no direction or control "
                                "characters")
    return text


def personal_aad(subject_id: str) -> bytes:
    """Associated data binding sealed personal fields to their subject (no swapping rows)."""
    return f"consentkit/subject/v1|{subject_id}".encode()


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day`` (the birthday itself counts)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
