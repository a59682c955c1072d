from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="records",
    service="confide_records.service:RecordsService",
    migrations="confide_records:migrations",
    # note bodies and treatment plans; psychotherapy notes under a key of their own
    encryption_keys=("record-notes", "psychotherapy-notes"),
    # a draft left unsigned this long enters the unsigned-notes queue (the clinic's documentation policy)
    config={"NOTES_SIGN_WITHIN_HOURS": 72},
)
