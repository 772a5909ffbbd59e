/* The triage view: list with filters, an incident with its chronology, actions, parents informed, close. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var current = null;
  var mayHold = false;

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
        body.appendChild(el('tr', {}, [el('td', {}, [link]), el('td', { text: i.typeLabel }), el('td', { text: i.occurredOn }), el('td', {}, [el('span', { class: 'badge ' + (i.status === 'closed' ? 'closed' : 'open'), text: i.status })])]));
      });
      if (!r.body.incidents.length) body.appendChild(el('tr', {}, [el('td', { colspan: '4', class: 'muted', text: 'No incidents match.' })]));
      document.body.setAttribute('data-ready', 'true');
    });
  }

  function field(label, name, tag) {
    return el('label', {}, [label, el(tag || 'textarea', { name: name, required: 'required' })]);
  }

  function post(path, body, form) {
    return T.api('/api/incidents/' + encodeURIComponent(current.incident.reference) + path, { method: 'POST', body: body, etag: current.etag }).then(function (r) {
      if (r.ok) { T.setStatus('Saved.', 'info'); show(r.body); loadList(); return; }
      var problems = form.querySelector('.problems');
      problems.textContent = (r.body.error || 'Not saved.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : '');
    });
  }

  function formFor(id, title, fields, submit, toBody) {
    var form = el('form', { id: id, class: 'no-print' }, [el('h3', { text: title })].concat(fields).concat([el('p', { class: 'problems', role: 'alert' }), el('button', { type: 'submit', text: submit })]));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var data = {};
      new FormData(form).forEach(function (v, k) { data[k] = v; });
      post(toBody.path, data, form);
    });
    return form;
  }

  function show(detail) {
    current = detail;
    var i = detail.incident;
    var box = document.getElementById('detail');
    box.innerHTML = '';
    box.appendChild(el('h2', { text: i.reference + ': ' + i.typeLabel }));
    box.appendChild(el('p', {}, [el('span', { class: 'badge ' + (i.status === 'closed' ? 'closed' : 'open'), id: 'detail-status', text: i.status }), ' occurred ' + i.occurredOn + (i.yearGroups.length ? '; ' + i.yearGroups.join(', ') : '')]));
    box.appendChild(el('p', { text: i.description }));
    box.appendChild(el('h3', { text: 'Chronology' }));
    box.appendChild(el('ol', { class: 'chronology' }, detail.chronology.map(function (c) {
      return el('li', {}, [el('strong', { text: c.kind }), ' ' + c.at.slice(0, 16).replace('T', ' ') + ': ' + c.what + (c.why ? ' (' + c.why + ')' : '')]);
    })));
    box.appendChild(el('h3', { text: 'Suggested by the response matrix' }));
    box.appendChild(el('ul', {}, detail.suggestedActions.map(function (a) { return el('li', { text: a.label }); })));
    if (mayHold) box.appendChild(legalHoldForm(i));
    if (i.status === 'closed') return;
    var what = el('select', { name: 'what' }, detail.suggestedActions.map(function (a) { return el('option', { value: a.id, text: a.label }); }));
    box.appendChild(formFor('action-form', 'Record an action', [el('label', {}, ['What ', what]), field('Why', 'why')], 'Record action', { path: '/actions' }));
    box.appendChild(formFor('parents-form', 'Parents or carers informed', [field('How and when', 'why')], 'Record parents informed', { path: '/parents-informed' }));
    box.appendChild(formFor('close-form', 'Close the incident', [field('Decision', 'decision'), field('Rationale', 'rationale'), field('Outcome', 'outcome'), el('label', {}, ['Lessons learnt (optional)', el('textarea', { name: 'lessonsLearnt' })])], 'Close incident', { path: '/close' }));
  }

  /** DSL and head: keep an incident past its retention date (a claim, an inquiry), or release it. */
  function legalHoldForm(i) {
    var held = i.legalHold === true;
    var form = el('form', { id: 'legal-hold-form', class: 'no-print' }, [
      el('h3', { text: 'Retention' }),
      el('p', { id: 'retention-state', text: (held ? 'On legal hold: it will not be listed for deletion.' : 'Not on legal hold.') + (i.retentionDate ? ' Kept until ' + i.retentionDate + '.' : '') }),
      field(held ? 'Why the hold can be lifted' : 'Why it must be kept (legal hold)', 'reason'),
      el('p', { class: 'problems', role: 'alert' }),
      el('button', { type: 'submit', text: held ? 'Lift the legal hold' : 'Place a legal hold' }),
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var reason = form.querySelector('[name="reason"]').value;
      T.api('/api/incidents/' + encodeURIComponent(i.reference) + '/legal-hold', { method: 'POST', body: { hold: !held, reason: reason }, etag: current.etag }).then(function (r) {
        if (!r.ok) { form.querySelector('.problems').textContent = (r.body.error || 'Not saved.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : ''); return; }
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
    });
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    T.api('/api/me').then(function (me) {
      var roles = (me.body && me.body.roles) || [];
      mayHold = roles.indexOf('dsl') >= 0 || roles.indexOf('headteacher') >= 0;
    });
    document.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); loadList(); });
    loadList();
  });
})();
