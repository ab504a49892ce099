"""File transfer between the agent and the customer over the applet link's control
channel: messages and states (``protocol``), safe names (``names``), the sending and
receiving cores with their file-system shells (``sender``, ``receiver``), and the
per-session endpoint that routes them (``endpoint``)."""
