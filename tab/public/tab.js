/*
 * Shared by the tab pages: Teams SSO (or the local stand-in identity), theme, and calls to /api/*. Plain JS, no bundler.
 *
 * Inside Teams (or Outlook, or Microsoft 365) the page is an iframe: the Teams JavaScript SDK (/tab/teams-js.js,
 * served from the installed @microsoft/teams-js) asks the host to initialise, then authentication.getAuthToken()
 * returns the user's SSO token for this app, which every /api/* call carries as a bearer token
 * (https://learn.microsoft.com/microsoftteams/platform/tabs/how-to/authentication/tab-sso-code).
 * Outside Teams, `npm start` offers "open as" a local role; a deployed server has no such routes, so the page
 * says it only works inside Teams. body[data-sign-in] tells which happened: teams, local, choose, outside or failed.
 */
(function () {
  'use strict';
  /** How long a framed page waits for the host to answer initialize; a top-level page is refused by the SDK at once. */
  var TEAMS_TIMEOUT_MS = 5000;
  var DEV_TOKEN_KEY = 'esafety-dev-token';
  var token = null;
  var mode = null;

  function $(id) { return document.getElementById(id); }

  function setStatus(message, kind) {
    var el = $('status');
    if (!el) return;
    el.textContent = message || '';
    el.className = 'status' + (kind ? ' status-' + kind : '');
    el.hidden = !message;
  }

  function applyTheme(theme) {
    document.body.classList.remove('theme-default', 'theme-dark', 'theme-contrast');
    document.body.classList.add('theme-' + (theme === 'dark' || theme === 'contrast' ? theme : 'default'));
  }

  function setSignIn(state) {
    mode = state;
    document.body.setAttribute('data-sign-in', state);
  }

  /** In a plain browser app.initialize rejects at once; in a silent iframe it never settles, hence the timeout. */
  function initialiseTeams() {
    if (!window.microsoftTeams) return Promise.resolve(false);
    var timer;
    var timeout = new Promise(function (resolve) { timer = setTimeout(function () { resolve(false); }, TEAMS_TIMEOUT_MS); });
    var init = window.microsoftTeams.app.initialize().then(function () { return true; }, function () { return false; });
    return Promise.race([init, timeout]).then(function (ok) { clearTimeout(timer); return ok; });
  }

  function devPicker(people, chosenId) {
    var box = $('dev-identity');
    if (!box) return;
    box.hidden = false;
    var select = document.createElement('select');
    select.id = 'dev-as';
    select.setAttribute('aria-label', 'Open the page as');
    var none = document.createElement('option');
    none.value = '';
    none.textContent = 'Choose a role…';
    select.appendChild(none);
    people.forEach(function (p) {
      var o = document.createElement('option');
      o.value = p.objectId;
      o.textContent = p.role + ' (' + p.objectId.slice(-4) + ')';
      if (p.objectId === chosenId) o.selected = true;
      select.appendChild(o);
    });
    select.addEventListener('change', function () {
      if (!select.value) return;
      var url = new URL(window.location.href);
      url.searchParams.set('as', select.value);
      window.location.href = url.toString();
    });
    var label = document.createElement('label');
    label.textContent = 'Local development: open as ';
    label.appendChild(select);
    box.innerHTML = '';
    box.appendChild(label);
  }

  function localIdentity() {
    return fetch('/tab/dev-roles').then(function (r) {
      if (!r.ok) return null;
      return r.json().then(function (body) {
        var as = new URL(window.location.href).searchParams.get('as');
        devPicker(body.people, as);
        if (!as) { sessionStorage.removeItem(DEV_TOKEN_KEY); return 'choose'; }
        return fetch('/tab/dev-login?as=' + encodeURIComponent(as)).then(function (res) {
          if (!res.ok) return null;
          return res.json().then(function (b) { return b.token; });
        });
      });
    }, function () { return null; });
  }

  /** Resolves to true when signed in; otherwise shows why and resolves to false. */
  function signIn() {
    applyTheme('default');
    setStatus('Signing in…');
    return initialiseTeams().then(function (inTeams) {
      if (inTeams) {
        var teams = window.microsoftTeams;
        teams.app.getContext().then(function (ctx) { applyTheme(ctx && ctx.app && ctx.app.theme); }, function () {});
        teams.app.registerOnThemeChangeHandler(applyTheme);
        return teamsToken().then(function (t) { token = t; setSignIn('teams'); setStatus(''); signedIn(); return true; }, function () {
          setSignIn('failed');
          setStatus('Teams could not sign you in to this tab. Close and reopen it; if this persists, ask the IT coordinator to check the app registration.', 'error');
          return false;
        });
      }
      return localIdentity().then(function (result) {
        if (result === 'choose') { setSignIn('choose'); setStatus('Outside Teams (local development). Choose a role above to open the page as that person.', 'info'); return false; }
        if (typeof result === 'string') { setSignIn('local'); token = result; setStatus(''); signedIn(); return true; }
        setSignIn('outside');
        document.body.classList.add('outside-teams');
        setStatus('This page only works inside Microsoft Teams. Open the E-Safety app in Teams and choose this tab.', 'error');
        return false;
      });
    });
  }

  /** The SSO token from Teams; the SDK caches it and refreshes it before it expires. */
  function teamsToken() {
    return window.microsoftTeams.authentication.getAuthToken();
  }

  /**
   * Lets other scripts on the page start once a token is in hand. Deferred scripts can run after the event (a slow
   * download lets sign-in finish first), so the body keeps data-signed-in for them to check (see school-audit.js).
   */
  function signedIn() {
    setTimeout(function () { document.body.setAttribute('data-signed-in', 'true'); document.dispatchEvent(new Event('esafety-signed-in')); }, 0);
    schoolPicker();
  }

  /** A trust: someone who works in several schools chooses which one the page shows (?school=, sent as x-school-id). */
  function chosenSchool() {
    return new URL(window.location.href).searchParams.get('school');
  }

  // Only a trust's deployment names the school on its answers (x-school-id); a single school never asks for the list.
  var servesTrust = false;

  function schoolPicker() {
    api('/api/me').then(function () {
      if (!servesTrust) return { ok: false, body: {} };
      return api('/api/schools');
    }).then(function (r) {
      if (!r.ok || !r.body.schools || r.body.schools.length < 2) return;
      var select = el('select', { id: 'school-as', 'aria-label': 'School' }, r.body.schools.map(function (school) {
        var option = el('option', { value: school.id, text: school.name });
        if (school.id === r.body.current) option.selected = true;
        return option;
      }));
      select.addEventListener('change', function () {
        var url = new URL(window.location.href);
        url.searchParams.set('school', select.value);
        window.location.href = url.toString();
      });
      var box = el('div', { id: 'school-picker', class: 'no-print' }, [el('label', {}, ['School: ', select])]);
      var header = document.querySelector('header.page');
      if (header) header.appendChild(box);
    });
  }

  function api(path, options, retried) {
    options = options || {};
    var headers = { authorization: 'Bearer ' + token };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.etag) headers['if-match'] = options.etag;
    if (chosenSchool()) headers['x-school-id'] = chosenSchool();
    return fetch(path, { method: options.method || 'GET', headers: headers, body: options.body !== undefined ? JSON.stringify(options.body) : undefined }).then(function (res) {
      if (res.headers.has('x-school-id')) servesTrust = true;
      // A tab left open past the token's lifetime: ask Teams for a fresh one and try once more.
      if (res.status === 401 && mode === 'teams' && !retried) {
        return teamsToken().then(function (t) { token = t; return api(path, options, true); }, function () { return { status: 401, ok: false, body: {} }; });
      }
      return res.json().then(function (body) { return { status: res.status, ok: res.ok, body: body }; }, function () { return { status: res.status, ok: res.ok, body: {} }; });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  /** A date (YYYY-MM-DD) or time as a UK school writes it: 4 March 2026, in Europe/London. */
  function ukDate(iso) {
    return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' }).format(new Date(iso.length === 10 ? iso + 'T12:00:00Z' : iso));
  }

  /** Lists an answer's problems (or its error) in `node`, replacing what was there. */
  function showProblems(node, body, fallback) {
    node.textContent = '';
    node.appendChild(el('ul', {}, (body.problems || [body.error || fallback || 'That did not work.']).map(function (p) { return el('li', { text: p }); })));
  }

  /** For calls api() cannot make, such as reading a streamed answer. */
  function authorization() { return 'Bearer ' + token; }

  /** Headers for calls api() cannot make: the token and the chosen school. */
  function headers(extra) {
    var h = { authorization: authorization() };
    if (chosenSchool()) h['x-school-id'] = chosenSchool();
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  /** Runs fn once the page is signed in: now if it already is (a deferred script can load after the event), or on the event. */
  function whenSignedIn(fn) {
    if (document.body && document.body.getAttribute('data-signed-in') === 'true') setTimeout(fn, 0);
    else document.addEventListener('esafety-signed-in', function () { fn(); }, { once: true });
  }

  window.EsafetyTab = { signIn: signIn, whenSignedIn: whenSignedIn, api: api, authorization: authorization, headers: headers, setStatus: setStatus, el: el, ukDate: ukDate, showProblems: showProblems, mode: function () { return mode; } };
})();
