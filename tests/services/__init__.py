"""Services called directly, inside the rollback fixture: behaviour proven without HTTP."""
