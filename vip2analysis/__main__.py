"""``python -m vip2analysis`` runs the same command line as ``vip2``."""

from vip2analysis.cli import main

if __name__ == "__main__":
    main()
