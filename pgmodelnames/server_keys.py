"""Which API key goes to which --endpoint, given without the key on the
command line.

  --api-key-env URL=VAR    the key of the --endpoint URL is in the environment variable VAR
  --api-key-file URL=PATH  it is in the file PATH (surrounding whitespace and the newline ignored)
  --api-key KEY, else VLLM_API_KEY
                           the key of the one --endpoint, when exactly one is named and
                           it has no key of its own (the invocations that predate the
                           options above keep working)

URL is matched on the normalised endpoint URL (any spelling of an --endpoint
is that endpoint); it must be one of the --endpoint URLs: a key goes only to
the server it was given for, never to a base_url read from llm_models. With
several --endpoints, --api-key is refused (which server is it for?) and
VLLM_API_KEY is not sent (a note says how to send it). Every refusal is one
line with exit code 2 that names the variable or the file, never the key.
A printed command gives a key again by its reference (the variable's name,
the file's absolute path), never by its value. Returns data; never prints.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from pgmodelnames import errors, vllm
from pgmodelnames.errors import UserError

DEFAULT_VARIABLE = "VLLM_API_KEY"
MAX_KEY_FILE_BYTES = 64 * 1024
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[\x21-\x7e]+")  # what an HTTP header carries safely: printable ASCII, no spaces
_KEY_RULE = "an API key must be printable ASCII without spaces or control characters"


@dataclass(frozen=True)
class ServerKey:
    url: str  # the normalised endpoint URL it is sent to
    source: str  # "env", "file" or "option" (--api-key)
    reference: str  # the variable's name, the file's absolute path, or "--api-key"
    key: str = field(repr=False, compare=False)

    @property
    def shown(self) -> str:
        """Where the key came from, fit to print."""
        return f"${self.reference}" if self.source == "env" else self.reference

    def option(self, endpoint: str) -> str:
        """The option that gives this key again in a printed command: the
        reference, never the key. A key typed with --api-key has no
        reference: the printed command reads it from VLLM_API_KEY."""
        if self.source == "file":
            return f"--api-key-file {shlex.quote(f'{endpoint}={self.reference}')}"
        return variable_option(endpoint, self.reference if self.source == "env" else DEFAULT_VARIABLE)


def variable_option(endpoint: str, variable: str = DEFAULT_VARIABLE) -> str:
    """--api-key-env ENDPOINT=VARIABLE, as one shell word."""
    return f"--api-key-env {shlex.quote(f'{endpoint}={variable}')}"


def _shown(item: str) -> str:
    return repr(vllm.describe_url(item, 120))


def _split(option: str, item: str, named: Mapping[str, str], what: str) -> tuple[str, str]:
    """URL=VALUE -> (the normalised URL of an --endpoint, VALUE). A URL may
    hold "=" (in its path), a file name too: the first split whose URL is an
    --endpoint wins."""
    cuts = [index for index, char in enumerate(item) if char == "="]
    if not cuts:
        raise UserError(f"{option} {_shown(item)}: expected URL={what}, URL one of the --endpoint URLs",
                        errors.USAGE)
    for cut in cuts:
        try:
            url = vllm.normalize_endpoint(item[:cut])
        except vllm.EndpointError:
            continue
        if url in named:
            return url, item[cut + 1:]
    try:
        url = vllm.normalize_endpoint(item[:cuts[0]])
    except vllm.EndpointError as exc:
        raise UserError(f"{option} {_shown(item)}: {exc}", errors.USAGE) from None
    raise UserError(f"{option} {_shown(item)}: no --endpoint names {url}; a key goes only to a server named "
                    f"with --endpoint (add --endpoint {url})", errors.USAGE)


def _checked(key: str, where: str) -> str:
    if not key:
        raise UserError(f"{where} is empty: no API key in it", errors.USAGE)
    if not _KEY.fullmatch(key):
        raise UserError(f"{where}: {_KEY_RULE} (the key is not shown)", errors.USAGE)
    return key


def _from_variable(item: str, named: Mapping[str, str], environ: Mapping[str, str]) -> ServerKey:
    url, variable = _split("--api-key-env", item, named, "VAR")
    if not _VARIABLE.fullmatch(variable):
        raise UserError(f"--api-key-env {_shown(item)}: {variable[:40]!r} is not an environment variable name "
                        "(letters, digits and _, not starting with a digit)", errors.USAGE)
    if variable not in environ:
        raise UserError(f"--api-key-env {_shown(item)}: the environment variable {variable} is not set",
                        errors.USAGE)
    return ServerKey(url, "env", variable, _checked(environ[variable], f"the environment variable {variable}"))


def _from_file(item: str, named: Mapping[str, str]) -> ServerKey:
    url, path = _split("--api-key-file", item, named, "PATH")
    if not path or any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise UserError(f"--api-key-file {_shown(item)}: expected URL=PATH, PATH a file name on one line",
                        errors.USAGE)
    where = f"the key file {path}"
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"--api-key-file {_shown(item)}: cannot read {path}: {exc.strerror or type(exc).__name__}",
                        errors.USAGE) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise UserError(f"{where} is larger than {MAX_KEY_FILE_BYTES // 1024} KiB: not an API key file",
                        errors.USAGE)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UserError(f"{where}: {_KEY_RULE} (the key is not shown)", errors.USAGE) from None
    return ServerKey(url, "file", os.path.abspath(path), _checked(text.strip(), where))


def resolve(endpoints: Sequence[str], from_variables: Sequence[str] = (), from_files: Sequence[str] = (),
            api_key: str | None = None,
            environ: Mapping[str, str] | None = None) -> tuple[tuple[ServerKey, ...], list[str]]:
    """(the key of each --endpoint that has one, notes to show). endpoints:
    the --endpoint URLs as typed (already checked); from_variables and
    from_files: the URL=VAR and URL=PATH items; api_key: --api-key."""
    environ = os.environ if environ is None else environ
    named = {vllm.normalize_endpoint(raw): raw for raw in endpoints}
    keys: dict[str, ServerKey] = {}
    given = [_from_variable(item, named, environ) for item in from_variables]
    given += [_from_file(item, named) for item in from_files]
    for key in given:
        earlier = keys.setdefault(key.url, key)
        if (earlier.source, earlier.reference) != (key.source, key.reference):
            raise UserError(f"two keys are given for {key.url} ({earlier.shown} and {key.shown}): give one",
                            errors.USAGE)
    without = [url for url in named if url not in keys]
    notes = []
    if api_key is not None:
        _checked(api_key, "--api-key")
        if len(named) > 1:
            raise UserError("--api-key is the key of the one --endpoint; with several, a key would reach servers "
                            "it is not for: give each its own, --api-key-env URL=VAR or --api-key-file URL=PATH",
                            errors.USAGE)
        if named and not without:
            raise UserError(f"--api-key and a key of its own are both given for {next(iter(named))}: give one",
                            errors.USAGE)
        if without:
            keys[without[0]] = ServerKey(without[0], "option", "--api-key", api_key)
    elif environ.get(DEFAULT_VARIABLE):
        if len(named) == 1 and without:
            keys[without[0]] = ServerKey(without[0], "env", DEFAULT_VARIABLE,
                                         _checked(environ[DEFAULT_VARIABLE], f"the environment variable "
                                                                             f"{DEFAULT_VARIABLE}"))
        elif len(named) > 1 and without:
            notes.append(f"{DEFAULT_VARIABLE} is set but not sent: several --endpoint are named, and a key goes only "
                         f"to the server it is given for; to send it to one: --api-key-env URL={DEFAULT_VARIABLE}")
    return tuple(keys[url] for url in named if url in keys), notes
