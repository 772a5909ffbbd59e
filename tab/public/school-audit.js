/* The annual e-safety audit checklist and the filtering and monitoring review for this academic year. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var READ_ONLY = 'Governors can read this audit, but only the e-safety coordinator, the DSL or the headteacher can change it.';

  function questionRows(kind, questions, answers) {
    return questions.map(function (q) {
      var a = answers.find(function (x) { return x.questionId === q.id; }) || {};
      var answer = el('select', { name: kind + '|' + q.id + '|answer', 'aria-label': q.text }, [el('option', { value: '', text: '–' }), el('option', { value: 'yes', text: 'Yes' }), el('option', { value: 'no', text: 'No' })]);
      answer.value = a.answer || '';
      var date = el('input', { type: 'date', name: kind + '|' + q.id + '|answeredOn', 'aria-label': 'Date' });
      date.value = a.answeredOn || '';
      var role = el('input', { name: kind + '|' + q.id + '|role', placeholder: 'Role', 'aria-label': 'Role that answered', size: '16' });
      role.value = a.role || '';
      var comment = el('input', { name: kind + '|' + q.id + '|comment', placeholder: 'Comment', 'aria-label': 'Comment' });
      comment.value = a.comment || '';
      return el('tr', {}, [el('th', { scope: 'row', text: q.text }), el('td', {}, [answer]), el('td', {}, [date]), el('td', {}, [role]), el('td', {}, [comment])]);
    });
  }

  /** The Appendix 5 audit, prefilled from the records, as a printable HTML file. */
  function downloadPack() {
    fetch('/api/school-audit/pack', { headers: T.headers() }).then(function (res) {
      if (!res.ok) { T.setStatus('The evidence pack could not be made.', 'error'); return; }
      return res.blob().then(function (blob) {
        var a = el('a', { href: URL.createObjectURL(blob), download: 'e-safety-audit.html' });
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    });
  }

  function render(data) {
    var form = document.getElementById('school-audit-form');
    var y = data.year;
    // The server says whether this person may save (governors and the chair read only); missing means read-only.
    var readOnly = data.canEdit !== true;
    form.innerHTML = '';
    if (readOnly) form.appendChild(el('p', { class: 'status status-info', id: 'school-audit-read-only', role: 'note', text: READ_ONLY }));
    form.appendChild(el('p', { class: 'muted', text: 'Academic year ' + y.academicYear + '/' + String((y.academicYear + 1) % 100).padStart(2, '0') + '. Name roles, not people.' }));
    [['annualAudit', 'Annual e-safety audit'], ['filteringReview', 'Filtering and monitoring review']].forEach(function (k) {
      form.appendChild(el('h3', { text: k[1] }));
      form.appendChild(el('table', {}, [el('thead', {}, [el('tr', {}, ['Question', 'Answer', 'Date', 'Role', 'Comment'].map(function (h) { return el('th', { text: h }); }))]), el('tbody', {}, questionRows(k[0], data.questions[k[0]], y[k[0]]))]));
    });
    var due = el('input', { type: 'date', name: 'policyReviewDue' }); due.value = y.policyReviewDue || '';
    var lead = el('input', { name: 'lead', placeholder: 'e.g. E-safety coordinator' }); lead.value = y.lead || '';
    var gov = el('input', { name: 'governor', placeholder: 'e.g. Safeguarding governor' }); gov.value = y.governor || '';
    form.appendChild(el('div', { class: 'filters' }, [el('label', {}, ['Policy review due ', due]), el('label', {}, ['Lead (role) ', lead]), el('label', {}, ['Governor (role) ', gov])]));
    var signOff = y.filteringReviewSignOff || { participants: [], signedOffBy: '', signedOn: '' };
    var boxes = (data.participants || []).map(function (p) {
      var box = el('input', { type: 'checkbox', value: p.id, class: 'participant' });
      box.checked = signOff.participants.indexOf(p.id) >= 0;
      return el('label', {}, [box, ' ' + p.label]);
    });
    var signedBy = el('input', { name: 'signedOffBy', placeholder: 'e.g. Headteacher', 'aria-label': 'Review signed off by (role)' }); signedBy.value = signOff.signedOffBy || '';
    var signedOn = el('input', { type: 'date', name: 'signedOn', 'aria-label': 'Review signed off on' }); signedOn.value = signOff.signedOn || '';
    var review = data.filteringReview || {};
    form.appendChild(el('fieldset', {}, [el('legend', { text: 'Filtering and monitoring review: who took part and sign-off' })].concat(boxes, [
      el('label', {}, ['Signed off by (role) ', signedBy]), el('label', {}, ['On ', signedOn]),
      el('p', { class: 'muted', text: review.status === 'done' ? 'Review done; next due ' + review.nextDue + '.' : 'Review due. Still needed: ' + ((review.missingParticipants || []).length ? review.missingParticipants.join(', ') : 'the answers and sign-off') + '.' }),
    ])));
    form.appendChild(el('p', { class: 'problems', role: 'alert' }));
    if (!readOnly) form.appendChild(el('button', { type: 'submit', text: 'Save audit' }));
    // Every answer is shown but cannot be changed before anyone types; the evidence pack stays available to read.
    if (readOnly) Array.prototype.forEach.call(form.querySelectorAll('input, select, textarea'), function (c) { c.disabled = true; });
    var pack = el('button', { type: 'button', class: 'secondary', id: 'audit-pack', text: 'Download the audit evidence pack (print or save as PDF)' });
    pack.onclick = downloadPack;
    form.appendChild(pack);
    form.onsubmit = function (e) {
      e.preventDefault();
      if (readOnly) return;
      var body = { policyReviewDue: due.value, lead: lead.value, governor: gov.value, annualAudit: [], filteringReview: [] };
      var chosen = Array.prototype.filter.call(form.querySelectorAll('input.participant'), function (b) { return b.checked; }).map(function (b) { return b.value; });
      if (signedOn.value || signedBy.value || chosen.length) body.filteringReviewSignOff = { participants: chosen, signedOffBy: signedBy.value, signedOn: signedOn.value };
      var rows = {};
      new FormData(form).forEach(function (v, k) {
        var parts = k.split('|');
        if (parts.length !== 3) return;
        var key = parts[0] + '|' + parts[1];
        rows[key] = rows[key] || { kind: parts[0], questionId: parts[1] };
        rows[key][parts[2]] = v;
      });
      Object.keys(rows).forEach(function (k) { var r = rows[k]; if (r.answer) body[r.kind].push({ questionId: r.questionId, answer: r.answer, answeredOn: r.answeredOn, role: r.role, comment: r.comment }); });
      T.api('/api/school-audit', { method: 'PUT', body: body, etag: data.etag || undefined }).then(function (r) {
        if (r.ok) { T.setStatus('Audit saved.', 'info'); render(r.body); return; }
        form.querySelector('.problems').textContent = (r.body.error || 'Not saved.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : '');
      });
    };
    document.getElementById('school-audit').hidden = false;
  }

  var started = false;
  function start() {
    if (started) return;
    started = true;
    T.api('/api/school-audit').then(function (r) { if (r.ok) render(r.body); });
  }
  // This script may run after sign-in finished (deferred scripts download at their own pace): then start at once.
  T.whenSignedIn(start);
})();
