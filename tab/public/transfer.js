/* The child-protection transfer pack (DSL, head): export a pupil's pack, print it, record the receiving school's receipt. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;

  function $(id) { return document.getElementById(id); }

  function receiptForm(pack) {
    var form = el('form', { class: 'receipt-form', 'data-pack': pack.packId }, [
      el('label', {}, ['Received by ', el('input', { name: 'receivedBy', required: 'required' })]),
      el('label', {}, ['Their role ', el('input', { name: 'receivedByRole', placeholder: 'Designated Safeguarding Lead' })]),
      el('label', {}, ['School ', el('input', { name: 'receivingSchool', value: pack.receivingSchool, required: 'required' })]),
      el('label', {}, ['Received on ', el('input', { name: 'receivedOn', type: 'date', required: 'required' })]),
      el('p', { class: 'problems', role: 'alert' }),
      el('button', { type: 'submit', text: 'Record the receipt' }),
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var data = {};
      new FormData(form).forEach(function (v, k) { data[k] = v; });
      T.api('/api/transfer-packs/' + encodeURIComponent(pack.packId) + '/receipt', { method: 'POST', body: data }).then(function (r) {
        if (!r.ok) { form.querySelector('.problems').textContent = (r.body.error || 'Not saved.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : ''); return; }
        T.setStatus('Receipt recorded for ' + pack.packId + '.', 'info');
        loadPacks();
      });
    });
    return form;
  }

  function loadPacks() {
    var pupilId = $('transfer-pupil').value;
    var box = $('transfer-packs');
    box.innerHTML = '';
    if (!pupilId) return Promise.resolve();
    // In the body, not the URL: the pupil's id is usually their unique pupil number.
    return T.api('/api/transfer-packs/list', { method: 'POST', body: { pupilId: pupilId } }).then(function (r) {
      if (!r.ok) return;
      if (!r.body.packs.length) { box.appendChild(el('p', { class: 'muted', text: 'No pack has been exported for this pupil.' })); return; }
      box.appendChild(el('ul', { id: 'transfer-pack-list' }, r.body.packs.map(function (p) {
        var when = new Date(p.exportedAt).toLocaleString('en-GB');
        var line = p.packId + ': exported ' + when + ' to ' + p.receivingSchool + ' (' + p.references.length + (p.references.length === 1 ? ' incident)' : ' incidents)');
        var receipt = p.receipt ? el('span', { class: 'badge closed', text: 'received ' + p.receipt.receivedOn + ' by ' + p.receipt.receivedBy }) : el('span', { class: 'badge open', text: 'no receipt yet' });
        return el('li', { 'data-pack': p.packId }, [line + ' ', receipt, p.receipt ? null : receiptForm(p)]);
      })));
    });
  }

  function start() {
    T.api('/api/me').then(function (me) {
      var roles = (me.body && me.body.roles) || [];
      if (roles.indexOf('dsl') < 0 && roles.indexOf('headteacher') < 0) return;
      return T.api('/api/transfer-packs/pupils').then(function (r) {
        if (!r.ok) return;
        var select = $('transfer-pupil');
        r.body.pupils.forEach(function (p) { select.appendChild(el('option', { value: p.pupilId, text: p.label + (p.status === 'active' ? '' : ' – ' + p.status) })); });
        select.addEventListener('change', loadPacks);
        $('transfer').hidden = false;
        $('transfer-print').addEventListener('click', function () { $('transfer-frame').contentWindow.print(); });
        $('transfer-form').addEventListener('submit', function (e) {
          e.preventDefault();
          var form = e.target;
          form.querySelector('.problems').textContent = '';
          T.api('/api/transfer-packs', { method: 'POST', body: { pupilId: select.value, receivingSchool: $('transfer-school').value } }).then(function (res) {
            if (!res.ok) { form.querySelector('.problems').textContent = (res.body.error || 'Not exported.') + (res.body.problems ? ' ' + res.body.problems.join(' ') : ''); return; }
            $('transfer-frame').srcdoc = res.body.html;
            $('transfer-frame').hidden = false;
            $('transfer-print').hidden = false;
            T.setStatus('Pack ' + res.body.packId + ' is ready: print it or save it as PDF, send it securely to the receiving DSL, then record their receipt.', 'info');
            loadPacks();
          });
        });
      });
    });
  }

  T.whenSignedIn(start);
})();
