/* Retention (DSL, head): the incidents the daily review found past their retention date, each approved for deletion one by one. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;

  function approveForm(item) {
    var form = el('form', { class: 'approve-form', 'data-reference': item.reference }, [
      el('label', {}, ['Why it may now be deleted ', el('textarea', { name: 'rationale', required: 'required' })]),
      el('p', { class: 'problems', role: 'alert' }),
      el('button', { type: 'submit', text: 'Approve deletion' }),
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!window.confirm('Delete ' + item.reference + ' and its chronology for good? This cannot be undone.')) return;
      T.api('/api/retention/' + encodeURIComponent(item.reference) + '/approve', { method: 'POST', body: { rationale: form.querySelector('textarea').value }, etag: item.etag }).then(function (r) {
        if (!r.ok) { form.querySelector('.problems').textContent = (r.body.error || 'Not deleted.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : ''); return; }
        T.setStatus(item.reference + ' was deleted on your approval.', 'info');
        load();
      });
    });
    return form;
  }

  function load() {
    return T.api('/api/retention').then(function (r) {
      if (!r.ok) return;
      var section = document.getElementById('retention');
      var box = document.getElementById('retention-list');
      section.hidden = false;
      box.innerHTML = '';
      if (!r.body.items.length) { box.appendChild(el('p', { class: 'muted', text: 'Nothing is past its retention date.' })); return; }
      box.appendChild(el('table', { id: 'retention-table' }, [
        el('thead', {}, [el('tr', {}, ['Reference', 'Type', 'Reported', 'Kept until', 'Based on', ''].map(function (h) { return el('th', { text: h }); }))]),
        el('tbody', {}, r.body.items.map(function (item) {
          return el('tr', { 'data-reference': item.reference }, [
            el('td', { text: item.reference }), el('td', { text: item.typeLabel }), el('td', { text: item.createdOn }), el('td', { text: item.retentionDate }),
            el('td', { text: item.basis === 'date-of-birth' ? 'date of birth + 25 years' : "the school's rule" }), el('td', {}, [approveForm(item)]),
          ]);
        })),
      ]));
    });
  }

  T.whenSignedIn(function () {
    T.api('/api/me').then(function (me) {
      var roles = (me.body && me.body.roles) || [];
      if (roles.indexOf('dsl') >= 0 || roles.indexOf('headteacher') >= 0) load();
    });
  });
})();
