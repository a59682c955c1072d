"""The credentialing service: clinicians, licences per jurisdiction with their
primary-source verification, supervision, expiry notices, and the licensure
answer (``confide_licensure``) from the authoritative records."""
