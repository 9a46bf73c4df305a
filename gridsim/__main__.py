"""``python -m gridsim`` is the ``gridsim`` command."""

import sys

from gridsim.cli import main

sys.exit(main())
