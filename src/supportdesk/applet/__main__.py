"""``python -m supportdesk.applet``: the support program (``applet/program.py``)."""

from supportdesk.applet.program import main

raise SystemExit(main())
