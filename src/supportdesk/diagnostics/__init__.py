"""Diagnoseinformationen: probes of the customer's machine (``probes/``), run with
timeouts (``runner``), gathered into a report the customer sees before it is sent
(``report``), and the link messages that ask for and carry it (``messages``)."""
