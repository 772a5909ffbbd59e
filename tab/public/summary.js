/* The governors' summary: SVG bar charts, each with an accessible table, from GET /api/summary. */
(function () {
  'use strict';
  var T = window.EsafetyTab;
  var el = T.el;
  var SVG = 'http://www.w3.org/2000/svg';
  var SUPPRESSED = 'hidden';

  function svg(tag, attrs) {
    var n = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    return n;
  }

  /** A horizontal bar chart; hidden counts get a short hatched bar labelled "hidden" (never a length that tells the count). */
  function barChart(rows, title) {
    var rowH = 22, labelW = 190, width = 560, chartW = width - labelW - 80;
    var max = Math.max(3, ...rows.map(function (r) { return typeof r.count === 'number' ? r.count : 0; }));
    var chart = svg('svg', { class: 'chart', viewBox: '0 0 ' + width + ' ' + (rows.length * rowH + 8), role: 'img', 'aria-label': title + ' (bar chart; the table beside it has the same figures)' });
    var defs = svg('defs', {});
    var pattern = svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
    pattern.appendChild(svg('rect', { width: 2, height: 6, fill: 'currentColor' }));
    defs.appendChild(pattern);
    chart.appendChild(defs);
    rows.forEach(function (r, i) {
      var y = i * rowH + 4;
      var label = svg('text', { x: labelW - 6, y: y + 14, 'text-anchor': 'end' });
      label.textContent = r.label.length > 30 ? r.label.slice(0, 29) + '…' : r.label;
      chart.appendChild(label);
      var suppressed = r.count === SUPPRESSED;
      var w = suppressed ? 4 : (chartW * r.count) / max;
      chart.appendChild(svg('rect', { class: 'bar' + (suppressed ? ' suppressed' : ''), x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 2 }));
      var value = svg('text', { x: labelW + w + 6, y: y + 14 });
      value.textContent = suppressed ? 'hidden' : String(r.count);
      chart.appendChild(value);
    });
    return chart;
  }

  function table(rows, caption, heading) {
    return el('table', {}, [
      el('caption', { class: 'muted', text: caption }),
      el('thead', {}, [el('tr', {}, [el('th', { scope: 'col', text: heading }), el('th', { scope: 'col', class: 'num', text: 'Incidents' })])]),
      el('tbody', {}, rows.map(function (r) { return el('tr', {}, [el('th', { scope: 'row', text: r.label }), el('td', { class: 'num', text: String(r.count) })]); })),
    ]);
  }

  function panel(id, title, rows, heading) {
    return el('section', { class: 'panel', id: id, 'aria-labelledby': id + '-title' }, [
      el('h2', { id: id + '-title', text: title }),
      el('div', { class: 'chart-and-table' }, [barChart(rows, title), table(rows, title, heading)]),
    ]);
  }

  function card(label, value) {
    return el('div', { class: 'card' }, [el('div', { class: 'value', text: String(value) }), el('div', { class: 'label', text: label })]);
  }

  function optional(title, block, render) {
    var body = block.available ? render(block.figures) : [el('p', { class: 'muted', text: 'Not available yet.' })];
    return el('section', { class: 'panel', id: title.toLowerCase().replace(/[^a-z]+/g, '-') }, [el('h2', { text: title })].concat(body));
  }

  function render(s) {
    var main = document.getElementById('summary');
    document.getElementById('print-meta').textContent = 'Academic years ' + s.academicYears.join(' and ') + '. Produced ' + s.generatedAt.slice(0, 10) + '.';
    main.appendChild(el('p', { class: 'muted', text: 'Academic years ' + s.academicYears.join(' and ') + ' (from 1 September). Spring term counts January to April.' }));
    main.appendChild(el('p', { class: 'muted', id: 'suppression-note', text: 'Counts of 1 or 2 (fewer than 3) are shown as "hidden", so that no pupil can be identified. Some larger counts are hidden too, so that a hidden count cannot be worked out by subtracting the others from a total. The median days to close is shown once at least 3 incidents have closed.' }));
    main.appendChild(el('p', { class: 'muted', id: 'scope-note', text: (s.counts && s.counts.childProtection ? 'Counts include child-protection concerns. ' : 'Counts cover the concerns your own incident list shows; child-protection concerns are counted in the DSL\'s, the head\'s and the governors\' view. ') + 'Allegations about adults are reported to the chair of governors and the LADO and are not counted here.' }));
    main.appendChild(el('div', { class: 'cards' }, [
      card('Incidents', s.totals.incidents),
      card('Open', s.totals.open),
      card('Closed', s.totals.closed),
      card('Median days to close', s.totals.medianDaysToClose === null ? '–' : s.totals.medianDaysToClose),
    ]));
    main.appendChild(panel('by-four-cs', 'By the four Cs', s.byFourC, 'Category'));
    main.appendChild(panel('by-type', 'By type', s.byType, 'Type'));
    main.appendChild(panel('by-term', 'By term', s.byTerm, 'Term'));
    main.appendChild(panel('by-month', 'By month', s.byMonth, 'Month'));
    main.appendChild(panel('by-year-group', 'By year group', s.byYearGroup.length ? s.byYearGroup : [{ label: 'No year groups recorded', count: 0 }], 'Year group'));
    main.appendChild(el('section', { class: 'panel', id: 'escalations' }, [
      el('h2', { text: 'Escalated' }),
      el('table', {}, [
        el('thead', {}, [el('tr', {}, [el('th', { text: 'To' }), el('th', { class: 'num', text: 'Incidents' }), el('th', { class: 'num', text: 'Share' })])]),
        el('tbody', {}, s.escalated.map(function (e) {
          return el('tr', {}, [el('th', { scope: 'row', text: e.label }), el('td', { class: 'num', text: String(e.count) }), el('td', { class: 'num', text: e.percent === null ? '–' : e.percent === SUPPRESSED ? SUPPRESSED : e.percent + '%' })]);
        })),
      ]),
    ]));
    main.appendChild(optional('AUP coverage', s.aupCoverage, function (f) {
      var share = function (p) { return p === SUPPRESSED ? 'hidden' : p + '%'; };
      return f.documents.map(function (d) {
        return el('div', {}, [
          el('p', { text: d.title + ' (version ' + d.version + '): ' + share(d.percent) + ' acknowledged' }),
          el('ul', {}, (d.groups || []).map(function (g) { return el('li', { text: g.group + ': ' + share(g.percent) }); })),
        ]);
      });
    }));
    main.appendChild(optional('Pupil policy compliance', s.compliance, function (f) {
      return [el('p', { text: (f.compliantPercent === SUPPRESSED ? 'Share hidden' : f.compliantPercent + '%') + ' of pupil accounts compliant (' + f.pupils + ' pupils), checked ' + f.checkedOn + '.' })];
    }));
    main.appendChild(optional('Policy review, audit and filtering review', s.governance, function (f) {
      return [el('ul', {}, [
        el('li', { text: 'Policy review due: ' + (f.policyReviewDue || 'not set') }),
        el('li', { text: 'Annual e-safety audit: ' + f.annualAudit.status + (f.annualAudit.completedOn ? ' (' + f.annualAudit.completedOn + ')' : '') }),
        el('li', { text: 'Filtering and monitoring review: ' + f.filteringReview.status + (f.filteringReview.completedOn ? ' (' + f.filteringReview.completedOn + ')' : '') }),
        el('li', { text: 'Lead: ' + (f.lead || 'not named') + '; governor: ' + (f.governor || 'not named') }),
      ])];
    }));
    main.appendChild(optional('Online-safety training', s.training, function (f) {
      return [el('p', { text: 'Staff and governors whose training is up to date: ' + f.current + ' of ' + f.people + (f.currentPercent === SUPPRESSED ? ' (share hidden).' : ' (' + f.currentPercent + '%).') + ' Due or never trained: ' + f.notCurrent + '.' })];
    }));
    main.appendChild(optional('Filtering changes and exceptions this year', s.filtering, function (f) {
      return [el('ul', {}, [
        el('li', { text: 'Requests: ' + f.requests + ' (approved ' + f.approved + ', refused ' + f.refused + ', waiting ' + f.waiting + ')' }),
        el('li', { text: 'Temporary exceptions due to be reversed: ' + f.dueForReversal }),
      ])];
    }));
    main.appendChild(optional('Photo and video consent', s.consent || { available: false }, function (f) {
      var share = function (p) { return p === SUPPRESSED ? 'hidden' : p + '%'; };
      return [
        el('p', { text: 'Pupils on the roll: ' + f.pupils + '. A withdrawal counts at once; "not recorded" means no form is on record, so the image is not used.' }),
        el('table', { id: 'consent-areas' }, [
          el('caption', { class: 'muted', text: 'Consent per area' }),
          el('thead', {}, [el('tr', {}, ['Area', 'Given', 'Refused', 'Withdrawn', 'Not recorded', 'Share given'].map(function (h, i) { return el('th', { scope: 'col', class: i ? 'num' : '', text: h }); }))]),
          el('tbody', {}, f.areas.map(function (a) {
            return el('tr', {}, [el('th', { scope: 'row', text: a.label })].concat([a.given, a.refused, a.withdrawn, a.notRecorded].map(function (n) { return el('td', { class: 'num', text: String(n) }); }), [el('td', { class: 'num', text: share(a.givenPercent) })]));
          })),
        ]),
      ];
    }));
    var print = document.getElementById('print');
    print.hidden = false;
    print.addEventListener('click', function () { window.print(); });
    main.setAttribute('aria-busy', 'false');
    document.body.setAttribute('data-ready', 'true');
  }

  T.signIn().then(function (ok) {
    if (!ok) return;
    return T.api('/api/summary').then(function (r) {
      if (r.status === 403) return T.setStatus('The summary is for governors and the school\'s safeguarding leads.', 'error');
      if (!r.ok) return T.setStatus(r.body.error || 'The summary could not be loaded.', 'error');
      render(r.body);
    });
  });
})();
