"""User-facing errors: the CLI prints their message on one line and exits non-zero, without a traceback."""


class UserError(ValueError):
    """A mistake in what the user asked for (a config value, a name, a file), with the valid choices."""


class IncompatibleError(UserError):
    """An agent and an env that cannot work together (e.g. a tabular agent on pixel observations)."""
