// The macOS masking target: a native window with an NSSecureTextField, for the AX API.
//
// Run with `osascript -l JavaScript` (JXA's Objective-C bridge, no pyobjc needed): a
// window titled "Supportdesk Maskentest" with a secure text field that has the focus,
// in front of every other program. Reports on standard error (where JXA's console.log
// writes) one JSON line: {"ready": {"password": [left, top, right, bottom]}} — the
// field's rectangle in points from the main display's top-left corner, the AX API's
// coordinates — then runs until it is killed.
ObjC.import("Cocoa");

const app = $.NSApplication.sharedApplication;
app.setActivationPolicy(0); // NSApplicationActivationPolicyRegular: a Dock icon, can be in front
const win = $.NSWindow.alloc.initWithContentRectStyleMaskBackingDefer(
  $.NSMakeRect(200, 300, 420, 160),
  1, // NSWindowStyleMaskTitled
  2, // NSBackingStoreBuffered
  false
);
win.title = "Supportdesk Maskentest";
const field = $.NSSecureTextField.alloc.initWithFrame($.NSMakeRect(40, 90, 300, 24));
const plain = $.NSTextField.alloc.initWithFrame($.NSMakeRect(40, 40, 300, 24));
win.contentView.addSubview(field);
win.contentView.addSubview(plain);
app.finishLaunching;
win.makeKeyAndOrderFront(null);
app.activateIgnoringOtherApps(true);
win.makeFirstResponder(field);

const inWindow = field.convertRectToView(field.bounds, null);
const onScreen = win.convertRectToScreen(inWindow);
const mainHeight = $.NSScreen.screens.objectAtIndex(0).frame.size.height;
const top = mainHeight - (onScreen.origin.y + onScreen.size.height);
console.log(
  JSON.stringify({
    ready: {
      password: [
        onScreen.origin.x,
        top,
        onScreen.origin.x + onScreen.size.width,
        top + onScreen.size.height,
      ]
    }
  })
);
app.run;
