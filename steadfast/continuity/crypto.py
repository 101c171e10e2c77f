"""Sealing a pack's patient data: gzip, then AES-256-GCM under a key from the passphrase.

The key comes from PBKDF2-SHA256 over the passphrase with a fresh random salt per pack, so the
page can derive it again with Web Crypto and nothing else. The visible header (practice, when
made, pack id) is the cipher's associated data: altering it makes decryption fail.
"""

import base64
import gzip
import os
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

# OWASP's 2023 figure for PBKDF2-HMAC-SHA256; a test holds every pack to at least this.
KDF_ITERATIONS = 600_000
SALT_BYTES = 16
NONCE_BYTES = 12


@dataclass(frozen=True)
class Sealed:
    salt: bytes
    nonce: bytes
    iterations: int
    ciphertext: bytes  # includes GCM's 16-byte tag at the end, as Web Crypto expects

    def fields(self) -> dict[str, str | int]:
        """What the page needs to open it (none of it secret), base64-encoded."""
        return {
            "kdf": "PBKDF2-SHA256",
            "iterations": self.iterations,
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
            "cipher": "AES-256-GCM",
            "compression": "gzip",
        }

    def ciphertext_base64(self) -> str:
        return _b64(self.ciphertext)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def normalise_passphrase(passphrase: str) -> str:
    """NFC, as the page normalises what is typed, so an accented letter matches either way."""
    return unicodedata.normalize("NFC", passphrase)


def derive_key(passphrase: str, salt: bytes, iterations: int = KDF_ITERATIONS) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    return kdf.derive(normalise_passphrase(passphrase).encode("utf-8"))


def seal(plaintext: bytes, passphrase: str, associated_data: bytes) -> Sealed:
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    key = derive_key(passphrase, salt)
    compressed = gzip.compress(plaintext, compresslevel=6, mtime=0)
    ciphertext = AESGCM(key).encrypt(nonce, compressed, associated_data)
    return Sealed(salt=salt, nonce=nonce, iterations=KDF_ITERATIONS, ciphertext=ciphertext)


def unseal(sealed: Sealed, passphrase: str, associated_data: bytes) -> bytes:
    """The plaintext; raises cryptography's InvalidTag for a wrong passphrase or altered data."""
    key = derive_key(passphrase, sealed.salt, sealed.iterations)
    compressed = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, associated_data)
    return gzip.decompress(compressed)
