"""Users, roles, tokens and who may see what."""
