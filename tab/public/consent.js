/* Photo and video consent: staff look a pupil up; recorders (coordinator, DSL, head, IT admin) record forms and withdrawals. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var RECORDERS = ['coordinator', 'dsl', 'headteacher', 'admin'];
  var DECISIONS = { given: 'Given', refused: 'Refused', withdrawn: 'Withdrawn', 'not-recorded': 'No form recorded' };
  var state = { recorder: false, pupil: '', areas: [], relationships: [] };

  function byId(id) { return document.getElementById(id); }

  var ukDate = T.ukDate;

  var problems = T.showProblems;

  function find(event) {
    event.preventDefault();
    byId('find-problems').textContent = '';
    T.api('/api/consent/pupils/search', { method: 'POST', body: { text: byId('find-text').value } }).then(function (r) {
      if (!r.ok) return problems(byId('find-problems'), r.body);
      var list = byId('found');
      list.textContent = '';
      if (r.body.pupils.length === 0) list.appendChild(el('li', { text: 'No pupil on the roll matches. Type the start of their first name or surname.' }));
      r.body.pupils.forEach(function (p) {
        var button = el('button', { type: 'button', class: 'link', text: p.label });
        button.addEventListener('click', function () { show(p.pupilId); });
        list.appendChild(el('li', {}, [button]));
      });
    });
  }

  function withdraw(areas) {
    var body = { pupil: state.pupil, areas: areas };
    if (byId('withdrawn-on').value) body.withdrawnOn = byId('withdrawn-on').value;
    if (byId('withdrawn-by').value) body.withdrawnBy = byId('withdrawn-by').value;
    byId('withdraw-problems').textContent = '';
    return T.api('/api/consent/withdraw', { method: 'POST', body: body }).then(function (r) {
      if (!r.ok) return problems(byId('withdraw-problems'), r.body);
      show(state.pupil);
    });
  }

  function show(pupilId) {
    state.pupil = pupilId;
    return T.api('/api/consent/lookup', { method: 'POST', body: { pupil: pupilId } }).then(function (r) {
      if (!r.ok) return T.setStatus(r.body.error || 'That pupil\'s consent could not be loaded.', 'error');
      var p = r.body.pupil;
      byId('pupil-title').textContent = p.name + (p.registrationGroup ? ' (' + p.registrationGroup + ')' : '') + (p.onRoll ? '' : ': no longer on the roll');
      var tbody = byId('areas').querySelector('tbody');
      tbody.textContent = '';
      r.body.areas.forEach(function (a) {
        var cells = [
          el('th', { scope: 'row', text: a.label }),
          el('td', { class: a.mayUse ? 'yes' : 'no', text: a.mayUse ? 'Yes' : 'No' }),
          el('td', { text: DECISIONS[a.status] + (a.on ? ' ' + ukDate(a.on) : '') + (a.givenOn ? ' (given ' + ukDate(a.givenOn) + ')' : '') }),
        ];
        if (state.recorder) {
          cells.push(el('td', { text: (a.by || '') + (a.relationship ? ' (' + a.relationship.replace('-', ' ') + ')' : '') }));
          var button = el('button', { type: 'button', class: 'secondary withdraw', text: 'Withdraw', 'data-area': a.area });
          if (a.status !== 'given') button.setAttribute('disabled', 'disabled');
          button.addEventListener('click', function () { withdraw([a.area]); });
          cells.push(el('td', {}, [button]));
        }
        tbody.appendChild(el('tr', { 'data-area': a.area }, cells));
      });
      byId('pupil-panel').hidden = false;
      if (state.recorder) { history(); coverage(); }
      document.body.setAttribute('data-pupil', pupilId);
    });
  }

  function history() {
    return T.api('/api/consent/history', { method: 'POST', body: { pupil: state.pupil } }).then(function (r) {
      if (!r.ok) return;
      var labels = {};
      state.areas.forEach(function (a) { labels[a.id] = a.label; });
      var tbody = byId('history').querySelector('tbody');
      tbody.textContent = '';
      r.body.events.forEach(function (e) {
        tbody.appendChild(el('tr', {}, [
          el('td', { text: ukDate(e.recordedAt) }),
          el('td', { text: labels[e.area] || e.area }),
          el('td', { text: DECISIONS[e.decision] }),
          el('td', { text: ukDate(e.on) }),
          el('td', { text: e.by || '' }),
        ]));
      });
    });
  }

  function coverage() {
    return T.api('/api/consent/coverage').then(function (r) {
      if (!r.ok) return;
      var tbody = byId('coverage').querySelector('tbody');
      tbody.textContent = '';
      r.body.areas.forEach(function (a) {
        tbody.appendChild(el('tr', {}, [el('th', { scope: 'row', text: a.label }), el('td', { text: String(a.counts.given) }), el('td', { text: String(a.counts.refused) }), el('td', { text: String(a.counts.withdrawn) }), el('td', { text: String(a.counts['not-recorded']) })]));
      });
    });
  }

  function record(event) {
    event.preventDefault();
    var form = byId('record');
    var areas = {};
    state.areas.forEach(function (a) {
      var value = form.querySelector('select[name="area-' + a.id + '"]').value;
      if (value !== '') areas[a.id] = value === 'yes';
    });
    var body = { pupil: state.pupil, signedOn: form.signedOn.value, givenBy: form.givenBy.value, relationship: form.relationship.value, areas: areas };
    byId('record-problems').textContent = '';
    T.api('/api/consent', { method: 'POST', body: body }).then(function (r) {
      if (!r.ok) return problems(byId('record-problems'), r.body);
      var notes = [];
      if (r.body.recorded.length) notes.push('Recorded ' + r.body.recorded.length + ' answer(s).');
      if (r.body.unchanged.length) notes.push(r.body.unchanged.length + ' already on record.');
      r.body.superseded.forEach(function (s) { notes.push('Not recorded for ' + s.area + ': ' + s.reason + '.'); });
      byId('record-result').textContent = notes.join(' ');
      show(state.pupil);
    });
  }

  function uploadCsv(event) {
    event.preventDefault();
    var file = byId('csv-file').files[0];
    if (!file) return;
    byId('csv-problems').textContent = '';
    file.text().then(function (csv) {
      return T.api('/api/consent/csv', { method: 'POST', body: { csv: csv } });
    }).then(function (r) {
      if (!r.ok) return problems(byId('csv-problems'), r.body);
      byId('csv-result').textContent = r.body.recorded + ' form(s) recorded, ' + r.body.alreadyRecorded + ' already on record.';
      r.body.problems.forEach(function (p) { byId('csv-problems').appendChild(el('li', { text: 'Line ' + p.row + ': ' + p.message })); });
      coverage();
    });
  }

  function buildForm() {
    var select = byId('relationship');
    state.relationships.forEach(function (r) { select.appendChild(el('option', { value: r, text: r.replace('-', ' ') })); });
    var fieldset = byId('answers');
    state.areas.forEach(function (a) {
      var choice = el('select', { name: 'area-' + a.id }, [el('option', { value: '', text: 'Not on this form' }), el('option', { value: 'yes', text: 'Yes' }), el('option', { value: 'no', text: 'No' })]);
      fieldset.appendChild(el('label', {}, [a.label + ' ', choice]));
    });
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    return Promise.all([T.api('/api/me'), T.api('/api/consent/areas')]).then(function (answers) {
      var me = answers[0];
      var areas = answers[1];
      if (areas.status === 403) return T.setStatus('Photo and video consent is for members of staff.', 'error');
      if (!areas.ok) return T.setStatus(areas.body.error || 'The page could not be loaded.', 'error');
      state.recorder = (me.body.roles || []).some(function (r) { return RECORDERS.indexOf(r) >= 0; });
      state.areas = areas.body.areas;
      state.relationships = areas.body.relationships;
      Array.prototype.forEach.call(document.querySelectorAll('.recorder-only'), function (n) { n.hidden = !state.recorder; });
      buildForm();
      byId('find').addEventListener('submit', find);
      byId('record').addEventListener('submit', record);
      byId('csv-form').addEventListener('submit', uploadCsv);
      byId('withdraw-all').addEventListener('click', function () { withdraw(state.areas.map(function (a) { return a.id; })); });
      if (state.recorder) coverage();
      byId('consent').hidden = false;
      document.body.setAttribute('data-ready', 'true');
    });
  });
})();
