// The dashboard keeps itself current: its socket (server/dashboard_socket.py) sends the
// tables anew whenever a session changes on any node of the cluster, and the clocks -
// the support key's validity, the customer's waiting time, a session's duration - count
// here every second. Without this script the page is the server's as of its loading.
const root = document.querySelector("[data-dashboard]");
const tables = root.querySelector("[data-dashboard-tables]");
const status = root.querySelector("[data-dashboard-status]");
const wsUrl = (path) => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
const SIGNED_OUT = 4401; // the login ended: the server closes the socket with this
const DAY = 86400;

// The server's clock minus this browser's: the clocks count from the server's moments.
let offset = Date.parse(root.dataset.now) - Date.now() || 0;
let retry = 0;
let updates = 0;

// m:ss below an hour, h:mm:ss below a day, then days and hours (dashboard_rows.py too).
function formatClock(total) {
  const s = Math.max(0, Math.floor(total));
  if (s >= DAY) {
    return root.dataset.textDays
      .replace("{days}", String(Math.floor(s / DAY)))
      .replace("{hours}", String(Math.floor((s % DAY) / 3600)));
  }
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function tick() {
  const now = Date.now() + offset;
  for (const clock of tables.querySelectorAll("[data-clock]")) {
    const at = Date.parse(clock.dataset.at);
    const down = clock.dataset.clock === "down";
    const seconds = (down ? at - now : now - at) / 1000;
    if (down && seconds <= 0) {
      // The key has lapsed; the server's sweep marks the session expired shortly.
      clock.textContent = clock.dataset.zero;
      delete clock.dataset.clock;
      continue;
    }
    const figure = clock.querySelector(".figure");
    const text = formatClock(seconds);
    if (figure && figure.textContent !== text) figure.textContent = text;
  }
}

// Puts the server's tables in; a keyboard user's focus stays on the same link.
function show(html) {
  const focused = tables.contains(document.activeElement)
    ? document.activeElement.getAttribute("href") : null;
  tables.innerHTML = html;
  if (focused) tables.querySelector(`a[href="${CSS.escape(focused)}"]`)?.focus();
  tick();
  root.dataset.updates = String(++updates);
}

function connect(path) {
  const socket = new WebSocket(wsUrl(path));
  socket.addEventListener("open", () => {
    retry = 0;
    root.dataset.socket = "open";
    status.textContent = root.dataset.textLive;
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type !== "tables") return;
    offset = Date.parse(message.now) - Date.now() || offset;
    show(message.html);
  });
  socket.addEventListener("close", (event) => {
    root.dataset.socket = "closed";
    // Signed out, locked, idle too long: a reload shows the login page, and no
    // customer's name stays on a screen nobody is signed in to.
    if (event.code === SIGNED_OUT) { location.reload(); return; }
    status.textContent = root.dataset.textOffline;
    later(reconnect);
  });
}

function later(then) {
  const wait = Math.min(10000, 500 * 2 ** retry++) * (0.5 + Math.random() / 2);
  setTimeout(then, wait);
}

// A dropped socket (a node restarted, the network blinked) comes back with a fresh
// ticket; an answer that is no ticket means the login is over: reload.
async function reconnect() {
  try {
    const answer = await fetch(root.dataset.ticketUrl, {
      method: "POST",
      headers: { "X-CSRF-Token": root.dataset.csrf },
      credentials: "same-origin",
      redirect: "manual",
    });
    if (answer.type === "opaqueredirect" || answer.status === 401 || answer.status === 403) {
      location.reload();
      return;
    }
    if (!answer.ok) throw new Error(`dashboard ticket: ${answer.status}`);
    connect((await answer.json()).url);
  } catch {
    later(reconnect);
  }
}

tick();
setInterval(tick, 1000);
if (root.dataset.socketUrl) connect(root.dataset.socketUrl);
