"""The gateway: the one HTTP entry. It authenticates the caller (JWT bearer
tokens checked against a JWKS), passes their identity on to the services (which
decide), turns errors into RFC 9457 problem details, and honours
``Idempotency-Key`` on every POST that creates something."""

__version__ = "0.1.0"
