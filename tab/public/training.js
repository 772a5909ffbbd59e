/* The online-safety training register: who is due, one record at a time, a CSV upload, and the records. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var ROLE_NAMES = { staff: 'Staff', coordinator: 'E-safety coordinator', dsl: 'DSL', headteacher: 'Headteacher', admin: 'IT admin', governor: 'Governor', chair: 'Chair of governors' };
  var STATUS = { never: 'None on record', due: 'Due', current: 'Up to date' };

  function byId(id) { return document.getElementById(id); }

  var ukDate = T.ukDate;

  function roles(list) { return list.map(function (r) { return ROLE_NAMES[r] || r; }).join(', '); }

  /** The person's name where the directory gave one; otherwise their object id, which the CSV uses too. */
  function who(item) { return item.name || item.aadObjectId; }

  var showProblems = T.showProblems;

  function fillPeople(due) {
    var select = byId('person');
    var chosen = select.value;
    select.textContent = '';
    select.appendChild(el('option', { value: '', text: 'Choose a person' }));
    due.forEach(function (d) { select.appendChild(el('option', { value: d.aadObjectId, text: who(d) + ' (' + roles(d.roles) + ')' })); });
    select.value = chosen;
  }

  function load() {
    return T.api('/api/training').then(function (r) {
      if (r.status === 403) return T.setStatus('The training register is kept by the e-safety coordinator, the DSL and the headteacher.', 'error');
      if (!r.ok) return T.setStatus(r.body.error || 'The training register could not be loaded.', 'error');
      var due = r.body.due;
      var owing = due.filter(function (d) { return d.status !== 'current'; }).length;
      byId('due-summary').textContent = due.length === 0 ? 'Nobody is tracked yet.' : owing === 0 ? 'All ' + due.length + ' people are up to date.' : owing + ' of ' + due.length + ' people are due for training.';
      var dueBody = byId('due').querySelector('tbody');
      dueBody.textContent = '';
      due.forEach(function (d) {
        dueBody.appendChild(el('tr', { 'data-id': d.aadObjectId, class: d.status === 'current' ? '' : 'due' }, [
          el('th', { scope: 'row', text: who(d), title: d.aadObjectId }),
          el('td', { text: roles(d.roles) }),
          el('td', { text: d.lastCompletedOn ? ukDate(d.lastCompletedOn) : 'Never' }),
          el('td', { text: ukDate(d.dueOn) }),
          el('td', { class: 'status-cell', text: STATUS[d.status] }),
        ]));
      });
      fillPeople(due);
      var records = r.body.records.slice().sort(function (a, b) { return b.completedOn.localeCompare(a.completedOn); });
      var recordBody = byId('records').querySelector('tbody');
      recordBody.textContent = '';
      if (records.length === 0) recordBody.appendChild(el('tr', {}, [el('td', { colspan: '4', text: 'No training recorded yet.' })]));
      records.forEach(function (rec) {
        recordBody.appendChild(el('tr', {}, [
          el('td', { text: ukDate(rec.completedOn) }),
          el('td', { text: who(rec), title: rec.aadObjectId }),
          el('td', { text: rec.course }),
          el('td', { text: rec.provider }),
        ]));
      });
      byId('training').hidden = false;
      document.body.setAttribute('data-ready', 'true');
    });
  }

  function record(event) {
    event.preventDefault();
    var form = byId('record');
    byId('record-problems').textContent = '';
    byId('record-result').textContent = '';
    var body = { aadObjectId: form.person.value, course: form.course.value, provider: form.provider.value, completedOn: form.completedOn.value };
    T.api('/api/training', { method: 'POST', body: body }).then(function (r) {
      if (!r.ok) return showProblems(byId('record-problems'), r.body);
      byId('record-result').textContent = r.body.duplicate ? 'Already on record: nothing new was stored.' : 'Recorded.';
      form.course.value = '';
      form.completedOn.value = '';
      return load();
    });
  }

  function upload(event) {
    event.preventDefault();
    var file = byId('csv-file').files[0];
    var list = byId('csv-problems');
    list.textContent = '';
    if (!file) { byId('csv-result').textContent = 'Choose the file first.'; return; }
    file.text().then(function (csv) { return T.api('/api/training/csv', { method: 'POST', body: { csv: csv } }); }).then(function (r) {
      if (!r.ok) { byId('csv-result').textContent = (r.body.problems || [r.body.error || 'The file could not be read.']).join(' '); return; }
      byId('csv-result').textContent = r.body.recorded + ' recorded, ' + r.body.alreadyRecorded + ' already on record, ' + r.body.problems.length + ' rows not recorded.';
      r.body.problems.forEach(function (p) { list.appendChild(el('li', { text: 'Line ' + p.row + ': ' + p.message })); });
      return load();
    });
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    byId('record').addEventListener('submit', record);
    byId('csv-upload').addEventListener('submit', upload);
    return load();
  });
})();
