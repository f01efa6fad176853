"""vip2analysis: reproducible evaluation toolkit for Danish job-package courses (VIP2)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
