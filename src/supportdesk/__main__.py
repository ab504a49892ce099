"""``python -m supportdesk``: the command line."""

import sys

from supportdesk.cli import main

sys.exit(main())
