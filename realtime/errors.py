"""The one error type front ends turn into a one-line message and exit code 2."""


class InputError(Exception):
    """Bad user input: a missing or corrupt file, a wrong option value, mismatched sizes."""
