"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal numbers.

Keys come from settings (environment), never from the database. A ciphertext is `version || nonce || sealed` so
keys can be rotated later by version byte.
"""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = b"\x01"


def encrypt_text(plaintext: str, *, context: str) -> bytes:
    """Encrypt `plaintext`; `context` (e.g. "person.document") is bound as associated data so a ciphertext
    cannot be moved to another field."""
    nonce = os.urandom(12)
    sealed = AESGCM(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, plaintext.encode("utf-8"), context.encode())
    return _VERSION + nonce + sealed


def decrypt_text(token: bytes | memoryview, *, context: str) -> str:
    """Decrypt with the current key, or with a previous one while a key rotation is under way."""
    token = bytes(token)
    if token[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    nonce, sealed = token[1:13], token[13:]
    keys = [settings.FIELD_ENCRYPTION_KEY, *getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", [])]
    for key in keys:
        try:
            return AESGCM(key).decrypt(nonce, sealed, context.encode()).decode("utf-8")
        except InvalidTag:
            continue
    raise InvalidTag("no configured key opens this ciphertext")


def blind_index(value: str, *, context: str) -> str:
    """Keyed hash for exact lookup and uniqueness of a normalised value, without storing the value."""
    message = context.encode() + b"\x00" + value.encode("utf-8")
    return hmac.new(settings.BLIND_INDEX_KEY, message, hashlib.sha256).hexdigest()


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret (API tokens). Slow hashes are for passwords, not 256-bit random tokens."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def encrypt_many(plaintexts: list[str], *, context: str) -> list[bytes]:
    """`encrypt_text` for a column of values (bulk imports): one cipher object, one draw of nonces."""
    cipher = AESGCM(settings.FIELD_ENCRYPTION_KEY)
    aad = context.encode()
    nonces = os.urandom(12 * len(plaintexts))
    sealed = []
    for i, text in enumerate(plaintexts):
        nonce = nonces[12 * i : 12 * i + 12]
        sealed.append(_VERSION + nonce + cipher.encrypt(nonce, text.encode("utf-8"), aad))
    return sealed


def blind_index_many(values: list[str], *, context: str) -> list[str]:
    """`blind_index` for a column of values."""
    base = hmac.new(settings.BLIND_INDEX_KEY, context.encode() + b"\x00", hashlib.sha256)
    out = []
    for value in values:
        mac = base.copy()
        mac.update(value.encode("utf-8"))
        out.append(mac.hexdigest())
    return out
