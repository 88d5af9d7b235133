"""What the desktop client and the sync server share (schema, clocks, merge), and the server."""
