// The sandbox's controls (make workshop): shown only when the page was opened with the admin token the sandbox
// printed (?token=...). Each button POSTs /api/<action> with the token; the answer (or the gate's refusal) is
// shown at once, and every action and anomaly arrives on the page's event stream, so that every open browser
// (the trainer's projector, each attendee's laptop) logs the same list.
(function () {
  'use strict';
  var token = new URLSearchParams(window.location.search).get('token');
  if (!token) return;
  var $ = function (id) {
    return document.getElementById(id);
  };
  $('controls').hidden = false;
  var actionIds = {};
  var anomalyKeys = {};

  function showResult(outcome, textValue) {
    var box = $('control-result');
    box.className = 'result ' + outcome;
    box.textContent = textValue;
  }

  function logAction(action) {
    if (actionIds[action.id]) return;
    actionIds[action.id] = true;
    var li = document.createElement('li');
    li.value = action.id;
    li.className = action.outcome;
    li.textContent = '@' + action.at + 's ' + action.title + ': ' + action.outcome + (action.detail ? ': ' + action.detail : '');
    $('action-log').appendChild(li);
  }

  function logAnomaly(a) {
    var key = a.kind + ' ' + a.key + ' ' + a.at;
    if (anomalyKeys[key]) return;
    anomalyKeys[key] = true;
    var li = document.createElement('li');
    li.className = 'failed';
    li.textContent =
      'found @' + a.foundAt + 's ' + a.kind + ' (user ' + a.key + '), ' +
      (a.after ? a.after.secondsBefore + ' s after ' + (a.after.id === null ? '' : '#' + a.after.id + ' ') + a.after.title : 'before any action') + ': ' + a.message;
    li.title = a.message;
    $('anomaly-log').appendChild(li);
  }

  // A write by hand (curl, SQL) the sandbox spotted: in the action log, marked external.
  function logExternal(e) {
    var key = 'external ' + e.writeId;
    if (anomalyKeys[key]) return;
    anomalyKeys[key] = true;
    var li = document.createElement('li');
    li.className = 'external';
    li.setAttribute('data-testid', 'external-write');
    li.textContent = '@' + e.at + 's external: ' + e.title + ': not made by the load; recorded in the history as external, so its reads are not anomalies';
    $('action-log').appendChild(li);
  }

  function showFleet(fleet) {
    var select = $('instance');
    var chosen = select.value;
    select.innerHTML = '';
    fleet.forEach(function (slot) {
      if (!slot.running) return;
      var option = document.createElement('option');
      option.value = slot.name;
      option.textContent = slot.name + (slot.antiPattern ? ' (' + slot.antiPattern + ')' : '');
      select.appendChild(option);
    });
    if (chosen) select.value = chosen;
  }

  function inputFor(button) {
    switch (button.dataset.action) {
      case 'read-new-percent':
        return { percent: $('percent').value };
      case 'instance-start':
        return { version: button.dataset.version };
      case 'instance-stop':
      case 'instance-kill':
        return { instance: $('instance').value };
      case 'anti-pattern-start':
        return { antiPattern: $('anti-pattern').value };
      default:
        return {};
    }
  }

  document.querySelectorAll('#controls button[data-action]').forEach(function (button) {
    button.addEventListener('click', function () {
      var action = button.dataset.action;
      showResult('waiting', action + '…');
      button.disabled = true;
      fetch('/api/' + action, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify(inputFor(button)),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (body.error) {
              showResult('failed', 'HTTP ' + response.status + ': ' + (body.error.field ? body.error.field + ': ' : '') + body.error.message);
              return;
            }
            logAction(body);
            if (body.fleet) showFleet(body.fleet);
            showResult(body.outcome, '#' + body.id + ' ' + body.title + ': ' + body.outcome + (body.detail ? ': ' + body.detail : ''));
          });
        })
        .catch(function (err) {
          showResult('failed', action + ': ' + err.message);
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  });

  var events = new EventSource('/events');
  events.addEventListener('init', function (e) {
    var sandbox = JSON.parse(e.data).sandbox;
    if (!sandbox) return;
    sandbox.actions.forEach(logAction);
    sandbox.anomalies.forEach(logAnomaly);
    sandbox.externalWrites.forEach(logExternal);
    showFleet(sandbox.fleet);
  });
  events.addEventListener('action', function (e) {
    var data = JSON.parse(e.data);
    logAction(data.action);
    showFleet(data.fleet);
  });
  events.addEventListener('anomaly', function (e) {
    logAnomaly(JSON.parse(e.data));
  });
  events.addEventListener('external', function (e) {
    logExternal(JSON.parse(e.data));
  });
  events.addEventListener('notice', function (e) {
    var notice = JSON.parse(e.data);
    showResult('done', '@' + notice.at + 's ' + notice.text);
  });
})();
