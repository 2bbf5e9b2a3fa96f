// The emergency page (docs/emergency.md, "The page"): {public}/e/{sid}#{emergency key}.{full key}.
// The keys come from the URL fragment, which the browser never sends. The page reads the
// emergency tier at once ({"tier":"emergency"}), and the full record with the PIN
// ({"tier":"full","challenge":PIN}) or by break glass ({"tier":"full","attestation":
// "NAME; ROLE; REASON"}); each answer is a JWE decrypted here. Nothing is logged.
(function () {
  'use strict';
  var R = window.shcxRecord;
  var message = document.getElementById('message');
  var retry = document.getElementById('retry');
  var essentials = document.getElementById('essentials');
  var full = document.getElementById('full');
  var record = document.getElementById('record');
  var pinForm = document.getElementById('pin-form');
  var pinInput = document.getElementById('pin');
  var pinButton = document.getElementById('open-pin');
  var pinMessage = document.getElementById('pin-message');
  var glassForm = document.getElementById('glass-form');
  var glassButton = document.getElementById('break-glass');
  var glassMessage = document.getElementById('glass-message');

  var keys = location.hash.slice(1).split('.');
  // Remove the keys from the address bar and history as soon as they are read.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  var KEY = /^[A-Za-z0-9_-]{43}$/;
  var emergencyKey = keys[0], fullKey = keys[1];

  var DEAD = 'This link is no longer valid: it was revoked, replaced by a new one, or has expired. ' +
             'The patient\'s wristband or card no longer opens anything.';
  var INCOMPLETE = 'This link is incomplete. Scan the QR code again: the part of the link after "#" is needed.';

  function say(target, text, cls) {
    target.textContent = text;
    target.className = (target === message ? '' : 'form-message ') + (cls || '');
  }
  function dead() {
    full.hidden = true;
    retry.hidden = true;
    say(message, DEAD, 'error');
  }
  function seconds(res) {
    var n = parseInt(res.headers.get('Retry-After') || '', 10);
    return isNaN(n) || n < 1 ? 60 : n;
  }
  function wait(n) {
    if (n < 120) return n + (n === 1 ? ' second' : ' seconds');
    var m = Math.ceil(n / 60);
    return m + ' minutes';
  }
  async function errorOf(res) {
    try { return (await res.json()) || {}; } catch (e) { return {}; }
  }
  // One POST to this page's own address; null on a network error.
  async function ask(body) {
    try {
      return await fetch(location.pathname, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
        cache: 'no-store', credentials: 'omit', redirect: 'error'
      });
    } catch (e) {
      return null;
    }
  }

  if (keys.length !== 2 || !KEY.test(emergencyKey) || !KEY.test(fullKey) ||
      !/^\/e\/[A-Za-z0-9_-]{22}$/.test(location.pathname)) {
    say(message, INCOMPLETE, 'error');
    return;
  }

  async function readEmergency() {
    retry.hidden = true;
    say(message, 'Opening\u2026');
    var res = await ask({ tier: 'emergency' });
    if (!res) {
      say(message, 'Network error. Check the connection and try again.', 'error');
      retry.hidden = false;
      return;
    }
    if (res.status === 404) return dead();
    full.hidden = false;  // the link is alive: the full record's two ways stay open
    if (res.status === 429) {
      say(message, 'Too many requests for this information right now. Try again in ' + wait(seconds(res)) + '.', 'error');
      retry.hidden = false;
      return;
    }
    if (!res.ok) {
      say(message, 'The server could not open this information (error ' + res.status + ').', 'error');
      retry.hidden = false;
      return;
    }
    try {
      var content = await R.decrypt(await res.text(), emergencyKey);
      essentials.textContent = '';
      await R.render(content, essentials, true);
      essentials.hidden = false;
      say(message, '');
    } catch (e) {
      say(message, 'This information could not be decrypted: the link or QR code is damaged.', 'error');
    }
  }
  retry.addEventListener('click', readEmergency);

  async function showFull(res, how) {
    try {
      var content = await R.decrypt(await res.text(), fullKey);
      full.hidden = true;
      record.textContent = '';
      record.appendChild(R.el('h2', 'Full record'));
      record.appendChild(R.el('p', how, 'note'));
      await R.render(content, record, false);
      var link = R.el('a', 'Download', 'button');
      link.href = URL.createObjectURL(new Blob([content.bytes], { type: content.type }));
      link.download = R.filename(content.type);
      link.id = 'download';
      record.appendChild(link);
      record.hidden = false;
    } catch (e) {
      full.hidden = true;
      say(message, 'The full record could not be decrypted: the link or QR code is damaged.', 'error');
    }
  }

  // The server's rule (crypto.h normalise_pin): case, spaces and dashes do not matter,
  // O reads as 0, I and L as 1; the alphabet has no U.
  function normalise(text) {
    return text.replace(/[\s-]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  }
  var MALFORMED = 'The PIN has 8 characters: digits and letters (there is no U).';

  async function busy(res, target, what) {
    var body = await errorOf(res);
    var n = seconds(res);
    if (body.error === 'break_glass_paused') {
      say(target, 'Break glass is paused on this link after several uses; the patient has been alerted. ' +
        'Try again in ' + wait(n) + ', or use the PIN.', 'error');
    } else if (body.error === 'busy') {
      say(target, 'Someone else is opening this record right now. Try again in ' + wait(n) + '.', 'error');
    } else {
      say(target, 'Too many ' + what + ' from here. Try again in ' + wait(n) + '.', 'error');
    }
  }

  pinForm.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var pin = normalise(pinInput.value);
    if (!/^[0-9A-HJKMNP-TV-Z]{8}$/.test(pin)) return say(pinMessage, MALFORMED, 'error');
    pinButton.disabled = true;
    say(pinMessage, 'Checking\u2026');
    var res = await ask({ tier: 'full', challenge: pin });
    pinButton.disabled = false;
    if (!res) return say(pinMessage, 'Network error. Check the connection and try again.', 'error');
    if (res.status === 404) return dead();
    if (res.status === 429) return busy(res, pinMessage, 'PIN attempts');
    if (res.status === 403) {
      var body = await errorOf(res);
      pinInput.select();
      if (body.error === 'malformed_pin') return say(pinMessage, MALFORMED, 'error');
      var left = body.remaining_attempts;
      if (left === 0 || body.destroyed) {
        full.hidden = true;
        return say(message, 'Wrong PIN. That was the last try: this link is now destroyed.', 'error');
      }
      if (left === 1)
        return say(pinMessage, 'Wrong PIN. One try left: another wrong PIN destroys this link for good.', 'error warning');
      return say(pinMessage, 'Wrong PIN. ' + left + ' tries left.', 'error');
    }
    if (!res.ok) return say(pinMessage, 'The server could not open the record (error ' + res.status + ').', 'error');
    say(pinMessage, '');
    await showFull(res, 'Opened with the PIN.');
  });

  glassForm.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var parts = ['glass-name', 'glass-role', 'glass-reason'].map(function (id) {
      return document.getElementById(id).value.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    });
    if (parts.some(function (p) { return !p || p.indexOf(';') >= 0; }))
      return say(glassMessage, 'Fill in your name, role and reason (without ";").', 'error');
    if (!document.getElementById('glass-attest').checked)
      return say(glassMessage, 'Confirm the statement first: tick the box.', 'error');
    var attestation = parts.join('; ');
    if (new TextEncoder().encode(attestation).length > 300)
      return say(glassMessage, 'Name, role and reason are too long together: keep them under 300 characters.', 'error');
    glassButton.disabled = true;
    say(glassMessage, 'Opening\u2026');
    var res = await ask({ tier: 'full', attestation: attestation });
    glassButton.disabled = false;
    if (!res) return say(glassMessage, 'Network error. Check the connection and try again.', 'error');
    if (res.status === 404) return dead();
    if (res.status === 429) return busy(res, glassMessage, 'break-glass requests');
    if (res.status === 400 && (await errorOf(res)).error === 'bad_attestation')
      return say(glassMessage, 'The server refused the statement: give your name, role and reason in plain text.', 'error');
    if (!res.ok) return say(glassMessage, 'The server could not open the record (error ' + res.status + ').', 'error');
    say(glassMessage, '');
    await showFull(res, 'Opened by break glass as \u201c' + attestation + '\u201d. This access is logged and the patient is alerted.');
  });

  readEmergency();
})();
