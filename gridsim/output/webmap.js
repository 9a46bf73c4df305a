// gridsim's interactive map (交互式网格地图): a canvas of the grids, coloured by a metric or by
// the grids' modes at the slider's time. No library, no network: the data are in the page
// (script#gridsim-map-data, base64 typed arrays), written by gridsim/output/webmap.py.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("gridsim-map-data").textContent);

  function bytes(b64) {
    var s = atob(b64), u = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return u.buffer;
  }
  function f32(b) { return new Float32Array(bytes(b)); }
  function u32(b) { return new Uint32Array(bytes(b)); }
  function i32(b) { return new Int32Array(bytes(b)); }
  function u16(b) { return new Uint16Array(bytes(b)); }
  function u8(b) { return new Uint8Array(bytes(b)); }

  var n = D.n, ids = i32(D.ids), xy = f32(D.xy);
  var ringOff = u32(D.ringOffsets), gridRings = u32(D.gridRings);
  var metrics = D.metrics, texts = D.texts, modes = D.modes;
  metrics.forEach(function (m) {
    if (m.kind === "num") m.v = f32(m.values); else m.c = u16(m.codes);
  });
  texts.forEach(function (t) { t.c = u16(t.codes); });
  var ch = D.changes ? { g: u32(D.changes.g), t: f32(D.changes.t), m: u8(D.changes.m) } : null;

  // -- geometry: one Path2D per grid, its box ----------------------------------------------------
  var paths = new Array(n), box = new Float64Array(4 * n);
  var X0 = Infinity, X1 = -Infinity, Y0 = Infinity, Y1 = -Infinity;
  for (var g = 0; g < n; g++) {
    var p = new Path2D(), bx0 = Infinity, bx1 = -Infinity, by0 = Infinity, by1 = -Infinity;
    for (var r = gridRings[g]; r < gridRings[g + 1]; r++) {
      for (var k = ringOff[r]; k < ringOff[r + 1]; k++) {
        var x = xy[2 * k], y = xy[2 * k + 1];
        if (k === ringOff[r]) p.moveTo(x, y); else p.lineTo(x, y);
        if (x < bx0) bx0 = x; if (x > bx1) bx1 = x; if (y < by0) by0 = y; if (y > by1) by1 = y;
      }
      p.closePath();
    }
    paths[g] = p;
    box[4 * g] = bx0; box[4 * g + 1] = bx1; box[4 * g + 2] = by0; box[4 * g + 3] = by1;
    if (bx0 < X0) X0 = bx0; if (bx1 > X1) X1 = bx1; if (by0 < Y0) Y0 = by0; if (by1 > Y1) Y1 = by1;
  }

  // -- colours -----------------------------------------------------------------------------------
  var VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962",
                 "#addc30", "#fde725"];
  // shares: red (the standard missed) to blue, the 5-minute map's colours (figures.py)
  var SHARE = ["#b2182b", "#f4a582", "#92c5de", "#2166ac"];
  var CATS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
              "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"];
  var NONE = "#ececec", BINS = 32;
  function hex(c) { return [1, 3, 5].map(function (i) { return parseInt(c.substr(i, 2), 16); }); }
  function ramp(stops, f) {
    var s = Math.max(0, Math.min(1, f)) * (stops.length - 1), i = Math.min(Math.floor(s),
      stops.length - 2), w = s - i, a = hex(stops[i]), b = hex(stops[i + 1]);
    return "rgb(" + [0, 1, 2].map(function (j) {
      return Math.round(a[j] + (b[j] - a[j]) * w);
    }).join(",") + ")";
  }
  function binColours(stops) {
    var out = [];
    for (var i = 0; i < BINS; i++) out.push(ramp(stops, (i + 0.5) / BINS));
    return out;
  }

  // -- state -------------------------------------------------------------------------------------
  var canvas = document.getElementById("gm-canvas"), ctx = canvas.getContext("2d");
  var sel = document.getElementById("gm-metric"), slider = document.getElementById("gm-slider");
  var legend = document.getElementById("gm-legend"), tip = document.getElementById("gm-tip");
  var info = document.getElementById("gm-info"), tlabel = document.getElementById("gm-time");
  var metric = -1;          // -1: the modes at the slider's time
  var tNow = 0, modeNow = new Uint8Array(n), fill = new Array(n), groups = [];
  var view = { s: 1, tx: 0, ty: 0 }, W = 0, H = 0, dpr = 1, hover = -1, pinned = -1;
  var outline = [];        // grids out of peacetime over a metric: {colour, path}

  function modesAt(t) {
    modeNow.fill(0);
    if (!ch) return;
    for (var i = 0; i < ch.t.length && ch.t[i] <= t; i++) modeNow[ch.g[i]] = ch.m[i];
  }
  function colourAll() {
    var byColour = {}, i;
    if (metric < 0) {
      for (i = 0; i < n; i++) fill[i] = modes[modeNow[i]].colour;
    } else {
      var m = metrics[metric];
      if (m.kind === "num") {
        var cols = binColours(m.share ? SHARE : VIRIDIS), span = m.hi - m.lo || 1;
        for (i = 0; i < n; i++) {
          var v = m.v[i];
          fill[i] = isNaN(v) ? NONE
            : cols[Math.max(0, Math.min(BINS - 1, Math.floor((v - m.lo) / span * BINS)))];
        }
      } else {
        for (i = 0; i < n; i++) fill[i] = CATS[m.c[i] % CATS.length];
      }
    }
    for (i = 0; i < n; i++) (byColour[fill[i]] = byColour[fill[i]] || []).push(i);
    groups = Object.keys(byColour).map(function (c) {
      var p = new Path2D();
      byColour[c].forEach(function (g) { p.addPath(paths[g]); });
      return { colour: c, path: p, count: byColour[c].length };
    });
    // grids out of peacetime, outlined in their mode's colour over a metric
    outline = [];
    if (metric >= 0 && ch) {
      for (var k = 1; k < modes.length; k++) {
        var p2 = new Path2D(), cnt = 0;
        for (i = 0; i < n; i++) if (modeNow[i] === k) { p2.addPath(paths[i]); cnt++; }
        if (cnt) outline.push({ colour: modes[k].colour, path: p2 });
      }
    }
  }
  function fmt(v, m) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    if (m && m.share) return (100 * v).toFixed(1) + " %";
    if (m && m.int) return Math.round(v).toLocaleString("en");
    var a = Math.abs(v);
    return a >= 1000 ? Math.round(v).toLocaleString("en") : a >= 10 ? v.toFixed(1)
      : v.toPrecision(3);
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function drawLegend() {
    var h = "";
    if (metric < 0) {
      var counts = new Array(modes.length).fill(0);
      for (var i = 0; i < n; i++) counts[modeNow[i]]++;
      h = "<b>mode 模式</b> (" + (tNow / 3600).toFixed(2) + " h)<br>";
      modes.forEach(function (m, k) {
        h += '<span class="sw" style="background:' + m.colour + '"></span>' + esc(m.label) +
          ": " + counts[k].toLocaleString("en") + "<br>";
      });
      if (!ch) h += "<i>" + esc(D.notes.join(" ")) + "</i>";
    } else {
      var m = metrics[metric];
      h = "<b>" + esc(m.label) + "</b><br>";
      if (m.kind === "num") {
        var stops = m.share ? SHARE : VIRIDIS;
        h += '<div class="bar" style="background:linear-gradient(to right,' + stops.join(",") +
          ')"></div><div class="ends"><span>' + (m.clipped ? "≤ " : "") + fmt(m.lo, m) +
          "</span><span>" + (m.clipped ? "≥ " : "") + fmt(m.hi, m) + "</span></div>";
        h += '<span class="sw" style="background:' + NONE + '"></span>no value 无数据<br>';
      } else {
        m.cats.forEach(function (c, k) {
          h += '<span class="sw" style="background:' + CATS[k % CATS.length] + '"></span>' +
            esc(m.catLabels[k]) + "<br>";
        });
      }
      if (outline.length) {
        h += "outlined: out of peacetime 平时以外 (" + (tNow / 3600).toFixed(2) + " h" +
          (gridPixels() > 6 ? "" : "; zoom in 放大") + ")<br>";
        outline.forEach(function (o) {
          var md = modes.filter(function (x) { return x.colour === o.colour; })[0];
          h += '<span class="sw" style="background:#fff;border:2px solid ' + o.colour +
            '"></span>' + esc(md.label) + "<br>";
        });
      }
    }
    legend.innerHTML = h;
  }

  function resize() {
    var rect = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    W = Math.max(1, rect.width); H = Math.max(1, rect.height);
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  }
  function fit() {
    var w = Math.max(X1 - X0, 1), h = Math.max(Y1 - Y0, 1);
    view.s = 0.95 * Math.min(W / w, H / h);
    view.tx = W / 2 - view.s * (X0 + X1) / 2;
    view.ty = H / 2 + view.s * (Y0 + Y1) / 2;
  }
  function draw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    var s = view.s * dpr;
    ctx.setTransform(s, 0, 0, -s, view.tx * dpr, view.ty * dpr);
    groups.forEach(function (gr) { ctx.fillStyle = gr.colour; ctx.fill(gr.path, "evenodd"); });
    // grid borders once the grids are large enough on screen to carry them
    var med = gridPixels();
    if (med > 8) {
      ctx.lineWidth = 0.6 / view.s;
      ctx.strokeStyle = "rgba(80,80,80,0.5)";
      groups.forEach(function (gr) { ctx.stroke(gr.path); });
    }
    // outlines only where a grid is large enough on screen to show its fill inside them
    if (med > 6) {
      ctx.lineWidth = Math.min(2.5, med / 6) / view.s;
      outline.forEach(function (o) { ctx.strokeStyle = o.colour; ctx.stroke(o.path); });
    }
    [hover, pinned].forEach(function (g) {
      if (g < 0) return;
      ctx.lineWidth = 2.5 / view.s; ctx.strokeStyle = "#000"; ctx.stroke(paths[g]);
    });
  }
  // the typical width of a grid on screen, in CSS pixels
  function gridPixels() {
    return Math.sqrt((X1 - X0) * (Y1 - Y0) / Math.max(n, 1)) * view.s;
  }
  function update() { modesAt(tNow); colourAll(); drawLegend(); draw(); showTime(); }
  function showTime() {
    var out = 0;
    for (var i = 0; i < n; i++) if (modeNow[i] !== 0) out++;
    tlabel.textContent = "t = " + (tNow / 3600).toFixed(2) + " h · " + out.toLocaleString("en") +
      " grids out of peacetime 平时以外的网格";
  }

  // -- hit test and values -------------------------------------------------------------------------
  function inside(g, x, y) {
    var c = false;
    for (var r = gridRings[g]; r < gridRings[g + 1]; r++) {
      for (var a = ringOff[r], b = ringOff[r + 1] - 1; a < ringOff[r + 1]; b = a++) {
        var xa = xy[2 * a], ya = xy[2 * a + 1], xb = xy[2 * b], yb = xy[2 * b + 1];
        if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) c = !c;
      }
    }
    return c;
  }
  function gridAt(px, py) {
    var x = (px - view.tx) / view.s, y = (view.ty - py) / view.s, best = -1, bestA = Infinity;
    for (var g = 0; g < n; g++) {
      if (x < box[4 * g] || x > box[4 * g + 1] || y < box[4 * g + 2] || y > box[4 * g + 3]) continue;
      var a = (box[4 * g + 1] - box[4 * g]) * (box[4 * g + 3] - box[4 * g + 2]);
      if (a < bestA && inside(g, x, y)) { best = g; bestA = a; }
    }
    return best;
  }
  function values(g) {
    var h = "<b>grid 网格 " + ids[g] + "</b><br>mode 模式 (" + (tNow / 3600).toFixed(2) +
      " h): " + esc(modes[modeNow[g]].label) + "<br>";
    texts.forEach(function (t) { h += esc(t.label) + ": " + esc(t.cats[t.c[g]]) + "<br>"; });
    metrics.forEach(function (m) {
      if (m.kind === "num") h += esc(m.label) + ": " + fmt(m.v[g], m) + "<br>";
    });
    return h;
  }

  // -- interaction ---------------------------------------------------------------------------------
  var drag = null;
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var f = Math.exp(-e.deltaY * 0.0015), r = canvas.getBoundingClientRect();
    var mx = e.clientX - r.left, my = e.clientY - r.top;
    view.s *= f; view.tx = mx - (mx - view.tx) * f; view.ty = my - (my - view.ty) * f;
    drawLegend(); draw();
  }, { passive: false });
  canvas.addEventListener("mousedown", function (e) {
    drag = { x: e.clientX, y: e.clientY, tx: view.tx, ty: view.ty, moved: false };
    canvas.style.cursor = "grabbing";
  });
  window.addEventListener("mouseup", function (e) {
    if (drag && !drag.moved) {
      var r = canvas.getBoundingClientRect();
      pinned = gridAt(e.clientX - r.left, e.clientY - r.top);
      info.style.display = pinned < 0 ? "none" : "block";
      if (pinned >= 0) info.innerHTML = values(pinned);
      draw();
    }
    drag = null; canvas.style.cursor = "grab";
  });
  canvas.addEventListener("mousemove", function (e) {
    var r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
    if (drag) {
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      view.tx = drag.tx + dx; view.ty = drag.ty + dy; draw();
      return;
    }
    var g = gridAt(mx, my);
    if (g !== hover) { hover = g; draw(); }
    if (g < 0) { tip.style.display = "none"; return; }
    tip.innerHTML = values(g);
    tip.style.display = "block";
    tip.style.left = Math.min(mx + 14, W - tip.offsetWidth - 4) + "px";
    tip.style.top = Math.min(my + 14, H - tip.offsetHeight - 4) + "px";
  });
  canvas.addEventListener("mouseleave", function () {
    hover = -1; tip.style.display = "none"; draw();
  });
  canvas.addEventListener("dblclick", function () { fit(); draw(); });
  window.addEventListener("resize", function () { resize(); fit(); draw(); });

  var opt = document.createElement("option");
  opt.value = "-1"; opt.textContent = "mode at the slider's time 模式";
  sel.appendChild(opt);
  metrics.forEach(function (m, i) {
    var o = document.createElement("option");
    o.value = String(i); o.textContent = m.label; sel.appendChild(o);
  });
  sel.addEventListener("change", function () { metric = parseInt(sel.value, 10); update(); });
  var dur = Math.max(D.durationS, 1);
  slider.disabled = !ch;
  slider.addEventListener("input", function () {
    tNow = dur * parseInt(slider.value, 10) / 1000; update();
  });
  var timer = null, play = document.getElementById("gm-play");
  play.disabled = !ch;
  play.addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "▶"; return; }
    play.textContent = "❚❚";
    timer = setInterval(function () {
      var v = (parseInt(slider.value, 10) + 5) % 1001;
      slider.value = String(v); tNow = dur * v / 1000; update();
    }, 120);
  });
  document.getElementById("gm-source").textContent = n.toLocaleString("en") + " grids 网格 · " +
    D.source + (D.notes.length ? " · " + D.notes.join(" ") : "");

  // the map opens at the time most grids are out of peacetime (the end of that moment)
  function peakTime() {
    if (!ch) return 0;
    var cur = new Uint8Array(n), out = 0, best = 0, at = 0;
    for (var i = 0; i < ch.t.length; i++) {
      var was = cur[ch.g[i]] !== 0 ? 1 : 0;
      cur[ch.g[i]] = ch.m[i];
      out += (ch.m[i] !== 0 ? 1 : 0) - was;
      if (out > best && (i + 1 === ch.t.length || ch.t[i + 1] > ch.t[i])) { best = out; at = ch.t[i]; }
    }
    return at;
  }
  tNow = peakTime();
  slider.value = String(Math.round(1000 * tNow / dur));
  resize(); fit(); update();

  // for scripts and tests: the map's state
  window.gridsimMap = {
    n: n, ids: ids, metrics: metrics.map(function (m) { return m.key; }),
    setTime: function (t) {
      tNow = t; slider.value = String(Math.round(1000 * t / dur)); update();
    },
    setMetric: function (key) {
      metric = key === null ? -1 : metrics.map(function (m) { return m.key; }).indexOf(key);
      sel.value = String(metric); update();
    },
    fillOf: function (g) { return fill[g]; },
    modeOf: function (g) { return modes[modeNow[g]].name; },
    changes: ch ? { g: Array.from(ch.g), t: Array.from(ch.t), m: Array.from(ch.m) } : null,
    centreOf: function (g) {  // the screen position (CSS pixels in the canvas) of a grid's box centre
      return [view.tx + view.s * (box[4 * g] + box[4 * g + 1]) / 2,
              view.ty - view.s * (box[4 * g + 2] + box[4 * g + 3]) / 2];
    },
    gridAt: gridAt, legend: function () { return legend.textContent; }, ready: true
  };
})();
