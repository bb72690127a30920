"""Object stores (S3 and S3-compatible servers such as MinIO, GCS, Azure) through fsspec, configured by the
recipe's ``input.storage_options`` / ``output.storage_options``.

Options are any keyword the protocol's fsspec filesystem takes (``endpoint_url``, ``profile``, ``anon``,
``client_kwargs`` …). **Secrets never live in a recipe**: a key that names a credential (``key``,
``secret``, ``token``, ``password``, ``account_key``, ``sas_token`` …) is refused unless its value is a
``${ENV_VAR}`` reference, expanded only when the filesystem is opened, so the manifest (which records the
recipe) holds the reference, never the secret. s3fs also reads ``AWS_ACCESS_KEY_ID`` and friends itself.

>>> check_options({"endpoint_url": "http://127.0.0.1:9000", "key": "${MINIO_KEY}"}, "output.storage_options")
>>> check_options({"secret": "hunter2"}, "input.storage_options")
'input.storage_options.secret: a credential in a recipe; use an environment variable (${NAME})'
>>> import os; os.environ["GM_DOCTEST_VAR"] = "v"
>>> expand({"a": "${GM_DOCTEST_VAR}", "b": {"c": "x-${GM_DOCTEST_VAR}"}, "d": True})
{'a': 'v', 'b': {'c': 'x-v'}, 'd': True}
"""

from __future__ import annotations

import os
import re
from typing import Any

import fsspec

SECRET_WORDS = ("key", "secret", "token", "password", "passwd", "credential", "sas", "signature")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# options that name no secret although they contain one of the words above
NOT_SECRET = {"sse_kms_key_id", "key_file_name", "requester_pays"}


def _is_secret(key: str) -> bool:
    k = key.lower()
    return k not in NOT_SECRET and any(w in k for w in SECRET_WORDS)


def check_options(options: dict, where: str) -> str | None:
    """The first problem with ``options`` (a credential written in the recipe), or None."""
    for k, v in options.items():
        if isinstance(v, dict):
            problem = check_options(v, f"{where}.{k}")
            if problem:
                return problem
        elif _is_secret(str(k)) and not (isinstance(v, str) and _ENV.fullmatch(v.strip())):
            return f"{where}.{k}: a credential in a recipe; use an environment variable (${{NAME}})"
    return None


def expand(value: Any) -> Any:
    """``${NAME}`` references replaced by the environment's values (a missing variable is an error)."""
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, str):
        def sub(m: re.Match) -> str:
            if m.group(1) not in os.environ:
                from gristmill.errors import GristmillError

                raise GristmillError(f"storage option refers to ${{{m.group(1)}}}, which is not set",
                                     hint=f"export {m.group(1)}=… before the run")
            return os.environ[m.group(1)]
        return _ENV.sub(sub, value)
    return value


def protocol(path: str) -> str:
    return path.split("://", 1)[0] if "://" in path else "file"


def configure_inputs(paths: list[str], options: dict) -> None:
    """Make ``options`` the defaults of every filesystem of the inputs' protocols in this process, so each
    reader (JSONL, Parquet, text, WARC …) opens its files with them. Call it in every worker process."""
    if not options:
        return
    opts = expand(options)
    for proto in {protocol(p) for p in paths} - {"file"}:
        fsspec.config.conf.setdefault(proto, {}).update(opts)


def output_fs(path: str, options: dict):
    """The filesystem and path of an output URL opened with the output's storage options."""
    return fsspec.core.url_to_fs(path, **expand(options or {}))
