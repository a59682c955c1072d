from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="scheduling",
    service="confide_scheduling.service:SchedulingService",
    migrations="confide_scheduling:migrations",
)
