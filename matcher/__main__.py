"""``python -m matcher``: settings from the environment, logging, run."""

from revotp.cli import main

main(["matcher"])
