"""One hierarchy for every error mlgate raises on purpose.

Each error that is about user input says *what* failed, *where* (file and key) and *how to fix
it*; the parts are kept as fields so callers (the CLI, the pytest plugin, publishers) can show or
serialise them, and the errors stay picklable (they cross pytest-xdist and process boundaries).
"""

from __future__ import annotations


class MlgateError(Exception):
    """Base class of every error mlgate raises on purpose."""


class InputError(MlgateError):
    """Bad input: a policy, a bundle, an option. The CLI exits with code 2 on it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.key = key
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file and self.key:
            where = f"{self.file}: {self.key}: "
        elif self.file:
            where = f"{self.file}: "
        elif self.key:
            where = f"{self.key}: "
        text = f"{where}{self.message}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text

    def __reduce__(self):  # keep the fields through pickling
        return (_rebuild, (type(self), self.message, self.file, self.key, self.fix))


def _rebuild(cls, message, file, key, fix):
    return cls(message, file=file, key=key, fix=fix)


class PolicyError(InputError):
    """The policy file does not parse or does not validate."""


class BundleError(InputError):
    """The results bundle is unreadable, of another schema version, or malformed."""


class RegistryError(InputError):
    """The model registry is unreachable, or the model / version does not exist."""


class MissingExtraError(MlgateError):
    """An optional dependency is needed; the message names the extra that installs it."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"this needs the optional dependency {module!r}; install it with "
            f"`pip install 'mlgate[{extra}]'`"
        )

    def __reduce__(self):
        return (MissingExtraError, (self.module, self.extra))
