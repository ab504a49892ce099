"""A GTK 3 login window for the masking tests (run with the system python3, which has gi).

Arguments: title x y. Reads commands on stdin, one per line, answers one line each:
``pw`` / ``user`` focus an entry (answer: its x y w h on the screen), ``type TEXT``
puts text into the focused entry, ``move X Y`` moves the window, ``quit``.
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

title, x, y = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
window = Gtk.Window(title=title)
window.move(x, y)
box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12)
box.set_border_width(12)
user = Gtk.Entry()
user.set_text("kunde4711")
password = Gtk.Entry()
password.set_visibility(False)
box.pack_start(Gtk.Label(label="Anmeldename"), False, False, 0)
box.pack_start(user, False, False, 0)
box.pack_start(Gtk.Label(label="PIN"), False, False, 0)
box.pack_start(password, False, False, 0)
window.add(box)
window.set_default_size(420, 220)
window.show_all()


def extents(entry):
    _, ox, oy = window.get_window().get_origin()
    ex, ey = entry.translate_coordinates(window, 0, 0)
    alloc = entry.get_allocation()
    return f"{ox + ex} {oy + ey} {alloc.width} {alloc.height}"


def command(source, condition):
    line = sys.stdin.readline()
    if not line:
        Gtk.main_quit()
        return False
    word, _, rest = line.strip().partition(" ")
    answer = "ok"
    if word in ("pw", "user"):
        entry = password if word == "pw" else user
        window.get_window().focus(0)  # no window manager: take the X focus ourselves
        entry.grab_focus()
        answer = "ok " + extents(entry)
    elif word == "type":
        focused = window.get_focus()
        focused.set_text(focused.get_text() + rest)
    elif word == "move":
        a, b = rest.split()
        window.move(int(a), int(b))
    elif word == "quit":
        Gtk.main_quit()
    while Gtk.events_pending():
        Gtk.main_iteration()
    print(answer, flush=True)
    return True


def ready():
    window.get_window().focus(0)
    print("ready", flush=True)
    return False


GLib.io_add_watch(sys.stdin, GLib.IO_IN, command)
window.connect("destroy", Gtk.main_quit)
GLib.timeout_add(200, ready)
Gtk.main()
