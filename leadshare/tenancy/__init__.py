"""Groups, OEMs, dealers and users: who exists and who may manage whom."""
