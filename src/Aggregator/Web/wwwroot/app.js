// RataDns aggregator dashboard: reads the JSON API, listens to /api/events, draws plain SVG.
// No framework and no build step. Every value from the API is put into the page as text (textContent,
// SVG <text>), never as HTML: names and client addresses come from the network.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
  const MAX_SERVER_LINES = 6;
  const MIN_REFRESH_MS = 1000;
  const HEALTH_REFRESH_MS = 5000;

  // The panels and the reducer type each one reads.
  const PANEL_TYPES = ['TopNQ', 'QueriesSummary', 'RcodeCounter', 'QtypeCounter', 'ResponseLatency',
    'TopNxdomainNames', 'MalformedCounter', 'QueriesWithUnderscoredName', 'TopClients', 'EdnsCounter', 'TransportCounter',
    'DistinctCounter'];

  // The time series panels: the reducer type read from /api/history and how a window's view becomes values.
  // Counts become rates (per second of the window), latency percentiles milliseconds.
  const SERIES_PANELS = [
    { id: 'rcode-series', type: 'RcodeCounter', values: (d) => countsOf(d) },
    { id: 'qtype-series', type: 'QtypeCounter', values: (d) => countsOf(d) },
    { id: 'latency-series', type: 'ResponseLatency', rate: false, values: (d) => (isObject(d) && isObject(d.latencyUs)
      ? Object.fromEntries(['p50', 'p90', 'p99'].filter((k) => typeof d.latencyUs[k] === 'number').map((k) => [`${k} ms`, d.latencyUs[k] / 1000])) : {}) },
    { id: 'transport-series', type: 'TransportCounter', values: (d) => countsOf(d) },
  ];
  const MAX_SERIES_KEYS = 6;
  const RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'];

  const state = {
    servers: [], types: [], spans: ['1m', '5m', '15m'],
    scope: 'all', span: '1m', range: '15m', typeSeries: {}, wantedAt: null,
    paused: false, timeline: [], rewindIndex: null,
    rateSeries: [], panelMeta: {}, refreshing: false, again: false, lastRefresh: 0, timer: null, ready: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---- DOM and formatting helpers --------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function noData(container, why) {
    container.replaceChildren(el('div', { class: 'no-data' }, why || 'no data'));
  }

  function fmt(n, digits = 1) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    return n.toLocaleString('en-US', { maximumFractionDigits: digits });
  }

  function fmtUs(us) {
    if (typeof us !== 'number') return '–';
    return us >= 1000 ? `${fmt(us / 1000, 2)} ms` : `${fmt(us, 0)} µs`;
  }

  function fmtTime(t) {
    const d = new Date(t);
    return isNaN(d) ? '–' : d.toISOString().slice(11, 19) + 'Z';
  }

  function fmtAgo(t) {
    const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
    if (!isFinite(s)) return '–';
    if (s < 60) return `${Math.max(s, 0)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    return `${fmt(s / 3600, 1)} h ago`;
  }

  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  function countsOf(d) {
    return isObject(d) ? Object.fromEntries(Object.entries(d).filter((e) => typeof e[1] === 'number')) : {};
  }

  // ---- API --------------------------------------------------------------------------------------

  async function getJson(path) {
    const response = await fetch(path, { headers: { Accept: 'application/json' } });
    if (response.status === 404) return null; // an unknown type or no results: the panel says "no data"
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function scopeQuery() { return `scope=${encodeURIComponent(state.scope)}`; }

  function has(type) { return state.types.includes(type); }

  // ---- charts -----------------------------------------------------------------------------------

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  // A line chart: series = [{ name, color, points: [[timeMs, value], ...] }]; marker = a time to mark, or null.
  function lineChart(container, series, marker, size = {}) {
    const points = series.flatMap((s) => s.points);
    if (points.length === 0) { noData(container); return; }
    const W = size.width || 900, H = size.height || 240, L = 56, R = 12, T = 10, B = 24;
    let t0 = Math.min(...points.map((p) => p[0])), t1 = Math.max(...points.map((p) => p[0]));
    if (t0 === t1) { t0 -= 30000; t1 += 30000; }
    const yMax = niceMax(Math.max(...points.map((p) => p[1])));
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - v / yMax) * (H - T - B);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'rates over time' });
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      root.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      root.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
    }
    for (const t of [t0, (t0 + t1) / 2, t1]) {
      const anchor = t === t0 ? 'start' : t === t1 ? 'end' : 'middle';
      root.append(svg('text', { x: x(t), y: H - 6, 'text-anchor': anchor }, fmtTime(t)));
    }
    for (const s of series) {
      if (s.points.length === 0) continue;
      const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      const path = svg('path', { d, fill: 'none', stroke: s.color, 'stroke-width': s.width || 1.8 });
      path.append(svg('title', {}, s.name));
      root.append(path);
      if (s.points.length === 1) root.append(svg('circle', { cx: x(s.points[0][0]), cy: y(s.points[0][1]), r: 3, fill: s.color }));
    }
    if (marker !== null && marker !== undefined) {
      root.append(svg('line', { class: 'marker', x1: x(marker), x2: x(marker), y1: T, y2: H - B }));
    }
    container.replaceChildren(root);
  }

  // Horizontal bars: entries = [[label, value], ...], drawn largest first as given.
  function barChart(container, entries, options = {}) {
    if (entries.length === 0) { noData(container, options.empty); return; }
    const W = 440, row = 20, labelW = options.labelWidth || 190, valueW = 60;
    const H = entries.length * row + 4;
    const max = Math.max(...entries.map((e) => e[1]), 1);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
    entries.forEach(([label, value, valueText, valueTitle], i) => {
      const yTop = i * row + 2;
      const text = String(label);
      const shown = text.length > 30 ? text.slice(0, 29) + '…' : text;
      const t = svg('text', { class: 'bar-label', x: labelW - 6, y: yTop + 13, 'text-anchor': 'end' }, shown);
      t.append(svg('title', {}, text));
      root.append(t);
      const w = Math.max(1, ((W - labelW - valueW) * value) / max);
      root.append(svg('rect', { x: labelW, y: yTop + 2, width: w, height: row - 6, rx: 2, fill: options.color || COLORS[0] }));
      const v = svg('text', { x: labelW + w + 4, y: yTop + 13, class: valueTitle ? 'bar-value bounded' : 'bar-value' }, valueText ?? (options.format || fmt)(value));
      if (valueTitle) v.append(svg('title', {}, valueTitle));
      root.append(v);
    });
    container.replaceChildren(root);
  }

  // ---- bounds ------------------------------------------------------------------------------------
  // Heavy-hitter counts come with an error term (Space-Saving): the true count lies in [count - error, count].
  // An exact count is shown as it is; a bounded one as "lo–hi" with the bound explained on hover. A panel merged
  // from views only (monitors that send no state) is marked approximate, with why on hover.

  function boundText(count, error) {
    return error > 0 ? `${fmt(count - error, 0)}–${fmt(count, 0)}` : fmt(count, 0);
  }

  function boundTitle(count, error) {
    return error > 0
      ? `between ${count - error} and ${count}: the summary kept this name's count with an error of at most ${error} (more distinct keys than its Capacity)`
      : 'exact count';
  }

  function markApproximate(panelId, meta) {
    const h2 = document.querySelector(`#${panelId} h2`);
    if (!h2) return;
    const old = h2.querySelector('.approx');
    if (old) old.remove();
    if (!meta || !meta.approximate) return;
    const why = (meta.problems && meta.problems.length > 0) ? meta.problems.join('; ')
      : 'merged from the windows\' views (the monitors sent no state): counts that a window did not list are missing';
    const badge = el('span', { class: 'badge approx', title: why }, '≈ approximate');
    h2.append(' ', badge);
  }

  // ---- panels -----------------------------------------------------------------------------------

  function renderTopNames(top, summary) {
    const container = $('top-names');
    if (!Array.isArray(top) || top.length === 0) { noData(container); return; }
    const askers = {};
    if (isObject(summary)) {
      for (const [sender, byType] of Object.entries(summary)) {
        for (const names of Object.values(byType || {})) for (const n of names || []) (askers[n] || (askers[n] = new Set())).add(sender);
      }
    }
    const max = Math.max(...top.map((e) => e[1]), 1);
    const rows = top.slice(0, 15).map(([name, count, error = 0]) => {
      const clients = [...(askers[name] || [])];
      // Sizes go through CSSOM, not a style attribute, which the Content-Security-Policy forbids.
      const bar = el('div', { class: 'name-bar' });
      bar.style.width = `${Math.max(2, (100 * count) / max)}%`;
      const who = clients.length === 0 ? 'clients: not in QueriesSummary'
        : `${clients.length} client${clients.length === 1 ? '' : 's'}: ${clients.slice(0, 6).join(', ')}${clients.length > 6 ? ', …' : ''}`;
      const value = el('td', { class: error > 0 ? 'num bounded' : 'num', title: boundTitle(count, error) }, boundText(count, error));
      return el('tr', {}, el('td', { class: 'name' }, name, bar, el('div', { class: 'clients' }, who)), value);
    });
    container.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'name'), el('th', { class: 'num' }, 'queries'))), el('tbody', {}, ...rows)));
  }

  function renderClientsByQtype(summary) {
    const container = $('clients-by-qtype');
    if (!isObject(summary) || Object.keys(summary).length === 0) { noData(container); return; }
    const byType = {};
    for (const [sender, types] of Object.entries(summary)) {
      for (const [qtype, names] of Object.entries(types || {})) (byType[qtype] || (byType[qtype] = [])).push([sender, (names || []).length]);
    }
    const tiles = Object.entries(byType).sort((a, b) => b[1].length - a[1].length).map(([qtype, senders]) => {
      senders.sort((a, b) => b[1] - a[1]);
      return el('div', { class: 'tile' },
        el('div', {}, el('strong', {}, qtype), ' ', el('span', { class: 'muted' }, 'clients')),
        el('div', { class: 'big' }, fmt(senders.length, 0)),
        el('ul', {}, ...senders.slice(0, 5).map(([s, n]) => el('li', {}, `${s} (${n} name${n === 1 ? '' : 's'})`))));
    });
    container.replaceChildren(...tiles);
  }

  function renderCounts(id, data, color) {
    const container = $(id);
    if (!isObject(data)) { noData(container); return; }
    const entries = Object.entries(data).filter((e) => typeof e[1] === 'number').sort((a, b) => b[1] - a[1]).slice(0, 15);
    barChart(container, entries, { color, labelWidth: 120 });
  }

  function renderLatency(d) {
    const container = $('latency');
    if (!isObject(d) || !isObject(d.latencyUs) || Object.keys(d.latencyUs).length === 0) { noData(container); return; }
    const tiles = ['p50', 'p90', 'p99', 'p999', 'max'].map((k) =>
      el('div', { class: 'tile' }, el('div', { class: 'muted' }, k), el('div', { class: 'big' }, fmtUs(d.latencyUs[k]))));
    const counts = el('div', { class: 'muted' },
      `matched ${fmt(d.matched, 0)} · unanswered ${fmt(d.unanswered, 0)} · unsolicited ${fmt(d.unsolicited, 0)} · untracked ${fmt(d.untracked, 0)} · pending ${fmt(d.pending, 0)}`);
    container.replaceChildren(el('div', { class: 'tiles' }, ...tiles), counts);
  }

  function renderTopList(id, d) {
    const container = $(id);
    if (!isObject(d) || !Array.isArray(d.top)) { noData(container); return; }
    const head = el('div', { class: 'muted' }, `total ${fmt(d.total, 0)}`);
    const chart = el('div');
    barChart(chart, d.top.slice(0, 12).map((e) => [e.name, e.count, boundText(e.count, e.error || 0), (e.error || 0) > 0 ? boundTitle(e.count, e.error) : undefined]),
      { color: COLORS[1], empty: 'none in this span' });
    container.replaceChildren(head, chart);
  }

  function renderMalformed(d) {
    const container = $('malformed');
    if (!isObject(d) || typeof d.total !== 'number') { noData(container); return; }
    const share = d.total > 0 ? (100 * d.malformed) / d.total : 0;
    const head = el('div', { class: 'tiles' },
      el('div', { class: 'tile' }, el('div', { class: 'muted' }, 'malformed'), el('div', { class: 'big' }, fmt(d.malformed, 0))),
      el('div', { class: 'tile' }, el('div', { class: 'muted' }, 'of messages'), el('div', { class: 'big' }, `${fmt(share, 2)} %`)));
    const reasons = Object.entries(d.reasons || {}).filter(([r]) => r !== 'ok').map(([r, v]) => [r, v.count || 0]).sort((a, b) => b[1] - a[1]);
    const chart = el('div');
    barChart(chart, reasons, { color: COLORS[4], labelWidth: 160, empty: 'nothing malformed' });
    const examples = Object.entries(d.reasons || {}).filter(([r]) => r !== 'ok')
      .flatMap(([r, v]) => (v.examples || []).map((x) => [r, x])).slice(0, 8);
    const parts = [head, chart];
    if (examples.length > 0) {
      parts.push(el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'reason'), el('th', {}, 'client'), el('th', {}, 'qname'), el('th', { class: 'num' }, 'size'))),
        el('tbody', {}, ...examples.map(([r, x]) => el('tr', {}, el('td', {}, r), el('td', {}, x.client || ''), el('td', { class: 'name' }, x.qname || ''), el('td', { class: 'num' }, fmt(x.size, 0)))))));
    }
    container.replaceChildren(...parts);
  }

  function renderUnderscored(d) {
    const container = $('underscored');
    if (!isObject(d)) { noData(container); return; }
    const rows = Object.entries(d).sort((a, b) => b[1].length - a[1].length).slice(0, 20).map(([name, items]) => {
      const senders = [...new Set(items.map((i) => i.sender))];
      const qtypes = [...new Set(items.map((i) => (i.query && i.query.qtype) || '?'))];
      return el('tr', {}, el('td', { class: 'name' }, name), el('td', {}, qtypes.join(' ')), el('td', { class: 'num' }, fmt(items.length, 0)),
        el('td', { class: 'clients' }, senders.slice(0, 4).join(', ') + (senders.length > 4 ? ', …' : '')));
    });
    if (rows.length === 0) { noData(container, 'none in this span'); return; }
    container.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'name'), el('th', {}, 'qtype'), el('th', { class: 'num' }, 'queries'), el('th', {}, 'senders'))), el('tbody', {}, ...rows)));
  }

  function renderTopClients(d) {
    const container = $('top-clients');
    if (!isObject(d) || !Array.isArray(d.top)) { noData(container); return; }
    const rows = d.top.slice(0, 15).map((e) => el('tr', {}, el('td', { class: 'name' }, e.client || ''),
      el('td', { class: (e.error || 0) > 0 ? 'num bounded' : 'num', title: boundTitle(e.count, e.error || 0) }, boundText(e.count, e.error || 0))));
    if (rows.length === 0) { noData(container, 'none in this span'); return; }
    container.replaceChildren(el('div', { class: 'muted' }, `total ${fmt(d.total, 0)} queries`),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'client'), el('th', { class: 'num' }, 'queries'))), el('tbody', {}, ...rows)));
  }

  function renderEdns(d) {
    const container = $('edns');
    if (!isObject(d) || typeof d.queries !== 'number') { noData(container); return; }
    const share = (n) => (d.queries > 0 ? `${fmt((100 * (n || 0)) / d.queries, 1)} %` : '–');
    const tiles = el('div', { class: 'tiles' },
      ...[['with EDNS', d.edns], ['DNSSEC OK', d.do], ['Client Subnet', d.clientSubnet]].map(([label, n]) =>
        el('div', { class: 'tile' }, el('div', { class: 'muted' }, label), el('div', { class: 'big' }, share(n)), el('div', { class: 'muted' }, `${fmt(n || 0, 0)} of ${fmt(d.queries, 0)}`))));
    const sizes = el('div');
    barChart(sizes, Object.entries(d.udpSize || {}).filter((e) => typeof e[1] === 'number'), { color: COLORS[6], labelWidth: 120, empty: 'no UDP sizes advertised' });
    container.replaceChildren(tiles, el('div', { class: 'muted' }, 'advertised UDP payload size'), sizes);
  }

  function renderDistinct(d) {
    const container = $('distinct');
    if (!isObject(d) || typeof d.qnames !== 'number') { noData(container); return; }
    const error = typeof d.relativeError === 'number' ? `±${fmt(100 * d.relativeError, 1)} %` : '';
    container.replaceChildren(...[['names', d.qnames], ['clients', d.clients]].map(([label, n]) =>
      el('div', { class: 'tile' }, el('div', { class: 'muted' }, `distinct ${label}`), el('div', { class: 'big' }, fmt(n, 0)), el('div', { class: 'muted' }, error))));
  }

  // The header's monitors badge, as /api/health says it: ok, degraded (some stale), down (all stale), waiting.
  function renderHealthBadge() {
    const n = state.servers.length, stale = state.servers.filter((m) => m.stale).length;
    const badge = $('health-badge');
    const [text, kind] = n === 0 ? ['no monitor yet', '']
      : stale === n ? [`all ${n} monitor${n === 1 ? '' : 's'} stale`, 'down']
        : stale > 0 ? [`${stale} of ${n} monitors stale`, 'paused']
          : [`${n} monitor${n === 1 ? '' : 's'} ok`, 'ok'];
    badge.textContent = text;
    badge.className = `badge ${kind}`;
    badge.dataset.status = n === 0 ? 'waiting' : stale === n ? 'down' : stale > 0 ? 'degraded' : 'ok';
  }

  function renderHealth() {
    renderHealthBadge();
    const container = $('health');
    if (state.servers.length === 0) { noData(container, 'no monitor has sent anything yet'); return; }
    const rows = state.servers.map((m) => el('tr', {},
      el('td', {}, m.serverId),
      el('td', { title: m.lastSeen }, fmtAgo(m.lastSeen)),
      el('td', { class: 'num' }, fmt(m.windows, 0)),
      el('td', { class: 'num' }, fmt(m.sequenceGaps, 0)),
      el('td', { class: 'num' }, fmt(m.drops, 0)),
      el('td', { class: 'num' }, fmt((m.types || []).length, 0)),
      el('td', {}, el('span', { class: m.stale ? 'badge stale' : 'badge ok' }, m.stale ? 'stale' : 'ok'))));
    const head = el('tr', {}, el('th', {}, 'server'), el('th', {}, 'last seen'), el('th', { class: 'num' }, 'windows'),
      el('th', { class: 'num' }, 'gaps'), el('th', { class: 'num' }, 'drops'), el('th', { class: 'num' }, 'types'), el('th', {}, 'state'));
    container.replaceChildren(el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)));
  }

  // ---- rates over time --------------------------------------------------------------------------

  // [{ name, color, points }] from the kept history: totals (or the chosen server) and, for "all", each server's qps.
  async function loadRateSeries() {
    const combined = has('PacketsQueriesAndAnswersPerSecond');
    let range = `&last=${encodeURIComponent(state.range)}`; // the chosen range before the newest window, then the first series' times, shared
    const pick = (type, key) => async (scope) => {
      const h = await getJson(`/api/history/${type}?scope=${encodeURIComponent(scope)}${range}`);
      return (h || []).filter((w) => w.data && typeof w.data[key] === 'number').map((w) => [new Date(w.to).getTime(), w.data[key]]);
    };
    const qps = combined ? pick('PacketsQueriesAndAnswersPerSecond', 'qps') : has('QueriesPerSecond') ? pick('QueriesPerSecond', 'qps') : null;
    const aps = combined ? pick('PacketsQueriesAndAnswersPerSecond', 'aps') : has('AnswersPerSecond') ? pick('AnswersPerSecond', 'aps') : null;
    const series = [];
    const label = state.scope === 'all' ? 'all servers' : state.scope;
    if (qps) series.push({ name: `qps ${label}`, color: COLORS[0], width: 2.6, points: await qps(state.scope) });
    if (aps) series.push({ name: `aps ${label}`, color: COLORS[1], width: 2.6, points: await aps(state.scope) });
    const first = series.find((s) => s.points.length > 0);
    if (first) {
      // Every line on the same time axis, even for a server whose own newest window is older.
      const to = first.points[first.points.length - 1][0] / 1000, from = first.points[0][0] / 1000;
      range = `&from=${from}&to=${to}`;
    }
    state.historyRange = range;
    if (qps && state.scope === 'all' && state.servers.length > 1) {
      const servers = state.servers.slice(0, MAX_SERVER_LINES);
      const each = await Promise.all(servers.map((m) => qps(m.serverId).catch(() => [])));
      servers.forEach((m, i) => series.push({ name: `qps ${m.serverId}`, color: COLORS[(i + 2) % COLORS.length], width: 1.2, points: each[i] }));
    }
    return series;
  }

  // The time series panels over the same range as the rate chart: one line per key (the largest ones).
  async function loadTypeSeries() {
    const range = state.historyRange && !state.historyRange.startsWith('&last') ? state.historyRange : `&last=${encodeURIComponent(state.range)}`;
    const out = {};
    await Promise.all(SERIES_PANELS.map(async (panel) => {
      if (!has(panel.type)) { out[panel.id] = null; return; }
      const h = await getJson(`/api/history/${panel.type}?scope=${encodeURIComponent(state.scope)}${range}`);
      const byKey = {};
      for (const w of h || []) {
        const t = new Date(w.to).getTime();
        const seconds = (t - new Date(w.from).getTime()) / 1000;
        if (panel.rate !== false && !(seconds > 0)) continue;
        for (const [k, v] of Object.entries(panel.values(w.data))) {
          (byKey[k] || (byKey[k] = [])).push([t, panel.rate === false ? v : v / seconds]);
        }
      }
      const keys = Object.keys(byKey).sort((a, b) => total(byKey[b]) - total(byKey[a])).slice(0, MAX_SERIES_KEYS);
      out[panel.id] = keys.map((k, i) => ({ name: k, color: COLORS[i % COLORS.length], points: byKey[k] }));
    }));
    return out;
  }

  function total(points) { return points.reduce((sum, p) => sum + p[1], 0); }

  function renderTypeSeries() {
    const marker = state.rewindIndex === null ? null : state.timeline[state.rewindIndex];
    for (const panel of SERIES_PANELS) {
      const series = state.typeSeries[panel.id];
      const container = $(panel.id);
      if (!series || series.length === 0) { noData(container, series ? 'nothing in this range' : `${panel.type} is not among the results`); $(`${panel.id}-legend`).replaceChildren(); continue; }
      lineChart(container, series, marker, { width: 440, height: 220 });
      $(`${panel.id}-legend`).replaceChildren(...series.map((s) => {
        const last = marker === null ? s.points[s.points.length - 1] : [...s.points].reverse().find((p) => p[0] <= marker);
        const swatch = el('span', { class: 'swatch' });
        swatch.style.background = s.color;
        return el('span', {}, swatch, `${s.name}: ${last ? fmt(last[1], 2) : '–'}`);
      }));
    }
  }

  function renderRates() {
    const marker = state.rewindIndex === null ? null : state.timeline[state.rewindIndex];
    const visible = state.rateSeries.filter((s) => s.points.length > 0);
    lineChart($('qps-chart'), visible, marker);
    $('qps-legend').replaceChildren(...visible.map((s) => {
      const last = marker === null ? s.points[s.points.length - 1] : [...s.points].reverse().find((p) => p[0] <= marker);
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = s.color;
      return el('span', {}, swatch, `${s.name}: ${last ? fmt(last[1]) : '–'}`);
    }));
  }

  // ---- refresh ----------------------------------------------------------------------------------

  // The panels' data: merged over the span now, or (paused on the slider) merged here from the history
  // windows of the span that ends at the chosen time.
  // The panels' data, merged by the aggregator over the span ending now, or (paused on the slider) ending at the
  // chosen time: always the reducers' own merge, never a second set of rules here.
  async function loadPanels() {
    const at = state.rewindIndex === null ? null : state.timeline[state.rewindIndex];
    const known = PANEL_TYPES.filter(has);
    // One request for every panel; a type with nothing in the span is null (no 404s in the console).
    const when = at === null ? '' : `&at=${at / 1000}`;
    const merged = known.length === 0 ? {}
      : await getJson(`/api/merged?types=${known.map(encodeURIComponent).join(',')}&${scopeQuery()}&span=${encodeURIComponent(state.span)}${when}`);
    state.panelMeta = Object.fromEntries(PANEL_TYPES.map((t) => [t, merged && merged[t] ? merged[t] : null]));
    return Object.fromEntries(PANEL_TYPES.map((t) => [t, merged && merged[t] ? merged[t].data : null]));
  }

  function renderPanels(d) {
    renderTopNames(d.TopNQ, d.QueriesSummary);
    renderClientsByQtype(d.QueriesSummary);
    renderCounts('rcodes', d.RcodeCounter, COLORS[2]);
    renderCounts('qtypes', d.QtypeCounter, COLORS[3]);
    renderLatency(d.ResponseLatency);
    renderTopList('nxdomain', d.TopNxdomainNames);
    renderMalformed(d.MalformedCounter);
    renderUnderscored(d.QueriesWithUnderscoredName);
    renderTopClients(d.TopClients);
    renderEdns(d.EdnsCounter);
    renderCounts('transport', d.TransportCounter, COLORS[5]);
    renderDistinct(d.DistinctCounter);
    const meta = state.panelMeta || {};
    for (const [panel, type] of [['top-names-panel', 'TopNQ'], ['clients-by-qtype-panel', 'QueriesSummary'], ['rcodes-panel', 'RcodeCounter'],
      ['qtypes-panel', 'QtypeCounter'], ['latency-panel', 'ResponseLatency'], ['nxdomain-panel', 'TopNxdomainNames'],
      ['malformed-panel', 'MalformedCounter'], ['underscored-panel', 'QueriesWithUnderscoredName'], ['top-clients-panel', 'TopClients'],
      ['edns-panel', 'EdnsCounter'], ['transport-panel', 'TransportCounter'], ['distinct-panel', 'DistinctCounter']]) {
      markApproximate(panel, meta[type]);
    }
  }

  function updateTimeline() {
    const all = [...state.rateSeries, ...Object.values(state.typeSeries).filter(Boolean).flat()];
    const times = [...new Set(all.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    state.timeline = times;
    const slider = $('rewind-slider');
    slider.max = String(Math.max(0, times.length - 1));
    slider.disabled = !state.paused || times.length === 0;
    if (state.rewindIndex !== null && state.rewindIndex >= times.length) state.rewindIndex = times.length - 1;
    if (state.rewindIndex === null) slider.value = slider.max;
  }

  async function refresh({ rates = true } = {}) {
    if (state.refreshing) { state.again = true; return; }
    state.refreshing = true;
    try {
      const servers = await getJson('/api/servers');
      state.servers = Array.isArray(servers) ? servers : [];
      updateScopeOptions();
      renderHealth();
      if (rates) {
        state.rateSeries = await loadRateSeries();
        state.typeSeries = await loadTypeSeries();
        updateTimeline();
        applyWantedTime();
      }
      renderRates();
      renderTypeSeries();
      renderPanels(await loadPanels());
      $('status-line').textContent = state.rewindIndex === null
        ? `updated ${new Date().toLocaleTimeString()}`
        : `showing the ${state.span} up to ${fmtTime(state.timeline[state.rewindIndex])} (merged in the browser from the kept windows)`;
      saveUrl();
      if (!state.ready) { state.ready = true; document.body.dataset.ready = '1'; }
    } catch (e) {
      $('status-line').textContent = `could not refresh: ${e.message}`;
    } finally {
      state.refreshing = false;
      state.lastRefresh = Date.now();
      if (state.again) { state.again = false; scheduleRefresh(); }
    }
  }

  // ---- state in the URL: ?server=&span=&range=&at= (at: ISO 8601, the rewound time; absent when live) ----------

  function readUrl() {
    const q = new URLSearchParams(window.location.search);
    if (q.get('server')) state.scope = q.get('server');
    if (q.get('span')) state.span = q.get('span');
    if (RANGES.includes(q.get('range'))) state.range = q.get('range');
    const at = q.get('at') ? Date.parse(q.get('at')) : NaN;
    if (!Number.isNaN(at)) state.wantedAt = at;
    $('range-select').value = state.range;
  }

  function saveUrl() {
    const q = new URLSearchParams();
    if (state.scope !== 'all') q.set('server', state.scope);
    q.set('span', state.span);
    q.set('range', state.range);
    if (state.rewindIndex !== null && state.timeline[state.rewindIndex] !== undefined) q.set('at', new Date(state.timeline[state.rewindIndex]).toISOString());
    const url = `${window.location.pathname}?${q.toString()}`;
    if (url !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, '', url);
  }

  // A page opened with ?at=: once the timeline is known, pause on the last time at or before it.
  function applyWantedTime() {
    if (state.wantedAt === null || state.timeline.length === 0) return;
    let i = state.timeline.findIndex((t) => t > state.wantedAt) - 1;
    if (i < 0) i = state.timeline[0] > state.wantedAt ? 0 : state.timeline.length - 1;
    state.wantedAt = null;
    setPaused(true, { quiet: true });
    state.rewindIndex = i;
    const slider = $('rewind-slider');
    slider.disabled = false;
    slider.value = String(i);
    $('rewind-time').textContent = fmtTime(state.timeline[i]);
  }

  // At most one refresh a second from live updates; none while paused.
  function scheduleRefresh() {
    if (state.paused || state.timer !== null) return;
    const wait = Math.max(0, MIN_REFRESH_MS - (Date.now() - state.lastRefresh));
    state.timer = setTimeout(() => { state.timer = null; refresh(); }, wait);
  }

  // ---- controls ---------------------------------------------------------------------------------

  function updateScopeOptions() {
    const select = $('scope-select');
    const wanted = ['all', ...state.servers.map((m) => m.serverId)];
    const have = [...select.options].map((o) => o.value);
    if (wanted.join('\n') === have.join('\n')) return;
    select.replaceChildren(...wanted.map((v) => el('option', { value: v }, v === 'all' ? 'all servers' : v)));
    if (!wanted.includes(state.scope)) state.scope = 'all';
    select.value = state.scope;
  }

  function updateSpanOptions() {
    const select = $('span-select');
    if (state.spans.length === 0) return;
    select.replaceChildren(...state.spans.map((s) => el('option', { value: s }, s)));
    if (!state.spans.includes(state.span)) state.span = state.spans[0];
    select.value = state.span;
  }

  function setPaused(paused, { quiet = false } = {}) {
    state.paused = paused;
    $('pause-button').textContent = paused ? 'Resume' : 'Pause';
    const slider = $('rewind-slider');
    slider.disabled = !paused || state.timeline.length === 0;
    if (!paused) {
      state.rewindIndex = null;
      slider.value = slider.max;
      $('rewind-time').textContent = 'live';
      if (!quiet) refresh();
    } else {
      $('rewind-time').textContent = 'paused';
    }
    setConnection(paused ? 'paused' : state.connection || 'connecting');
  }

  function setConnection(text) {
    if (text !== 'paused') state.connection = text;
    const badge = $('connection');
    const shown = state.paused ? 'paused' : text;
    badge.textContent = shown;
    badge.className = `badge ${shown === 'live' ? 'ok' : shown === 'paused' ? 'paused' : 'down'}`;
  }

  function wireControls() {
    $('scope-select').addEventListener('change', (e) => { state.scope = e.target.value; refresh(); });
    $('span-select').addEventListener('change', (e) => { state.span = e.target.value; refresh({ rates: false }); });
    $('range-select').addEventListener('change', (e) => { state.range = e.target.value; refresh(); });
    $('pause-button').addEventListener('click', () => setPaused(!state.paused));
    $('rewind-slider').addEventListener('input', (e) => {
      const i = Number(e.target.value);
      state.rewindIndex = i;
      $('rewind-time').textContent = fmtTime(state.timeline[i]);
      refresh({ rates: false });
    });
    setInterval(() => { if (!state.paused) renderHealth(); }, HEALTH_REFRESH_MS);
  }

  function connect() {
    const events = new EventSource('/api/events');
    events.addEventListener('open', () => setConnection('live'));
    events.addEventListener('error', () => setConnection('reconnecting'));
    events.addEventListener('state', (e) => {
      const s = JSON.parse(e.data);
      state.servers = s.servers || [];
      state.types = s.types || [];
      if (Array.isArray(s.spans) && s.spans.length > 0) { state.spans = s.spans; updateSpanOptions(); }
      setConnection('live');
      refresh();
    });
    events.addEventListener('update', (e) => {
      const u = JSON.parse(e.data);
      for (const t of u.types || []) if (!state.types.includes(t)) state.types.push(t);
      scheduleRefresh();
    });
  }

  async function start() {
    readUrl();
    wireControls();
    try {
      const [types, spans] = await Promise.all([getJson('/api/types'), getJson('/api/spans')]);
      state.types = types || [];
      if (Array.isArray(spans) && spans.length > 0) { state.spans = spans; updateSpanOptions(); }
    } catch (e) {
      $('status-line').textContent = `could not reach the API: ${e.message}`;
    }
    connect();
  }

  // In node there is no document: export the pure helpers instead of starting.
  if (typeof document === 'undefined') {
    if (typeof module !== 'undefined') module.exports = { boundText, niceMax };
    return;
  }
  document.addEventListener('DOMContentLoaded', start);
})();
