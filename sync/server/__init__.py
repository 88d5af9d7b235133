"""The sync server: HTTP app, storage, auth, admin CLI (needs the `server` extra)."""
