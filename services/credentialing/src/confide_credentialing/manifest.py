from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="credentialing",
    service="confide_credentialing.service:CredentialingService",
    migrations="confide_credentialing:migrations",
)
