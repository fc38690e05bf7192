/**
 * The dashboard page shell, shared by the gateway (`/_fleetgate/`) and the sandbox (`/`). Kept in
 * a module (not a loose .html file) so it ships inside `dist/` with no copy step. The script and
 * stylesheet are separate files under the same base, so the page runs under a strict
 * Content-Security-Policy (no inline script or style).
 */

/** How a page is set up. */
export interface DashboardPageOptions {
  /** Title in the tab and the header. */
  title: string;
  /** Path prefix of the page's assets and API, ending in `/` (`/_fleetgate/` or `/`). */
  base: string;
  /** The event-stream URL (relative to the origin). */
  stream: string;
  /**
   * Buttons on instance rows: `drain` (gateway: Drain/Undrain for admins, with a token field) or
   * `sandbox` (Crash/Restart through the sandbox's control API).
   */
  actions: 'drain' | 'sandbox';
}

/** The stylesheet's file name under the base. */
export const PAGE_STYLE_FILE = 'dashboard.css';
/** The script's file name under the base. */
export const PAGE_SCRIPT_FILE = 'dashboard.js';

/** The Content-Security-Policy every dashboard response carries. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * The page's HTML.
 * @example dashboardPageHtml({ title: 'fleetgate', base: '/_fleetgate/', stream: '/_fleetgate/api/stream', actions: 'drain' })
 */
export function dashboardPageHtml(o: DashboardPageOptions): string {
  const base = escapeHtml(o.base);
  const admin =
    o.actions === 'drain'
      ? `<form id="admin" class="admin" data-state="read-only">
    <input id="admin-token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token">
    <button id="admin-unlock" type="submit">Unlock</button>
    <span id="admin-state" data-testid="admin-state">read-only</span>
  </form>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}${PAGE_STYLE_FILE}">
</head>
<body data-base="${base}" data-stream="${escapeHtml(o.stream)}" data-actions="${o.actions}">
<header>
  <h1>${escapeHtml(o.title)}</h1>
  <span id="meta" class="meta"></span>
  <span id="rps" class="meta" data-testid="total-rps"></span>
  ${admin}
  <span id="conn" class="conn" data-state="connecting">connecting…</span>
</header>
<main>
  <section class="fleet">
    <div id="gateways" class="cards"></div>
    <div id="services"></div>
  </section>
  <aside id="events-column">
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </aside>
</main>
<script src="${base}${PAGE_SCRIPT_FILE}"></script>
</body>
</html>
`;
}
