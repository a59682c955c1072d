from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="records",
    service="confide_records.service:RecordsService",
    migrations="confide_records:migrations",
    # note bodies and treatment plans; psychotherapy notes under a key of their own
    encryption_keys=("record-notes", "psychotherapy-notes"),
)
