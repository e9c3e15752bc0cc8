"""Policy packs: one jurisdiction's rules as data (YAML validated against a JSON Schema),
with citations, merged through ``extends`` and hashed into every decision."""

from consentkit.policy.loader import PackLibrary
from consentkit.policy.model import Cited, ConsentPolicy, ConsentRule, NeverByConsent, Obligation, Override, Pack

__all__ = ["Cited", "ConsentPolicy", "ConsentRule", "NeverByConsent", "Obligation", "Override", "Pack",
           "PackLibrary"]
