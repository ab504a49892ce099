// Live countdown for a support key's expiry; the page shows the end time without it.
"use strict";
for (const element of document.querySelectorAll("time[data-countdown]")) {
  const end = Date.parse(element.getAttribute("datetime"));
  const original = element.textContent;
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    element.textContent = left > 0 ? `${original} (${minutes}:${seconds})` : `${original} (0:00)`;
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
}
