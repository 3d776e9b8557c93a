"""``python -m tutorial_lib ...``: see :mod:`tutorial_lib.cli`."""
from .cli import main

raise SystemExit(main())
