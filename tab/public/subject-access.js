/* Subject access requests (DSL, head): export everything the app holds about one person as a printable pack. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;

  function field(label, control) { return el('label', {}, [label + ' ', control]); }

  function panel(pupils) {
    var kind = el('select', { id: 'sar-kind', name: 'kind' }, [el('option', { value: 'pupil', text: 'A pupil' }), el('option', { value: 'staff', text: 'A member of staff, volunteer or governor' })]);
    var pupil = el('select', { id: 'sar-pupil', name: 'upn' }, [el('option', { value: '', text: 'Choose a pupil…' })].concat(pupils.map(function (p) {
      return el('option', { value: p.pupilId, text: p.label + (p.status === 'active' ? '' : ' – ' + p.status) });
    })));
    var staff = el('input', { id: 'sar-staff', name: 'aadObjectId', size: '40', placeholder: 'Microsoft Entra object id', pattern: '[0-9a-fA-F-]{36}' });
    var staffLabel = field('Their Entra object id', staff);
    staffLabel.hidden = true;
    var pupilLabel = field('Pupil', pupil);
    var requestedBy = el('select', { id: 'sar-requested-by', name: 'requestedBy' }, [
      el('option', { value: 'self', text: 'The person themself' }),
      el('option', { value: 'parent-or-carer', text: 'A parent or carer, for their child' }),
      el('option', { value: 'representative', text: 'Someone acting for them' }),
    ]);
    var received = el('input', { id: 'sar-received', name: 'requestReceivedOn', type: 'date' });
    var problems = el('p', { class: 'problems', role: 'alert' });
    var frame = el('iframe', { id: 'sar-frame', class: 'slips-preview', title: 'Subject access pack (review copy)', sandbox: 'allow-modals allow-same-origin', hidden: 'hidden' });
    var print = el('button', { type: 'button', id: 'sar-print', hidden: 'hidden', text: 'Print the release copy' });
    var form = el('form', { id: 'sar-form' }, [field('About', kind), pupilLabel, staffLabel, field('Asked for by', requestedBy), field('Request received on', received), problems, el('button', { type: 'submit', text: 'Export the pack' })]);

    kind.addEventListener('change', function () {
      pupilLabel.hidden = kind.value !== 'pupil';
      staffLabel.hidden = kind.value !== 'staff';
    });
    print.addEventListener('click', function () { frame.contentWindow.print(); });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      problems.textContent = '';
      var body = { requestedBy: requestedBy.value };
      if (kind.value === 'pupil') body.upn = pupil.value; else body.aadObjectId = staff.value.trim();
      if (received.value) body.requestReceivedOn = received.value;
      T.api('/api/subject-access', { method: 'POST', body: body }).then(function (r) {
        if (!r.ok) { problems.textContent = (r.body.error || 'Not exported.') + (r.body.problems ? ' ' + r.body.problems.join(' ') : ''); return; }
        frame.srcdoc = r.body.html;
        frame.hidden = false;
        print.hidden = false;
        T.setStatus('Pack ' + r.body.packId + ' is ready. Review the highlighted marks on screen; printing (or saving as PDF) leaves out everything marked for redaction or withheld.', 'info');
      });
    });

    return el('section', { class: 'panel no-print', id: 'subject-access', 'aria-labelledby': 'sar-title' }, [
      el('h2', { id: 'sar-title', text: 'Subject access request' }),
      el('p', { class: 'muted', text: 'For the DSL and the headteacher: export everything this app holds about one person, to answer a request under data protection law within one calendar month. Other people are marked for redaction; the export is audited.' }),
      form,
      frame,
      print,
    ]);
  }

  function start() {
    T.api('/api/me').then(function (me) {
      var roles = (me.body && me.body.roles) || [];
      if (roles.indexOf('dsl') < 0 && roles.indexOf('headteacher') < 0) return;
      // The register's pupils, leavers included (a request often comes after a pupil has left).
      return T.api('/api/transfer-packs/pupils').then(function (r) {
        var main = document.querySelector('main');
        if (main) main.appendChild(panel(r.ok ? r.body.pupils : []));
      });
    });
  }

  T.whenSignedIn(start);
})();
