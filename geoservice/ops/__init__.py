"""Running the service: the command line, the demo data, importing, backups."""
