// The dashboard: sections re-rendered by the server when something changes; a feed of
// ratings, calls and alerts as they arrive. Nothing reloads the page.
"use strict";
(function () {
  const sections = document.getElementById("sections");
  const feed = document.getElementById("feed");
  const liveState = document.getElementById("live-state");
  let pending = null;

  async function refresh() {
    pending = null;
    const response = await fetch("/web/fragments/dashboard", { cache: "no-store" });
    if (response.status === 401) { location.href = "/login?next=/dashboard"; return; }
    if (response.ok) sections.innerHTML = await response.text();
  }
  function soon() { if (pending === null) pending = setTimeout(refresh, 300); }

  function note(text, kind, at) {
    const first = feed.querySelector(".muted");
    if (first) first.remove();
    const item = document.createElement("li");
    item.className = "feed-item " + kind;
    const time = document.createElement("time");
    time.textContent = ypTime(at || Date.now());
    item.append(time, document.createTextNode(" " + text));
    feed.prepend(item);
    while (feed.children.length > 30) feed.lastElementChild.remove();
  }

  ypLive("/web/events", {
    open: refresh,
    rating: (r) => { note(`${r.window_label} ${r.clerk} 收到评价：${r.label}`, r.bad ? "bad" : "good", r.at_ms); soon(); },
    call: (c) => { note(`${c.recall ? "重呼" : "叫号"} ${c.display}`, "call", c.at_ms); soon(); },
    alert: (a) => { note(`告警：${a.title}`, "alert", a.at_ms); soon(); },
    queue: soon, windows: soon, stats: soon, device: soon,
  }, (state) => {
    liveState.textContent = state === "open" ? "实时连接正常" : "连接中断，正在重连…";
    liveState.className = "live-state " + state;
  });
  setInterval(refresh, 30000);  // last-seen times and waits age even when nothing happens

  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST" });
    location.href = "/login";
  });
})();
