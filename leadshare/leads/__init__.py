"""Lead lifecycle: the status table, VIN checks, intake and de-duplication."""
