"""User-facing errors: each message says what was found, what was expected and the fix."""


class FashionMLPError(ValueError):
    """Base of every error the CLI reports as a plain message (no traceback unless --debug)."""


class DatasetError(FashionMLPError):
    """A data set is missing, corrupt, truncated or fails its checksum."""


class ConfigError(FashionMLPError):
    """A configuration value (TOML key, flag, spec field) is invalid."""


class RunError(FashionMLPError):
    """A run directory is missing, incomplete or corrupt."""


class CalibrationError(FashionMLPError):
    """A run cannot be calibrated as asked: no images held out, or too few."""


def missing_extra(purpose: str, package: str, extra: str) -> ConfigError:
    """The error for an optional extra that is not installed: it names the pip install line."""
    return ConfigError(
        f"{purpose} needs {package}, from an optional extra: pip install 'fashion-mlp[{extra}]'"
    )
