// rackfocus web remote: the OSC table's commands over a WebSocket; state and thumbnails back.
// The token comes from the URL's fragment (#token=...) and travels as a WebSocket
// subprotocol ("token.TOKEN"), never in a cookie.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const SLIDER = 1000; // slider steps
const RETRY_MS = 2000; // reconnect after this long
let ws = null;
let state = null; // the newest state message
let thumbURL = null; // object URL of the thumbnail shown
let dragging = { focus: false, fnumber: false };
let sent = 0; // commands sent

function send(address, args = []) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ address, args }));
    sent += 1;
  }
}

// Focus slider: even in dioptres (1/m) from the farthest focus (left) to the nearest.
function focusFromSlider(v) {
  const dFar = 1 / state.limits.far_m, dNear = 1 / state.limits.near_m;
  return 1 / (dFar + (dNear - dFar) * (v / SLIDER));
}
function sliderFromFocus(m) {
  const dFar = 1 / state.limits.far_m, dNear = 1 / state.limits.near_m;
  return Math.round(SLIDER * (1 / m - dFar) / (dNear - dFar));
}
// Aperture slider: even in stops.
function fnumberFromSlider(v) {
  const [lo, hi] = state.limits.f_number_range;
  return lo * Math.pow(hi / lo, v / SLIDER);
}
function sliderFromFnumber(n) {
  const [lo, hi] = state.limits.f_number_range;
  return Math.round(SLIDER * Math.log(n / lo) / Math.log(hi / lo));
}
// The commands on offer (the state says; the preview offers no cues or sources).
const offers = (address) => !!state && state.commands.includes(address);
const metres = (m) => (m >= 100 ? m.toFixed(0) : m >= 10 ? m.toFixed(1) : m.toFixed(2)) + " m";
const fstop = (n) => "f/" + (n >= 10 ? n.toFixed(0) : n.toFixed(1));

function render() {
  const s = state.status;
  for (const el of document.querySelectorAll("[data-command]")) {
    el.hidden = !offers(el.dataset.command);
  }
  for (const section of document.querySelectorAll("main > section:not([data-command])")) {
    section.hidden = ![...section.querySelectorAll("[data-command]")].some((el) => !el.hidden);
  }
  $("status").textContent =
    `${s.fps.toFixed(0)} fps · ` + (offers("/cue/go") ? `cue ${s.cue}/${state.cues.length} · ` : "") +
    `${metres(s.focus)}` + (offers("/lens/fnumber") ? ` · ${fstop(s.fnumber)}` : "") +
    (s.paused ? " · paused" : "");
  $("counts").textContent =
    `received ${s.received}, ignored ${s.ignored}, dropped ${s.dropped}, ` +
    `refused ${s.refused}; source ${s.source}`;
  $("focus-m").textContent = metres(s.focus);
  $("fnumber-v").textContent = fstop(s.fnumber);
  if (!dragging.focus) $("focus").value = sliderFromFocus(s.focus);
  if (!dragging.fnumber) $("fnumber").value = sliderFromFnumber(s.fnumber);
  $("pause").textContent = s.paused ? "play" : "pause";
  $("pause").classList.toggle("on", !!s.paused);
  const cues = $("cues");
  if (cues.childElementCount !== state.cues.length ||
      cues.dataset.text !== state.cues.join("\n")) {
    cues.replaceChildren(...state.cues.map((text, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${i + 1}. ${text}`;
      b.addEventListener("click", () => send("/cue/go", [i + 1]));
      li.append(b);
      return li;
    }));
    cues.dataset.text = state.cues.join("\n");
  }
  [...cues.querySelectorAll("button")].forEach((b, i) => b.classList.toggle("on", i + 1 === s.cue));
  const box = $("sources-box"), row = $("sources");
  box.hidden = !offers("/show/source") || state.sources.length < 2;
  if (row.dataset.text !== state.sources.join("\n")) {
    row.replaceChildren(...state.sources.map((name) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = name;
      b.dataset.name = name;
      b.addEventListener("click", () => send("/show/source", [name]));
      return b;
    }));
    row.dataset.text = state.sources.join("\n");
  }
  [...row.children].forEach((b) => b.classList.toggle("on", b.dataset.name === s.source));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${scheme}//${location.host}/ws`, ["rackfocus", "token." + token]);
  ws.binaryType = "blob";
  ws.onopen = () => { $("link").textContent = "live"; $("link").className = ""; };
  ws.onclose = () => {
    $("link").textContent = token ? "offline (token refused or show stopped)" : "no token in URL";
    $("link").className = "off";
    ws = null;
    setTimeout(connect, RETRY_MS);
  };
  ws.onmessage = (event) => {
    if (typeof event.data !== "string") {
      const url = URL.createObjectURL(event.data);
      $("thumb").src = url;
      if (thumbURL) URL.revokeObjectURL(thumbURL);
      thumbURL = url;
      return;
    }
    const message = JSON.parse(event.data);
    if (message.type === "state") {
      state = message;
      render();
      document.dispatchEvent(new CustomEvent("rackfocus-state", { detail: message }));
    }
  };
}

$("thumb").addEventListener("click", (e) => {
  if (!offers("/focus/pick")) return;
  const r = e.currentTarget.getBoundingClientRect();
  const x = (e.clientX - r.left) / r.width, y = (e.clientY - r.top) / r.height;
  send("/focus/pick", [Math.min(Math.max(x, 0), 1), Math.min(Math.max(y, 0), 1)]);
});
for (const [id, address, from] of [
  ["focus", "/focus/distance", focusFromSlider],
  ["fnumber", "/lens/fnumber", fnumberFromSlider],
]) {
  const slider = $(id);
  slider.addEventListener("pointerdown", () => { dragging[id] = true; });
  slider.addEventListener("input", () => { if (state) send(address, [from(+slider.value)]); });
  slider.addEventListener("change", () => { dragging[id] = false; });
}
$("near").addEventListener("click", () => send("/focus/subject", ["near"]));
$("far").addEventListener("click", () => send("/focus/subject", ["far"]));
$("next").addEventListener("click", () => send("/cue/next"));
$("pause").addEventListener("click", () => send("/show/pause", [state && state.status.paused ? 0 : 1]));

window.rackfocus = { send, get state() { return state; }, get sent() { return sent; } };
connect();
