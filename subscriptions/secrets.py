"""Partners' Partner Center client secrets, encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256).

The key is PARTNER_CENTER_SECRET_KEY, or one derived from SECRET_KEY when that is empty; rotating
SECRET_KEY without setting the former means re-entering every partner's secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    material = settings.PARTNER_CENTER_SECRET_KEY or f"partner-center:{settings.SECRET_KEY}"
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


def secret_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The plain secret; a ValueError when it was encrypted with another key."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the Partner Center secret cannot be decrypted with the current key") from exc
