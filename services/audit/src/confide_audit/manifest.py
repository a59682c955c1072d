from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="audit",
    service="confide_audit.service:AuditService",
    migrations="confide_audit:migrations",
    signing_keys=("audit-checkpoints",),
    # append-only: the service's users may read and add, never change or remove
    # (its outbox excepted, which the relay marks as sent)
    table_privileges="SELECT, INSERT",
    extra_grants={"outbox": "SELECT, INSERT, UPDATE"},
    # the consistent-hash exchange and one single-active-consumer queue per chain
    broker_topology="confide_audit.ingest:broker_topology",
)
