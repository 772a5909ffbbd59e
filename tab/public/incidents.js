/*
 * The DSL's working tool: the incident list (with "not yet in CPOMS"), the full case view, and the actions
 * that act (actions, referrals and outcomes, reclassification, CPOMS, sanctions, parents informed, close with
 * second sign-off), and a pupil's history. Every change sends the etag read (If-Match).
 */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var current = null;
  var roles = [];
  var types = [];

  var REFERRAL_TARGETS = [
    ['dsl', 'The Designated Safeguarding Lead'], ['headteacher', 'The headteacher'], ['chair', 'The chair of governors'],
    ['lado', 'The LADO'], ['childrens-social-care', "Children's social care"], ['police', 'The police'], ['ceop', 'CEOP'],
    ['iwf', 'The Internet Watch Foundation'], ['prevent', 'Prevent'], ['local-authority', 'The local authority'], ['trust', 'The trust'],
  ];
  var STATUS_TEXT = { open: 'open', 'in-progress': 'in progress', closed: 'closed' };

  function has(role) { return roles.indexOf(role) >= 0; }
  function ukToday() {
    var parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date());
    var get = function (t) { return parts.filter(function (p) { return p.type === t; })[0].value; };
    return get('year') + '-' + get('month') + '-' + get('day');
  }

  function loadList() {
    var form = document.getElementById('filters');
    var params = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (v) params.set(k, v); });
    return T.api('/api/incidents?' + params.toString()).then(function (r) {
      if (r.status === 403) { T.setStatus('The triage view is for the coordinator, the DSL and the headteacher.', 'error'); return; }
      if (!r.ok) { T.setStatus(r.body.error || 'The incidents could not be loaded.', 'error'); return; }
      form.hidden = false;
      var body = document.querySelector('#list tbody');
      body.innerHTML = '';
      r.body.incidents.forEach(function (i) {
        var link = el('a', { href: '#' + i.reference, text: i.reference });
        link.addEventListener('click', function (e) { e.preventDefault(); open(i.reference); });
        var flags = [];
        if (i.notInCpoms) flags.push(el('span', { class: 'badge open', text: 'not in CPOMS' }));
        if (i.awaitingSecondSignOff) flags.push(el('span', { class: 'badge', text: 'awaiting sign-off' }));
        if (i.historic) flags.push(el('span', { class: 'badge', text: 'historic' }));
        body.appendChild(el('tr', {}, [
          el('td', {}, [link]),
          el('td', { text: i.typeLabel }),
          el('td', { text: i.occurredOnText || i.occurredOn }),
          el('td', {}, [el('span', { class: 'badge ' + (i.status === 'closed' ? 'closed' : 'open'), text: STATUS_TEXT[i.status] || i.status })].concat(flags.length ? [' '] : []).concat(flags)),
        ]));
      });
      if (!r.body.incidents.length) body.appendChild(el('tr', {}, [el('td', { colspan: '4', class: 'muted', text: 'No incidents match.' })]));
      document.body.setAttribute('data-ready', 'true');
    });
  }

  function field(label, name, tag, attrs) {
    var input = el(tag || 'textarea', Object.assign({ name: name, required: 'required' }, attrs || {}));
    return el('label', {}, [label + ' ', input]);
  }
  function optionalField(label, name, tag, attrs) {
    return el('label', {}, [label + ' ', el(tag || 'input', Object.assign({ name: name }, attrs || {}))]);
  }
  function select(name, options, attrs) {
    return el('select', Object.assign({ name: name, required: 'required' }, attrs || {}), options.map(function (o) { return el('option', { value: o[0], text: o[1] }); }));
  }

  function problemsText(r) {
    return (r.body.error || 'Not saved.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : '');
  }

  function post(path, body, form) {
    return T.api('/api/incidents/' + encodeURIComponent(current.incident.reference) + path, { method: 'POST', body: body, etag: current.etag }).then(function (r) {
      if (!r.ok) { form.querySelector('.problems').textContent = problemsText(r); return; }
      var notes = [];
      if (r.status === 202) notes.push('Close proposed: a second senior person must now confirm it.');
      if (r.body.prompt) notes.push(r.body.prompt);
      if (r.body.warnings) notes = notes.concat(r.body.warnings);
      T.setStatus(notes.length ? 'Saved. ' + notes.join(' ') : 'Saved.', 'info');
      if (r.body.incident) show(r.body); else open(current.incident.reference);
      loadList();
    });
  }

  /** A form posting its fields (as text, or as true/false for checkboxes) to one of the incident's actions. */
  function formFor(id, title, fields, submit, path, intro, transform) {
    var children = [el('h3', { text: title })];
    if (intro) children.push(el('p', { class: 'muted', text: intro }));
    var form = el('form', { id: id, class: 'no-print' }, children.concat(fields).concat([el('p', { class: 'problems', role: 'alert' }), el('button', { type: 'submit', text: submit })]));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var data = {};
      Array.prototype.forEach.call(form.elements, function (input) {
        if (!input.name) return;
        if (input.type === 'checkbox') { if (input.checked) data[input.name] = true; return; }
        if (input.value !== '') data[input.name] = input.value;
      });
      post(path, transform ? transform(data) : data, form);
    });
    return form;
  }

  function facts(pairs) {
    var dl = el('dl', { class: 'facts' });
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      dl.appendChild(el('dt', { text: p[0] }));
      dl.appendChild(el('dd', typeof p[1] === 'string' ? { text: p[1] } : {}, typeof p[1] === 'string' ? [] : [p[1]]));
    });
    return dl;
  }

  function involvedText(party) {
    return { 'pupil-unlisted': 'A pupil not on the register', staff: 'A member of staff', headteacher: 'The headteacher', visitor: 'A visitor', unknown: 'Unknown' }[party.kind];
  }

  function show(detail) {
    current = detail;
    var i = detail.incident;
    var box = document.getElementById('detail');
    box.innerHTML = '';
    box.appendChild(el('h2', { text: i.reference + ': ' + i.typeLabel }));
    box.appendChild(el('p', {}, [
      el('span', { class: 'badge ' + (i.status === 'closed' ? 'closed' : 'open'), id: 'detail-status', text: i.status }),
      i.childProtection ? el('span', { class: 'badge open', id: 'detail-cp', text: 'child protection' }) : '',
      i.historic ? el('span', { class: 'badge', text: 'historic' }) : '',
    ]));

    if (detail.guidance && detail.guidance.length) {
      box.appendChild(el('div', { class: 'guidance', id: 'guidance', role: 'note' }, [el('h3', { text: 'First steps for this kind of incident' }), el('ol', {}, detail.guidance.map(function (g) { return el('li', { text: g }); }))]));
    }
    (detail.repeatWarnings || []).forEach(function (w) {
      box.appendChild(el('div', { class: 'guidance repeat', role: 'note' }, [
        el('strong', { text: (w.name || 'A pupil') + ' has been involved in ' + w.count + ' incidents this ' + w.term.toLowerCase().replace(/ \d+$/, '') + ' (the school’s threshold is ' + w.threshold + ').' }),
        ' The matrix suggests: ' + w.escalation.map(function (a) { return a.label; }).join('; ') + '.',
      ]));
    });

    box.appendChild(facts([
      ['Occurred', i.occurredOnText + (i.occurredAt ? ' at ' + i.occurredAt : '')],
      ['Reported', i.createdAtText + ' by ' + (detail.reporter.name || 'a member of staff')],
      ['Where (room and device)', i.location],
      ['Category (four Cs)', i.fourC],
      ['Child protection', i.childProtection ? 'Yes' : 'No'],
      ['About a member of staff', detail.subjectName || (i.subjectUnresolved ? 'Named, but not matched to anyone: routed as if the most senior person' : '')],
      ['Action already taken', i.actionTaken],
      ['CPOMS reference', i.cpomsReference || (i.status === 'closed' ? '' : 'Not yet recorded in CPOMS')],
      ['Keep until', i.retentionDate],
    ]));
    box.appendChild(el('h3', { text: 'What happened' }));
    box.appendChild(el('p', { class: 'description', text: i.description }));

    box.appendChild(el('h3', { text: 'Who was involved' }));
    var pupils = el('ul', { id: 'pupils' });
    detail.pupils.forEach(function (p) {
      var label = (p.name || 'A pupil no longer on the register') + (p.yearGroup ? ', Year ' + p.yearGroup : '') + (p.className ? ', class ' + p.className : '');
      var item = el('li', {}, [label]);
      if (p.userPrincipalName && (has('dsl') || has('headteacher'))) {
        var link = el('a', { href: '#', class: 'history-link', text: 'history' });
        link.addEventListener('click', function (e) { e.preventDefault(); showHistory(p.userPrincipalName); });
        item.appendChild(document.createTextNode(' ('));
        item.appendChild(link);
        item.appendChild(document.createTextNode(')'));
      }
      pupils.appendChild(item);
    });
    i.involved.filter(function (p) { return p.kind !== 'pupil'; }).forEach(function (p) { pupils.appendChild(el('li', { text: involvedText(p) })); });
    box.appendChild(pupils);

    box.appendChild(el('h3', { text: 'Chronology (UK time)' }));
    box.appendChild(el('ol', { class: 'chronology' }, detail.chronology.map(function (c) {
      return el('li', {}, [el('strong', { text: c.atText }), ' ' + c.what + (c.actorName ? ' (' + c.actorName + ')' : '') + (c.why ? ': ' + c.why : '')]);
    })));

    box.appendChild(el('h3', { text: 'Referrals' }));
    box.appendChild(detail.referrals.length ? el('ul', { id: 'referrals' }, detail.referrals.map(function (r) {
      var item = el('li', {}, [REFERRAL_TARGETS.filter(function (t) { return t[0] === r.to; })[0][1] + ' on ' + r.onText + (r.externalReference ? ' (their reference ' + r.externalReference + ')' : '') + ': ' + r.why + '. ' + (r.outcome ? 'Outcome: ' + r.outcome : 'Outcome not yet recorded.')]);
      if (!r.outcome && i.status !== 'closed') item.appendChild(formFor('outcome-' + r.id, 'Record the outcome', [field('Outcome', 'outcome')], 'Record outcome', '/referrals/' + encodeURIComponent(r.id) + '/outcome'));
      return item;
    })) : el('p', { class: 'muted', text: 'No referrals yet.' }));

    box.appendChild(el('h3', { text: 'Attachments' }));
    box.appendChild(detail.attachments.length ? el('ul', { id: 'attachments' }, detail.attachments.map(function (a) {
      var link = el('a', { href: '#', text: a.fileName + ' (' + Math.ceil(a.size / 1024) + ' KB)' });
      link.addEventListener('click', function (e) { e.preventDefault(); download(a); });
      return el('li', {}, [link]);
    })) : el('p', { class: 'muted', text: 'No attachments.' }));

    if (i.status !== 'closed') box.appendChild(detail.guidance && detail.guidance.length
      ? el('p', { class: 'muted', id: 'no-attachments', text: 'Evidence cannot be attached to this kind of incident: do not copy, forward or screenshot the material.' })
      : attachmentForm());

    box.appendChild(el('h3', { text: 'Suggested by the response matrix' }));
    box.appendChild(el('ul', { id: 'suggested' }, detail.suggestedActions.map(function (a) { return el('li', { text: a.label }); })));

    var pending = detail.secondSignOff && detail.secondSignOff.pending;
    if (pending) {
      box.appendChild(el('div', { class: 'guidance', id: 'pending-close' }, [el('strong', { text: 'Close proposed by ' + (pending.byName || 'a senior colleague') + ' on ' + pending.atText + ': ' + pending.decision + '.' }), ' A different senior person must confirm it.']));
    }
    if (has('dsl') || has('headteacher')) box.appendChild(legalHoldForm(i));
    if (i.status === 'closed') return;

    var what = el('select', { name: 'what' }, detail.suggestedActions.map(function (a) { return el('option', { value: a.id, text: a.label }); }).concat([el('option', { value: '', text: 'Something else (describe it below)…' })]));
    var free = el('input', { name: 'freeText', size: '40', placeholder: 'What was done' });
    // "What" is either a matrix action or the typed text; the API takes one `what`.
    box.appendChild(formFor('action-form', 'Record an action', [el('label', {}, ['What ', what]), el('label', {}, ['Or describe it ', free]), field('Why', 'why')], 'Record action', '/actions', '', function (data) {
      if (data.freeText) data.what = data.freeText;
      delete data.freeText;
      return data;
    }));

    box.appendChild(formFor('referral-form', 'Refer', [
      el('label', {}, ['To ', select('to', REFERRAL_TARGETS)]),
      field('Why', 'why'),
      optionalField('Their reference (optional)', 'externalReference', 'input', { size: '20' }),
      optionalField('Date (leave empty for today)', 'on', 'input', { type: 'date', max: ukToday() }),
    ], 'Record referral', '/referrals', 'Referring to the DSL, the headteacher or the chair alerts them and gives them access to this incident.'));

    box.appendChild(formFor('cpoms-form', 'CPOMS or MyConcern', [field('Reference', 'reference', 'input', { value: i.cpomsReference || '', size: '24' })], i.cpomsReference ? 'Correct the reference' : 'Record the reference', '/cpoms'));

    box.appendChild(formFor('classification-form', 'Reclassify', [
      el('label', {}, ['New type ', select('type', types.map(function (t) { return [t.id, t.label]; }), {})]),
      el('label', {}, [el('input', { type: 'checkbox', name: 'childProtection' }), ' Child protection']),
      field('Why', 'why'),
    ], 'Reclassify', '/classification', 'Who may see the incident follows its type: anyone who loses access loses it at once, and anyone who gains it is alerted.'));

    var pupilChoices = detail.pupils.filter(function (p) { return p.userPrincipalName; }).map(function (p) { return [p.userPrincipalName, p.name || p.userPrincipalName]; });
    if ((has('dsl') || has('headteacher')) && pupilChoices.length) {
      box.appendChild(formFor('sanction-form', 'Suspend a pupil’s access', [
        el('label', {}, ['Pupil ', select('upn', pupilChoices)]),
        el('input', { type: 'hidden', name: 'kind', value: 'suspend-access' }),
        field('Until', 'until', 'input', { type: 'date' }),
        field('Why', 'why'),
      ], 'Suspend access', '/sanctions', 'Blocks the pupil’s Microsoft 365 sign-in and signs them out, and restores it on the date. Inform the parents or carers.'));
    }

    box.appendChild(formFor('parents-form', 'Parents or carers informed', [field('How and when', 'why')], 'Record parents informed', '/parents-informed'));
    if (pending) {
      box.appendChild(formFor('confirm-form', 'Confirm the close (second sign-off)', [], 'Confirm close', '/close/confirm'));
    } else {
      box.appendChild(formFor('close-form', 'Close the incident', [field('Decision', 'decision'), field('Rationale', 'rationale'), field('Outcome', 'outcome'), el('label', {}, ['Lessons learnt (optional)', el('textarea', { name: 'lessonsLearnt' })])], 'Close incident', '/close',
        detail.secondSignOff && detail.secondSignOff.required ? 'This incident needs a second senior person: your close is proposed, and a colleague confirms it.' : ''));
    }
  }

  var PART = 512 * 1024;
  var ACCEPT = 'image/png,image/jpeg,image/gif,image/webp,application/pdf';

  function base64(bytes) {
    var binary = '';
    for (var k = 0; k < bytes.length; k += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(k, k + 0x8000));
    return btoa(binary);
  }

  /** Images and PDFs up to 10 MB, sent in parts; the server checks the type by content. */
  function attachmentForm() {
    var input = el('input', { type: 'file', name: 'file', accept: ACCEPT, required: 'required' });
    var form = el('form', { id: 'attachment-form', class: 'no-print' }, [
      el('h3', { text: 'Attach evidence' }),
      el('p', { class: 'muted', text: 'An image or a PDF, up to 10 MB. Only people who may see this incident can download it, and every download is recorded.' }),
      input,
      el('p', { class: 'problems', role: 'alert' }),
      el('button', { type: 'submit', text: 'Attach' }),
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var file = input.files && input.files[0];
      var problems = form.querySelector('.problems');
      if (!file) return;
      if (file.size > 10 * 1024 * 1024) { problems.textContent = 'The file is larger than 10 MB.'; return; }
      var id = Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(10)), function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
      var base = '/api/incidents/' + encodeURIComponent(current.incident.reference) + '/attachments/' + id;
      file.arrayBuffer().then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        var parts = Math.max(1, Math.ceil(bytes.length / PART));
        var sendPart = function (n) {
          if (n >= parts) return Promise.resolve({ ok: true });
          return T.api(base + '/parts/' + n, { method: 'PUT', body: { data: base64(bytes.subarray(n * PART, (n + 1) * PART)) } }).then(function (r) { return r.ok ? sendPart(n + 1) : r; });
        };
        return sendPart(0).then(function (r) {
          if (!r.ok) { problems.textContent = problemsText(r); return; }
          return post('/attachments/' + id, { fileName: file.name, contentType: file.type, parts: parts }, form);
        });
      });
    });
    return form;
  }

  function download(a) {
    fetch('/api/incidents/' + encodeURIComponent(current.incident.reference) + '/attachments/' + encodeURIComponent(a.id), { headers: T.headers() }).then(function (res) {
      if (!res.ok) { T.setStatus('The attachment could not be downloaded.', 'error'); return; }
      return res.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = el('a', { href: url, download: a.fileName });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
    });
  }

  function showHistory(upn) {
    T.api('/api/pupils/' + encodeURIComponent(upn) + '/incidents').then(function (r) {
      var box = document.getElementById('history');
      box.hidden = false;
      box.innerHTML = '';
      if (!r.ok) { box.appendChild(el('p', { class: 'problems', text: r.body.error || 'The history could not be loaded.' })); return; }
      var h = r.body;
      box.appendChild(el('h2', { text: h.pupil.name + (h.pupil.yearGroup ? ', Year ' + h.pupil.yearGroup : '') + (h.pupil.className ? ', class ' + h.pupil.className : '') }));
      box.appendChild(el('p', { text: h.thisTerm.term + ': ' + h.thisTerm.count + ' incident' + (h.thisTerm.count === 1 ? '' : 's') + ' (threshold ' + h.thisTerm.threshold + ').' + (h.thisTerm.reached ? ' The matrix suggests: ' + h.thisTerm.escalation.map(function (a) { return a.label; }).join('; ') + '.' : '') }));
      box.appendChild(el('table', {}, [
        el('thead', {}, [el('tr', {}, ['Reference', 'Date', 'Type', 'Status', 'Outcome'].map(function (t) { return el('th', { text: t }); }))]),
        el('tbody', {}, h.incidents.map(function (i) {
          return el('tr', {}, [el('td', { text: i.reference }), el('td', { text: i.occurredOnText }), el('td', { text: i.typeLabel }), el('td', { text: STATUS_TEXT[i.status] || i.status }), el('td', { text: i.outcome || '' })]);
        })),
      ]));
      if (h.sanctions.length) box.appendChild(el('ul', {}, h.sanctions.map(function (s) { return el('li', { text: 'Access suspended until ' + s.untilText + ' (' + s.reference + '): ' + s.state + '.' }); })));
      box.scrollIntoView();
    });
  }

  /** DSL and head: keep an incident past its retention date (a claim, an inquiry), or release it. */
  function legalHoldForm(i) {
    var held = i.legalHold === true;
    var form = el('form', { id: 'legal-hold-form', class: 'no-print' }, [
      el('h3', { text: 'Retention' }),
      el('p', { id: 'retention-state', text: (held ? 'On legal hold: it will not be listed for deletion.' : 'Not on legal hold.') }),
      field(held ? 'Why the hold can be lifted' : 'Why it must be kept (legal hold)', 'reason'),
      el('p', { class: 'problems', role: 'alert' }),
      el('button', { type: 'submit', text: held ? 'Lift the legal hold' : 'Place a legal hold' }),
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var reason = form.querySelector('[name="reason"]').value;
      T.api('/api/incidents/' + encodeURIComponent(i.reference) + '/legal-hold', { method: 'POST', body: { hold: !held, reason: reason }, etag: current.etag }).then(function (r) {
        if (!r.ok) { form.querySelector('.problems').textContent = problemsText(r); return; }
        T.setStatus(held ? 'Legal hold lifted.' : 'Legal hold placed.', 'info');
        open(i.reference);
      });
    });
    return form;
  }

  function open(reference) {
    return T.api('/api/incidents/' + encodeURIComponent(reference)).then(function (r) {
      if (!r.ok) { T.setStatus(r.body.error || 'The incident could not be opened.', 'error'); return; }
      T.setStatus('');
      show(r.body);
      document.body.setAttribute('data-case', reference);
    });
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    document.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); loadList(); });
    Promise.all([
      T.api('/api/me').then(function (me) { roles = (me.body && me.body.roles) || []; }),
      T.api('/api/incident-types').then(function (r) { if (r.ok) types = r.body.types; }),
    ]).then(loadList).then(function () { if (location.hash.length > 1) open(decodeURIComponent(location.hash.slice(1))); });
  });
})();
