"""``python -m covet.cli``: the same as the ``covet`` script."""

from __future__ import annotations

import sys

from covet.cli.main import main

sys.exit(main())
