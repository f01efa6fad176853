"""Command line interface (placeholder, filled in below)."""


def main() -> None:
    raise SystemExit(0)
