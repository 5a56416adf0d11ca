"use strict";
// The console: live status over Server-Sent Events (/status/events), the
// picture from /stream, changes through POST /control. Every request carries
// the page's ?token= when it was opened with one; with Basic auth the browser
// sends the credentials it was given for this page.

// Every key this page may send to /control.
const SENDS = ["quality", "mqtt_rate", "paused", "snapshot", "reconnect", "controls", "save",
  "width", "height", "fps", "rotation", "flip_h", "flip_v"];

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const page = { canControl: false, online: false, lastStatus: null, lastSeen: 0, attempts: 0,
  source: null, retry: null, sending: Promise.resolve(), modes: null, controlsShape: "", eventsGen: null };

// A URL on this service (built from the origin, so credentials given in the
// page's own URL are never copied into it), with the token when there is one.
function url(path, extra) {
  const u = new URL(path, location.origin);
  if (token) u.searchParams.set("token", token);
  for (const [k, v] of Object.entries(extra || {})) u.searchParams.set(k, v);
  return u.href;
}

function headers(more) {
  const h = Object.assign({}, more);
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

function text(id, value, cls) {
  const el = $(id);
  el.textContent = value;
  if (cls !== undefined) el.className = cls;
}

function result(kind, message) {
  text("result", message, "result " + kind);
}

function fpsText(f) {
  return Math.abs(f - Math.round(f)) < 0.005 ? String(Math.round(f)) : f.toFixed(2).replace(/0+$/, "");
}

// --- changes -------------------------------------------------------------

function modeText(m) {
  let t = m.width + "\u00d7" + m.height + " " + m.pixel_format + " at " + fpsText(m.fps) + " fps";
  if (m.rotation) t += ", turned " + m.rotation + "\u00b0";
  if (m.flip_h) t += ", mirrored";
  if (m.flip_v) t += ", upside down";
  return t;
}

function describe(applied) {
  const parts = Object.entries(applied || {}).map(([k, v]) =>
    k === "controls" && v && typeof v === "object"
      ? Object.entries(v).map(([n, x]) => n + " = " + x).join(", ")
      : k === "mode" && v && typeof v === "object"
        ? "mode " + modeText(v)
        : k + " = " + (typeof v === "object" ? JSON.stringify(v) : v));
  return parts.length ? "applied: " + parts.join(", ") : "applied";
}

// POST /control with a JSON body; shows the service's answer or its error.
// One at a time, in order: a slider moved twice ends at its last value.
function send(body, label) {
  for (const k of Object.keys(body)) {
    if (!SENDS.includes(k)) throw new Error("not a control key: " + k);
  }
  const done = page.sending.then(() => post(body, label));
  page.sending = done.catch(() => null);
  return done;
}

async function post(body, label) {
  result("pending", label + "…");
  let answer;
  try {
    const r = await fetch(url("/control"), {
      method: "POST", cache: "no-store", body: JSON.stringify(body),
      headers: headers({ "Content-Type": "application/json" }),
    });
    answer = await r.json().catch(() => ({ ok: false, error: "HTTP " + r.status + " " + r.statusText }));
    if (!r.ok && answer.ok !== false) answer = { ok: false, error: "HTTP " + r.status };
  } catch (e) {
    answer = { ok: false, error: "not sent: " + e.message };
  }
  if (answer.ok) {
    result("ok", label + ": " + describe(answer.applied));
    if (answer.status) settled(answer.status);
  } else {
    result("err", label + " failed: " + answer.error);
    if (page.lastStatus) showStatus(page.lastStatus, true);
  }
  return answer;
}

async function download() {
  result("pending", "snapshot…");
  try {
    const r = await fetch(url("/snapshot"), { cache: "no-store", headers: headers() });
    if (!r.ok) { result("err", "snapshot: " + (await r.text()).trim()); return; }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = "tars-camera-" + new Date().toISOString().replace(/[:.]/g, "-") + ".jpg";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 30000);
    result("ok", "snapshot downloaded: " + a.download);
  } catch (e) {
    result("err", "snapshot: " + e.message);
  }
}

function wireSettings() {
  const q = $("quality");
  q.addEventListener("input", () => { $("quality-out").textContent = q.value; });
  q.addEventListener("change", () => send({ quality: Number(q.value) }, "quality"));
  $("mqtt-rate").addEventListener("change", (e) => {
    const v = Number(e.target.value);
    if (e.target.value === "" || !Number.isFinite(v)) { result("err", "MQTT rate: give a number"); return; }
    send({ mqtt_rate: v }, "MQTT rate");
  });
  $("paused").addEventListener("change", (e) => send({ paused: e.target.checked }, e.target.checked ? "pause" : "resume"));
  $("reconnect").addEventListener("click", () => send({ reconnect: true }, "reconnect"));
  $("save-snapshot").addEventListener("click", () => send({ snapshot: true }, "snapshot on the robot"));
  $("save").addEventListener("click", () => send({ save: true }, "save settings"));
  $("download").addEventListener("click", download);
  $("mode-size").addEventListener("change", (e) => {
    const m = page.modes && page.modes.modes[Number(e.target.value)];
    if (!m) return;
    const body = { width: m.width, height: m.height };
    const cur = page.modes.current;
    if (m.fps && m.fps.length && !m.fps.some((f) => Math.abs(f - cur.fps) < 0.01)) body.fps = m.fps[0];
    send(body, "camera mode").then(modesAfter);
  });
  $("mode-fps").addEventListener("change", (e) => send({ fps: Number(e.target.value) }, "frame rate").then(modesAfter));
  $("rotation").addEventListener("change", (e) => send({ rotation: Number(e.target.value) }, "rotation").then(modesAfter));
  $("flip-h").addEventListener("change", (e) => send({ flip_h: e.target.checked }, "mirror").then(modesAfter));
  $("flip-v").addEventListener("change", (e) => send({ flip_v: e.target.checked }, "flip").then(modesAfter));
}

// --- status --------------------------------------------------------------

// An input the user is touching keeps its value until the change is sent.
function setIdle(el, apply) {
  if (document.activeElement !== el || el.type === "checkbox") apply(el);
}

function showSettings(s) {
  setIdle($("quality"), (el) => { el.value = s.quality; $("quality-out").textContent = s.quality; });
  setIdle($("mqtt-rate"), (el) => { el.value = s.mqtt_rate; el.max = s.max_mqtt_rate; });
  $("paused").checked = s.paused;
}

// The settings a change left, into the last status until the next one comes.
function settled(state) {
  const st = page.lastStatus;
  if (!st) { showSettings(state); return; }
  st.encoder.quality = state.quality;
  st.mqtt.rate_hz = state.mqtt_rate;
  st.mqtt.paused = state.paused;
  showStatus(st);
}

function mqttText(m) {
  switch (m.state) {
    case "connected": return ["connected", "good"];
    case "waiting": {
      const s = Math.ceil((m.next_attempt_in_ms || 0) / 1000);
      return ["retry in " + s + " s (attempt " + m.attempt + ")", "warn"];
    }
    case "connecting": return ["connecting (attempt " + m.attempt + ")", "warn"];
    default: return [m.state || "–", "bad"];
  }
}

function showStatus(st, settingsOnly) {
  const c = st.capture, e = st.encoder, m = st.mqtt;
  showSettings({ quality: e.quality, mqtt_rate: m.rate_hz, max_mqtt_rate: c.target_fps, paused: m.paused });
  if (settingsOnly) return;
  const w = e.width || c.width, h = e.height || c.height;
  text("size", w + "×" + h);
  const low = c.measured_fps < 0.8 * c.target_fps;
  const fps = c.measured_fps.toFixed(1) + " / " + fpsText(c.target_fps) + " fps";
  text("fps", fps);
  text("s-fps", fps, low ? "warn" : "good");
  text("s-encoder", e.encoder + " · q" + e.quality + " · " + Math.round(e.jpeg_bytes / 1024) + " KB");
  text("s-clients", st.stream.clients + " of " + st.stream.max_clients + " · " + st.stream.frames_per_s.toFixed(1) + " fps out");
  const [mt, mc] = mqttText(m);
  text("s-mqtt", mt + " · " + (m.paused ? "paused" : m.rate_hz + " Hz"), mc);
  text("s-failures", c.consecutive_failures + " in a row · " + c.total_failures + " total · " + c.reopens + " re-opens",
    c.consecutive_failures > 0 ? "bad" : "");
  const camera = c.health || "–";
  const published = m.health ? " · MQTT: " + m.health.event : "";
  text("s-health", "camera " + camera + published,
    camera === "ok" ? "good" : camera === "starting" ? "warn" : "bad");
  const err = c.last_error || m.last_error;
  text("s-error", err || "none", err ? "bad" : "");
  text("version", "v" + st.version + " · up " + Math.floor(st.uptime_s) + " s · " + c.backend + " " + c.device);
}

function showEvents(ev) {
  const list = $("events");
  const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  if (page.eventsGen === null) list.textContent = "";
  page.eventsGen = ev.generation;
  for (const line of ev.lines) {
    const li = document.createElement("li");
    li.textContent = line.text;
    li.className = line.level;
    list.append(li);
  }
  while (list.children.length > 200) list.firstElementChild.remove();
  if (atEnd) list.scrollTop = list.scrollHeight;
}

// --- camera controls ----------------------------------------------------

function controlValue(c, el) {
  if (c.type === "boolean") return el.checked;
  return Number(el.value);
}

function controlInput(c) {
  let el;
  if (c.type === "boolean") {
    el = document.createElement("input");
    el.type = "checkbox";
  } else if (c.type === "menu" || c.type === "integer_menu") {
    el = document.createElement("select");
    for (const item of c.menu || []) el.append(new Option(item.name, item.index));
  } else {
    el = document.createElement("input");
    el.type = "range";
    el.min = c.min; el.max = c.max; el.step = c.step || 1;
  }
  el.id = "control-" + c.name;
  el.dataset.control = c.name;
  return el;
}

function controlRow(c) {
  const el = controlInput(c);
  const label = document.createElement("label");
  const caption = document.createElement("span");
  const out = document.createElement("output");
  caption.append(c.label + " ", out);
  if (c.type === "boolean") {
    label.className = "check";
    label.append(el, " " + c.label);
  } else {
    label.className = "row";
    label.append(caption, el);
  }
  el.addEventListener("input", () => { out.textContent = el.value; });
  el.addEventListener("change", () =>
    send({ controls: { [c.name]: controlValue(c, el) } }, c.label));
  return label;
}

function showControls(list) {
  const box = $("controls");
  const shape = JSON.stringify(list.map((c) => [c.name, c.type, c.min, c.max, c.step, c.menu]));
  if (shape !== page.controlsShape) {
    page.controlsShape = shape;
    box.textContent = "";
    for (const c of list) box.append(controlRow(c));
    if (!list.length) box.innerHTML = "<p class=\"muted\">none offered</p>";
  }
  for (const c of list) {
    const el = $("control-" + c.name);
    if (!el) continue;
    const fixed = c.inactive || c.read_only || c.grabbed;
    el.disabled = fixed;
    el.title = c.inactive ? "inactive now" : c.read_only ? "read only" : c.grabbed ? "held by the driver" : "";
    setIdle(el, (x) => {
      if (c.type === "boolean") x.checked = c.value !== 0; else x.value = c.value;
    });
    const out = el.parentElement.querySelector("output");
    if (out) out.textContent = c.type === "integer" ? c.value : (c.inactive ? "(inactive)" : "");
  }
}

// --- modes (GET /modes; hidden when the service has none) -----------------

// After a change: the mode its answer reports (the list may be a moment
// behind it).
function modesAfter(answer) {
  return loadModes(answer && answer.ok && answer.applied ? answer.applied.mode : null);
}

async function loadModes(now) {
  let data = null;
  try {
    const r = await fetch(url("/modes"), { cache: "no-store", headers: headers() });
    if (r.ok) data = await r.json();
  } catch (e) { data = null; }
  page.modes = data && Array.isArray(data.modes) ? data : null;
  $("mode").hidden = !page.modes;
  if (!page.modes) return;
  if (now) page.modes.current = now;
  const cur = page.modes.current || {};
  const size = $("mode-size");
  size.textContent = "";
  let chosen = 0;
  page.modes.modes.forEach((m, i) => {
    size.append(new Option(m.width + "×" + m.height + " " + (m.pixel_format || ""), i));
    if (m.width === cur.width && m.height === cur.height && (!cur.pixel_format || m.pixel_format === cur.pixel_format)) chosen = i;
  });
  size.value = chosen;
  const rates = $("mode-fps");
  rates.textContent = "";
  const m = page.modes.modes[chosen];
  for (const f of (m && m.fps) || [cur.fps]) rates.append(new Option(fpsText(f), f));
  const exact = [...rates.options].find((o) => Math.abs(Number(o.value) - cur.fps) < 0.01);
  if (exact) rates.value = exact.value;
  $("rotation").value = String(cur.rotation || 0);
  $("flip-h").checked = !!cur.flip_h;
  $("flip-v").checked = !!cur.flip_v;
}

// --- connection ----------------------------------------------------------

function allowControl(hello) {
  page.canControl = !!hello.control;
  for (const id of ["settings", "mode", "camera"]) $(id).disabled = !page.canControl;
  $("save").hidden = !hello.save;
  const note = $("readonly");
  note.hidden = page.canControl;
  if (!page.canControl) {
    note.textContent = "Read only: " + (hello.why || "this client may not change settings") +
      ". With --http-auth, log in when the browser asks; with --http-token, open this page as /?token=TOKEN.";
  }
}

function reloadPicture() {
  $("picture").src = url("/stream", { t: Date.now() });
}

function setOnline(on, why) {
  const was = page.online;
  page.online = on;
  $("view").classList.toggle("stale", !on);
  $("state").classList.toggle("stale", !on);
  text("link", on ? "live" : "offline", "badge " + (on ? "on" : "off"));
  const banner = $("banner");
  banner.hidden = on;
  if (!on) {
    // Nothing can be changed until the service answers again.
    for (const id of ["settings", "mode", "camera"]) $(id).disabled = true;
    result("", "");
    const seen = page.lastSeen ? " Last update " + new Date(page.lastSeen).toLocaleTimeString() + "." : "";
    banner.textContent = "Lost the connection to the camera service (" + why + "). Trying again every 1.5 s (" +
      page.attempts + " so far)." + seen + " The picture and status come back by themselves.";
  } else if (!was) {
    if (page.attempts) result("ok", "connected again: the settings shown are the service's now");
    reloadPicture();
    loadModes();
  }
}

function connect() {
  clearTimeout(page.retry);
  if (page.source) page.source.close();
  const es = new EventSource(url("/status/events"));
  page.source = es;
  const on = (name, f) => es.addEventListener(name, (ev) => {
    page.lastSeen = Date.now();
    try { f(JSON.parse(ev.data)); } catch (e) { result("err", name + ": " + e.message); }
  });
  on("hello", (h) => { page.eventsGen = null; allowControl(h); setOnline(true); page.attempts = 0; });
  on("status", (s) => { page.lastStatus = s; showStatus(s); });
  on("events", showEvents);
  on("controls", (c) => showControls(c.controls || []));
  es.onerror = () => lost("the service does not answer");
}

function lost(why) {
  if (page.source) page.source.close();
  page.source = null;
  page.attempts += 1;
  setOnline(false, why);
  clearTimeout(page.retry);
  page.retry = setTimeout(connect, 1500);
}

// A connection that stays open but goes quiet (a cable pulled) is lost too.
setInterval(() => {
  if (page.online && Date.now() - page.lastSeen > 4000) lost("no update for 4 s");
}, 1000);

$("picture").addEventListener("error", () => {
  if (page.online) setTimeout(reloadPicture, 2000);
});
$("stream-link").href = url("/stream");
$("status-link").href = url("/status");
wireSettings();
connect();
