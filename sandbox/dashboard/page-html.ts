/**
 * The dashboard page. Kept in a module (not a loose .html file) so it ships inside `dist/` with
 * the compiled code and needs no copy step.
 */

/** `GET /`: the page shell; app.js fills it from the live feed. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gw-sandbox</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header>
  <h1>gw-sandbox</h1>
  <span id="meta" class="meta"></span>
  <span id="rps" class="meta"></span>
  <span id="conn" class="conn" data-state="connecting">connecting…</span>
</header>
<main>
  <section class="fleet">
    <h2>Gateways</h2>
    <div id="gateways" class="cards"></div>
    <h2>Services</h2>
    <table id="instances">
      <thead><tr>
        <th>instance</th><th>registry</th><th>process</th><th>url</th><th>pid</th>
        <th>last heartbeat</th><th>epoch</th><th>req/s</th><th>health history</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <aside>
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </aside>
</main>
<script src="/app.js"></script>
</body>
</html>
`;
