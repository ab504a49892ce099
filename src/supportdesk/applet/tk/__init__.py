"""The support program's Tk windows: the first window, consent, the active window and its
parts, file questions, notices, the exit survey, and their one look (``theme``).

Each window is a thin shell over pure code one level up (``applet/consent.py``,
``applet/chat_lines.py``, ``applet/texts.py`` …); nothing here is imported unless a
window is shown, so text mode and the tests of the pure parts need no display.
"""
