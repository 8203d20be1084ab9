"""Create the local, git-ignored .env with fresh random keys, once. Never overwrites an existing file."""

import base64
import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if path.exists():
    sys.exit(0)


def key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


path.write_text(
    "# Local development settings, generated once by `make env`. Not for production; never commit.\n"
    "# DEBUG stays off (Django's debug pages list the URL configuration and show tracebacks); add DEBUG=true\n"
    "# only while debugging, on your own machine.\n"
    f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    f"FIELD_ENCRYPTION_KEY={key()}\n"
    f"BLIND_INDEX_KEY={key()}\n"
    "GONGHUI_DEMO=true\n",
    encoding="utf-8",
)
path.chmod(0o600)
print(f"created {path} with new random keys")
