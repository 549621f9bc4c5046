"""The brand catalogue: what a group's stores sell, the aliases that name it, and the matching."""
