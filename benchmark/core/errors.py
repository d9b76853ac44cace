"""The one error type for what a user did wrong; the CLI prints it and exits 2."""


class UserError(Exception):
    """Bad input from the user (missing file, unknown name, bad flag...).

    The message must say what is wrong and, where possible, how to fix it.
    Bugs raise other exceptions and crash loudly.
    """
