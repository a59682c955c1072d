"""The records service: the clinical record, encrypted with Vault transit,
minimum-necessary, and audited on every access (see ``service.py``)."""
