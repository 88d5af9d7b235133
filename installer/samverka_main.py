"""The frozen program's entry point: what the `samverka` executable of a build runs (desktop.__main__.main)."""

import sys

from desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
