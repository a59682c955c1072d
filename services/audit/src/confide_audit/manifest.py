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
    # each chain is a transparency log of its own: <log name>/chain/<n>, its checkpoints signed with the key
    config={"AUDIT_LOG_NAME": "confide.local/audit", "AUDIT_PARTITIONS": 4, "AUDIT_SIGNING_KEY": "audit-checkpoints"},
)
