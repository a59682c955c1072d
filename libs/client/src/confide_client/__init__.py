"""Confide's client side: the ``confide`` command, the demo network loader and
the development token issuer. It speaks to the platform over HTTP through the
gateway, as any client would, and depends on no service."""
