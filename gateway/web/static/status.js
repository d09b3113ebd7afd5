// A ticket's status page refreshes itself: the same page is fetched again and its status block
// swapped in, so the server renders it one way only. Kept quiet when the network drops.
"use strict";
(function () {
  const block = document.getElementById("status");
  const updated = document.getElementById("updated");
  const zone = document.querySelector("[data-tz]").dataset.tz;
  async function refresh() {
    try {
      const response = await fetch(location.pathname, { cache: "no-store" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("status");
      if (fresh && fresh.innerHTML !== block.innerHTML) block.innerHTML = fresh.innerHTML;
      updated.textContent = "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: zone });
    } catch (e) {
      updated.textContent = "网络中断，稍后自动重试";
    }
  }
  setInterval(refresh, 5000);
})();
