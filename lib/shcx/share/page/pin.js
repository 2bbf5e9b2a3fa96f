// The share PIN page: the key comes from the URL fragment (never sent to the server),
// the PIN is POSTed, and the record is decrypted here with WebCrypto (AES-256-GCM JWE).
// Two kinds of link open here (docs/share-protocol.md, "The PIN page"):
//   {public}/s/{sid}#{key}      the PIN goes to this page's own address as {"challenge"};
//   {public}/v#shlink:/{...}    a SMART Health Link: the PIN is the passcode of a manifest
//                               request to the link's url, and the file comes embedded.
(function () {
  'use strict';
  var form = document.getElementById('pin-form');
  var input = document.getElementById('pin');
  var button = document.getElementById('open');
  var message = document.getElementById('message');
  var result = document.getElementById('result');
  var fragment = location.hash.slice(1);
  // Remove the key from the address bar and history as soon as it is read.
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  var SHLINK = 'shlink:/';
  var shl = null;  // the SMART Health Link payload, when the fragment holds one
  var key = fragment;

  var R = window.shcxRecord;  // record.js: base64url, JWE decryption, vaccine and result names
  var CVX = R.CVX, RESULTS = R.RESULTS, b64u = R.b64u, el = R.el, inflateRaw = R.inflateRaw;

  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? 'error' : '';
  }

  function refuse(text) {
    form.hidden = true;
    say(text, true);
  }
  var INCOMPLETE = 'This link is incomplete. Open it exactly as it was shared: the part after "#" is needed.';

  if (fragment.indexOf(SHLINK) === 0) {
    try {
      shl = JSON.parse(new TextDecoder().decode(b64u(fragment.slice(SHLINK.length))));
    } catch (e) {
      shl = null;
    }
    if (!shl || typeof shl.url !== 'string' || typeof shl.key !== 'string') {
      refuse(INCOMPLETE);
      return;
    }
    key = shl.key;
    // The page may only talk to its own server (its Content-Security-Policy says so too).
    var sameOrigin = false;
    try { sameOrigin = new URL(shl.url).origin === location.origin; } catch (e) { /* not a URL */ }
    if (!sameOrigin) {
      refuse('This SMART Health Link belongs to another server. Open it with an app that reads SMART Health Links.');
      return;
    }
    if (String(shl.flag || '').indexOf('P') < 0) {
      refuse('This SMART Health Link has no PIN. Open it with an app that reads SMART Health Links.');
      return;
    }
    if (typeof shl.exp === 'number' && shl.exp * 1000 <= Date.now()) {
      refuse('This link has expired. Ask the person who shared it for a new one.');
      return;
    }
    if (typeof shl.label === 'string' && shl.label) {
      document.getElementById('intro').textContent = 'Someone shared a health record with you: \u201c' + shl.label +
        '\u201d. Enter the PIN they told you.';
    }
  } else if (location.pathname.indexOf('/s/') < 0) {
    refuse(INCOMPLETE);
    return;
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(key)) {
    refuse(INCOMPLETE);
    return;
  }

  function decrypt(jwe) {
    return R.decrypt(jwe, key);
  }

  function coding(concept) {
    var c = (concept && concept.coding && concept.coding[0]) || {};
    return c;
  }

  function showCard(payload) {
    var bundle = payload.vc.credentialSubject.fhirBundle;
    var entries = bundle.entry || [];
    var people = {}, order = [];
    entries.forEach(function (e) {
      var r = e.resource || {};
      if (r.resourceType !== 'Patient') return;
      var n = (r.name && r.name[0]) || {};
      var name = n.text || [].concat(n.given || []).concat(n.family ? [n.family] : []).join(' ');
      people[e.fullUrl] = { name: name || '(no name)', birth: r.birthDate || 'unknown', items: [] };
      order.push(e.fullUrl);
    });
    entries.forEach(function (e) {
      var r = e.resource || {};
      var ref = (r.patient && r.patient.reference) || (r.subject && r.subject.reference);
      var person = people[ref] || (order.length === 1 ? people[order[0]] : null);
      if (!person) return;
      if (r.resourceType === 'Immunization') {
        var c = coding(r.vaccineCode);
        var name = (c.system === 'http://hl7.org/fhir/sid/cvx' && CVX[c.code]) || c.display || ('code ' + c.code);
        person.items.push((r.occurrenceDateTime || '') + ' \u2014 ' + name + (r.lotNumber ? ', lot ' + r.lotNumber : ''));
      } else if (r.resourceType === 'Observation') {
        var t = coding(r.code), v = coding(r.valueCodeableConcept);
        var value = v.display || RESULTS[v.code] || v.code || (r.valueQuantity ? r.valueQuantity.value + ' ' + (r.valueQuantity.unit || '') : '');
        person.items.push((r.effectiveDateTime || '') + ' \u2014 test ' + (t.display || t.code) + ': ' + value);
      }
    });
    var issuer = el('p', 'Issued by ' + payload.iss, 'note');
    result.appendChild(issuer);
    order.forEach(function (url) {
      var p = people[url], card = el('div', undefined, 'card');
      card.appendChild(el('div', p.name, 'person-name'));
      card.appendChild(el('div', 'Born ' + p.birth));
      var list = el('ul');
      p.items.forEach(function (i) { list.appendChild(el('li', i)); });
      card.appendChild(list);
      result.appendChild(card);
    });
    result.appendChild(el('p', 'This page does not check the card\'s signature; a verifier app or `shcx verify` does.', 'note'));
  }

  async function show(content) {
    result.hidden = false;
    var type = content.type;
    var filename = 'shared-record';
    if (type === 'application/smart-health-card') {
      filename = 'health-card.smart-health-card';
      try {
        var file = JSON.parse(new TextDecoder().decode(content.bytes));
        var jws = file.verifiableCredential[0];
        var payload = JSON.parse(new TextDecoder().decode(await inflateRaw(b64u(jws.split('.')[1]))));
        result.appendChild(el('h2', 'SMART Health Card'));
        showCard(payload);
      } catch (e) {
        result.appendChild(el('p', 'The card could not be read here; download it instead.', 'note'));
      }
    } else if (/^text\/|json/.test(type)) {
      result.appendChild(el('h2', 'Shared text'));
      result.appendChild(el('pre', new TextDecoder().decode(content.bytes)));
      filename = type.indexOf('json') >= 0 ? 'shared-record.json' : 'shared-record.txt';
    } else if (type === 'application/pdf') {
      filename = 'shared-record.pdf';
      result.appendChild(el('h2', 'Shared document'));
    }
    var link = el('a', 'Download', 'button');
    link.href = URL.createObjectURL(new Blob([content.bytes], { type: type }));
    link.download = filename;
    link.id = 'download';
    result.appendChild(link);
  }

  // The server's rule (crypto.h normalise_pin): case, spaces and dashes do not matter,
  // O reads as 0, I and L as 1; the alphabet has no U.
  function normalise(text) {
    return text.replace(/[\s-]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  }
  var MALFORMED = 'The PIN has 8 characters: digits and letters (there is no U).';

  async function wrongPin(res) {
    var body = {};
    try { body = await res.json(); } catch (e) { /* no details */ }
    if (body.error === 'malformed_pin') {
      say(MALFORMED, true);
      return;
    }
    var left = shl ? body.remainingAttempts : body.remaining_attempts;
    if (left === 0 || body.destroyed) {
      form.hidden = true;
      say('Wrong PIN. That was the last try: this link is now destroyed. Ask the person who shared it for a new one.', true);
    } else if (left === 1) {
      say('Wrong PIN. One try left: another wrong PIN destroys this link for good. Check the PIN with the person who shared it first.', true);
      message.className = 'error warning';
    } else if (typeof left === 'number') {
      say('Wrong PIN. ' + left + ' tries left. Check it with the person who shared this link.', true);
    } else {
      say('Wrong PIN. Check it with the person who shared this link.', true);
    }
  }

  // The one file a share's manifest embeds.
  function embeddedFile(manifest) {
    var file = manifest && manifest.files && manifest.files[0];
    if (!file || typeof file.embedded !== 'string') throw new Error('no embedded file');
    return file.embedded;
  }

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var pin = normalise(input.value);
    if (!/^[0-9A-HJKMNP-TV-Z]{8}$/.test(pin)) {
      say(MALFORMED, true);
      return;
    }
    button.disabled = true;
    say('Checking\u2026');
    var res;
    // A SMART Health Link's manifest request: the PIN is the passcode; the file is
    // embedded in the answer whatever embeddedLengthMax says (docs/shl.md).
    var request = shl ? { url: shl.url, body: { recipient: 'shcx PIN page', passcode: pin } }
                      : { url: location.pathname, body: { challenge: pin } };
    try {
      res = await fetch(request.url, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request.body), cache: 'no-store', credentials: 'omit', redirect: 'error'
      });
    } catch (e) {
      button.disabled = false;
      say('Network error. Check your connection and try again.', true);
      return;
    }
    if (res.status === (shl ? 401 : 403)) {
      button.disabled = false;
      input.select();
      await wrongPin(res);
    } else if (res.status === 404) {
      form.hidden = true;
      say('This link is no longer valid: it expired, was already used, was revoked, or was destroyed by wrong PINs.', true);
    } else if (res.status === 429) {
      button.disabled = false;
      var busy = false;
      try { busy = (await res.json()).error === 'busy'; } catch (e) { /* rate limited */ }
      say(busy ? 'Someone else is opening this link right now. Wait a moment, then try again.'
               : 'Too many attempts. Wait a minute, then try again.', true);
    } else if (!res.ok) {
      button.disabled = false;
      say('The server could not open this record (error ' + res.status + ').', true);
    } else {
      try {
        var content = await decrypt(shl ? embeddedFile(await res.json()) : await res.text());
        form.hidden = true;
        document.getElementById('intro').hidden = true;
        say('');
        await show(content);
      } catch (e) {
        form.hidden = true;
        say('The record could not be decrypted: the link is damaged.', true);
      }
    }
  });
})();
