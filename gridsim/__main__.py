"""``python -m gridsim`` is the ``gridsim`` command."""

import sys

from gridsim.app.cli import main

sys.exit(main())
