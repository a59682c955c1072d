"""Who may practise what, where.

The catalogue (credential types with their scope of practice, service kinds,
interjurisdictional compacts) is data shipped with this package; the licensure
answer is a pure function over a clinician's licences and supervisions. The
credentialing service answers authoritatively from its own tables; scheduling
answers from its projection of credentialing's events -- both with this code.
"""

from confide_licensure.answer import Answer, License, Supervision, license_state, may_practice
from confide_licensure.catalogue import Catalogue, Compact, CredentialType, UnknownCode, catalogue
from confide_licensure.jurisdictions import InvalidJurisdiction, check_jurisdiction, jurisdiction_name

__all__ = [
    "Answer",
    "Catalogue",
    "Compact",
    "CredentialType",
    "InvalidJurisdiction",
    "License",
    "Supervision",
    "UnknownCode",
    "catalogue",
    "check_jurisdiction",
    "jurisdiction_name",
    "license_state",
    "may_practice",
]
