// churnlab serve dashboard: plain browser JavaScript, no build step.
// Data: /api/stream (server-sent "monitor" events), falling back to polling /api/monitor every
// 2 s when the stream fails; /api/customers/:id for the customer page (hash route #/customer/42).
// Contract: SERVE_API.md (v1). The page records its state for tests in data attributes of <body>:
// data-version, data-day, data-live (live|polling|reconnecting|offline), data-first-data
// (performance.now() when the first monitor was rendered), data-first-paint (the frame after it),
// data-customer (id of the customer page rendered), data-errors (count of errors shown).
"use strict";

(function () {
  const POLL_MS = 2000;
  const ROW_PAGE = 50;               // rows of the riskiest-customers table drawn at a time
  const SSE_FAILS_BEFORE_POLL = 2;   // consecutive stream failures before polling takes over
  const SSE_RETRY_MS = 15000;        // while polling, try the stream again this often
  const DEFAULT_HORIZON_DAYS = 30;   // shown only while calibration is null (contract has no horizon then)
  const SNAPSHOT_DAY = 180;          // the world's snapshot day (SERVE_API.md: "day 180 = the snapshot")

  const $ = (sel, root) => (root || document).querySelector(sel);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "style") e.setAttribute("style", v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  };

  // ---------- formatting ----------
  const nf0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const nf1 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const fmtInt = (x) => (isNum(x) ? nf0.format(x) : "–");
  const fmt1 = (x) => (isNum(x) ? nf1.format(x) : "–");
  const isNum = (x) => typeof x === "number" && Number.isFinite(x);
  const pct = (x, d = 1) => (isNum(x) ? (100 * x).toFixed(d) + "%" : "–");
  const pp = (x, d = 1) => (isNum(x) ? (x >= 0 ? "+" : "−") + Math.abs(100 * x).toFixed(d) + " pp" : "–");
  const signed = (s, x) => (x > 0 ? "+" : x < 0 ? "−" : "±") + s;
  const currencyFormatters = {};
  function money(x, opts) {
    if (!isNum(x)) return "–";
    const cur = state.currency || "USD";
    const compact = opts && opts.compact && Math.abs(x) >= (opts.short ? 1000 : 10000);
    const whole = opts && opts.whole && !compact && Math.abs(x) >= 100;
    const key = cur + (compact ? "c" : "") + (whole ? "w" : "");
    if (!currencyFormatters[key]) {
      try {
        currencyFormatters[key] = new Intl.NumberFormat("en-US", compact
          ? { style: "currency", currency: cur, notation: "compact", maximumFractionDigits: 1 }
          : { style: "currency", currency: cur, minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2 });
      } catch (e) { // unknown currency code: plain number and the code
        const f = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        currencyFormatters[key] = { format: (v) => f.format(v) + " " + cur };
      }
    }
    return currencyFormatters[key].format(x);
  }
  const signedMoney = (x) => (isNum(x) ? (x > 0 ? "+" : x < 0 ? "−" : "") + money(Math.abs(x)) : "–");
  const ago = (t) => {
    if (!isNum(t)) return "–";
    const s = Math.max(0, Date.now() / 1000 - t);
    return s < 2 ? "just now" : s < 90 ? Math.round(s) + " s ago" : Math.round(s / 60) + " min ago";
  };
  const esc = (s) => String(s == null ? "" : s);

  // ---------- state ----------
  const state = {
    monitor: null, currency: "USD", version: null, firstDone: false,
    sort: { key: "risk", dir: -1 },
    filters: { q: "", plan: "", minRisk: 0 },
    searched: null,            // {id, row|null, error|null} from /api/customers/:id
    live: "connecting", es: null, sseFails: 0, pollTimer: null, sseRetryTimer: null,
    customerId: null, customerTimer: null, customerVersion: null,
    charts: {}, errors: 0,
  };

  // ---------- errors: shown unobtrusively, never thrown at the console ----------
  const lastToast = {};
  function toast(msg, key) {
    const k = key || msg;
    const now = Date.now();
    if (lastToast[k] && now - lastToast[k] < 10000) return; // one per 10 s per kind
    lastToast[k] = now;
    state.errors += 1;
    document.body.dataset.errors = String(state.errors);
    const t = el("div", { class: "toast err", role: "status" }, msg);
    $("#toasts").append(t);
    setTimeout(() => t.remove(), 6000);
  }
  window.addEventListener("unhandledrejection", (ev) => { ev.preventDefault(); toast("Unexpected error: " + (ev.reason && ev.reason.message || ev.reason)); });

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  async function getJSON(url, timeoutMs = 8000) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    let r;
    try {
      r = await fetch(url, { signal: ctl.signal, headers: { Accept: "application/json" }, cache: "no-store" });
    } catch (e) {
      throw new HttpError(0, e.name === "AbortError" ? "timed out" : "server unreachable");
    } finally { clearTimeout(timer); }
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const m = body && body.error && body.error.message;
      throw new HttpError(r.status, m || "HTTP " + r.status);
    }
    if (body === null) throw new HttpError(r.status, "response is not JSON");
    return body;
  }

  // ---------- live connection ----------
  function setLive(mode) {
    state.live = mode;
    const p = $("#live");
    p.className = "live live-" + mode;
    $("#live-text").textContent = { live: "live", polling: "live (polling)", connecting: "connecting…",
      reconnecting: "reconnecting…", offline: "offline – retrying" }[mode] || mode;
    document.body.dataset.live = mode;
  }

  function startStream() {
    if (!("EventSource" in window)) { startPolling(); return; }
    if (state.es) state.es.close();
    let got = false;
    const es = new EventSource("/api/stream");
    state.es = es;
    es.addEventListener("monitor", (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { toast("The live stream sent a message that is not JSON", "sse-json"); return; }
      got = true;
      state.sseFails = 0;
      if (state.pollTimer) stopPolling();
      setLive("live");
      applyMonitor(m);
    });
    es.onopen = () => { if (state.pollTimer === null) setLive("live"); };
    es.onerror = () => {
      // EventSource reconnects by itself while readyState is CONNECTING; a CLOSED stream (404,
      // wrong content type) does not. Either way, after a few failures we poll instead.
      if (!got) state.sseFails += 1;
      got = false;
      if (es.readyState === EventSource.CLOSED || state.sseFails >= SSE_FAILS_BEFORE_POLL) {
        es.close();
        if (state.es === es) state.es = null;
        startPolling();
        clearTimeout(state.sseRetryTimer);
        state.sseRetryTimer = setTimeout(startStream, SSE_RETRY_MS);
      } else if (state.pollTimer === null) {
        setLive("reconnecting");
      }
    };
  }

  function startPolling() {
    if (state.pollTimer !== null) return;
    const tick = async () => {
      try {
        applyMonitor(await getJSON("/api/monitor"));
        if (state.pollTimer !== null) setLive("polling");
      } catch (e) {
        setLive("offline");
        toast("Live data unavailable: " + e.message, "poll");
      }
    };
    state.pollTimer = setInterval(tick, POLL_MS);
    tick();
  }
  function stopPolling() { clearInterval(state.pollTimer); state.pollTimer = null; }

  // ---------- monitor rendering ----------
  function applyMonitor(m) {
    if (!m || typeof m !== "object" || !m.kpi) { toast("Monitor data incomplete", "mon-shape"); return; }
    if (state.monitor && m.version === state.monitor.version && m.generated_at === state.monitor.generated_at) return;
    const prev = state.monitor;
    state.monitor = m;
    state.currency = m.currency || "USD";
    // text first (cheap), charts after the next frame so the numbers paint without waiting for them
    runParts([renderHeader, renderKpis, renderTop, renderMovers, renderDrift, renderCalibration, renderExperiment], m, prev);
    document.body.dataset.version = String(m.version);
    document.body.dataset.day = String(m.day);
    if (!state.firstDone) {
      state.firstDone = true;
      document.body.dataset.firstData = performance.now().toFixed(1);
      requestAnimationFrame(() => {
        document.body.dataset.firstPaint = performance.now().toFixed(1);
        setTimeout(renderCharts, 0);
      });
    } else renderCharts();
    if (state.customerId !== null) maybeRefreshCustomer();
  }

  function runParts(parts, m, prev) {
    for (const f of parts) {
      try { f(m, prev); } catch (e) { toast("Could not draw part of the page: " + e.message, "render-" + f.name); }
    }
  }
  function renderCharts() {
    if (!state.monitor) return;
    if (!hasChart()) {
      // Chart.js is loaded after app.js (defer keeps the order): before DOMContentLoaded it may
      // simply not have run yet; afterwards it failed to load.
      if (state.loaded && !state.chartWarned) { state.chartWarned = true; toast("Charts unavailable (/assets/chart.js did not load)", "chartjs"); }
      return;
    }
    runParts([renderHist, renderTrend, renderCalibration], state.monitor);
  }

  function renderHeader(m) {
    $("#meta-day").textContent = isNum(m.day) ? "day " + fmtInt(m.day) : "–";
    const md = m.model || {};
    $("#meta-model").textContent = md.kind ? md.kind + " v" + esc(md.version) : "–";
    $("#meta-model").title = md.path || "";
    $("#meta-updated").textContent = ago(m.generated_at);
    $("#meta-updated").dataset.t = m.generated_at;
  }
  setInterval(() => { const d = $("#meta-updated"); if (d.dataset.t) d.textContent = ago(+d.dataset.t); }, 1000);

  function kpi(id, value, detail) {
    const k = $("#" + id);
    $(".v", k).textContent = value;
    const d = $(".d", k);
    d.textContent = "";
    if (detail) d.append(...(Array.isArray(detail) ? detail : [detail]));
  }
  // a coloured arrow for a change; red when the change is bad for retention
  function changeSpan(delta, upIsBad = true) {
    if (!isNum(delta) || delta === 0) return el("span", null, "");
    const bad = upIsBad ? delta > 0 : delta < 0;
    return el("span", { class: bad ? "up" : "down" }, delta > 0 ? "▲ " : "▼ ");
  }
  function renderKpis(m) {
    const k = m.kpi;
    const t0 = (m.trend && m.trend.length) ? m.trend[0] : null;
    const since = t0 ? " since day " + t0.day : "";
    const money0 = (v) => (Math.abs(v) >= 1000 ? money(v, { compact: true, short: true }) : money(v, { whole: true }));
    const d = (a, b) => (isNum(a) && isNum(b) ? a - b : null);
    const withChange = (delta, txt, upIsBad = true) => (delta === null ? null : [changeSpan(delta, upIsBad), txt + since]);

    const dA = t0 ? d(k.active, t0.active) : null;
    kpi("kpi-active", fmtInt(k.active), withChange(dA, signed(fmtInt(Math.abs(dA || 0)), dA || 0), false));
    const dC = t0 ? d(k.expected_churners, t0.expected_churners) : null;
    kpi("kpi-churners", fmtInt(k.expected_churners), withChange(dC, signed(fmt1(Math.abs(dC || 0)), dC || 0)));
    const dR = t0 ? d(k.revenue_at_risk, t0.revenue_at_risk) : null;
    kpi("kpi-revenue", money(k.revenue_at_risk, { compact: true }), withChange(dR, signed(money0(Math.abs(dR || 0)), dR || 0)));
    const dM = t0 ? d(k.mean_risk, t0.mean_risk) : null;
    kpi("kpi-mean", pct(k.mean_risk), withChange(dM, pp(dM || 0, 1)));
    $("#kpi-high h2").textContent = "High risk (≥ " + pct(k.threshold, 0) + ")";
    kpi("kpi-high", fmtInt(k.high_risk), isNum(k.high_risk) && k.active ? pct(k.high_risk / k.active) + " of active" : null);
    kpi("kpi-day", fmtInt(m.day), isNum(m.day) ? (m.day >= SNAPSHOT_DAY ? "snapshot (" + SNAPSHOT_DAY + ") + " + fmtInt(m.day - SNAPSHOT_DAY) + " d" : "before the snapshot") : null);
    kpi("kpi-events", fmtInt(m.events_per_s), fmtInt(m.events) + " events applied");
  }

  // ---------- charts (Chart.js 3.9.1 from /assets/chart.js; the page works without it) ----------
  const hasChart = () => typeof window.Chart === "function";
  const C = { accent: "#1f5fbf", accentSoft: "rgba(31,95,191,.15)", red: "#b3261e", redSoft: "rgba(179,38,30,.12)", grey: "#8a94a3", grid: "#e6eaef", ink: "#1b2430" };
  function baseOptions(extra) {
    return Object.assign({
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { boxWidth: 12, color: C.ink } } },
    }, extra);
  }
  function chartOrUpdate(name, canvasId, make, update) {
    if (!hasChart()) return;  // renderCharts says so once
    let ch = state.charts[name];
    if (!ch) { ch = state.charts[name] = new window.Chart($("#" + canvasId), make()); return ch; }
    update(ch);
    ch.update("none");
    return ch;
  }

  function renderHist(m) {
    const h = m.risk_hist;
    if (!h || !Array.isArray(h.counts) || !Array.isArray(h.edges)) return;
    const labels = h.counts.map((_, i) => pct(h.edges[i], 0) + "–" + pct(h.edges[i + 1], 0));
    const thr = m.kpi && m.kpi.threshold;
    const colors = h.counts.map((_, i) => (isNum(thr) && h.edges[i] >= thr - 1e-9 ? C.red : C.accent));
    const total = h.counts.reduce((a, b) => a + b, 0);
    $("#hist-hint").textContent = fmtInt(total) + " active customers; red: risk ≥ " + pct(thr, 0);
    chartOrUpdate("hist", "chart-hist", () => ({
      type: "bar",
      data: { labels, datasets: [{ label: "Customers", data: h.counts.slice(), backgroundColor: colors, borderWidth: 0, barPercentage: 1, categoryPercentage: 0.95 }] },
      options: baseOptions({
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => fmtInt(c.raw) + " customers (" + pct(c.raw / Math.max(1, total)) + ")" } } },
        scales: {
          x: { title: { display: true, text: "Churn risk" }, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, color: C.ink } },
          y: { type: "logarithmic", title: { display: true, text: "Customers (log scale)" }, grid: { color: C.grid },
               ticks: { color: C.ink, callback: (v) => ([1, 10, 100, 1000, 10000, 100000].includes(v) ? fmtInt(v) : "") } },
        },
      }),
    }), (ch) => { ch.data.labels = labels; ch.data.datasets[0].data = h.counts.slice(); ch.data.datasets[0].backgroundColor = colors; });
  }

  // x tick of the trend: "day N" at ~8 updates spread evenly over the axis, the first and the
  // last included. The axis is by update, not by day: labelling days that are multiples of a
  // step left gaps wherever the monitor skipped days (streaming faster than it refreshes), and
  // the last label could fall far short of the right end.
  let trendTicks = new Map();
  function trendLabels(days) {
    const n = days.length, want = Math.min(8, n), ticks = new Map();
    let lastDay;
    for (let k = 0; k < want; k++) {
      const i = want === 1 ? 0 : Math.round((k * (n - 1)) / (want - 1));
      if (days[i] === lastDay) continue; // one label per day
      ticks.set(i, "day " + days[i]);
      lastDay = days[i];
    }
    return ticks;
  }
  function dayTick(i) { return trendTicks.has(i) ? trendTicks.get(i) : null; }
  function renderTrend(m) {
    const tr = Array.isArray(m.trend) ? m.trend : [];
    trendTicks = trendLabels(tr.map((p) => p.day));
    if (!tr.length) { $("#trend-hint").textContent = "no history yet"; return; }
    const labels = tr.map((p) => (p.t ? new Date(p.t * 1000).toLocaleTimeString("en-GB") : "") + " · day " + p.day);
    const mean = tr.map((p) => (isNum(p.mean_risk) ? 100 * p.mean_risk : null));
    const churn = tr.map((p) => (isNum(p.expected_churners) ? p.expected_churners : null));
    const p90 = tr.map((p) => (isNum(p.p90) ? 100 * p.p90 : null));
    $("#trend-hint").textContent = tr.length + " updates, day " + tr[0].day + "–" + tr[tr.length - 1].day;
    chartOrUpdate("trend", "chart-trend", () => ({
      type: "line",
      data: { labels, datasets: [
        { label: "Mean risk (%)", data: mean, borderColor: C.accent, backgroundColor: C.accentSoft, yAxisID: "y", pointRadius: 0, borderWidth: 2, tension: 0.2 },
        { label: "90th percentile risk (%)", data: p90, borderColor: C.grey, borderDash: [4, 3], yAxisID: "y", pointRadius: 0, borderWidth: 1.5, tension: 0.2 },
        { label: "Expected churners", data: churn, borderColor: C.red, backgroundColor: C.redSoft, yAxisID: "y2", pointRadius: 0, borderWidth: 2, tension: 0.2 },
      ] },
      options: baseOptions({
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, color: C.ink } },
          tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + (c.dataset.yAxisID === "y" ? c.raw.toFixed(2) + "%" : fmt1(c.raw)) } } },
        scales: {
          x: { ticks: { autoSkip: false, maxRotation: 0, color: C.ink, callback: (v, i) => dayTick(i) }, grid: { display: false } },
          y: { position: "left", title: { display: true, text: "Risk (%)" }, grid: { color: C.grid }, ticks: { color: C.ink } },
          y2: { position: "right", title: { display: true, text: "Expected churners" }, grid: { display: false }, ticks: { color: C.ink, callback: (v) => fmtInt(v) } },
        },
      }),
    }), (ch) => { ch.data.labels = labels; ch.data.datasets[0].data = mean; ch.data.datasets[1].data = p90; ch.data.datasets[2].data = churn; });
  }

  // ---------- riskiest customers ----------
  function riskCell(r) {
    return el("span", { class: "riskcell" }, pct(r), el("span", { class: "riskbar", "aria-hidden": "true" }, el("i", { style: "width:" + Math.round(100 * Math.min(1, Math.max(0, r || 0))) + "%" })));
  }
  function rowFor(c, extraClass) {
    return el("tr", { class: extraClass || null, "data-id": c.id },
      el("td", { class: "num" }, el("a", { href: "#/customer/" + c.id }, "#" + c.id)),
      el("td", null, el("span", { class: "plan" }, esc(c.plan))),
      el("td", { class: "num" }, riskCell(c.risk)),
      el("td", { class: "num" }, money(c.price)),
      el("td", { class: "num" }, isNum(c.tenure_days) ? fmtInt(c.tenure_days) + " d" : "–"),
      el("td", { class: "num" }, money(c.revenue_at_risk)),
      el("td", { class: "reason", title: esc(c.reason) }, esc(c.reason)));
  }
  function renderTop(m) {
    const rows = Array.isArray(m.top) ? m.top : [];
    // plan filter options follow the data
    const sel = $("#f-plan");
    const plans = [...new Set(rows.map((r) => r.plan).filter(Boolean))].sort();
    const have = [...sel.options].map((o) => o.value).filter(Boolean);
    for (const p of plans) if (!have.includes(p)) sel.append(el("option", { value: p }, p));
    const f = state.filters;
    const q = f.q.trim();
    let shown = rows.filter((r) => (!f.plan || r.plan === f.plan) && (!(f.minRisk > 0) || r.risk >= f.minRisk) && (!q || String(r.id).startsWith(q)));
    const { key, dir } = state.sort;
    shown = shown.slice().sort((a, b) => {
      const x = a[key], y = b[key];
      const c = typeof x === "string" || typeof y === "string" ? String(x || "").localeCompare(String(y || "")) : (x || 0) - (y || 0);
      return dir * c || (a.id - b.id);
    });
    const tb = $("#top-table tbody");
    const focusedId = tb.contains(document.activeElement) ? document.activeElement.closest("tr").dataset.id : null;
    const frag = document.createDocumentFragment();
    // 50 rows at a time: the table is redrawn on every update and the first paint should not
    // wait for 200 rows nobody sees without scrolling
    const limit = state.rowLimit || ROW_PAGE;
    for (const r of shown.slice(0, limit)) frag.append(rowFor(r, q && String(r.id) === q ? "found" : null));
    if (shown.length > limit) {
      const more = el("button", { type: "button", class: "more" }, "Show " + fmtInt(Math.min(ROW_PAGE, shown.length - limit)) + " more of " + fmtInt(shown.length - limit));
      more.addEventListener("click", () => { state.rowLimit = limit + ROW_PAGE; rerenderTop(); });
      frag.append(el("tr", { class: "more-row" }, el("td", { colspan: "7" }, more)));
    }
    const s = state.searched;
    if (q && s && String(s.id) === q && !shown.some((r) => String(r.id) === q)) {
      if (s.row) frag.append(rowFor(s.row, "found"));
      const msg = s.error ? "Customer " + q + ": " + s.error
        : s.row ? "Customer #" + q + " is not among the " + rows.length + " riskiest (shown from /api/customers)" : "Looking up customer " + q + "…";
      frag.append(el("tr", null, el("td", { colspan: "7", class: "empty" }, msg)));
    } else if (!shown.length) {
      frag.append(el("tr", null, el("td", { colspan: "7", class: "empty" }, q ? "No customer id starting with " + q + " among the riskiest; press Enter to look it up" : "No customer matches the filters")));
    }
    tb.replaceChildren(frag);
    if (focusedId) { const a = $('tr[data-id="' + focusedId + '"] a', tb); if (a) a.focus(); }
    $("#f-count").textContent = fmtInt(Math.min(limit, shown.length)) + " of " + fmtInt(shown.length) + " shown" + (shown.length < rows.length ? " (" + fmtInt(rows.length) + " before filters)" : "");
    $("#top-hint").textContent = "the " + fmtInt(rows.length) + " highest risks; click a column to sort";
    for (const th of document.querySelectorAll("#top-table thead th")) {
      th.setAttribute("aria-sort", th.dataset.key === key ? (dir > 0 ? "ascending" : "descending") : "none");
    }
  }
  async function lookUp(id) {
    state.searched = { id, row: null, error: null };
    rerenderTop();
    try {
      const c = await getJSON("/api/customers/" + encodeURIComponent(id));
      state.searched = { id, row: { id: c.id, risk: c.risk, plan: c.plan, price: c.price, tenure_days: c.tenure_days,
        revenue_at_risk: isNum(c.risk) && isNum(c.price) ? c.risk * c.price : null,
        reason: c.reasons && c.reasons[0] ? c.reasons[0].text : "" }, error: null };
    } catch (e) {
      state.searched = { id, row: null, error: e.status === 404 ? "not found" : e.message };
    }
    rerenderTop();
  }
  function rerenderTop() { if (state.monitor) renderTop(state.monitor); }
  function wireTable() {
    for (const th of document.querySelectorAll("#top-table thead th")) {
      $("button", th).addEventListener("click", () => {
        const k = th.dataset.key;
        if (state.sort.key === k) state.sort.dir = -state.sort.dir;
        else state.sort = { key: k, dir: (k === "plan" || k === "reason" || k === "id") ? 1 : -1 };
        rerenderTop();
      });
    }
    const search = $("#f-search");
    search.addEventListener("input", () => { state.filters.q = search.value.replace(/[^0-9]/g, ""); rerenderTop(); });
    $("#top-filters").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = state.filters.q;
      if (!q) return;
      const rows = (state.monitor && state.monitor.top) || [];
      if (rows.some((r) => String(r.id) === q)) location.hash = "#/customer/" + q;
      else lookUp(q);
    });
    $("#f-plan").addEventListener("change", (ev) => { state.filters.plan = ev.target.value; rerenderTop(); });
    $("#f-minrisk").addEventListener("input", (ev) => { const v = parseFloat(ev.target.value); state.filters.minRisk = isNum(v) ? v / 100 : 0; rerenderTop(); });
  }

  // ---------- movers ----------
  function renderMovers(m) {
    const ol = $("#movers");
    const mv = Array.isArray(m.movers) ? m.movers : [];
    if (!mv.length) { ol.replaceChildren(el("li", { class: "empty" }, "No risk changed since the last update")); return; }
    ol.replaceChildren(...mv.map((x) => {
      const up = x.delta > 0;
      return el("li", null,
        el("a", { class: "who", href: "#/customer/" + x.id }, "#" + x.id),
        el("span", { class: "change" }, pct(x.prev) + " → " + pct(x.risk), " ", el("span", { class: "plan" }, esc(x.plan))),
        el("span", { class: "delta " + (up ? "up" : "down") }, (up ? "▲ " : "▼ ") + pp(x.delta).replace(/^[+−]/, "")),
        el("span", { class: "why", title: esc(x.reason) }, esc(x.reason)));
    }));
  }

  // ---------- drift ----------
  const STATUS_WORDS = { ok: "stable", watch: "watch", alert: "drifting" };
  const STATUS_COLOUR = { ok: "#1d7a3a", watch: "#c98a00", alert: "#b3261e" };
  function renderDrift(m) {
    const rows = (Array.isArray(m.drift) ? m.drift : []).slice().sort((a, b) => (b.psi || 0) - (a.psi || 0));
    const tb = $("#drift-table tbody");
    if (!rows.length) { tb.replaceChildren(el("tr", null, el("td", { colspan: "3", class: "empty" }, "No drift figures yet"))); return; }
    tb.replaceChildren(...rows.map((d) => el("tr", null,
      el("td", null, esc(d.label || d.feature)),
      el("td", { class: "num nowrap" }, isNum(d.psi) ? d.psi.toFixed(3) : "–",
        el("span", { class: "psibar", "aria-hidden": "true" }, el("i", { style: "width:" + Math.round(100 * Math.min(1, (d.psi || 0) / 0.4)) + "%;background:" + (STATUS_COLOUR[d.status] || "#888") }))),
      el("td", null, el("span", { class: "status " + esc(d.status) }, STATUS_WORDS[d.status] || esc(d.status))))));
  }

  // ---------- calibration ----------
  function renderCalibration(m) {
    const c = m.calibration;
    const wrap = $("#calib-chart-wrap"), empty = $("#calib-empty");
    if (!c || !Array.isArray(c.bins) || !c.bins.length) {
      wrap.hidden = true; empty.hidden = false;
      const settleDay = SNAPSHOT_DAY + DEFAULT_HORIZON_DAYS;
      const left = isNum(m.day) ? Math.max(0, settleDay - m.day) : null;
      empty.textContent = "Not settled yet: a prediction can be checked once its " + DEFAULT_HORIZON_DAYS + "-day horizon has passed"
        + (left ? " — settles after " + left + " more simulated day" + (left === 1 ? "" : "s") + " (day " + settleDay + ")." : ".");
      $("#calib-hint").textContent = "";
      return;
    }
    wrap.hidden = false; empty.hidden = true;
    $("#calib-hint").textContent = fmtInt(c.settled) + " settled · " + esc(c.horizon_days) + "-day horizon · Brier " + (isNum(c.brier) ? c.brier.toFixed(3) : "–");
    const pts = c.bins.map((b) => ({ x: 100 * b.predicted, y: 100 * b.observed, n: b.n }));
    chartOrUpdate("calib", "chart-calib", () => ({
      type: "scatter",
      data: { datasets: [
        { label: "Observed churn rate", data: pts, borderColor: C.accent, backgroundColor: C.accent, showLine: true, pointRadius: 4, borderWidth: 2 },
        { label: "Perfect calibration", data: [{ x: 0, y: 0 }, { x: 100, y: 100 }], borderColor: C.grey, borderDash: [5, 4], showLine: true, pointRadius: 0, borderWidth: 1 },
      ] },
      options: baseOptions({
        interaction: { mode: "nearest", intersect: true },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12, color: C.ink } },
          tooltip: { callbacks: { label: (ctx) => ctx.datasetIndex ? "" : "predicted " + ctx.raw.x.toFixed(1) + "%, observed " + ctx.raw.y.toFixed(1) + "% (" + fmtInt(ctx.raw.n) + " customers)" } } },
        scales: {
          x: { min: 0, max: 100, title: { display: true, text: "Predicted risk (%)" }, grid: { color: C.grid }, ticks: { color: C.ink } },
          y: { min: 0, max: 100, title: { display: true, text: "Observed churn (%)" }, grid: { color: C.grid }, ticks: { color: C.ink } },
        },
      }),
    }), (ch) => { ch.data.datasets[0].data = pts; });
  }

  // ---------- experiment ----------
  function renderExperiment(m) {
    const box = $("#experiment");
    const x = m.experiment;
    if (!x) { box.replaceChildren(el("p", { class: "empty" }, "Not running: no recommendation experiment is active in this world.")); return; }
    const lift = x.lift, ci = Array.isArray(x.ci) ? x.ci : [null, null];
    const level = isNum(x.ci_level) ? Math.round(100 * x.ci_level) + "% " : "";
    const fmtRate = (v) => (isNum(v) ? v.toFixed(3) : "–");
    const sgn = (v, d = 3) => (isNum(v) ? (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(d) : "–");
    const tl = isNum(x.true_lift) ? x.true_lift : null;
    const lo = Math.min(0, ci[0] ?? 0, lift ?? 0, tl ?? 0), hi = Math.max(0, ci[1] ?? 0, lift ?? 0, tl ?? 0);
    const pad = (hi - lo) * 0.15 || 0.01, a = lo - pad, b = hi + pad;
    const pos = (v) => (100 * (v - a) / (b - a)).toFixed(2) + "%";
    let verdict, vc;
    if (isNum(ci[0]) && ci[0] > 0) { verdict = "Recommendations help: the whole interval is above zero."; vc = "pos"; }
    else if (isNum(ci[1]) && ci[1] < 0) { verdict = "Recommendations hurt: the whole interval is below zero."; vc = "neg"; }
    else { verdict = "Not conclusive yet: the interval includes zero."; vc = "neutral"; }
    const forest = el("div", { class: "forest", role: "img", "aria-label": "Lift " + sgn(lift) + ", interval " + sgn(ci[0]) + " to " + sgn(ci[1]) },
      el("span", { class: "zero", style: "left:" + pos(0) }),
      isNum(ci[0]) && isNum(ci[1]) ? el("span", { class: "ci", style: "left:" + pos(ci[0]) + ";width:" + (100 * (ci[1] - ci[0]) / (b - a)).toFixed(2) + "%" }) : null,
      isNum(lift) ? el("span", { class: "pt", style: "left:" + pos(lift) }) : null,
      tl !== null ? el("span", { class: "truth", title: "the world's true lift", style: "left:" + pos(tl) }) : null);
    const arm = (a) => a || {};
    const minutes = (v) => (isNum(v) ? Math.round(v).toLocaleString("en-US") : "–");
    const churnPct = (v) => (isNum(v) ? (100 * v).toFixed(1) + "%" : "–");
    box.replaceChildren(
      el("p", { class: "exp-head" }, sgn(lift), el("span", { class: "hint" }, "  " + (isNum(x.relative_lift) ? signed(pct(Math.abs(x.relative_lift), 0), x.relative_lift) + " relative" : ""))),
      el("p", { class: "exp-sub" }, "Lift in " + esc(x.metric) + "; " + level + "interval " + sgn(ci[0]) + " to " + sgn(ci[1])),
      tl !== null ? el("p", { class: "exp-truth" }, el("span", { class: "truth-key" }), "True lift (the simulated world knows it): " + sgn(tl) + (isNum(ci[0]) && isNum(ci[1]) ? (tl >= ci[0] && tl <= ci[1] ? " — inside the interval" : " — outside the interval") : "")) : null,
      forest,
      el("div", { class: "forest-axis", "aria-hidden": "true" }, el("span", null, sgn(a, 2)), el("span", null, "0 = no effect"), el("span", null, sgn(b, 2))),
      el("table", { class: "arms" },
        el("thead", null, el("tr", null, el("th", { scope: "col" }, "Group"), el("th", { scope: "col" }, "Customers"), el("th", { scope: "col", title: "views of recommended titles per customer" }, "Views"), el("th", { scope: "col", title: "minutes watched per customer in the window" }, "Minutes"), el("th", { scope: "col", title: "churned in the window" }, "Churned"))),
        el("tbody", null,
          el("tr", null, el("td", null, "Model"), el("td", null, fmtInt(arm(x.treatment).n)), el("td", null, fmtRate(arm(x.treatment).rate)), el("td", null, minutes(arm(x.treatment).watch_minutes)), el("td", null, churnPct(arm(x.treatment).churn_rate))),
          el("tr", null, el("td", null, "Holdout (popular)"), el("td", null, fmtInt(arm(x.control).n)), el("td", null, fmtRate(arm(x.control).rate)), el("td", null, minutes(arm(x.control).watch_minutes)), el("td", null, churnPct(arm(x.control).churn_rate))))),
      el("p", { class: "verdict " + vc }, verdict));
  }

  // ---------- customer page ----------
  function route() {
    const mm = /^#\/customer\/(.+)$/.exec(location.hash);
    if (mm) {
      const id = decodeURIComponent(mm[1]);
      $("#view-dashboard").hidden = true;
      $("#view-customer").hidden = false;
      if (state.customerId !== id) {
        state.customerId = id;
        delete document.body.dataset.customer;
        destroyCustomerCharts();
        $("#customer-body").replaceChildren(el("p", { class: "empty" }, "Loading customer " + id + "…"));
        window.scrollTo(0, 0);
        loadCustomer(id, true);
      }
      document.title = "Customer " + id + " · churnlab";
    } else {
      state.customerId = null;
      destroyCustomerCharts();
      $("#view-customer").hidden = true;
      $("#view-dashboard").hidden = false;
      document.title = "churnlab · live retention";
      // charts drawn while hidden have no size: let Chart.js re-measure
      for (const ch of Object.values(state.charts)) ch.resize();
    }
  }
  function destroyCustomerCharts() { if (state.charts.history) { state.charts.history.destroy(); delete state.charts.history; } }
  let customerLoading = false;
  function maybeRefreshCustomer() {
    // refresh the open customer at most every 3 s while the monitor moves
    const now = Date.now();
    if (customerLoading || now - (state.customerLoadedAt || 0) < 3000) return;
    loadCustomer(state.customerId, false);
  }
  async function loadCustomer(id, first) {
    customerLoading = true;
    try {
      const c = await getJSON("/api/customers/" + encodeURIComponent(id));
      if (state.customerId !== id) return;
      renderCustomer(c);
      document.body.dataset.customer = String(c.id);
    } catch (e) {
      if (state.customerId !== id) return;
      const msg = e.status === 404 ? "There is no customer " + id + "." : e.status === 400 ? "“" + id + "” is not a customer id: " + e.message
        : "Could not load customer " + id + ": " + e.message;
      if (first) {
        $("#customer-body").replaceChildren(el("p", { class: "empty", role: "alert" }, msg));
        document.body.dataset.customerError = String(e.status);
      } else toast(msg, "cust");
    } finally {
      customerLoading = false;
      state.customerLoadedAt = Date.now();
    }
  }

  function renderCustomer(c) {
    const body = $("#customer-body");
    const hist = Array.isArray(c.history) ? c.history : [];
    const h0 = hist.length ? hist[0] : null;
    const tiles = el("section", { class: "kpis cust-kpis", "aria-label": "Customer figures" },
      tile("Churn risk now", pct(c.risk), h0 && isNum(h0.risk) && isNum(c.risk) ? [changeSpan(c.risk - h0.risk), pp(c.risk - h0.risk) + " since day " + h0.day] : null, c.risk >= ((state.monitor && state.monitor.kpi.threshold) || 0.3) ? "warn" : ""),
      tile("Plan", esc(c.plan), money(c.price) + " / month", "", true),
      tile("Tenure", isNum(c.tenure_days) ? fmtInt(c.tenure_days) + " days" : "–", isNum(c.tenure_days) ? "≈ " + fmt1(c.tenure_days / 30.44) + " months" : null),
      tile("Revenue at risk", money(isNum(c.risk) && isNum(c.price) ? c.risk * c.price : null), "risk × monthly price"),
      tile("Best action", c.action ? esc(c.action.label || c.action.name) : "–", c.action ? "expected net value " + signedMoney(c.action.expected_net_value) : null, "", true));

    const reasons = Array.isArray(c.reasons) ? c.reasons : [];
    const maxc = Math.max(1e-9, ...reasons.map((r) => Math.abs(r.contrib || 0)));
    const reasonList = reasons.length ? el("ul", { class: "reasons" }, ...reasons.map((r) => {
      const dir = r.direction === "lowers" ? "lowers" : "raises";
      // the API's text ends in "(raises risk)" for plain-text readers; the badge below says it
      const text = (r.text || ((r.label || r.feature) + ": " + r.value)).replace(/ \((raises|lowers) risk\)$/, "");
      return el("li", { class: dir },
        el("div", null, el("div", null, text), el("div", { class: "dir" }, dir === "raises" ? "▲ raises risk" : "▼ lowers risk")),
        el("div", { class: "cbar", role: "img", "aria-label": "strength " + Math.round(100 * Math.abs(r.contrib || 0) / maxc) + "%" }, el("i", { style: "width:" + Math.round(100 * Math.abs(r.contrib || 0) / maxc) + "%" })));
    })) : el("p", { class: "empty" }, "No reasons available for this customer");

    const recs = Array.isArray(c.recommendations) ? c.recommendations : [];
    // ranked only: a score is the recommender's own scale (a factor model's dot product, or a
    // title's view count for the popular fallback: "2215.000"), which says nothing to a reader
    const recTable = recs.length ? el("table", { class: "data compact" },
      el("caption", { class: "hint", style: "text-align:left" }, "Best match first"),
      el("thead", null, el("tr", null, el("th", { scope: "col" }, "Rank"), el("th", { scope: "col" }, "Title"), el("th", { scope: "col" }, "Genre"))),
      el("tbody", null, ...recs.map((r, i) => el("tr", null, el("td", null, String(i + 1)), el("td", null, esc(r.name || "Title " + r.title)), el("td", null, esc(r.genre))))))
      : el("p", { class: "empty" }, "No recommendations");
    const recNote = c.rec_fallback === "popular" ? el("p", { class: "note" }, "Not enough viewing history to personalise: these are the most popular titles.") : null;

    const a = c.action;
    let actionBox;
    if (a) {
      const alts = (Array.isArray(a.alternatives) ? a.alternatives : []).slice().sort((x, y) => (y.expected_net_value || 0) - (x.expected_net_value || 0));
      const valCls = (v) => (v > 0 ? "pos-val" : v < 0 ? "neg-val" : null);
      actionBox = el("div", null,
        el("div", { class: "action-best" },
          el("p", { class: "name" }, esc(a.label || a.name)),
          el("p", { class: "env" }, "Expected net value ", el("span", { class: valCls(a.expected_net_value) }, signedMoney(a.expected_net_value)), " · cost " + money(a.cost))),
        alts.length ? el("table", { class: "data compact" },
          el("caption", { class: "hint", style: "text-align:left" }, "Alternatives"),
          el("thead", null, el("tr", null, el("th", { scope: "col" }, "Action"), el("th", { scope: "col", class: "num" }, "Cost"), el("th", { scope: "col", class: "num" }, "Expected net value"))),
          el("tbody", null, ...alts.map((x) => el("tr", null, el("td", null, esc(x.label || x.name)), el("td", { class: "num" }, money(x.cost)), el("td", { class: "num " + (valCls(x.expected_net_value) || "") }, signedMoney(x.expected_net_value))))))
          : null,
        el("p", { class: "note" }, "Expected net value = retained revenue expected from the action minus its cost."));
    } else actionBox = el("p", { class: "empty" }, "No action suggested");

    const head = el("div", { class: "cust-head" },
      el("h2", null, "Customer #" + c.id),
      el("span", { class: "badge " + (c.active ? "active" : "gone") }, c.active ? "active" : "cancelled"),
      el("span", { class: "hint" }, hist.length ? "history: day " + hist[0].day + "–" + hist[hist.length - 1].day : ""));
    const grid1 = el("div", { class: "grid two" },
      el("section", { class: "card", "aria-labelledby": "h-chist" }, el("h2", { id: "h-chist" }, "Risk history"),
        hist.length ? el("div", { class: "chart" }, el("canvas", { id: "chart-chist", role: "img", "aria-label": "Risk of customer " + c.id + " by simulated day" }))
          : el("p", { class: "empty" }, "No risk history: the monitor has not scored this customer while active")),
      el("section", { class: "card", "aria-labelledby": "h-reasons" }, el("h2", { id: "h-reasons" }, "Why this risk ", el("span", { class: "hint" }, "strongest first")), reasonList));
    const grid2 = el("div", { class: "grid two" },
      el("section", { class: "card", "aria-labelledby": "h-action" }, el("h2", { id: "h-action" }, "Suggested action"), actionBox),
      el("section", { class: "card", "aria-labelledby": "h-recs" }, el("h2", { id: "h-recs" }, "Recommended titles"), recTable, recNote));

    destroyCustomerCharts();
    const scrollY = window.scrollY;
    body.replaceChildren(head, tiles, grid1, grid2);
    window.scrollTo(0, scrollY);
    if (hasChart() && hist.length) {
      // the same spread as the trend's: Chart.js' own skipping left the last days unlabelled
      const histTicks = trendLabels(hist.map((p) => p.day));
      state.charts.history = new window.Chart($("#chart-chist"), {
        type: "line",
        data: { labels: hist.map((p) => "day " + p.day), datasets: [{ label: "Churn risk (%)", data: hist.map((p) => 100 * p.risk), borderColor: C.red, backgroundColor: C.redSoft, fill: true, pointRadius: hist.length > 40 ? 0 : 3, borderWidth: 2, tension: 0.2 }] },
        options: baseOptions({ plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => "risk " + ctx.raw.toFixed(1) + "%" } } },
          scales: { y: { min: 0, suggestedMax: Math.min(100, Math.ceil(Math.max(...hist.map((p) => 100 * p.risk)) / 10) * 10 + 10), title: { display: true, text: "Risk (%)" }, grid: { color: C.grid }, ticks: { color: C.ink } },
                    x: { ticks: { autoSkip: false, maxRotation: 0, color: C.ink, callback: (v, i) => (histTicks.has(i) ? histTicks.get(i) : null) }, grid: { display: false } } } }),
      });
    }
  }
  function tile(title, value, detail, cls, isText) {
    return el("article", { class: "kpi " + (cls || "") }, el("h2", null, title), el("p", { class: isText ? "v text" : "v" }, value),
      el("p", { class: "d" }, ...(detail ? (Array.isArray(detail) ? detail : [detail]) : [])));
  }

  // ---------- start ----------
  function start() {
    wireTable();
    const loaded = () => { if (!state.loaded) { state.loaded = true; renderCharts(); } };
    if (document.readyState === "complete") state.loaded = true;
    else { document.addEventListener("DOMContentLoaded", loaded); window.addEventListener("load", loaded); }
    window.addEventListener("hashchange", route);
    route();
    setLive("connecting");
    // the stream sends the monitor on connect; one plain fetch in parallel makes first paint
    // independent of how fast the stream opens
    getJSON("/api/monitor").then((m) => { if (!state.monitor) applyMonitor(m); }).catch((e) => toast("Could not load the monitor: " + e.message, "first"));
    startStream();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
