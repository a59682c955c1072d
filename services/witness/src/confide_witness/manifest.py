from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="witness",
    service="confide_witness.service:WitnessService",
    migrations="confide_witness:migrations",
    # its cosigning key: a Vault transit key only the witness's identity may sign with (no audit identity can)
    signing_keys=("witness-cosigning",),
    # it moves a log's latest cosigned checkpoint forward and keeps evidence; it never deletes
    table_privileges="SELECT, INSERT, UPDATE",
    config={"WEB_SERVER_ADDRESS": "127.0.0.1:8010", "WITNESS_KEY": "witness-cosigning",
            "WITNESS_NAME": "confide.local/witness"},
    local_settings="confide_witness.local:local_settings",
)
