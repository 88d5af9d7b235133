"""The revision scripts of the local database (static: history never changes)."""
