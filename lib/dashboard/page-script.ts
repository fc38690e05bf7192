/**
 * The dashboard's browser script (`GET {base}dashboard.js`): plain DOM and SVG, no framework. It
 * renders each {@link import('./page-model.js').DashboardSnapshot} from the event stream named by
 * `<body data-stream>`; `<body data-actions>` picks the row buttons (`drain` on a gateway, for
 * admins who unlock with the admin token; `sandbox` for Crash/Restart). Written without template
 * literals so it can live in this string.
 */

/** `GET {base}dashboard.js`. */
export const PAGE_SCRIPT = `
'use strict';
(function () {
  var BODY = document.body;
  var BASE = BODY.dataset.base || '/';
  var STREAM = BODY.dataset.stream;
  var ACTIONS = BODY.dataset.actions;
  var TOKEN_KEY = 'fleetgate-admin-token';
  var state = null;
  var busy = {};
  var adminToken = null;
  var SVG = 'http://www.w3.org/2000/svg';

  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    return el;
  }

  function setAttrs(el, attrs) {
    if (!attrs) return;
    for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
      if (k === 'text') el.textContent = String(attrs[k]);
      else if (k === 'cls') el.setAttribute('class', attrs[k]);
      else if (k.indexOf('on') === 0) el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
    }
  }

  function badge(value, testid) {
    return h('span', { cls: 'badge ' + value, 'data-testid': testid, text: value });
  }

  function age(iso) {
    if (!iso) return '–';
    var ms = Date.now() - Date.parse(iso);
    if (ms < 0) ms = 0;
    return ms < 1000 ? ms + ' ms ago' : (ms / 1000).toFixed(1) + ' s ago';
  }

  function clock(ms) {
    var d = new Date(ms);
    return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }

  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    return v < 10 ? v.toFixed(1) + ' ms' : v < 1000 ? Math.round(v) + ' ms' : (v / 1000).toFixed(1) + ' s';
  }

  /** A status timeline: one rect per status mark over the window. */
  function timeline(marks, windowSeconds, at) {
    var from = at - windowSeconds * 1000;
    var svg = s('svg', { cls: 'history', viewBox: '0 0 ' + windowSeconds + ' 1', preserveAspectRatio: 'none',
      'data-testid': 'history', 'data-last': marks.length ? marks[marks.length - 1].status : '' });
    for (var i = 0; i < marks.length; i++) {
      var start = Math.max(from, marks[i].at);
      var end = i + 1 < marks.length ? marks[i + 1].at : at;
      if (end <= start) continue;
      var r = s('rect', { cls: marks[i].status, x: (start - from) / 1000, y: 0, width: (end - start) / 1000, height: 1 });
      r.appendChild(s('title', { text: marks[i].status + ' since ' + clock(marks[i].at) }));
      svg.appendChild(r);
    }
    return svg;
  }

  /** Equal cells for a list of polled states (sandbox gateway cards). */
  function cells(list) {
    var svg = s('svg', { cls: 'history', viewBox: '0 0 ' + Math.max(1, list.length) + ' 1', preserveAspectRatio: 'none' });
    list.forEach(function (v, i) { svg.appendChild(s('rect', { cls: v, x: i, y: 0, width: 1, height: 1 })); });
    return svg;
  }

  var CHARTS = [
    { key: 'rps', label: 'req/s', fmt: function (v) { return v === null ? '0' : String(v); } },
    { key: 'p50', label: 'p50', fmt: fmtMs },
    { key: 'p99', label: 'p99', fmt: fmtMs },
    { key: 'errorRate', label: 'errors', fmt: function (v) { return v === null ? '0%' : (v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0) + '%'; } }
  ];

  function sparkline(chart, values) {
    var n = values.length;
    var peak = 0;
    var last = null;
    values.forEach(function (v) { if (v !== null && v > peak) peak = v; if (v !== null) last = v; });
    if (chart.key === 'rps' || chart.key === 'errorRate') last = n ? values[n - 1] : 0;
    var top = chart.key === 'errorRate' ? Math.max(peak, 0.05) : Math.max(peak, 1e-9);
    var svg = s('svg', { viewBox: '0 0 ' + Math.max(1, n - 1) + ' 100', preserveAspectRatio: 'none' });
    var points = [];
    function flush() {
      if (points.length === 1) points.push((Number(points[0].split(',')[0]) + 0.5) + ',' + points[0].split(',')[1]);
      if (points.length > 1) svg.appendChild(s('polyline', { points: points.join(' ') }));
      points = [];
    }
    values.forEach(function (v, i) {
      if (v === null) { flush(); return; }
      points.push(i + ',' + (100 - (v / top) * 96 - 2).toFixed(1));
    });
    flush();
    svg.appendChild(s('title', { text: chart.label + ' over the last ' + n + ' s; peak ' + chart.fmt(peak) }));
    return h('figure', { cls: 'chart', 'data-metric': chart.key, 'data-last': last === null ? '' : last, 'data-peak': peak },
      h('figcaption', null, h('span', { text: chart.label }), h('b', { text: chart.fmt(last) })), svg);
  }

  function post(url, headers, body, key) {
    busy[key] = true;
    render();
    headers['content-type'] = 'application/json';
    return fetch(url, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); })
      .then(function (j) { if (j && j.error) note(j.error.message); })
      .catch(function (e) { note(String(e)); })
      .then(function () { delete busy[key]; render(); });
  }

  function note(text) {
    var el = document.getElementById('admin-state');
    if (el) el.textContent = text;
  }

  function drainButtons(svc, i) {
    if (adminToken === null) return null;
    var draining = i.status === 'DRAINING';
    var key = 'drain:' + svc + '/' + i.instanceId;
    return h('button', { 'data-action': draining ? 'undrain' : 'drain', disabled: !!busy[key],
      onclick: function () {
        post(BASE + 'api/drain', { authorization: 'Bearer ' + adminToken },
          { service: svc, instance_id: i.instanceId, drain: !draining }, key);
      } }, draining ? 'Undrain' : 'Drain');
  }

  function sandboxButtons(i) {
    if (!i.managed) return null;
    var key = i.instanceId;
    var box = h('span', null);
    box.appendChild(h('button', { cls: 'crash', 'data-action': 'crash', disabled: !!busy['crash:' + key] || i.process !== 'running',
      onclick: function () { post('/api/crash', { 'x-gw-sandbox': '1' }, { target: key }, 'crash:' + key); } }, 'Crash'));
    box.appendChild(h('button', { 'data-action': 'restart', disabled: !!busy['restart:' + key],
      onclick: function () { post('/api/restart', { 'x-gw-sandbox': '1' }, { target: key }, 'restart:' + key); } }, 'Restart'));
    return box;
  }

  var COLUMNS = ACTIONS === 'sandbox'
    ? ['instance', 'registry', 'process', 'url', 'pid', 'heartbeat', 'epoch', 'req/s', 'health history', '']
    : ['instance', 'status', 'url', 'heartbeat', 'epoch', 'health history', ''];

  function instanceRow(svc, i, snap) {
    var cellsOut = [
      h('td', { text: i.instanceId, title: i.instanceId + (i.version ? ' v' + i.version : '') + (i.zone ? ' zone ' + i.zone : '') }),
      h('td', null, badge(i.status, 'registry-status'))
    ];
    if (ACTIONS === 'sandbox') {
      cellsOut.push(h('td', null, i.process ? badge(i.process, 'process-status')
        : h('span', { 'data-testid': 'origin', text: i.origin ? 'external (' + i.origin + ')' : 'external' })));
    }
    cellsOut.push(h('td', { cls: 'url', text: i.url || '–', title: i.url || null }));
    if (ACTIONS === 'sandbox') cellsOut.push(h('td', { cls: 'pid', text: i.pid || '–' }));
    cellsOut.push(h('td', { cls: 'num', text: age(i.lastHeartbeat) }));
    cellsOut.push(h('td', { cls: 'num', text: i.epoch === undefined || i.epoch === null ? '–' : i.epoch }));
    if (ACTIONS === 'sandbox') cellsOut.push(h('td', { cls: 'num', text: i.managed ? i.rps : '–' }));
    cellsOut.push(h('td', null, timeline(i.history || [], snap.windowSeconds, snap.at)));
    cellsOut.push(h('td', { cls: 'actions' }, ACTIONS === 'sandbox' ? sandboxButtons(i) : drainButtons(svc, i)));
    var tr = h('tr', { 'data-instance': i.instanceId, 'data-registry': i.status, 'data-origin': i.origin || null });
    cellsOut.forEach(function (c) { tr.appendChild(c); });
    return tr;
  }

  function serviceBlock(svc, snap) {
    var block = h('section', { cls: 'service', 'data-service': svc.name });
    block.appendChild(h('div', { cls: 'service-head' },
      h('span', { cls: 'name', text: svc.name }),
      h('span', { cls: 'count', 'data-testid': 'up-count', text: svc.up + '/' + svc.total + ' UP' })));
    if (svc.series) {
      var charts = h('div', { cls: 'charts' });
      CHARTS.forEach(function (c) { charts.appendChild(sparkline(c, svc.series[c.key])); });
      block.appendChild(charts);
    }
    var colgroup = h('colgroup');
    COLUMNS.forEach(function (name, k) { colgroup.appendChild(h('col', { cls: 'c' + k })); });
    var head = h('tr');
    COLUMNS.forEach(function (name) { head.appendChild(h('th', { text: name })); });
    var body = h('tbody');
    svc.instances.forEach(function (i) { body.appendChild(instanceRow(svc.name, i, snap)); });
    block.appendChild(h('table', { cls: 'instances ' + ACTIONS }, colgroup, h('thead', null, head), body));
    if (svc.total > svc.instances.length) {
      block.appendChild(h('div', { cls: 'more', text: '… and ' + (svc.total - svc.instances.length) + ' more' }));
    }
    return block;
  }

  function renderServices(snap) {
    var box = document.getElementById('services');
    box.textContent = '';
    if (snap.services.length === 0) box.appendChild(h('div', { cls: 'empty', text: 'No services registered.' }));
    snap.services.forEach(function (svc) { box.appendChild(serviceBlock(svc, snap)); });
    if (snap.totalServices > snap.services.length) {
      box.appendChild(h('div', { cls: 'more', text: (snap.totalServices - snap.services.length) + ' more services not shown' }));
    }
  }

  function renderGateways(snap) {
    var box = document.getElementById('gateways');
    box.textContent = '';
    (snap.gateways || []).forEach(function (g) {
      box.appendChild(h('div', { cls: 'card', 'data-gateway': g.name },
        h('div', null, h('span', { cls: 'name', text: g.name + ' ' }), badge(g.health, 'gateway-health')),
        h('div', { cls: 'url', text: (g.url || '–') + (g.pid ? '  pid ' + g.pid : '') }),
        h('div', { text: (g.registryType || '') + (g.connected === false ? ' (store disconnected)' : '') + (g.reason ? ' – ' + g.reason : '') }),
        cells(g.history),
        h('div', null,
          h('button', { 'data-action': 'restart', disabled: !!busy['restart:' + g.name],
            onclick: function () { post('/api/restart', { 'x-gw-sandbox': '1' }, { target: g.name }, 'restart:' + g.name); } }, 'Restart'))));
    });
    if (snap.store) {
      box.appendChild(h('div', { cls: 'card', 'data-store': snap.store.name },
        h('div', null, h('span', { cls: 'name', text: snap.store.name + ' store ' }), badge(snap.store.running ? 'running' : 'stopped', 'store-status')),
        h('div', { cls: 'url', text: snap.store.url }),
        h('div', null,
          h('button', { 'data-action': 'restart', onclick: function () { post('/api/restart', { 'x-gw-sandbox': '1' }, { target: 'store' }, 'store'); } }, 'Restart'))));
    }
  }

  function renderEvents(snap) {
    var list = document.getElementById('events');
    list.textContent = '';
    snap.events.slice().reverse().forEach(function (e) {
      list.appendChild(h('li', { cls: e.level, 'data-kind': e.kind },
        h('time', { text: clock(e.at) }), h('b', { text: e.target }), e.message));
    });
  }

  function render() {
    if (!state) return;
    document.getElementById('meta').textContent = state.meta;
    document.getElementById('rps').textContent = state.totalRps + ' req/s';
    renderGateways(state);
    renderServices(state);
    renderEvents(state);
  }

  function unlock(token) {
    return fetch(BASE + 'api/whoami', { headers: { authorization: 'Bearer ' + token } })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        var form = document.getElementById('admin');
        if (j && j.admin === true) {
          adminToken = token;
          sessionStorage.setItem(TOKEN_KEY, token);
          form.dataset.state = 'admin';
          note('admin');
        } else {
          adminToken = null;
          sessionStorage.removeItem(TOKEN_KEY);
          form.dataset.state = 'read-only';
          note('not admin (read-only)');
        }
        render();
      })
      .catch(function (e) { note(String(e)); });
  }

  function setupAdmin() {
    var form = document.getElementById('admin');
    if (!form) return;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = document.getElementById('admin-token');
      var token = input.value.trim();
      input.value = '';
      if (token) unlock(token);
    });
    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) unlock(saved);
  }

  function connect() {
    var conn = document.getElementById('conn');
    var es = new EventSource(STREAM);
    es.addEventListener('snapshot', function (m) {
      state = JSON.parse(m.data);
      conn.dataset.state = 'live';
      conn.textContent = 'live';
      render();
    });
    es.onerror = function () {
      conn.dataset.state = 'lost';
      conn.textContent = 'reconnecting…';
    };
  }

  setupAdmin();
  connect();
  setInterval(render, 1000);
})();
`;
