// Shows the stage's health: GET health (relative to <base href="/{stage}/">, the gateway's
// {"status","stage","services":{name:{status,http_status}}}; a service's own /health has
// "checks" instead) → one row per service.
'use strict';

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

async function showHealth() {
  const status = document.getElementById('status');
  const table = document.getElementById('checks');
  const body = table.querySelector('tbody');
  try {
    const res = await fetch('health', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    const data = await res.json();
    status.textContent = res.ok ? 'The stage is healthy.' : 'The stage is not healthy (HTTP ' + res.status + ').';
    status.className = res.ok ? 'ok' : 'bad';
    const checks = data.services || data.checks || {};
    for (const name of Object.keys(checks).sort()) {
      const c = checks[name];
      const ok = c === true || c === 'ok' || (c && (c.ok === true || c.status === 'ok'));
      const row = document.createElement('tr');
      cell(row, name);
      cell(row, ok ? 'ok' : 'failing', ok ? 'ok' : 'bad');
      cell(row, c && typeof c === 'object' ? (c.message || (c.http_status ? 'HTTP ' + c.http_status : '')) : String(c));
      body.appendChild(row);
    }
    table.hidden = Object.keys(checks).length === 0;
  } catch (e) {
    status.textContent = 'Health could not be fetched: ' + e.message;
    status.className = 'bad';
  }
}

document.addEventListener('DOMContentLoaded', showHealth);
