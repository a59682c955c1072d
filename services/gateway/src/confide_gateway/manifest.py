from confide_client.devtokens import AUDIENCE, ISSUER
from confide_runtime import ServiceManifest

SERVICE = ServiceManifest(
    name="gateway",
    service="confide_gateway.service:GatewayService",
    migrations="confide_gateway:migrations",
    encryption_keys=("console-sessions",),  # the identity provider's tokens of the console's sessions
    # DESIGN.md: the gateway listens on http://127.0.0.1:8000 unless told otherwise
    # (CONFIDE_WEB_SERVER_ADDRESS); a clinic network sets CONFIDE_GATEWAY_JWKS,
    # _ISSUER and _AUDIENCE to its identity provider's
    config={"WEB_SERVER_ADDRESS": "127.0.0.1:8000", "GATEWAY_ISSUER": ISSUER, "GATEWAY_AUDIENCE": AUDIENCE},
    local_settings="confide_client.devtokens:local_settings",
    on_ready="confide_client.demo:on_stack_ready",
)
