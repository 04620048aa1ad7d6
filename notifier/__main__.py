"""``python -m notifier``: settings from the environment, logging, run."""

from revotp.cli import main

main(["notifier"])
