"""Transit: encryption of clinical text and signing, with keys that never leave Vault."""

from __future__ import annotations

import base64

import hvac.exceptions

from confide_vault.client import VaultClient, VaultError


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Transit:
    def __init__(self, vault: VaultClient, mount: str = "transit") -> None:
        self.vault = vault
        self.mount = mount
        self._api = vault.hvac.secrets.transit

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, mount_point=self.mount, **kwargs)
        except hvac.exceptions.VaultError as exc:
            raise VaultError(f"transit {what} failed: {exc}") from exc

    def create_key(self, name: str, key_type: str = "aes256-gcm96") -> None:
        self._call("create key", self._api.create_key, name, key_type=key_type)

    def rotate(self, name: str) -> int:
        """Rotate ``name``; returns the new latest version."""
        self._call("rotate", self._api.rotate_key, name)
        return self.latest_version(name)

    def latest_version(self, name: str) -> int:
        return int(self._call("read key", self._api.read_key, name)["data"]["latest_version"])

    def encrypt(self, key: str, plaintext: bytes, context: bytes | None = None) -> str:
        result = self._call(
            "encrypt", self._api.encrypt_data, key, _b64(plaintext),
            context=_b64(context) if context else None,
        )
        return result["data"]["ciphertext"]

    def encrypt_batch(self, key: str, plaintexts: list[bytes]) -> list[str]:
        result = self._call(
            "encrypt", self._api.encrypt_data, key, plaintext=None,
            batch_input=[{"plaintext": _b64(p)} for p in plaintexts],
        )
        return [item["ciphertext"] for item in result["data"]["batch_results"]]

    def decrypt(self, key: str, ciphertext: str, context: bytes | None = None) -> bytes:
        result = self._call(
            "decrypt", self._api.decrypt_data, key, ciphertext,
            context=_b64(context) if context else None,
        )
        return base64.b64decode(result["data"]["plaintext"])

    def _batch(self, what: str, fn, key: str, ciphertexts: list[str], field: str) -> list[str]:
        if not ciphertexts:
            return []
        result = self._call(what, fn, key, ciphertext=None, batch_input=[{"ciphertext": c} for c in ciphertexts])
        items = result["data"]["batch_results"]
        failed = [item["error"] for item in items if item.get("error")]
        if failed:
            raise VaultError(f"transit {what} failed: {failed[0]}")
        return [item[field] for item in items]

    def decrypt_batch(self, key: str, ciphertexts: list[str]) -> list[bytes]:
        plaintexts = self._batch("decrypt", self._api.decrypt_data, key, ciphertexts, "plaintext")
        return [base64.b64decode(p) for p in plaintexts]

    def rewrap_batch(self, key: str, ciphertexts: list[str]) -> list[str]:
        """Re-encrypt many under the latest key version; order is kept."""
        return self._batch("rewrap", self._api.rewrap_data, key, ciphertexts, "ciphertext")

    def rewrap(self, key: str, ciphertext: str, context: bytes | None = None) -> str:
        """Re-encrypt under the latest key version without exposing the plaintext."""
        result = self._call(
            "rewrap", self._api.rewrap_data, key, ciphertext,
            context=_b64(context) if context else None,
        )
        return result["data"]["ciphertext"]

    @staticmethod
    def key_version(ciphertext: str) -> int:
        """The key version a ``vault:vN:...`` ciphertext was made with."""
        prefix, version, _ = ciphertext.split(":", 2)
        if prefix != "vault" or not version.startswith("v"):
            raise ValueError("not a Vault transit ciphertext")
        return int(version[1:])

    def sign(self, key: str, data: bytes) -> str:
        result = self._call("sign", self._api.sign_data, key, hash_input=_b64(data))
        return result["data"]["signature"]

    def sign_raw(self, key: str, data: bytes) -> tuple[int, bytes]:
        """(the key version that signed, the raw signature): what a signed note carries."""
        signature = self.sign(key, data)
        return self.key_version(signature), base64.b64decode(signature.split(":", 2)[2])

    def verify(self, key: str, data: bytes, signature: str) -> bool:
        result = self._call(
            "verify", self._api.verify_signed_data, key, hash_input=_b64(data), signature=signature
        )
        return bool(result["data"]["valid"])

    def public_key(self, key: str, version: int | None = None) -> bytes:
        """The raw public key (ed25519: 32 bytes) for a third party to verify with."""
        data = self._call("read key", self._api.read_key, key)["data"]
        version = version or int(data["latest_version"])
        return base64.b64decode(data["keys"][str(version)]["public_key"])
