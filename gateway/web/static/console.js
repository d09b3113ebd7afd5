// The clerk console: each form posts its fields as JSON to the queue's API and reports the
// answer (or the queue's Chinese refusal) in one status line.
"use strict";
(function () {
  const result = document.getElementById("console-result");
  const done = {
    transfer: (b) => `已转移 ${b.ticket}`,
    helper: (b) => `已将 ${b.ticket} 转交帮办代办`,
    mailing: (b) => (b.mailing.wants ? `已登记 ${b.ticket} 免费寄递` : `已记录 ${b.ticket} 不需寄递`),
    notice: (b) => (b.printed ? "告知单已打印" : `告知单未打印：${b.print_error}`),
  };

  function fields(form) {
    const body = {};
    for (const [name, value] of new FormData(form)) {
      if (name === "ticket" && form.dataset.path.includes("{ticket}")) continue;
      if (name === "wants") body.wants = value === "true";
      else if (value !== "") body[name] = value;
    }
    return body;
  }

  async function submit(form) {
    const ticket = (form.ticket && form.ticket.value.trim().toUpperCase()) || "";
    const path = form.dataset.path.replace("{ticket}", encodeURIComponent(ticket));
    const kind = path.split("/").pop();
    result.className = "result";
    result.textContent = "处理中…";
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(fields(form)),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) { location.href = "/login?next=/console"; return; }
    if (!response.ok) {
      const detail = body.detail;
      const message = (detail && detail.message) || (typeof detail === "string" ? detail : "") || "操作失败";
      result.className = "result error";
      result.textContent = message;
      return;
    }
    result.className = "result ok";
    result.textContent = done[kind] ? done[kind]({ ticket: ticket, ...body }) : "已完成";
    refreshNow();
  }

  // The window's current ticket changes with the device keys too: re-read it from the server.
  async function refreshNow() {
    const response = await fetch(location.pathname, { cache: "no-store" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.querySelector(".console-now");
    if (fresh) document.querySelector(".console-now").innerHTML = fresh.innerHTML;
  }
  setInterval(refreshNow, 15000);

  for (const form of document.querySelectorAll("form.action")) {
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(form); });
  }
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST" });
    location.href = "/login";
  });
})();
