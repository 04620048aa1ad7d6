"""What two or more revotp services share: settings, names, schemas, the challenge store."""
