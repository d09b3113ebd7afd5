// The kiosk: one tap on a service draws a ticket (printed when the kiosk has a printer) and
// shows it with the QR code of its live status page; the screen returns by itself.
"use strict";
(function () {
  const root = document.querySelector(".kiosk");
  const printer = root.dataset.printer || null;
  const overlay = document.getElementById("ticket");
  const error = document.getElementById("kiosk-error");
  const BACK_MS = 30000;
  let back = null;
  let busy = false;

  function close() {
    clearTimeout(back);
    overlay.hidden = true;
    location.reload();  // fresh waiting counts for the next citizen
  }

  function show(ticket) {
    document.getElementById("t-service").textContent = `${ticket.service_name}（${ticket.area_label}）`;
    document.getElementById("t-number").textContent = ticket.ticket;
    document.getElementById("t-ahead").textContent =
      ticket.ahead ? `您前面还有 ${ticket.ahead} 人等候` : "您前面没有人等候，请留意叫号";
    document.getElementById("t-qr").src = `/web/qr/${encodeURIComponent(ticket.token)}.svg`;
    document.getElementById("t-qr").dataset.url = ticket.status_url;
    const print = document.getElementById("t-print");
    if (ticket.printed) print.textContent = "号票已打印，请取走号票";
    else if (printer) print.textContent = `号票未能打印（${ticket.print_error || "未知原因"}），请拍下本页或记住号码`;
    else print.textContent = "请记住您的号码";
    overlay.hidden = false;
    document.getElementById("t-done").focus();
    back = setTimeout(close, BACK_MS);
  }

  async function draw(service) {
    if (busy) return;
    busy = true;
    error.textContent = "";
    try {
      const response = await fetch("/api/queue/tickets", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ service: service, printer: printer }),
      });
      const body = await response.json();
      if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      if (!response.ok) { error.textContent = (body.detail && body.detail.message) || "取号失败，请联系工作人员"; return; }
      show(body);
    } catch (e) {
      error.textContent = "暂时无法取号，请联系工作人员";
    } finally {
      busy = false;
    }
  }

  for (const button of document.querySelectorAll("button.service")) {
    button.addEventListener("click", () => draw(button.dataset.service));
  }
  document.getElementById("t-done").addEventListener("click", close);
  setInterval(() => { if (overlay.hidden && !busy) location.reload(); }, 60000);
})();
