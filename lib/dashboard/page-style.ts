/**
 * The dashboard stylesheet. Laid out for 1,024 px and wider with nothing clipped: the grid's
 * fleet column may shrink (`minmax(0, 1fr)`), tables use a fixed layout whose long cells end in an
 * ellipsis (full text in the title), and charts are SVGs that take their cell's width.
 */

/** `GET {base}dashboard.css`. */
export const PAGE_STYLE = `
:root { --up: #1f9d55; --down: #cc1f1a; --unknown: #b7791f; --absent: #8795a1; --bg: #f7f8fa; --fg: #22292f; --line: #dae1e7; --muted: #606f7b; }
* { box-sizing: border-box; }
html, body { margin: 0; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; padding: .6rem 1.2rem; background: #22292f; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
.meta { color: #dae1e7; }
.conn { margin-left: auto; font-size: .85rem; }
.conn[data-state="live"]::before { content: "● "; color: #51d88a; }
.conn[data-state="lost"]::before { content: "● "; color: #ef5753; }
.admin { display: flex; gap: .4rem; align-items: center; margin: 0; }
.admin input { font: inherit; font-size: .8rem; width: 9rem; padding: .1rem .3rem; }
.admin span { font-size: .8rem; color: #dae1e7; }
.admin[data-state="admin"] span { color: #51d88a; }
.admin[data-state="admin"] input, .admin[data-state="admin"] button { display: none; }
main { display: grid; grid-template-columns: minmax(0, 1fr) clamp(240px, 24vw, 360px); gap: 1rem; padding: 1rem 1.2rem; }
h2 { font-size: .95rem; margin: .2rem 0 .5rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; margin-bottom: .6rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; min-width: 0; flex: 0 1 260px; }
.card .name { font-weight: 600; }
.card .url { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.service { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin-bottom: .8rem; min-width: 0; }
.service-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem 1rem; padding: .45rem .6rem; background: #eef1f5; border-bottom: 1px solid var(--line); }
.service-head .name { font-weight: 600; }
.service-head .count { color: var(--muted); font-size: .85rem; }
.charts { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: .6rem; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
.chart { margin: 0; min-width: 0; }
.chart figcaption { display: flex; justify-content: space-between; gap: .3rem; font-size: .75rem; color: var(--muted); white-space: nowrap; overflow: hidden; }
.chart figcaption b { color: var(--fg); font-family: ui-monospace, Menlo, monospace; font-weight: 600; overflow: hidden; text-overflow: ellipsis; }
.chart svg { display: block; width: 100%; height: 28px; background: #f7f8fa; }
.chart polyline { fill: none; stroke: #3490dc; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.chart[data-metric="errorRate"] polyline { stroke: var(--down); }
.chart[data-metric="p99"] polyline { stroke: #9561e2; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
tr:last-child td { border-bottom: 0; }
th { font-size: .75rem; color: var(--muted); font-weight: 600; }
td.url, td.pid, td.num { font-family: ui-monospace, Menlo, monospace; font-size: .75rem; }
td.actions { white-space: normal; overflow: visible; }
table.drain col.c0 { width: 16%; } table.drain col.c1 { width: 11%; } table.drain col.c2 { width: 25%; }
table.drain col.c3 { width: 13%; } table.drain col.c4 { width: 8%; } table.drain col.c5 { width: 15%; } table.drain col.c6 { width: 12%; }
table.sandbox col.c0 { width: 12%; } table.sandbox col.c1 { width: 9%; } table.sandbox col.c2 { width: 9%; }
table.sandbox col.c3 { width: 19%; } table.sandbox col.c4 { width: 7%; } table.sandbox col.c5 { width: 10%; }
table.sandbox col.c6 { width: 6%; } table.sandbox col.c7 { width: 6%; } table.sandbox col.c8 { width: 12%; } table.sandbox col.c9 { width: 10%; }
.badge { display: inline-block; min-width: 4.2em; text-align: center; padding: .05rem .45rem; border-radius: 3px; color: #fff; font-size: .75rem; font-weight: 600; }
.badge.UP, .badge.healthy, .badge.running { background: var(--up); }
.badge.DOWN, .badge.unhealthy, .badge.unreachable, .badge.crashed { background: var(--down); }
.badge.UNKNOWN, .badge.DRAINING, .badge.degraded, .badge.starting, .badge.restarting { background: var(--unknown); }
.badge.ABSENT, .badge.stopped { background: var(--absent); }
svg.history { display: block; width: 100%; height: 14px; }
svg.history rect { fill: var(--absent); }
svg.history rect.UP, svg.history rect.healthy { fill: var(--up); }
svg.history rect.DOWN, svg.history rect.unhealthy, svg.history rect.unreachable { fill: var(--down); }
svg.history rect.UNKNOWN, svg.history rect.DRAINING, svg.history rect.degraded { fill: var(--unknown); }
button { font: inherit; font-size: .75rem; padding: .1rem .5rem; margin-right: .25rem; border: 1px solid #b8c2cc; border-radius: 3px; background: #fff; cursor: pointer; }
button.crash { border-color: var(--down); color: var(--down); }
button:disabled { opacity: .5; cursor: default; }
aside { min-width: 0; }
aside ol { list-style: none; margin: 0; padding: 0; max-height: calc(100vh - 110px); overflow-y: auto; }
aside li { padding: .3rem .5rem; border-left: 3px solid var(--absent); background: #fff; margin-bottom: 3px; font-size: .8rem; overflow-wrap: anywhere; }
aside li.good { border-color: var(--up); } aside li.bad { border-color: var(--down); } aside li.warn { border-color: var(--unknown); }
aside time { color: #8795a1; font-family: ui-monospace, Menlo, monospace; margin-right: .4rem; }
aside b { margin-right: .3rem; }
.more { padding: .3rem .6rem; color: var(--muted); font-style: italic; font-size: .85rem; }
.empty { color: var(--muted); padding: 1rem 0; }
`;
