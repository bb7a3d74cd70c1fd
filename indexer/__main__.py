"""``python -m indexer``: see :mod:`indexer.cli`."""

import sys

from indexer.cli import main

sys.exit(main())
