// The hall's call display: the latest call large, the ones before it listed, every call spoken
// with the browser's speech synthesis. Calls are spoken one after another from a queue (never
// over each other), each `repeat` times. After a reconnect (gateway restart) the state is
// re-read and calls made while the display was cut off are still shown and, if recent, spoken.
"use strict";
(function () {
  const root = document.querySelector(".display");
  const repeat = Number(root.dataset.repeat) || 1;
  const voiceOn = root.dataset.voice === "1";
  const current = document.getElementById("current");
  const recent = document.getElementById("recent");
  const link = document.getElementById("display-link");
  const enable = document.getElementById("voice-enable");
  const RECENT_MS = 120000;  // calls missed while offline are spoken only if this fresh
  let lastSeq = Number(root.dataset.lastSeq) || 0;
  let shown = [];  // newest first

  // --- speech, one utterance at a time ----------------------------------------------------
  const lines = [];
  let speaking = false;
  window.ypSpoken = [];  // what was said, with start and end times (for the hall's technicians)

  function pickVoice() {
    const voices = window.speechSynthesis ? speechSynthesis.getVoices() : [];
    return voices.find((v) => v.lang && v.lang.replace("_", "-").startsWith("zh")) || null;
  }
  function say(text) {
    for (let i = 0; i < repeat; i++) lines.push(text);
    pump();
  }
  function pump() {
    if (speaking || lines.length === 0 || !voiceOn || !window.speechSynthesis) return;
    speaking = true;
    const text = lines.shift();
    const entry = { text: text, start: Date.now(), end: null, error: null };
    window.ypSpoken.push(entry);
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    const voice = pickVoice();
    if (voice) utterance.voice = voice;
    let guard = null;
    const finish = (event) => {
      if (entry.end !== null) return;
      clearTimeout(guard);
      entry.end = Date.now();
      if (event && event.error) entry.error = event.error;
      if (event && event.error === "not-allowed") { enable.hidden = false; lines.unshift(text); }
      speaking = false;
      setTimeout(pump, 700);  // a breath between announcements
    };
    utterance.onend = finish;
    utterance.onerror = finish;
    // A speech engine that never reports the end must not silence the hall for good.
    guard = setTimeout(() => { speechSynthesis.cancel(); finish(null); }, 3000 + text.length * 450);
    speechSynthesis.speak(utterance);
  }
  enable.addEventListener("click", () => { enable.hidden = true; pump(); });

  // --- what is shown ----------------------------------------------------------------------
  function renderCurrent(call) {
    current.classList.remove("empty", "flash");
    current.replaceChildren();
    const ticket = document.createElement("p");
    ticket.className = "current-ticket";
    ticket.textContent = call.ticket;
    const where = document.createElement("p");
    where.className = "current-window";
    const strong = document.createElement("strong");
    strong.textContent = call.window_label;
    where.append("请到 ", strong, " 办理");
    current.append(ticket, where);
    void current.offsetWidth;  // restart the highlight animation
    current.classList.add("flash");
  }
  function renderRecent() {
    recent.replaceChildren(...shown.slice(1, 8).map((c) => {
      const item = document.createElement("li");
      const t = document.createElement("span"); t.className = "r-ticket"; t.textContent = c.ticket;
      const w = document.createElement("span"); w.className = "r-window"; w.textContent = c.window_label;
      item.append(t, w);
      return item;
    }));
  }
  function announce(call, speak) {
    if (call.seq <= lastSeq) return;
    lastSeq = call.seq;
    shown = [call, ...shown.filter((c) => c.seq !== call.seq)].slice(0, 8);
    renderCurrent(call);
    renderRecent();
    if (speak) say(call.voice);
  }

  async function resync() {
    const response = await fetch("/web/api/display", { cache: "no-store" });
    if (!response.ok) return;
    const state = await response.json();
    const missed = state.calls.filter((c) => c.seq > lastSeq).reverse();
    if (missed.length === 0) { shown = state.calls; renderRecent(); return; }
    shown = state.calls.filter((c) => c.seq <= lastSeq);
    for (const call of missed) announce(call, Date.now() - call.at_ms < RECENT_MS);
  }

  ypLive("/web/events/calls", {
    open: resync,
    call: (c) => announce(c, true),
  }, (state) => {
    link.textContent = state === "open" ? "已连接" : "连接中断，正在重连…";
    link.className = state === "open" ? "" : "offline";
  });

  const clock = document.getElementById("clock");
  const tick = () => { clock.textContent = ypTime(Date.now()); };
  tick();
  setInterval(tick, 1000);
})();
