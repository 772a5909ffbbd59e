/* The Admin page: upload the roll, see the plan, apply it with progress, print the slips; the latest enforcement audit. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var PHASES = ['register', 'lookup', 'usernames', 'preflight', 'groups', 'write-ahead', 'accounts', 'passwords', 'details', 'licences', 'memberships', 'policies', 'finish', 'slips', 'done'];
  var live = false;
  var planned = null;

  function $(id) { return document.getElementById(id); }

  function readUpload() {
    var form = $('upload');
    var upload = { academicYear: form.elements.academicYear.value.trim() };
    var names = ['csv', 'sdsUsers', 'sdsRoles'];
    return Promise.all(names.map(function (name) {
      var file = form.elements[name].files[0];
      return file ? file.text() : Promise.resolve('');
    })).then(function (texts) {
      names.forEach(function (name, i) { if (texts[i]) upload[name] = texts[i]; });
      return upload;
    });
  }

  function showProblems(body) {
    $('upload-problems').textContent = (body.error || body.message || 'Something went wrong.') + (body.problems ? ' ' + body.problems.join(' ') : '');
  }

  function card(label, value) {
    return el('div', { class: 'card' }, [el('div', { class: 'value', text: String(value) }), el('div', { class: 'label', text: label })]);
  }

  function renderPlan(result, title) {
    var box = $('plan');
    box.innerHTML = '';
    var s = result.summary;
    box.appendChild(el('h3', { text: title }));
    box.appendChild(el('div', { class: 'cards', id: 'plan-summary' }, [
      card('new accounts', s.create), card('to update', s.update), card('unchanged', s.unchanged),
      card('rejected rows', s.reject), card('failed', s.failed), card('not pupils (skipped)', s.skipped), card('in the register, not on this roll', s.notOnRoll),
    ]));
    if (!s.tenantChecked) box.appendChild(el('p', { class: 'muted', text: 'Checked against the pupil register only: this server has no tenant (plan mode), so usernames were not checked in Microsoft 365.' }));
    if (s.groupsToCreate && s.groupsToCreate.length) box.appendChild(el('p', { text: 'Groups to create: ' + s.groupsToCreate.join(', ') }));
    if (result.blockers && result.blockers.length) {
      box.appendChild(el('div', { class: 'problems', role: 'alert' }, [el('p', { text: 'Nothing can be applied until these are fixed:' }), el('ul', {}, result.blockers.map(function (b) { return el('li', { text: b }); }))]));
    }
    if (result.flaggedDatesOfBirth && result.flaggedDatesOfBirth.length) {
      box.appendChild(el('div', { class: 'problems', id: 'plan-flagged' }, [
        el('p', { text: 'Dates of birth not used (the pupils are still provisioned; correct them in the MIS and upload again):' }),
        el('ul', {}, result.flaggedDatesOfBirth.map(function (f) { return el('li', { text: f.reason }); })),
      ]));
    }
    if (result.interrupted) box.appendChild(el('p', { class: 'problems', role: 'alert', text: 'The run stopped part-way (' + result.interrupted + '). Each pupil done so far is saved: apply again to finish.' }));
    var rows = result.rows.filter(function (r) { return r.action !== 'unchanged'; });
    var table = el('table', { id: 'plan-rows' }, [
      el('caption', { class: 'muted', text: rows.length === result.rows.length ? 'Every row' : 'Rows that change or need attention (' + (result.rows.length - rows.length) + ' unchanged not shown)' }),
      el('thead', {}, [el('tr', {}, [el('th', { class: 'num', text: 'Row' }), el('th', { text: 'Username' }), el('th', { text: 'Action' }), el('th', { text: 'Reason' })])]),
      el('tbody', {}, rows.map(function (r) {
        return el('tr', { 'data-action': r.action }, [el('td', { class: 'num', text: String(r.row) }), el('td', { text: r.upn || '—' }), el('td', {}, [el('span', { class: 'badge ' + (r.action === 'reject' || r.action === 'failed' ? 'open' : 'closed'), text: r.action })]), el('td', { text: r.reason })]);
      })),
    ]);
    box.appendChild(table);
  }

  function plan(e) {
    e.preventDefault();
    $('upload-problems').textContent = '';
    $('apply-button').disabled = true;
    readUpload().then(function (upload) {
      T.setStatus('Working out the plan…', 'info');
      return T.api('/api/admin/provisioning/plan', { method: 'POST', body: upload }).then(function (r) {
        T.setStatus('');
        if (!r.ok) { showProblems(r.body); return; }
        planned = upload;
        renderPlan(r.body, 'The plan');
        var changes = r.body.summary.create + r.body.summary.update;
        $('apply-button').disabled = !live || r.body.blockers.length > 0 || changes === 0;
        document.body.setAttribute('data-plan', 'shown');
      });
    });
  }

  function showProgress(message) {
    var box = $('progress-box');
    box.hidden = false;
    var index = PHASES.indexOf(message.phase);
    $('progress').value = index < 0 ? 0 : Math.round((index + 1) * 100 / PHASES.length);
    $('progress-label').textContent = message.label + (message.pupils ? ' (' + message.pupils + ' pupils)' : '');
  }

  function showSlips(message) {
    $('slips-box').hidden = false;
    $('slips-count').textContent = message.count + (message.count === 1 ? ' slip is ready.' : ' slips are ready.');
    $('slips-frame').srcdoc = message.html;
  }

  function apply() {
    if (!planned) return;
    var changes = document.querySelectorAll('#plan-rows tr[data-action="create"], #plan-rows tr[data-action="update"]').length;
    if (!window.confirm('Apply the plan? ' + changes + ' pupil accounts will be created or updated in Microsoft 365.')) return;
    $('apply-button').disabled = true;
    $('plan-button').disabled = true;
    $('upload-problems').textContent = '';
    T.setStatus('Applying… keep this page open until it finishes.', 'info');
    fetch('/api/admin/provisioning/apply', { method: 'POST', headers: T.headers({ 'content-type': 'application/json' }), body: JSON.stringify(planned) }).then(function (res) {
      var type = res.headers.get('content-type') || '';
      if (type.indexOf('application/x-ndjson') !== 0) {
        return res.json().then(function (body) { T.setStatus(''); showProblems(body); }, function () { showProblems({}); });
      }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffered = '';
      function handle(line) {
        if (!line.trim()) return;
        var message = JSON.parse(line);
        if (message.type === 'progress') showProgress(message);
        else if (message.type === 'slips') showSlips(message);
        else if (message.type === 'error') { T.setStatus(''); showProblems(message); }
        else if (message.type === 'result') {
          renderPlan(message, message.blocked ? 'Not applied' : 'What was done');
          T.setStatus(message.blocked ? 'Nothing was changed: see the list below.' : 'Finished.' + (message.slipsIssued ? ' Print the slips now.' : ''), message.blocked ? 'error' : 'info');
          document.body.setAttribute('data-applied', message.blocked ? 'blocked' : 'done');
          loadEnforcement();
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { handle(buffered); return; }
          buffered += decoder.decode(chunk.value, { stream: true });
          var lines = buffered.split('\n');
          buffered = lines.pop();
          lines.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      T.setStatus('The connection was lost. Each pupil done so far is saved: show the plan again and apply to finish.', 'error');
    }).then(function () { $('plan-button').disabled = false; });
  }

  function loadEnforcement() {
    return T.api('/api/admin/enforcement').then(function (r) {
      var box = $('enforcement');
      box.innerHTML = '';
      if (!r.ok) { box.appendChild(el('p', { class: 'problems', text: r.body.error || 'The audit could not be loaded.' })); return; }
      var latest = r.body.latest;
      if (!latest) {
        box.appendChild(el('p', { class: 'muted', text: 'No audit has run yet. The server runs one each day; an admin can run `npm run enforce -- audit` at any time.' }));
      } else {
        box.appendChild(el('p', { text: 'Run ' + latest.runId + ' (' + latest.kind + '), finished ' + new Date(latest.finishedAt).toLocaleString('en-GB') + '.' }));
        box.appendChild(el('div', { class: 'cards', id: 'enforcement-summary' }, [
          card('pupils compliant', Math.round(latest.compliantShare * 100) + '%'),
          card('pupils checked', latest.total),
          card('pupils with drift', latest.total - latest.compliant),
          card('class teams compliant', latest.teams.compliant + ' of ' + latest.teams.total),
        ]));
        var kinds = Object.keys(latest.driftByKind);
        if (kinds.length) {
          box.appendChild(el('table', { id: 'drift-kinds' }, [
            el('caption', { class: 'muted', text: 'Drift by kind' }),
            el('thead', {}, [el('tr', {}, [el('th', { text: 'Kind' }), el('th', { class: 'num', text: 'Count' })])]),
            el('tbody', {}, kinds.map(function (k) { return el('tr', {}, [el('td', { text: k }), el('td', { class: 'num', text: String(latest.driftByKind[k]) })]); })),
          ]));
        }
        if (latest.pupils.length) {
          box.appendChild(el('table', { id: 'drifted-pupils' }, [
            el('caption', { class: 'muted', text: 'Pupils who drifted. `npm run enforce -- fix` repairs what can be repaired.' }),
            el('thead', {}, [el('tr', {}, [el('th', { text: 'Username' }), el('th', { text: 'Class' }), el('th', { text: 'What drifted' })])]),
            el('tbody', {}, latest.pupils.map(function (p) {
              return el('tr', {}, [el('td', { text: p.userPrincipalName }), el('td', { text: p.registrationGroup || '' }), el('td', {}, [el('ul', {}, p.drift.map(function (d) { return el('li', { text: d.reason + (d.repairable ? '' : ' (needs an admin decision)') }); }))])]);
            })),
          ]));
        }
        latest.teams.drifted.forEach(function (t) {
          box.appendChild(el('p', { text: 'Class team ' + t.teamId + ': ' + t.drift.map(function (d) { return d.reason; }).join('; ') }));
        });
      }
      if (r.body.recentProvisioningRuns.length) {
        box.appendChild(el('table', { id: 'provisioning-runs' }, [
          el('caption', { class: 'muted', text: 'Recent provisioning runs' }),
          el('thead', {}, [el('tr', {}, [el('th', { text: 'Started' }), el('th', { text: 'Kind' }), el('th', { text: 'Status' }), el('th', { text: 'Pupils' })])]),
          el('tbody', {}, r.body.recentProvisioningRuns.map(function (run) {
            var counts = Object.keys(run.counts).map(function (k) { return run.counts[k] + ' ' + k; }).join(', ');
            return el('tr', {}, [el('td', { text: new Date(run.startedAt).toLocaleString('en-GB') }), el('td', { text: run.kind }), el('td', { text: run.status }), el('td', { text: counts })]);
          })),
        ]));
      }
      document.body.setAttribute('data-ready', 'true');
    });
  }

  T.whenSignedIn(function () {
    T.api('/api/admin/status').then(function (r) {
      if (r.status === 403) { T.setStatus('The Admin page is for the IT coordinator and the headteacher.', 'error'); return; }
      if (!r.ok) { T.setStatus(r.body.error || 'The Admin page could not be loaded.', 'error'); return; }
      live = r.body.graphMode === 'live';
      $('admin').hidden = false;
      $('mode-note').textContent = live
        ? 'Accounts are created in Microsoft 365 for @' + r.body.domain + '.'
        : 'This server has no tenant (plan mode): you can see the plan, but applying needs GRAPH_MODE=live.';
      $('upload').addEventListener('submit', plan);
      $('apply-button').addEventListener('click', apply);
      $('print-slips').addEventListener('click', function () { $('slips-frame').contentWindow.print(); });
      loadEnforcement();
    });
  });
  T.signIn();
})();
