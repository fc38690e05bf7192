/** The dashboard stylesheet (`GET /app.css`). */
export const PAGE_STYLE = `
:root { --up: #1f9d55; --down: #cc1f1a; --unknown: #b7791f; --absent: #8795a1; --bg: #f7f8fa; --fg: #22292f; --line: #dae1e7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1.2rem; align-items: baseline; padding: .7rem 1.2rem; background: #22292f; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
.meta { color: #dae1e7; }
.conn { margin-left: auto; font-size: .85rem; }
.conn[data-state="live"]::before { content: "● "; color: #51d88a; }
.conn[data-state="lost"]::before { content: "● "; color: #ef5753; }
main { display: grid; grid-template-columns: 1fr 360px; gap: 1rem; padding: 1rem 1.2rem; }
h2 { font-size: .95rem; margin: .4rem 0 .5rem; text-transform: uppercase; letter-spacing: .04em; color: #606f7b; }
.cards { display: flex; flex-wrap: wrap; gap: .6rem; margin-bottom: 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; min-width: 220px; }
.card .name { font-weight: 600; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: .8rem; color: #606f7b; font-weight: 600; }
tr.service td { background: #eef1f5; font-weight: 600; }
td.url, td.pid, td.num { font-family: ui-monospace, Menlo, monospace; font-size: .85rem; }
.badge { display: inline-block; min-width: 4.2em; text-align: center; padding: .05rem .45rem; border-radius: 3px; color: #fff; font-size: .8rem; font-weight: 600; }
.badge.UP, .badge.healthy, .badge.running { background: var(--up); }
.badge.DOWN, .badge.unhealthy, .badge.unreachable, .badge.crashed { background: var(--down); }
.badge.UNKNOWN, .badge.DRAINING, .badge.degraded, .badge.starting, .badge.restarting { background: var(--unknown); }
.badge.ABSENT, .badge.stopped { background: var(--absent); }
.spark { display: inline-flex; gap: 1px; vertical-align: middle; }
.spark i { display: inline-block; width: 4px; height: 14px; background: var(--absent); }
.spark i.UP, .spark i.healthy { background: var(--up); }
.spark i.DOWN, .spark i.unhealthy, .spark i.unreachable { background: var(--down); }
.spark i.UNKNOWN, .spark i.DRAINING, .spark i.degraded { background: var(--unknown); }
button { font: inherit; font-size: .8rem; padding: .15rem .6rem; margin-right: .3rem; border: 1px solid #b8c2cc; border-radius: 3px; background: #fff; cursor: pointer; }
button.crash { border-color: var(--down); color: var(--down); }
button:disabled { opacity: .5; cursor: default; }
aside ol { list-style: none; margin: 0; padding: 0; max-height: calc(100vh - 120px); overflow-y: auto; }
aside li { padding: .3rem .5rem; border-left: 3px solid var(--absent); background: #fff; margin-bottom: 3px; font-size: .85rem; }
aside li.good { border-color: var(--up); } aside li.bad { border-color: var(--down); } aside li.warn { border-color: var(--unknown); }
aside time { color: #8795a1; font-family: ui-monospace, Menlo, monospace; margin-right: .4rem; }
aside b { margin-right: .3rem; }
.more td { color: #606f7b; font-style: italic; }
@media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
`;
