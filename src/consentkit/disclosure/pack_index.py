"""Per-pack lookups that ``decide()`` would otherwise redo on every call.

A pack is immutable once loaded, so which never-by-consent rule matches a (recipient,
purpose) and which obligations attach to a disclosure depend only on the pack and the
request: they are worked out once per pack object and then read from a dict. The cache
holds the pack itself, so an entry can never be confused with another pack that later
gets the same ``id()``; it is bounded, so a long-running process that loads many packs
(or asks for many category combinations) does not grow without limit.
"""

from __future__ import annotations

from datetime import date

from consentkit.consent.model import ConsentGrant, Grantor
from consentkit.consent.validate import grantor_problem
from consentkit.disclosure.model import ObligationItem
from consentkit.policy.model import NeverByConsent, Pack
from consentkit.subjects import age_on

__all__ = ["PackIndex", "pack_index"]

_MAX_PACKS = 64
_MAX_ENTRIES = 4096  # per table: recipients x purposes x permitted-category sets actually asked for


class PackIndex:
    """Memoised answers about one pack (pure: the same question always gets the same answer)."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        #: ``id@version``, recorded in every decision (a property that formats a string each time).
        self.ref = pack.ref
        self._never: dict[tuple[str, str], NeverByConsent | None] = {}
        self._obligations: dict[tuple[str, str, str, frozenset[str]], tuple[ObligationItem, ...]] = {}
        # Without a consent rule that names grantors, whether a grantor may consent depends
        # only on the grantor and the client's age when the consent was given (grantor_problem).
        self._grantor_by_age = not any(rule.grantors is not None for rule in pack.consent.rules)
        self._grantors: dict[tuple[Grantor, int | None, int | None], bool] = {}

    def never(self, recipient: str, purpose: str) -> NeverByConsent | None:
        """The first rule saying consent cannot authorise this recipient for this purpose, or ``None``."""
        key = (recipient, purpose)
        try:
            return self._never[key]
        except KeyError:
            pass
        found = next((n for n in self.pack.never_by_consent if n.matches(recipient, purpose)), None)
        if len(self._never) < _MAX_ENTRIES:
            self._never[key] = found
        return found

    def grantor_valid(self, grant: ConsentGrant, birth_date: date | None) -> bool:
        """Whether the grantor could give ``grant`` for a client born on ``birth_date`` (``grantor_problem``)."""
        if not self._grantor_by_age:
            return grantor_problem(self.pack, grant, birth_date) is None
        # The ages on the grant's grantor_days (given, recorded), inlined: this runs per consent per check.
        key: tuple[Grantor, int | None, int | None] = (grant.grantor, None, None)
        if birth_date is not None:
            given, recorded = grant.given_on(), grant.recorded_at.date()
            age = age_on(birth_date, given)
            key = (grant.grantor, age, age if recorded == given else age_on(birth_date, recorded))
        try:
            return self._grantors[key]
        except KeyError:
            pass
        valid = grantor_problem(self.pack, grant, birth_date) is None
        if len(self._grantors) < _MAX_ENTRIES:
            self._grantors[key] = valid
        return valid

    def obligations(self, basis: str, recipient: str, purpose: str,
                    categories: tuple[str, ...]) -> tuple[ObligationItem, ...]:
        """The pack's obligations attached to a disclosure of ``categories`` on this basis, in pack order."""
        key = (basis, recipient, purpose, frozenset(categories))
        try:
            return self._obligations[key]
        except KeyError:
            pass
        found = tuple(ObligationItem(o.id, o.kind, o.text.get("en", ""), None, o.cited.citation)
                      for o in self.pack.obligations if o.applies(basis, recipient, purpose, key[3]))
        if len(self._obligations) < _MAX_ENTRIES:
            self._obligations[key] = found
        return found


_INDEXES: dict[int, PackIndex] = {}


def pack_index(pack: Pack) -> PackIndex:
    """The index of ``pack`` (made on first use)."""
    index = _INDEXES.get(id(pack))
    if index is not None and index.pack is pack:
        return index
    if len(_INDEXES) >= _MAX_PACKS:
        _INDEXES.clear()
    index = _INDEXES[id(pack)] = PackIndex(pack)
    return index
