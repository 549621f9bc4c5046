"""Store hours, the Chinese calendar and the service clocks (issue 14)."""
