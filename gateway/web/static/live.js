// An EventSource that keeps itself alive: the browser retries dropped connections on its own,
// but gives up after an HTTP error (e.g. while the gateway restarts behind a proxy); then we
// open a new one. `onopen` runs on every (re)connection, so pages re-read their state there.
"use strict";
window.ypLive = function (url, handlers, onState) {
  let source = null;
  let retry = null;
  function open() {
    source = new EventSource(url);
    source.onopen = () => { onState("open"); if (handlers.open) handlers.open(); };
    source.onerror = () => {
      onState("error");
      if (source.readyState === EventSource.CLOSED && retry === null) {
        retry = setTimeout(() => { retry = null; open(); }, 3000);
      }
    };
    for (const kind of Object.keys(handlers)) {
      if (kind === "open") continue;
      source.addEventListener(kind, (event) => handlers[kind](JSON.parse(event.data)));
    }
  }
  open();
  return { close: () => source && source.close() };
};
// Times on the hall's clock (the page names its time zone), whatever the browser's zone is.
window.ypTime = function (ms) {
  const zone = (document.querySelector("[data-tz]") || { dataset: {} }).dataset.tz;
  const options = { hour12: false };
  if (zone) options.timeZone = zone;
  return new Date(ms).toLocaleTimeString("zh-CN", options);
};
