"""marshmallow fields for the licensure vocabulary, so every service checks a
jurisdiction, credential type or service kind the same way (errors name the field)."""

from __future__ import annotations

from marshmallow import ValidationError, fields

from confide_licensure.catalogue import UnknownCode, catalogue
from confide_licensure.jurisdictions import InvalidJurisdiction, check_jurisdiction


class Jurisdiction(fields.String):
    """An ISO 3166-2 subdivision code such as ``US-NY``."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_jurisdiction(code)
        except InvalidJurisdiction as exc:
            raise ValidationError(str(exc)) from None


class CredentialType(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        try:
            return catalogue().credential_type(code).code
        except UnknownCode as exc:
            raise ValidationError(str(exc)) from None


class ServiceKind(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        try:
            return catalogue().service_kind(code)
        except UnknownCode as exc:
            raise ValidationError(str(exc)) from None
