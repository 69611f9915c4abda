"""The one error type a user of Flightdeck sees."""


class ConfigError(Exception):
    """A problem the user can fix in an environment file or a CI override.

    ``main.py`` prints it as it is (no traceback) and exits with status 2. The message always
    names where the problem is (file and field path, or override variable) and what to change.
    """
