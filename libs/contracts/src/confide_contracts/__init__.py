"""What services and their callers agree on, in one library each side imports:

- the event schemas (``billing``, ``credentialing``, ``records``, ``scheduling``): a
  producer and its consumers validate against one definition (DESIGN.md, Events);
  importing this package registers them in ``confide_events.registry``. A
  service's events no other service consumes stay in the service
  (``audit.checkpoint.signed``); access events live in ``confide_access``;
- the RPC request schemas (``rpc.<service>``), which the services load and the
  gateway documents, with ``rpc.formats`` for what JSON Schema states of them;
- the errors a service raises on purpose (``errors``);
- shared codes and vocabulary (``codes``, ``vocabulary``, ``time_zones``), the audit
  export formats (``audit_export``) and consumer-side projections (``projections``).
"""

from confide_contracts import billing, credentialing, records, scheduling

__all__ = ["billing", "credentialing", "records", "scheduling"]
