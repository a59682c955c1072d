"""The platform's operator image (``--build-arg SERVICE=platform``): every
service's manifest, so ``confide-bootstrap`` makes each one's database, Vault
keys, roles and policies. It runs no service itself; each service's image holds
only that service, and the gateway's holds no service at all."""
