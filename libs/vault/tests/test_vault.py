import base64
import time

import hvac
import pytest
from confide_persistence import create_engine
from confide_testing import random_id
from confide_vault import DynamicDatabaseCredentials, Transit, VaultClient, VaultError
from confide_vault.bootstrap import ServiceSpec, bootstrap
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text


@pytest.fixture
def vault_setup(vault_client, vault_mount, app_database):
    """Bootstrap one service against fresh mounts, as `make run` does."""
    transit = vault_mount("transit")
    database = vault_mount("database")
    approle = random_id("approle").replace("-", "_")
    vault_client.hvac.sys.enable_auth_method("approle", path=approle)
    service = random_id("svc").replace("-", "_")
    spec = ServiceSpec(
        name=service,
        database=app_database["name"],
        encryption_keys=(f"{service}-notes",),
        signing_keys=(f"{service}-checkpoints",),
        app_role=app_database["group"],
    )
    ids = bootstrap(
        vault_client.hvac, [spec], transit_mount=transit, database_mount=database,
        approle_mount=approle, lease_ttl="60s", max_lease_ttl="1h",
    )
    yield {"spec": spec, "transit": transit, "database": database, "approle": approle, "ids": ids[service]}
    vault_client.hvac.sys.disable_auth_method(approle)


def service_client(dev_vault, setup) -> VaultClient:
    return VaultClient.from_env({
        "VAULT_ADDR": dev_vault.addr, "VAULT_CACERT": dev_vault.ca,
        "VAULT_ROLE_ID": setup["ids"]["VAULT_ROLE_ID"],
        "VAULT_SECRET_ID": setup["ids"]["VAULT_SECRET_ID"],
        "VAULT_APPROLE_MOUNT": setup["approle"],
    })


def test_approle_login_gets_only_its_policy(dev_vault, vault_setup, vault_client):
    client = service_client(dev_vault, vault_setup)
    assert client.token_ttl() > 0
    assert client.renew_token() > 0
    transit = Transit(client, vault_setup["transit"])
    key = vault_setup["spec"].encryption_keys[0]
    assert transit.decrypt(key, transit.encrypt(key, b"hello")) == b"hello"
    # a key this service was not given
    Transit(vault_client, vault_setup["transit"]).create_key("someone-else")
    with pytest.raises(VaultError, match="transit encrypt failed"):
        transit.encrypt("someone-else", b"x")


def test_bad_approle_secret_is_refused(dev_vault, vault_setup):
    with pytest.raises(VaultError, match="AppRole login"):
        VaultClient.from_env({
            "VAULT_ADDR": dev_vault.addr, "VAULT_CACERT": dev_vault.ca,
            "VAULT_ROLE_ID": vault_setup["ids"]["VAULT_ROLE_ID"],
            "VAULT_SECRET_ID": "wrong",
            "VAULT_APPROLE_MOUNT": vault_setup["approle"],
        })


def test_missing_settings_are_named():
    with pytest.raises(VaultError, match="VAULT_ADDR"):
        VaultClient.from_env({})
    with pytest.raises(VaultError, match="VAULT_SECRET_ID"):
        VaultClient.from_env({"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_ROLE_ID": "x"})


def test_dynamic_credentials_issued_renewed_and_replaced_after_revocation(
    dev_vault, vault_setup, vault_client, app_database
):
    client = service_client(dev_vault, vault_setup)
    creds = DynamicDatabaseCredentials(client, vault_setup["spec"].name, mount=vault_setup["database"])
    engine = create_engine(app_database["url"], credentials=creds, pool_size=2)
    rotations = []
    creds.on_rotate.append(lambda lease: (rotations.append(lease.username), engine.dispose()))
    try:
        with engine.begin() as conn:
            first_user = conn.execute(text("SELECT current_user")).scalar_one()
            conn.execute(text("INSERT INTO notes (body) VALUES ('one')"))
        assert first_user == creds.lease.username
        assert first_user.startswith("v-")

        assert creds.renew() > 0
        assert creds.lease.username == first_user

        # an operator (or Vault, at max TTL) revokes the lease: the user is dropped
        vault_client.hvac.sys.revoke_lease(lease_id=creds.lease.lease_id)

        # the next call succeeds, as a new user
        with engine.begin() as conn:
            second_user = conn.execute(text("SELECT current_user")).scalar_one()
            conn.execute(text("INSERT INTO notes (body) VALUES ('two')"))
            assert conn.execute(text("SELECT count(*) FROM notes")).scalar_one() == 2
        assert second_user != first_user
        assert rotations == [second_user]

        # renewing a revoked lease also replaces the credentials
        vault_client.hvac.sys.revoke_lease(lease_id=creds.lease.lease_id)
        creds.renew()
        assert creds.lease.username not in (first_user, second_user)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == creds.lease.username
    finally:
        engine.dispose()
        creds.close()


def test_transit_round_trip_rotation_and_rewrap(vault_client, vault_mount):
    transit = Transit(vault_client, vault_mount("transit"))
    transit.create_key("notes")
    old = transit.encrypt("notes", b"Client reports better sleep.")
    assert old.startswith("vault:v1:")
    assert b"sleep" not in old.encode()
    assert transit.rotate("notes") == 2
    new = transit.rewrap("notes", old)
    assert Transit.key_version(new) == 2
    assert transit.decrypt("notes", old) == transit.decrypt("notes", new) == b"Client reports better sleep."
    batch = transit.encrypt_batch("notes", [b"a", b"b"])
    assert [transit.decrypt("notes", c) for c in batch] == [b"a", b"b"]
    assert transit.decrypt_batch("notes", batch + [old]) == [b"a", b"b", b"Client reports better sleep."]
    assert [Transit.key_version(c) for c in transit.rewrap_batch("notes", [old, new])] == [2, 2]
    assert transit.decrypt_batch("notes", []) == []
    with pytest.raises(VaultError, match="transit decrypt failed"):
        transit.decrypt_batch("notes", [old, "vault:v1:bm90IGEgY2lwaGVydGV4dA=="])


def test_transit_context_binds_ciphertext(vault_client, vault_mount):
    transit = Transit(vault_client, vault_mount("transit"))
    vault_client.hvac.secrets.transit.create_key("ctx", derived=True, mount_point=transit.mount)
    ciphertext = transit.encrypt("ctx", b"secret", context=b"client-1")
    assert transit.decrypt("ctx", ciphertext, context=b"client-1") == b"secret"
    with pytest.raises(VaultError):
        transit.decrypt("ctx", ciphertext, context=b"client-2")


def test_signatures_verify_in_vault_and_with_the_public_key(vault_client, vault_mount):
    transit = Transit(vault_client, vault_mount("transit"))
    transit.create_key("checkpoints", key_type="ed25519")
    data = b"confide audit checkpoint\n42\nabc=\n"
    signature = transit.sign("checkpoints", data)
    assert transit.verify("checkpoints", data, signature)
    assert not transit.verify("checkpoints", data + b"x", signature)
    # a third party needs only the public key
    public = Ed25519PublicKey.from_public_bytes(transit.public_key("checkpoints"))
    public.verify(base64.b64decode(signature.split(":", 2)[2]), data)


def test_token_renewer_keeps_a_short_token_alive(dev_vault, vault_client):
    created = vault_client.hvac.auth.token.create(ttl="3s", renewable=True, explicit_max_ttl="1h")
    client = VaultClient(dev_vault.addr, token=created["auth"]["client_token"], ca_cert=dev_vault.ca)
    client.start_renewing()
    time.sleep(4.5)  # longer than the token's TTL
    assert client.token_ttl() > 0
    client.close()
    time.sleep(3.5)  # not renewed any more: it expires
    with pytest.raises(hvac.exceptions.Forbidden):
        client.hvac.auth.token.lookup_self()
