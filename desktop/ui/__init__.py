"""The desktop window (PySide6 Widgets, model/view): views, item models, dialogs, background ops, theme.

Nothing here writes SQL or waits on the network: reads go through ``desktop.views`` on a pool
thread (``ops``), and the store's and sync engine's change callbacks arrive as Qt signals.
"""
