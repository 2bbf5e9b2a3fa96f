// What the share pages have in common (docs/emergency.md, "The page"): base64url, the
// compact JWE decryption (AES-256-GCM with WebCrypto; the key never leaves the page),
// and a plain, readable rendering of a FHIR bundle or a SMART Health Card. Card content
// is untrusted: it only ever becomes text nodes, never HTML.
(function () {
  'use strict';

  var CVX = {
    '207': 'Moderna COVID-19', '208': 'Pfizer-BioNTech COVID-19', '210': 'AstraZeneca COVID-19',
    '211': 'Novavax COVID-19', '212': 'Janssen COVID-19', '213': 'COVID-19, unspecified',
    '217': 'Pfizer-BioNTech COVID-19', '218': 'Pfizer-BioNTech COVID-19 (5-11)', '219': 'Pfizer-BioNTech COVID-19 (6m-4y)',
    '221': 'Moderna COVID-19', '228': 'Moderna COVID-19 (6m-5y)', '229': 'Moderna COVID-19 bivalent',
    '300': 'Pfizer-BioNTech COVID-19 bivalent', '88': 'Influenza', '141': 'Influenza', '150': 'Influenza',
    '187': 'Zoster (Shingrix)', '115': 'Tdap', '03': 'MMR'
  };
  var RESULTS = { '260385009': 'Negative', '10828004': 'Positive', '260415000': 'Not detected', '260373001': 'Detected' };
  // LOINC: ABO and Rh group, ABO group, Rh type.
  var BLOOD_TYPE = { '882-1': true, '883-9': true, '10331-7': true, '34474-7': true };

  function b64u(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  async function inflateRaw(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  // A compact JWE (dir, A256GCM) opened with a base64url 256-bit key: {type, bytes}.
  async function decrypt(jwe, key) {
    var p = jwe.trim().split('.');
    if (p.length !== 5) throw new Error('not a JWE');
    var header = JSON.parse(new TextDecoder().decode(b64u(p[0])));
    var ct = b64u(p[3]), tag = b64u(p[4]);
    var data = new Uint8Array(ct.length + tag.length);
    data.set(ct);
    data.set(tag, ct.length);
    var k = await crypto.subtle.importKey('raw', b64u(key), { name: 'AES-GCM' }, false, ['decrypt']);
    var plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: b64u(p[2]), additionalData: new TextEncoder().encode(p[0]), tagLength: 128 }, k, data);
    var bytes = new Uint8Array(plain);
    if (header.zip === 'DEF') bytes = await inflateRaw(bytes);
    return { type: header.cty || 'application/octet-stream', bytes: bytes };
  }

  function firstCoding(concept) {
    return (concept && concept.coding && concept.coding[0]) || {};
  }
  // A CodeableConcept as words: its text, else a coding's display, else its code.
  function words(concept) {
    if (!concept) return '';
    if (concept.text) return concept.text;
    var codings = concept.coding || [];
    for (var i = 0; i < codings.length; i++) if (codings[i].display) return codings[i].display;
    var c = firstCoding(concept);
    return c.code ? 'code ' + c.code : '';
  }
  function humanName(n) {
    n = n || {};
    return n.text || [].concat(n.given || []).concat(n.family ? [n.family] : []).join(' ');
  }
  function joined(parts, sep) {
    return parts.filter(function (p) { return p; }).join(sep);
  }
  function contact(name, relationship, telecom) {
    var phones = (telecom || []).map(function (t) { return t.value; });
    var who = joined([name || '(no name)', relationship ? '(' + relationship + ')' : ''], ' ');
    return joined([who, joined(phones, ', ')], ': ');
  }
  function quantity(q) {
    return q ? joined([String(q.value), q.unit || ''], ' ') : '';
  }
  function observationValue(r) {
    var v = firstCoding(r.valueCodeableConcept);
    if (r.valueCodeableConcept) return r.valueCodeableConcept.text || v.display || RESULTS[v.code] || v.code || '';
    if (r.valueQuantity) return quantity(r.valueQuantity);
    if (r.valueString !== undefined) return String(r.valueString);
    return '';
  }
  function medication(r) {
    var name = words(r.medicationCodeableConcept) || (r.medicationReference && r.medicationReference.display) || 'medication';
    var dose = (r.dosage && r.dosage[0] && r.dosage[0].text) ||
               (r.dosageInstruction && r.dosageInstruction[0] && r.dosageInstruction[0].text) || '';
    return joined([name, dose], ' \u2014 ');
  }

  // The bundle sorted into what a responder looks for first, then everything else.
  function sort(bundle) {
    var out = { people: [], allergies: [], conditions: [], medications: [], blood: [], contacts: [], other: [] };
    (bundle.entry || []).forEach(function (e) {
      var r = (e && e.resource) || {};
      switch (r.resourceType) {
        case 'Patient':
          out.people.push({ name: humanName(r.name && r.name[0]) || '(no name)', birth: r.birthDate || 'unknown' });
          (r.contact || []).forEach(function (c) {
            out.contacts.push(contact(humanName(c.name), words(c.relationship && c.relationship[0]), c.telecom));
          });
          break;
        case 'RelatedPerson':
          out.contacts.push(contact(humanName(r.name && r.name[0]), words(r.relationship && r.relationship[0]), r.telecom));
          break;
        case 'AllergyIntolerance': {
          var reactions = [];
          (r.reaction || []).forEach(function (x) { (x.manifestation || []).forEach(function (m) { reactions.push(words(m)); }); });
          out.allergies.push(joined([words(r.code) || 'allergy', r.criticality === 'high' ? 'high risk' : '',
            reactions.length ? 'reaction: ' + reactions.join(', ') : ''], ' \u2014 '));
          break;
        }
        case 'Condition':
          out.conditions.push(joined([words(r.code) || 'condition', r.onsetDateTime ? 'since ' + r.onsetDateTime : ''], ', '));
          break;
        case 'MedicationStatement':
        case 'MedicationRequest':
          out.medications.push(medication(r));
          break;
        case 'Observation': {
          var code = firstCoding(r.code);
          if (code.system === 'http://loinc.org' && BLOOD_TYPE[code.code]) {
            out.blood.push(observationValue(r));
          } else {
            out.other.push(joined([r.effectiveDateTime || '', 'test ' + (words(r.code) || code.code) + ': ' + observationValue(r)], ' \u2014 '));
          }
          break;
        }
        case 'Immunization': {
          var c = firstCoding(r.vaccineCode);
          var name = (c.system === 'http://hl7.org/fhir/sid/cvx' && CVX[c.code]) || words(r.vaccineCode) || 'vaccine';
          out.other.push(joined([r.occurrenceDateTime || '', name + (r.lotNumber ? ', lot ' + r.lotNumber : '')], ' \u2014 '));
          break;
        }
        default:
          if (r.resourceType) out.other.push(joined([r.resourceType, words(r.code) || words(r.type)], ': '));
      }
    });
    return out;
  }

  // Appends the bundle to `container`: the patient, then allergies, conditions,
  // medications, blood type and emergency contact (each shown even when empty if
  // `essentials`, so that "none listed" is visible), then any other record.
  function renderBundle(bundle, container, essentials) {
    var s = sort(bundle);
    s.people.forEach(function (p) {
      var card = el('div', undefined, 'card');
      card.appendChild(el('div', p.name, 'person-name'));
      card.appendChild(el('div', 'Born ' + p.birth));
      container.appendChild(card);
    });
    var box = el('div', undefined, 'card essentials');
    var topics = [['Allergies', s.allergies, 'allergies'], ['Conditions', s.conditions, 'conditions'],
      ['Medications', s.medications, 'medications'], ['Blood type', s.blood, 'blood-type'],
      ['Emergency contact', s.contacts, 'contacts']];
    topics.forEach(function (t) {
      if (!essentials && !t[1].length) return;
      box.appendChild(el('h3', t[0], 'topic'));
      if (!t[1].length) {
        box.appendChild(el('p', 'None listed', 'none'));
        return;
      }
      var list = el('ul');
      list.setAttribute('data-topic', t[2]);
      t[1].forEach(function (i) { list.appendChild(el('li', i)); });
      box.appendChild(list);
    });
    if (s.other.length) {
      box.appendChild(el('h3', 'Other records', 'topic plain'));
      var more = el('ul');
      more.setAttribute('data-topic', 'other');
      s.other.forEach(function (i) { more.appendChild(el('li', i)); });
      box.appendChild(more);
    }
    if (box.childNodes.length) container.appendChild(box);
  }

  // Shows decrypted content in `container`: a card or bundle as lists, text as text.
  // Throws when the content claims a type it does not hold.
  async function render(content, container, essentials) {
    var type = content.type;
    if (type === 'application/smart-health-card') {
      var file = JSON.parse(new TextDecoder().decode(content.bytes));
      for (var i = 0; i < file.verifiableCredential.length; i++) {
        var jws = file.verifiableCredential[i];
        var payload = JSON.parse(new TextDecoder().decode(await inflateRaw(b64u(jws.split('.')[1]))));
        container.appendChild(el('p', 'SMART Health Card issued by ' + payload.iss, 'note'));
        renderBundle(payload.vc.credentialSubject.fhirBundle, container, essentials);
      }
      container.appendChild(el('p', 'This page does not check the card\'s signature; a verifier app or `shcx verify` does.', 'note'));
    } else if (/json/.test(type)) {
      var text = new TextDecoder().decode(content.bytes);
      var json = JSON.parse(text);
      if (json && json.resourceType === 'Bundle') renderBundle(json, container, essentials);
      else if (json && json.resourceType) renderBundle({ entry: [{ resource: json }] }, container, essentials);
      else container.appendChild(el('pre', text));
    } else if (/^text\//.test(type)) {
      container.appendChild(el('pre', new TextDecoder().decode(content.bytes)));
    } else {
      container.appendChild(el('p', 'A document (' + type + '): download it to read it.', 'note'));
    }
  }

  function filename(type) {
    if (type === 'application/smart-health-card') return 'health-card.smart-health-card';
    if (/json/.test(type)) return 'record.json';
    if (type === 'application/pdf') return 'record.pdf';
    if (/^text\//.test(type)) return 'record.txt';
    return 'record';
  }

  window.shcxRecord = {
    b64u: b64u, el: el, inflateRaw: inflateRaw, decrypt: decrypt, render: render, renderBundle: renderBundle,
    filename: filename, CVX: CVX, RESULTS: RESULTS
  };
})();
