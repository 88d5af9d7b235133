"""Alembic migrations of the server database (shipped as package data; Config built in code by sync.server.db)."""
