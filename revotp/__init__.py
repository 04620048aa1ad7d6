"""The ``revotp`` command: run the services, manage tenants, try the pipeline by hand."""
