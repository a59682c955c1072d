from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="billing",
    service="confide_billing.service:BillingService",
    migrations="confide_billing:migrations",
)
