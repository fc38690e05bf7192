/**
 * The dashboard's browser script (`GET /app.js`): plain DOM, no framework. It renders each
 * snapshot from the `GET /api/events` stream and sends the Crash/Restart buttons to the control
 * API. Written without template literals so it can live in this string.
 */

/** `GET /app.js`. */
export const PAGE_SCRIPT = `
'use strict';
(function () {
  var MAX_ROWS = 12;
  var state = null;
  var busy = {};

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === 'text') el.textContent = String(attrs[k]);
      else if (k === 'cls') el.className = attrs[k];
      else if (k.indexOf('on') === 0) el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  function badge(value, testid) {
    return h('span', { cls: 'badge ' + value, 'data-testid': testid, text: value });
  }

  function spark(history) {
    var s = h('span', { cls: 'spark', title: 'last ' + history.length + ' polls' });
    history.forEach(function (v) { s.appendChild(h('i', { cls: v, title: v })); });
    return s;
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

  function act(action, body, key) {
    busy[key] = true;
    render();
    return fetch('/api/' + action, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gw-sandbox': '1' },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (!j.ok && j.error) alert(j.error.message);
    }).catch(function (e) { alert(String(e)); }).then(function () {
      delete busy[key];
      render();
    });
  }

  function renderGateways(s) {
    var box = document.getElementById('gateways');
    box.textContent = '';
    s.gateways.forEach(function (g) {
      box.appendChild(h('div', { cls: 'card', 'data-gateway': g.name },
        h('div', null, h('span', { cls: 'name', text: g.name + ' ' }), badge(g.health, 'gateway-health')),
        h('div', { cls: 'url', text: (g.url || '–') + (g.pid ? '  pid ' + g.pid : '') }),
        h('div', { text: (g.registryType || '') + (g.connected === false ? ' (store disconnected)' : '') + (g.reason ? ' – ' + g.reason : '') }),
        spark(g.history),
        h('div', null,
          h('button', { 'data-action': 'restart', disabled: busy['restart:' + g.name] ? '' : null,
            onclick: function () { act('restart', { target: g.name }, 'restart:' + g.name); } }, 'Restart'))));
    });
    if (s.store) {
      box.appendChild(h('div', { cls: 'card', 'data-store': s.backend },
        h('div', null, h('span', { cls: 'name', text: s.backend + ' store ' }), badge(s.store.running ? 'running' : 'stopped', 'store-status')),
        h('div', { cls: 'url', text: s.store.url + ' (' + s.provider + ')' }),
        h('div', null,
          h('button', { 'data-action': 'restart', onclick: function () { act('restart', { target: 'store' }, 'store'); } }, 'Restart'))));
    }
  }

  function instanceRow(i) {
    var key = i.instanceId;
    var actions = h('td', null);
    if (i.managed) {
      actions.appendChild(h('button', { cls: 'crash', 'data-action': 'crash', disabled: busy['crash:' + key] || i.process !== 'running' ? '' : null,
        onclick: function () { act('crash', { target: key }, 'crash:' + key); } }, 'Crash'));
      actions.appendChild(h('button', { 'data-action': 'restart', disabled: busy['restart:' + key] ? '' : null,
        onclick: function () { act('restart', { target: key }, 'restart:' + key); } }, 'Restart'));
    }
    return h('tr', { 'data-instance': key, 'data-registry': i.registry, 'data-origin': i.origin || null },
      h('td', { text: key }),
      h('td', null, badge(i.registry, 'registry-status')),
      h('td', null, i.process ? badge(i.process, 'process-status')
        : h('span', { 'data-testid': 'origin', text: i.origin ? 'external (' + i.origin + ')' : 'external' })),
      h('td', { cls: 'url', text: i.url || '–' }),
      h('td', { cls: 'pid', text: i.pid || '–' }),
      h('td', { cls: 'num', text: age(i.lastHeartbeat) }),
      h('td', { cls: 'num', text: i.epoch === undefined || i.epoch === null ? '–' : i.epoch }),
      h('td', { cls: 'num', text: i.managed ? i.rps : '–' }),
      h('td', null, spark(i.history)),
      actions);
  }

  function renderInstances(s) {
    var body = document.querySelector('#instances tbody');
    body.textContent = '';
    s.services.forEach(function (svc) {
      var up = svc.instances.filter(function (i) { return i.registry === 'UP'; }).length;
      body.appendChild(h('tr', { cls: 'service', 'data-service': svc.name },
        h('td', { colspan: '10', text: svc.name + '  ' + up + '/' + svc.instances.length + ' UP' })));
      svc.instances.slice(0, MAX_ROWS).forEach(function (i) { body.appendChild(instanceRow(i)); });
      if (svc.instances.length > MAX_ROWS) {
        body.appendChild(h('tr', { cls: 'more' }, h('td', { colspan: '10', text: '… and ' + (svc.instances.length - MAX_ROWS) + ' more' })));
      }
    });
  }

  function renderEvents(s) {
    var list = document.getElementById('events');
    list.textContent = '';
    s.events.slice().reverse().forEach(function (e) {
      list.appendChild(h('li', { cls: e.level, 'data-kind': e.kind },
        h('time', { text: clock(e.at) }), h('b', { text: e.target }), e.message));
    });
  }

  function render() {
    if (!state) return;
    document.getElementById('meta').textContent = 'backend ' + state.backend + (state.store ? ' (' + state.provider + ')' : '') +
      ' · ' + state.gateways.length + ' gateway' + (state.gateways.length === 1 ? '' : 's');
    document.getElementById('rps').textContent = state.totalRps + ' req/s';
    renderGateways(state);
    renderInstances(state);
    renderEvents(state);
  }

  function connect() {
    var conn = document.getElementById('conn');
    var es = new EventSource('/api/events');
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

  connect();
  setInterval(render, 1000);
})();
`;
