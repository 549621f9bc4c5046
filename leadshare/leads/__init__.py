"""Leads: intake, the routing cascade, claims, progress, the hash-chained trail and reads."""
