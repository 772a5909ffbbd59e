/* Filtering change and exception requests: ask (any staff), decide (head or coordinator), and the log. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;

  function byId(id) { return document.getElementById(id); }

  var ukDate = T.ukDate;

  var problems = T.showProblems;

  function decideCell(change) {
    if (change.status !== 'requested') return el('td', { text: (change.why || '') + (change.decidedAt ? ' (' + ukDate(change.decidedAt) + ')' : '') });
    var why = el('input', { 'aria-label': 'Reason for the decision on ' + change.site, class: 'why', maxlength: '1000' });
    var note = el('span', { class: 'problems', role: 'alert' });
    function decide(approve) {
      T.api('/api/filtering/changes/' + encodeURIComponent(change.id) + '/decision', { method: 'POST', body: { approve: approve, why: why.value } }).then(function (r) {
        if (!r.ok) return problems(note, r.body);
        load();
      });
    }
    var approve = el('button', { type: 'button', class: 'approve', text: 'Approve' });
    var refuse = el('button', { type: 'button', class: 'secondary refuse', text: 'Refuse' });
    approve.addEventListener('click', function () { decide(true); });
    refuse.addEventListener('click', function () { decide(false); });
    return el('td', {}, [why, approve, refuse, note]);
  }

  function load() {
    return T.api('/api/filtering/changes').then(function (r) {
      if (r.status === 403) return T.setStatus('Filtering changes are for members of staff.', 'error');
      if (!r.ok) return T.setStatus(r.body.error || 'The log could not be loaded.', 'error');
      byId('due').textContent = r.body.dueForReversal === 0 ? 'No temporary exception is due to be reversed.' : r.body.dueForReversal + ' temporary exception(s) due to be reversed: put the filter back and note it here.';
      var tbody = byId('log').querySelector('tbody');
      tbody.textContent = '';
      r.body.changes.forEach(function (c) {
        var status = c.dueForReversal ? 'Due for reversal' : { requested: 'Waiting for a decision', approved: 'Approved', refused: 'Refused' }[c.status];
        tbody.appendChild(el('tr', { 'data-id': c.id, class: c.dueForReversal ? 'due' : '' }, [
          el('th', { scope: 'row', text: c.site }),
          el('td', { text: c.change === 'unblock' ? 'Unblock' : 'Block' }),
          el('td', { text: c.reason }),
          el('td', { text: c.until ? ukDate(c.until) : 'Permanent' }),
          el('td', { class: 'status-cell', text: status }),
          decideCell(c),
        ]));
      });
      byId('filtering').hidden = false;
      document.body.setAttribute('data-ready', 'true');
    });
  }

  function triageCell(alert, types) {
    if (alert.triage) {
      return el('td', { class: 'triage-done', text: alert.triage.outcome === 'incident' ? 'Incident ' + (alert.triage.incidentReference || '') + ' opened' : 'No action: ' + alert.triage.reason });
    }
    var reason = el('input', { class: 'reason', 'aria-label': 'Reason for no action', maxlength: '1000' });
    // A blocked attempt reads as an inappropriate website; one the filter let through as a filtering breach.
    var preferred = alert.action === 'blocked' ? 'inappropriate-website' : 'filtering-breach';
    var type = el('select', { class: 'incident-type', 'aria-label': 'Type of incident to open' }, types.map(function (t) {
      var option = el('option', { value: t.id, text: t.label });
      if (t.id === preferred) option.selected = true;
      return option;
    }));
    var note = el('span', { class: 'problems', role: 'alert' });
    var buttons = [];
    function triage(outcome) {
      buttons.forEach(function (b) { b.disabled = true; });
      var body = { outcome: outcome, reason: reason.value };
      if (outcome === 'incident') body.incidentType = type.value;
      T.api('/api/filtering/alerts/' + encodeURIComponent(alert.id) + '/triage', { method: 'POST', body: body }).then(function (r) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (!r.ok) return problems(note, r.body);
        if (r.body.incident) T.setStatus('Incident ' + r.body.incident.reference + ' opened. The coordinator and the DSL have been alerted.', 'info');
        loadAlerts();
      });
    }
    var none = el('button', { type: 'button', class: 'secondary no-action', text: 'No action' });
    var incident = el('button', { type: 'button', class: 'incident', text: 'Open an incident' });
    buttons = [none, incident];
    none.addEventListener('click', function () { triage('no-action'); });
    incident.addEventListener('click', function () { triage('incident'); });
    return el('td', {}, [reason, none, type, incident, note]);
  }

  function loadAlerts() {
    return T.api('/api/filtering/alerts').then(function (r) {
      if (!r.ok) return;
      byId('alerts-panel').hidden = false;
      var tbody = byId('alerts').querySelector('tbody');
      tbody.textContent = '';
      r.body.alerts.forEach(function (a) {
        tbody.appendChild(el('tr', { 'data-id': a.id }, [
          el('td', { text: ukDate(a.occurredAt) }),
          el('td', { text: a.user + (a.pupilId ? ' (pupil on the register)' : '') }),
          el('td', { text: a.site }),
          el('td', { text: a.category }),
          el('td', { text: a.action }),
          triageCell(a, r.body.incidentTypes || []),
        ]));
      });
    });
  }

  function uploadAlerts(event) {
    event.preventDefault();
    var file = byId('alerts-file').files[0];
    if (!file) { byId('alerts-result').textContent = 'Choose the export first.'; return; }
    file.text().then(function (csv) { return T.api('/api/filtering/alerts', { method: 'POST', body: { csv: csv } }); }).then(function (r) {
      if (!r.ok) { byId('alerts-result').textContent = (r.body.problems || [r.body.error || 'The export could not be read.']).join(' '); return; }
      byId('alerts-result').textContent = r.body.stored + ' new alerts, ' + r.body.alreadyStored + ' already uploaded, ' + r.body.matchedPupils + ' matched to pupils, ' + r.body.problems.length + ' rows not read.';
      loadAlerts();
    });
  }

  function ask(event) {
    event.preventDefault();
    var form = byId('ask');
    var body = { site: form.site.value, change: form.change.value, reason: form.reason.value };
    if (form.until.value) body.until = form.until.value;
    byId('ask-problems').textContent = '';
    T.api('/api/filtering/changes', { method: 'POST', body: body }).then(function (r) {
      if (!r.ok) return problems(byId('ask-problems'), r.body);
      byId('ask-result').textContent = r.body.duplicate ? 'You already sent this request today.' : 'Sent. The headteacher or the e-safety coordinator will decide.';
      form.reset();
      load();
    });
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    byId('ask').addEventListener('submit', ask);
    byId('alerts-upload').addEventListener('submit', uploadAlerts);
    return load().then(loadAlerts);
  });
})();
