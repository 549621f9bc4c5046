"""Group-funded rewards: exact money, rule matching, a double-entry ledger and statements."""
