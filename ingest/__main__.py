"""``python -m ingest``: settings from the environment, logging, run."""

from revotp.cli import main

main(["ingest"])
