// The Step-through player: plays the time steps in the browser, with no server round trip
// per frame. explorer/ui/player.py mounts it twice: the "head" (Play/Pause and the
// "t = N of M" line) keeps the clock, moves the heatmap cursors and repaints the cell
// diagram (Plotly charts drawn by the page, found by their layout.meta); the "equations"
// mount fills in the numbers of the equations. The server hears only where playback
// stopped (state "settled"), once per pause.
const BUS = "rnn-step-player";  // window event, detail: {group, t}
const ICON = {  // inline: no icon font or external file
  play: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 5v14l11-7z"/></svg>',
  pause: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 5h4v14H6zM14 5h4v14h-4z"/></svg>',
};

function stepNow(group) {
  return (window.__rnnStep || {})[group];
}

function announce(group, t) {
  (window.__rnnStep = window.__rnnStep || {})[group] = t;
  window.dispatchEvent(new CustomEvent(BUS, { detail: { group, t } }));
}

function at(values, t) {  // a per-step array, or one number for every step
  const v = Array.isArray(values) ? values[t - 1] : values;
  return v === null || v === undefined || !isFinite(v) ? null : v;
}

// ---------------------------------------------------------------- numbers as Python writes them
function formatNumber(v, form, digits) {  // explorer.equations.format_number
  if (v === null) return "–";
  let s = v.toFixed(digits);
  if (parseFloat(s) === 0) s = (0).toFixed(digits);
  const negative = s.startsWith("-");
  s = s.replace("-", "−");
  return form === "term" && negative ? `(${s})` : s;
}

// ---------------------------------------------------------------- colours (explorer.diagram.colour_for)
function colour(scale, v) {
  const [lo, hi, stops] = scale;
  const u = Math.min(Math.max((v - lo) / (hi - lo), 0), 1);
  let k = 1;
  while (k < stops.length - 1 && stops[k][0] < u) k++;
  const [p0, c0] = stops[k - 1];
  const [p1, c1] = stops[k];
  const w = p1 > p0 ? (u - p0) / (p1 - p0) : 0;
  const rgb = c0.map((c, j) => c + w * (c1[j] - c));
  return { css: `rgb(${rgb.map((c) => c.toFixed(1)).join(", ")})`, rgb };
}

function inkOn(rgb) {  // explorer.diagram._text_colour
  const [r, g, b] = rgb.map((c) => c / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 ? "#222222" : "#ffffff";
}

function replaceNumber(el, text) {
  const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const m = node.nodeValue.match(/(=\s*)([−-]?\d+\.\d+)/);
    if (m) {
      node.nodeValue = node.nodeValue.replace(m[0], m[1] + text);
      return;
    }
  }
}

// ---------------------------------------------------------------- the page's Plotly charts
function plots() {
  return [...document.querySelectorAll(".js-plotly-plot")].filter(
    (gd) => gd.layout && gd.layout.meta && gd.layout.meta.player);
}

function moveCursor(gd, meta, t) {
  const xa = gd._fullLayout && gd._fullLayout.xaxis;
  if (!xa || typeof xa.l2p !== "function") return;
  const dx = xa.l2p(t) - xa.l2p(meta.t);
  gd.querySelectorAll('.shapelayer path[data-index="0"]').forEach((p) => {
    if (dx) p.setAttribute("transform", `translate(${dx.toFixed(2)},0)`);
    else p.removeAttribute("transform");
  });
  gd.dataset.playerT = String(t);
}

function paintDiagram(gd, diagram, t) {
  const values = diagram.values;
  const layout = gd.layout;
  (layout.shapes || []).forEach((shape, i) => {
    const key = diagram.shapes[shape.name];
    if (!key || !(key in values) || !(key in diagram.scale_of)) return;
    const v = at(values[key], t);
    if (v === null) return;
    const fill = colour(diagram.scales[diagram.scale_of[key]], v).css;
    gd.querySelectorAll(`.shapelayer path[data-index="${i}"]`).forEach((p) => {
      p.style.fill = fill;
    });
  });
  (layout.annotations || []).forEach((note, i) => {
    const name = note.name || "";
    const el = gd.querySelector(`.annotation[data-index="${i}"] text.annotation-text`);
    if (!el) return;
    if (name.startsWith("label_")) {
      const key = name.slice(6);
      const v = key in values ? at(values[key], t) : null;
      if (v !== null) replaceNumber(el, v.toFixed(2).replace("-", "−"));
    }
    const box = diagram.inside[name];
    if (box && box in values && box in diagram.scale_of) {
      const v = at(values[box], t);
      if (v !== null) el.style.fill = inkOn(colour(diagram.scales[diagram.scale_of[box]], v).rgb);
    }
  });
  const title = gd.querySelector(".gtitle");
  if (title) replaceStep(title, t);
  gd.dataset.playerT = String(t);
}

function replaceStep(el, t) {
  const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    if (/step t = \d+/.test(node.nodeValue)) {
      node.nodeValue = node.nodeValue.replace(/step t = \d+/, `step t = ${t}`);
    }
  }
}

function followCharts(data, t) {
  for (const gd of plots()) {
    const meta = gd.layout.meta;
    if (meta.group !== data.group) continue;
    try {
      if (meta.player === "cursor") moveCursor(gd, meta, t);
      else if (meta.player === "diagram" && data.diagram) paintDiagram(gd, data.diagram, t);
      else if (meta.player === "settled") gd.style.opacity = t === meta.t ? "" : "0.35";
    } catch (err) {
      console.warn("step player:", err);  // a chart mid-redraw: the next frame tries again
    }
  }
}

// ---------------------------------------------------------------- the head: clock and controls
function head(root, data, setStateValue) {
  let s = root.__rnnPlayer;
  if (!s) {
    const box = document.createElement("div");  // a child: the root also holds our CSS
    box.className = "rnn-player";
    box.innerHTML = '<button type="button" class="rnn-play" data-testid="rnnPlay"></button>' +
      '<h4 class="rnn-step" data-testid="rnnStep"></h4>';
    root.appendChild(box);
    s = root.__rnnPlayer = { pos: null, seen: null, timer: null, data, frames: 0 };
    s.button = root.querySelector(".rnn-play");
    s.label = root.querySelector(".rnn-step");
    s.show = (t) => {
      s.pos = t;
      s.frames += 1;
      const d = s.data;
      s.label.textContent = `t = ${t} of ${d.T}` + (d.labels ? ` · ${d.labels[t - 1]}` : "");
      s.label.dataset.t = String(t);
      followCharts(d, t);
      announce(d.group, t);
    };
    s.stop = () => {
      if (s.timer !== null) clearInterval(s.timer);
      s.timer = null;
      document.documentElement.classList.remove("rnn-playing");
      s.button.innerHTML = `${ICON.play}<span>Play</span>`;
      s.button.setAttribute("aria-label", "Play");
      s.button.title = "Play the sequence in the browser at the chosen speed";
    };
    s.settle = () => {  // tell the server where playback stopped (one rerun)
      s.stop();
      if (s.pos !== s.data.t) {
        // the page will come back settled here: that is not the server moving the step (Play
        // pressed again before it comes must keep playing)
        s.seen = s.pos;
        setStateValue("settled", { t: s.pos, n: Date.now() });
      }
    };
    s.anchor = () => {
      s.from = { pos: s.pos, time: performance.now() };
    };
    s.tick = () => {
      const d = s.data;
      const target = s.from.pos + Math.floor(((performance.now() - s.from.time) * d.speed) / 1000);
      if (target !== s.pos) s.show(Math.min(target, d.T));
      if (s.pos >= d.T) s.settle();
    };
    s.play = () => {
      if (s.pos >= s.data.T) s.show(1);  // from the end: start over at t = 1
      s.anchor();
      document.documentElement.classList.add("rnn-playing");  // the page's settled-step widgets dim
      s.button.innerHTML = `${ICON.pause}<span>Pause</span>`;
      s.button.setAttribute("aria-label", "Pause");
      s.button.title = "Pause: the page then shows this step everywhere";
      s.timer = setInterval(s.tick, Math.max(10, 250 / s.data.speed));
    };
    s.button.onclick = () => (s.timer === null ? s.play() : s.settle());
    s.stop();
  }
  const speedChanged = s.data.speed !== data.speed;
  s.data = data;
  if (s.seen !== data.t || s.pos === null || s.pos > data.T) {
    // the server moved the step (a button, the slider, a link, a new sequence): follow it
    s.seen = data.t;
    s.stop();
    s.pos = data.t;
  }
  if (s.timer !== null && speedChanged) {
    clearInterval(s.timer);
    s.anchor();
    s.timer = setInterval(s.tick, Math.max(10, 250 / data.speed));
  }
  s.show(s.pos);
  // charts drawn after this (or redrawn by Plotly) follow once they exist
  [150, 600, 1500, 4000].forEach((ms) => setTimeout(() => {
    if (root.__rnnPlayer === s && s.timer === null) followCharts(s.data, s.pos);
  }, ms));
  return () => {
    s.stop();
    root.__rnnPlayer = null;
  };
}

// ---------------------------------------------------------------- the equations' numbers
function equations(root, data) {
  let s = root.__rnnEquations;
  if (!s) {
    const box = document.createElement("div");
    box.className = "rnn-eq";
    box.innerHTML = '<p class="rnn-eq-head"></p><div class="rnn-eq-lines"></div>';
    root.appendChild(box);
    s = root.__rnnEquations = { data, lines: null };
    s.head = root.querySelector(".rnn-eq-head");
    s.body = root.querySelector(".rnn-eq-lines");
    s.render = (t) => {
      const d = s.data;
      if (!t || t > d.T) t = d.t;
      s.head.innerHTML = d.head.replace("{t}", String(t));
      for (const el of s.slots) {
        const values = d.frames[el.dataset.v];
        el.textContent = formatNumber(values === undefined ? null : at(values, t), el.dataset.f, d.digits);
      }
      s.body.dataset.t = String(t);
    };
    s.listener = (e) => {
      if (e.detail.group === s.data.group) s.render(e.detail.t);
    };
    window.addEventListener(BUS, s.listener);
  }
  s.data = data;
  const lines = data.lines.join("\n");
  if (s.lines !== lines) {
    s.body.innerHTML = data.lines.map((l) => `<div class="rnn-eq-line">${l}</div>`).join("");
    s.slots = [...s.body.querySelectorAll("[data-v]")];
    s.lines = lines;
  }
  s.render(stepNow(data.group) || data.t);
  return () => {
    window.removeEventListener(BUS, s.listener);
    root.__rnnEquations = null;
  };
}

// The number and colour rules, for the browser tests to compare with Python's.
window.rnnStepPlayer = { formatNumber, colour: (scale, v) => colour(scale, v).css };

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data) return undefined;
  return data.role === "equations" ? equations(parentElement, data)
    : head(parentElement, data, setStateValue);
}
