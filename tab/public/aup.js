/* Paper AUP forms: one at a time (POST /api/aup/paper) or a CSV (POST /api/aup/paper/csv). */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var documents = [];

  function byId(id) { return document.getElementById(id); }

  /** `hidden` alone loses to the stylesheet's label display rule. */
  function show(node, visible) { node.hidden = !visible; node.style.display = visible ? '' : 'none'; }

  function londonToday() {
    return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  }

  /** Shows the fields the chosen signer needs. */
  function fitFields() {
    var signer = byId('signed-by').value;
    show(byId('upn-field'), signer === 'pupil' || signer === 'parent');
    show(byId('object-id-field'), signer === 'staff');
    byId('name-label').textContent = { pupil: 'Parent or carer who signed with the child', parent: "Parent's or carer's name", visitor: "Visitor's name", staff: 'Name (optional)' }[signer];
  }

  function showProblems(node, body) { T.showProblems(node, body, 'The form could not be recorded.'); }

  function recordOne(event) {
    event.preventDefault();
    var form = byId('one-form');
    var chosen = documents.find(function (d) { return d.id === form.documentId.value; });
    var body = { documentId: form.documentId.value, version: chosen ? chosen.version : 0, signedBy: form.signedBy.value, signedOn: form.signedOn.value };
    ['upn', 'aadObjectId', 'name'].forEach(function (k) { var v = form[k].value.trim(); if (v && !form[k].closest('label').hidden) body[k] = v; });
    byId('one-problems').textContent = '';
    byId('one-result').textContent = '';
    byId('record').disabled = true;
    T.api('/api/aup/paper', { method: 'POST', body: body }).then(function (r) {
      byId('record').disabled = false;
      if (!r.ok) return showProblems(byId('one-problems'), r.body);
      byId('one-result').textContent = r.body.duplicate ? 'This form was already recorded.' : 'Recorded: ' + (chosen ? chosen.title : body.documentId) + ', version ' + r.body.version + ', signed ' + body.signedOn + '.';
      form.upn.value = '';
      form.aadObjectId.value = '';
      form.name.value = '';
    });
  }

  function recordCsv(event) {
    event.preventDefault();
    var file = byId('csv-file').files[0];
    if (!file) { byId('csv-result').textContent = 'Choose a CSV file first.'; return; }
    file.text().then(function (csv) {
      return T.api('/api/aup/paper/csv', { method: 'POST', body: { csv: csv } });
    }).then(function (r) {
      var table = byId('csv-problems');
      var tbody = table.querySelector('tbody');
      tbody.textContent = '';
      if (!r.ok) { byId('csv-result').textContent = r.body.error || 'The file could not be recorded.'; table.hidden = true; return; }
      byId('csv-result').textContent = r.body.recorded + ' recorded, ' + r.body.alreadyRecorded + ' already recorded, ' + r.body.problems.length + ' not recorded.';
      r.body.problems.forEach(function (p) { tbody.appendChild(el('tr', {}, [el('td', { class: 'num', text: String(p.row) }), el('td', { text: p.message })])); });
      table.hidden = r.body.problems.length === 0;
    });
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    return T.api('/api/aup/documents').then(function (r) {
      if (r.status === 403) return T.setStatus('Paper AUP forms are recorded by the e-safety coordinator, the DSL or the headteacher.', 'error');
      if (!r.ok) return T.setStatus(r.body.error || 'The AUP documents could not be loaded.', 'error');
      documents = r.body.documents;
      var select = byId('document');
      documents.forEach(function (d) { select.appendChild(el('option', { value: d.id, text: d.title + ' (version ' + d.version + ')' })); });
      byId('signed-on').value = londonToday();
      byId('signed-by').addEventListener('change', fitFields);
      fitFields();
      byId('one-form').addEventListener('submit', recordOne);
      byId('csv-form').addEventListener('submit', recordCsv);
      byId('aup').hidden = false;
      document.body.setAttribute('data-ready', 'true');
    });
  });
})();
